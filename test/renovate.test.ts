/**
 * renovate.json: every custom manager's patterns run (as JavaScript regexes, the flavour Renovate
 * documents) against the files they target — the catalog modules, and environment files written
 * like the fixtures — and must capture exactly the dependency, version and registry there.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { catalogEntries } from '../generators/catalog/index.js';
import { SUC_KUBECTL_TAGS } from '../generators/distributions/rancher/addons/system-upgrade-controller.js';
import { FIXTURES, ROOT } from './helpers.js';

interface Manager {
  description: string;
  managerFilePatterns: string[];
  matchStrings: string[];
  depNameTemplate?: string;
  packageNameTemplate?: string;
  datasourceTemplate?: string;
  extractVersionTemplate?: string;
}
const config = JSON.parse(readFileSync(join(ROOT, 'renovate.json'), 'utf8')) as { customManagers: Manager[]; ignorePaths: string[]; packageRules: { matchDepNames?: string[]; matchUpdateTypes?: string[]; enabled?: boolean }[] };
const manager = (starts: string): Manager => {
  const m = config.customManagers.filter((x) => x.description.startsWith(starts));
  expect(m.length, starts).toBe(1);
  return m[0]!;
};

/** `/regex/` as Renovate writes file patterns. */
const targets = (m: Manager, path: string): boolean => m.managerFilePatterns.some((p) => new RegExp(p.slice(1, -1)).test(path));

interface Dep {
  depName: string;
  currentValue: string;
  registryUrl?: string;
  packageName?: string;
  currentDigest?: string;
}
/** The dependencies a manager extracts from a file's text (each matchString applied globally). */
function extract(m: Manager, text: string): Dep[] {
  const out: Dep[] = [];
  for (const s of m.matchStrings) {
    for (const match of text.matchAll(new RegExp(s, 'g'))) {
      const g = match.groups ?? {};
      const dep: Dep = { depName: g.depName ?? m.depNameTemplate!, currentValue: g.currentValue! };
      if (g.registryUrl) dep.registryUrl = g.registryUrl;
      if (g.packageName) dep.packageName = m.packageNameTemplate ? m.packageNameTemplate.replace('{{{packageName}}}', g.packageName).replace('{{{depName}}}', dep.depName) : g.packageName;
      if (g.currentDigest) dep.currentDigest = g.currentDigest;
      out.push(dep);
    }
  }
  return out;
}

const CATALOG_M = manager('Catalog charts');
const CATALOG_OCI = manager('Catalog OCI charts');
const CHARTS = manager('Third-party charts');
const IMAGES = manager('Workload images');
const TALOS = manager('Talos:');
const K8S_TALOS = manager('Kubernetes on Talos');
const K3S = manager('K3s:');
const K8S_K3S = manager('Kubernetes on K3s');
const RKE2 = manager('RKE2:');
const K8S_RKE2 = manager('Kubernetes on RKE2');
const LITESTREAM = manager('Litestream:');
const ANNOTATED = manager('Pins in the generator');
const ENV_MANAGERS = [CHARTS, IMAGES, TALOS, K8S_TALOS, K3S, K8S_K3S, RKE2, K8S_RKE2, LITESTREAM];

describe('file patterns', () => {
  it('catalog modules and environment files are targeted; rendered/ never', () => {
    expect(targets(CATALOG_M, 'generators/catalog/cert-manager.ts')).toBe(true);
    expect(targets(CATALOG_M, 'generators/distributions/talos/addons/etcd-backup.ts')).toBe(true);
    expect(targets(CATALOG_M, 'generators/engines/argocd/addons/argo-cd.ts')).toBe(true);
    for (const m of ENV_MANAGERS) {
      expect(targets(m, 'environments/prod.yaml'), m.description).toBe(true);
      expect(targets(m, 'environments/_base.yaml'), m.description).toBe(true);
      expect(targets(m, 'environments/prod.ssm.lock.json'), m.description).toBe(false);
      expect(targets(m, 'rendered/prod/values/x.yaml'), m.description).toBe(false);
    }
    expect(config.ignorePaths).toContain('rendered/**');
  });
});

describe('catalog charts', () => {
  it('captures every pinned chart of the catalog, with its repository', () => {
    // The catalog's modules: generators/catalog/ and the add-ons the distributions and engines contribute.
    const dirs = [
      'generators/catalog',
      ...['distributions', 'engines'].flatMap((kind) =>
        readdirSync(join(ROOT, 'generators', kind), { withFileTypes: true })
          .filter((e) => e.isDirectory() && existsSync(join(ROOT, 'generators', kind, e.name, 'addons')))
          .map((e) => `generators/${kind}/${e.name}/addons`),
      ),
    ];
    const found = dirs
      .flatMap((dir) => readdirSync(join(ROOT, dir)).map((f) => `${dir}/${f}`))
      .filter((f) => targets(CATALOG_M, f) && targets(CATALOG_OCI, f))
      .flatMap((f) => [CATALOG_M, CATALOG_OCI].flatMap((m) => extract(m, readFileSync(join(ROOT, f), 'utf8'))));
    // An OCI chart is looked up as the image <registry path>/<chart> (docker datasource).
    const pinned = catalogEntries().flatMap((e): Dep[] =>
      !e.chart ? [] : e.chart.repoURL.startsWith('oci://') ? [{ depName: e.chart.name, currentValue: e.chart.version, packageName: `${e.chart.repoURL.slice('oci://'.length)}/${e.chart.name}` }] : [{ depName: e.chart.name, currentValue: e.chart.version, registryUrl: e.chart.repoURL }],
    );
    const key = (d: Dep) => d.depName;
    expect([...found].sort((a, b) => key(a).localeCompare(key(b)))).toStrictEqual([...pinned].sort((a, b) => key(a).localeCompare(key(b))));
  });
});

/** A fixture file's text and its parsed content. */
const fixture = (rel: string) => {
  const text = readFileSync(join(FIXTURES, rel), 'utf8');
  return { text, doc: parse(text) as Record<string, any> };
};

describe('environment files (the fixtures, written like the team\'s environments)', () => {
  it('Talos and Kubernetes versions', () => {
    const { text, doc } = fixture('_fixture.yaml');
    expect(extract(TALOS, text)).toStrictEqual([{ depName: 'siderolabs/talos', currentValue: doc.cluster.talosVersion }]);
    expect(extract(K8S_TALOS, text)).toStrictEqual([{ depName: 'kubernetes', currentValue: doc.cluster.kubernetesVersion }]);
    expect(extract(K3S, text)).toStrictEqual([]);
    expect(extract(K8S_K3S, text)).toStrictEqual([]);
  });

  it('K3s version; talosVersion: null is no Talos version', () => {
    const { text, doc } = fixture('valid/k3s-postgres.yaml');
    expect(extract(K3S, text)).toStrictEqual([{ depName: 'k3s-io/k3s', currentValue: doc.cluster.k3sVersion }]);
    expect(extract(TALOS, text)).toStrictEqual([]);
  });

  it('RKE2 and its Kubernetes version (issue 25: rke2Version was not extracted)', () => {
    const { text, doc } = fixture('valid/rke2-etcd.yaml');
    expect(extract(RKE2, text)).toStrictEqual([{ depName: 'rancher/rke2', currentValue: doc.cluster.rke2Version }]);
    expect(extract(K8S_RKE2, text)).toStrictEqual([{ depName: 'kubernetes-rke2', currentValue: doc.cluster.kubernetesVersion }]);
    expect(extract(K3S, text)).toStrictEqual([]);
    expect(new RegExp(K8S_RKE2.extractVersionTemplate!).exec('v1.35.8+rke2r2')?.groups?.version).toBe('1.35.8');
  });

  it('a Litestream release pinned in an environment file', () => {
    const text = 'cluster:\n  datastore: { type: kine-sqlite, litestream: { bucket: b, version: v0.5.16 } }\n';
    expect(extract(LITESTREAM, text)).toStrictEqual([{ depName: 'benbjohnson/litestream', currentValue: 'v0.5.16' }]);
  });

  it('the annotated pins of the generator: system-upgrade-controller, its kubectl image, the default Litestream', () => {
    const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');
    const suc = 'generators/distributions/rancher/addons/system-upgrade-controller.ts';
    expect(targets(ANNOTATED, suc)).toBe(true);
    const found = [...extract(ANNOTATED, read(suc)), ...extract(ANNOTATED, read('generators/model/defaults.ts'))].map((d) => `${d.depName}@${d.currentValue}`);
    // One rancher/kubectl pin per Kubernetes minor the upgrade Jobs may meet (SUC_KUBECTL_TAGS), each its own dependency.
    const kubectl = SUC_KUBECTL_TAGS.map((t) => `rancher/kubectl@${t.tag}`);
    expect(found).toStrictEqual(['rancher/system-upgrade-controller@v0.20.1', ...kubectl, 'benbjohnson/litestream@v0.5.16']);
    expect(kubectl.length).toBeGreaterThan(1);
    // Each entry stays on its minor: Renovate offers rancher/kubectl patch updates only (a minor bump would leave the skew).
    const rule = config.packageRules.filter((r) => r.matchDepNames?.includes('rancher/kubectl'));
    expect(rule).toHaveLength(1);
    expect(rule[0]).toMatchObject({ matchUpdateTypes: ['major', 'minor'], enabled: false });
    for (const t of SUC_KUBECTL_TAGS) expect(t.tag.startsWith(`v${t.minor}.`), t.tag).toBe(true);
  });

  it('third-party chart, with its repository', () => {
    const { text, doc } = fixture('valid/cilium-thirdparty.yaml');
    const c = doc.addons.reloader.chart;
    expect(extract(CHARTS, text)).toStrictEqual([{ depName: c.name, currentValue: c.version, registryUrl: c.repoURL }]);
  });

  it('workload images', () => {
    const { text, doc } = fixture('valid/ssm-references.yaml');
    expect(extract(IMAGES, text).map((d) => `${d.depName}:${d.currentValue}`)).toStrictEqual(doc.workloads.map((w: { image: string }) => w.image));
  });
});

describe('the shapes an environment file may take', () => {
  it('a block-style chart and a quoted version; a catalog chart.version override is not a third-party chart', () => {
    const text = 'addons:\n  reloader:\n    chart:\n      repoURL: https://stakater.github.io/stakater-charts\n      name: reloader\n      version: "2.2.7"\n    namespace: reloader\n  kube-prometheus-stack:\n    chart: { version: 88.6.0 }\n';
    expect(extract(CHARTS, text)).toStrictEqual([{ depName: 'reloader', currentValue: '2.2.7', registryUrl: 'https://stakater.github.io/stakater-charts' }]);
  });

  it('images with a digest or a registry port; chart values with image maps are not images', () => {
    const text = [
      '    image: ghcr.io/opendev/inference:0.9.1@sha256:3b0c2f4e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e',
      '    image: registry.internal:5000/team/api:2.7.0',
      '    image: "docker.io/library/nginx:1.29.1-alpine"',
      '      image: { repository: quay.io/prometheus/prometheus, tag: v3.5.0 }',
      '      image:\n        repository: x',
    ].join('\n');
    expect(extract(IMAGES, text)).toStrictEqual([
      { depName: 'ghcr.io/opendev/inference', currentValue: '0.9.1', currentDigest: 'sha256:3b0c2f4e5d6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e' },
      { depName: 'registry.internal:5000/team/api', currentValue: '2.7.0' },
      { depName: 'docker.io/library/nginx', currentValue: '1.29.1-alpine' },
    ]);
  });

  it('kubernetesVersion follows K3s after a k3sVersion, Kubernetes after a talosVersion, and nothing alone', () => {
    const k3s = 'cluster:\n  distribution: k3s\n  talosVersion: null\n  k3sVersion: v1.35.9+k3s1\n  kubernetesVersion: 1.35.9\n';
    expect(extract(K3S, k3s)).toStrictEqual([{ depName: 'k3s-io/k3s', currentValue: 'v1.35.9+k3s1' }]);
    expect(extract(K8S_K3S, k3s)).toStrictEqual([{ depName: 'kubernetes-k3s', currentValue: '1.35.9' }]);
    expect(extract(K8S_TALOS, k3s)).toStrictEqual([]);
    expect(extract(K8S_TALOS, 'cluster:\n  kubernetesVersion: 1.35.4\n')).toStrictEqual([]);
    // The K3s release's tag gives the Kubernetes version both lines must agree on.
    expect(new RegExp(K8S_K3S.extractVersionTemplate!).exec('v1.35.10+k3s2')?.groups?.version).toBe('1.35.10');
    expect(new RegExp(K8S_TALOS.extractVersionTemplate!).exec('v1.36.4')?.groups?.version).toBe('1.36.4');
  });

  it('replacing the captured version yields the updated YAML value', () => {
    const { text } = fixture('_fixture.yaml');
    const m = new RegExp(K8S_TALOS.matchStrings[0]!).exec(text)!;
    const start = m.index + m[0].lastIndexOf(m.groups!.currentValue!);
    const updated = text.slice(0, start) + '1.35.9' + text.slice(start + m.groups!.currentValue!.length);
    expect((parse(updated) as { cluster: { kubernetesVersion: string } }).cluster.kubernetesVersion).toBe('1.35.9');
  });
});
