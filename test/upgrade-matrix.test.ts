/**
 * The upgrade plan against each distribution's support matrix (Talos: the Kubernetes versions a minor
 * runs; K3s/RKE2: the release table, whose releases each ship one Kubernetes) and the charts'
 * kubeVersion constraints (catalog/kube-version.ts), which validation checks too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { catalogEntries, catalogEntry } from '../generators/catalog/index.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { satisfiesKubeVersion } from '../generators/catalog/kube-version.js';
import { upgradePlan } from '../generators/upgrade-plan/plan.js';
import { exampleSources, prepareExample } from './helpers.js';

type Data = Record<string, unknown>;
const withCluster = (data: Data, cluster: Data): Data => ({ ...data, cluster: { ...(data.cluster as Data), ...cluster } });
const steps = (base: Data, head: Data, model = prepareExample('staging').prepared!.model) =>
  upgradePlan(base, model, head).steps.filter((s) => !/^(control plane|pool) /.test(s.title)).map((s) => ({ title: s.title, gate: s.gate, verdict: s.verdict, reason: s.reason }));

describe('Talos: the Kubernetes versions each minor runs (pkg/machinery/compatibility)', () => {
  const data = () => prepareExample('staging').prepared!.data;

  it('a release and a Kubernetes minor together: the order whose intermediate pair Talos supports', () => {
    // v1.13 runs Kubernetes 1.31 to 1.36: Talos first would run 1.30 on v1.13, so Kubernetes goes first (1.31 runs on v1.12).
    const s = steps(withCluster(data(), { talosVersion: 'v1.12.11', kubernetesVersion: '1.30.4' }), withCluster(data(), { talosVersion: 'v1.13.9', kubernetesVersion: '1.31.2' }));
    expect(s.map((x) => [x.title, x.verdict])).toStrictEqual([['Kubernetes 1.30.4 → 1.31.2', 'safe'], ['cluster.talosVersion: v1.12.11 → v1.13.9', 'caution']]);
    expect(s[1]!.reason).toMatch(/^after Kubernetes: Talos 1\.13 runs Kubernetes 1\.31 to 1\.36, not 1\.30\.4, so the release waits for Kubernetes 1\.31\.2; /);
    // Both directions fine: the release first, as usual.
    const t = steps(withCluster(data(), { talosVersion: 'v1.12.11', kubernetesVersion: '1.35.4' }), withCluster(data(), { talosVersion: 'v1.13.9', kubernetesVersion: '1.36.3' }));
    expect(t.map((x) => x.title)).toStrictEqual(['cluster.talosVersion: v1.12.11 → v1.13.9', 'Kubernetes 1.35.4 → 1.36.3']);
  });

  it('refuses a pair Talos does not support, and a release the table does not list, naming the source', () => {
    const s = steps(withCluster(data(), { talosVersion: 'v1.13.9', kubernetesVersion: '1.36.3' }), withCluster(data(), { talosVersion: 'v1.12.11', kubernetesVersion: '1.36.3' }));
    expect(s).toStrictEqual([
      expect.objectContaining({ title: 'cluster.talosVersion: v1.13.9 → v1.12.11', gate: 'support matrix', verdict: 'refused', reason: expect.stringMatching(/^Talos 1\.12 runs Kubernetes 1\.30 to 1\.35, not 1\.36\.3 \(siderolabs\/talos pkg\/machinery\/compatibility .*support-matrix\)$/) }),
    ]);
    const u = steps(withCluster(data(), { talosVersion: 'v1.13.9' }), withCluster(data(), { talosVersion: 'v1.13.99' }));
    expect(u).toStrictEqual([expect.objectContaining({ gate: 'release table', verdict: 'refused', reason: expect.stringMatching(/^Talos v1\.13\.99 is not a release this generator lists \(the newest listed v1\.13 release is v1\.13\.9\)/) })]);
  });
});

describe('K3s: a release ships its Kubernetes, the release table is the matrix', () => {
  const p = () => prepareExample('dev-k3s').prepared!;

  it('the skew applies to the release\'s Kubernetes, and an unlisted release is refused', () => {
    const k3s = (v: string) => withCluster(p().data, { k3sVersion: v, kubernetesVersion: v.slice(1).split('+')[0] });
    const jump = steps(k3s('v1.34.6+k3s1'), k3s('v1.36.3+k3s1'), p().model);
    expect(jump.map((x) => [x.title, x.gate, x.verdict])).toStrictEqual([
      ['cluster.k3sVersion: v1.34.6+k3s1 → v1.36.3+k3s1', 'distribution release', 'caution'],
      ['Kubernetes 1.34.6 → 1.36.3 (shipped by v1.36.3+k3s1)', 'version skew', 'refused'],
    ]);
    const unlisted = steps(k3s('v1.35.9+k3s1'), k3s('v1.35.99+k3s1'), p().model);
    expect(unlisted[0]).toMatchObject({ gate: 'release table', verdict: 'refused', reason: expect.stringMatching(/^K3s v1\.35\.99\+k3s1 is not a release this generator lists \(the newest listed release of its line is v1\.35\.9\+k3s1\) \(the K3s release table/) });
  });
});

describe('chart kubeVersion constraints (Chart.yaml, recorded per chart version in the catalog)', () => {
  const entry = catalogEntry('cert-manager');
  const saved = entry.chartKubeVersions;
  afterEach(() => {
    entry.chartKubeVersions = saved;
  });
  /** The examples with staging pinning cert-manager at `version` (appended to its file). */
  const pinning = (version: string) => {
    const sources = exampleSources();
    sources.set('environments/staging.yaml', `${sources.get('environments/staging.yaml')}addons:\n  cert-manager:\n    chart:\n      version: ${version}\n`);
    return prepareEnvironment('staging', sources);
  };

  it('reads Helm\'s constraints', () => {
    expect(satisfiesKubeVersion('1.36.3', '>= 1.22.0-0')).toBe(true);
    expect(satisfiesKubeVersion('1.21.9', '>=1.22.0-0')).toBe(false);
    expect(satisfiesKubeVersion('1.36.3', '>=1.25.0-0 <1.36.0-0')).toBe(false);
    expect(satisfiesKubeVersion('1.30.1', '>=1.25.0-0, <1.31.0-0 || >=1.34')).toBe(true);
    expect(satisfiesKubeVersion('1.32.0', '>=1.25.0-0, <1.31.0-0 || >=1.34')).toBe(false);
    expect(satisfiesKubeVersion('1.32.0', '~1.32')).toBeUndefined();
  });

  it('every catalog chart records its pin, and every recorded constraint admits every Kubernetes the examples run', () => {
    for (const e of catalogEntries().filter((x) => x.chart)) expect([e.name, Object.hasOwn(e.chartKubeVersions ?? {}, e.chart!.version)]).toStrictEqual([e.name, true]);
    for (const name of ['staging', 'dev-k3s']) expect(prepareExample(name).diagnostics.filter((d) => d.rule === 'addon-kube-version')).toStrictEqual([]);
    expect(entry.chartKubeVersions?.['v1.21.1']).toStrictEqual({ constraint: '>= 1.22.0-0', source: expect.stringContaining('Chart.yaml at v1.21.1') });
    // Read off the charts' own data (cilium/charts cilium-1.18.0.tgz; kubelet-csr-approver's published 1.2.14 has none).
    expect(catalogEntry('cilium').chartKubeVersions?.['1.18.0']).toMatchObject({ constraint: '>= 1.21.0-0' });
    expect(catalogEntry('kubelet-csr-approver').chartKubeVersions?.['1.2.14']).toMatchObject({ constraint: null });
  });

  it('validation and the plan refuse a Kubernetes outside a chart\'s kubeVersion', () => {
    entry.chartKubeVersions = { 'v1.21.1': { constraint: '>=1.25.0-0 <1.36.0-0', source: 'a test constraint' } };
    const d = prepareExample('staging').diagnostics.filter((x) => x.rule === 'addon-kube-version');
    expect(d.map((x) => `${x.severity} ${x.path.join('.')} ${x.message}`)).toStrictEqual([expect.stringMatching(/^error cluster\.kubernetesVersion Kubernetes 1\.36\.3 is outside the kubeVersion of chart cert-manager v1\.21\.1 \(add-on cert-manager\): '>=1\.25\.0-0 <1\.36\.0-0' \(a test constraint\); Helm refuses to render it$/)]);
    entry.chartKubeVersions = saved;
    const p = prepareExample('staging').prepared!;
    entry.chartKubeVersions = { 'v1.21.1': { constraint: '>=1.25.0-0 <1.36.0-0', source: 'a test constraint' } };
    const s = steps(withCluster(p.data, { kubernetesVersion: '1.35.4' }), p.data, p.model);
    expect(s.find((x) => x.gate === 'chart kubeVersion')).toMatchObject({ title: 'chart cert-manager v1.21.1 on Kubernetes 1.36.3', verdict: 'refused', reason: expect.stringContaining("admits '>=1.25.0-0 <1.36.0-0' (a test constraint)") });
  });

  it('a version an environment pins is judged by its own recorded constraint', () => {
    entry.chartKubeVersions = { ...saved, 'v1.19.4': { constraint: '>=1.22.0-0 <1.36.0-0', source: 'a test record of v1.19.4' } };
    const r = pinning('v1.19.4');
    expect(r.diagnostics.filter((x) => x.rule === 'addon-kube-version').map((x) => `${x.severity} ${x.path.join('.')} ${x.message}`)).toStrictEqual([
      "error cluster.kubernetesVersion Kubernetes 1.36.3 is outside the kubeVersion of chart cert-manager v1.19.4 (add-on cert-manager): '>=1.22.0-0 <1.36.0-0' (a test record of v1.19.4); Helm refuses to render it",
    ]);
  });

  it('a version whose constraint is not recorded is a warning at the pin saying how to add it, and a caution in the plan: never a guess', () => {
    const r = pinning('v1.19.4');
    const d = r.diagnostics.filter((x) => x.rule === 'addon-kube-version');
    expect(d.map((x) => ({ severity: x.severity, path: x.path.join('.'), message: x.message, hint: x.hint }))).toStrictEqual([
      {
        severity: 'warning',
        path: 'addons.cert-manager.chart.version',
        message: 'the kubeVersion of chart cert-manager v1.19.4 (add-on cert-manager) is not known: the catalog records it for v1.21.1 only, so whether Helm renders it for Kubernetes 1.36.3 is not checked',
        hint: "read kubeVersion from chart cert-manager v1.19.4's Chart.yaml (helm show chart … --version v1.19.4, or the chart's source at its release tag) and add it, with that source, to chartKubeVersions of catalog entry 'cert-manager' (constraint: null when it declares none)",
      },
    ]);
    expect(d[0]!.file).toBe('environments/staging.yaml');
    expect(d[0]!.line).toBeGreaterThan(0);
    // The plan: moving from the catalog's pin (as the base's rendered tree ran it) to that version is a caution naming what is not known.
    const p = r.prepared!;
    const s = upgradePlan(prepareExample('staging').prepared!.data, p.model, p.data, new Map([['cert-manager', 'v1.21.1']])).steps;
    expect(s).toStrictEqual([expect.objectContaining({ title: 'chart cert-manager v1.21.1 → v1.19.4', gate: 'chart kubeVersion', verdict: 'caution', reason: expect.stringMatching(/^its kubeVersion at v1\.19\.4 is not known \(the catalog records v1\.21\.1\), so whether Helm renders it on Kubernetes 1\.36\.3 is not checked: read kubeVersion from/) })]);
  });

  it('a new major version links the chart\'s upgrade notes from the catalog', () => {
    const p = prepareExample('staging').prepared!;
    const plan = upgradePlan({ ...p.data, addons: { 'cert-manager': { chart: { version: 'v0.16.0' } } } }, p.model, p.data);
    expect(plan.steps.find((s) => s.title.startsWith('chart cert-manager'))!.reason).toContain('(https://cert-manager.io/docs/installation/upgrade/)');
  });
});
