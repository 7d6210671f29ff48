/**
 * The upgrade plan against each distribution's support matrix (Talos: the Kubernetes versions a minor
 * runs; K3s/RKE2: the release table, whose releases each ship one Kubernetes) and the charts'
 * kubeVersion constraints (catalog/kube-version.ts), which validation checks too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { catalogEntry } from '../generators/catalog/index.js';
import { satisfiesKubeVersion } from '../generators/catalog/kube-version.js';
import { upgradePlan } from '../generators/upgrade-plan/plan.js';
import { prepareExample } from './helpers.js';

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

describe('chart kubeVersion constraints (Chart.yaml, recorded in the catalog)', () => {
  const entry = catalogEntry('cert-manager');
  const saved = entry.chartKubeVersion;
  afterEach(() => {
    entry.chartKubeVersion = saved;
  });

  it('reads Helm\'s constraints', () => {
    expect(satisfiesKubeVersion('1.36.3', '>= 1.22.0-0')).toBe(true);
    expect(satisfiesKubeVersion('1.21.9', '>=1.22.0-0')).toBe(false);
    expect(satisfiesKubeVersion('1.36.3', '>=1.25.0-0 <1.36.0-0')).toBe(false);
    expect(satisfiesKubeVersion('1.30.1', '>=1.25.0-0, <1.31.0-0 || >=1.34')).toBe(true);
    expect(satisfiesKubeVersion('1.32.0', '>=1.25.0-0, <1.31.0-0 || >=1.34')).toBe(false);
    expect(satisfiesKubeVersion('1.32.0', '~1.32')).toBeUndefined();
  });

  it('every recorded constraint admits every Kubernetes the examples run', () => {
    for (const name of ['staging', 'dev-k3s']) expect(prepareExample(name).diagnostics.filter((d) => d.rule === 'addon-kube-version')).toStrictEqual([]);
    expect(entry.chartKubeVersion).toStrictEqual({ constraint: '>= 1.22.0-0', source: expect.stringContaining('Chart.yaml at v1.21.1') });
  });

  it('validation and the plan refuse a Kubernetes outside a chart\'s kubeVersion', () => {
    entry.chartKubeVersion = { constraint: '>=1.25.0-0 <1.36.0-0', source: 'a test constraint' };
    const d = prepareExample('staging').diagnostics.filter((x) => x.rule === 'addon-kube-version');
    expect(d.map((x) => `${x.line}:${x.col} ${x.message}`)).toStrictEqual([expect.stringMatching(/^\d+:\d+ Kubernetes 1\.36\.3 is outside the kubeVersion of chart cert-manager v1\.21\.1 \(add-on cert-manager\): '>=1\.25\.0-0 <1\.36\.0-0' \(a test constraint\); Helm refuses to render it$/)]);
    entry.chartKubeVersion = saved;
    const p = prepareExample('staging').prepared!;
    entry.chartKubeVersion = { constraint: '>=1.25.0-0 <1.36.0-0', source: 'a test constraint' };
    const s = steps(withCluster(p.data, { kubernetesVersion: '1.35.4' }), p.data, p.model);
    expect(s.find((x) => x.gate === 'chart kubeVersion')).toMatchObject({ title: 'chart cert-manager v1.21.1 on Kubernetes 1.36.3', verdict: 'refused', reason: expect.stringContaining("admits '>=1.25.0-0 <1.36.0-0' (a test constraint)") });
  });

  it('a new major version links the chart\'s upgrade notes from the catalog', () => {
    const p = prepareExample('staging').prepared!;
    const plan = upgradePlan({ ...p.data, addons: { 'cert-manager': { chart: { version: 'v0.16.0' } } } }, p.model, p.data);
    expect(plan.steps.find((s) => s.title.startsWith('chart cert-manager'))!.reason).toContain('(https://cert-manager.io/docs/installation/upgrade/)');
  });
});
