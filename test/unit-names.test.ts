/**
 * Names the delivery derives from the user's names (validate/unit-names.ts): refused at the name they derive from
 * when a consumer would refuse them, and nothing else. Flux's limit (a Kustomization's name is a label value on every
 * object it applies, ≤ 63: kustomize-controller v1.9.1 kustomization_controller.go:462) is Flux's own: Argo CD tracks
 * by annotation (argo-cd v3.4.4 util/settings/settings.go:869-878), its Application name is an object name (≤ 253).
 * Helm's 53 characters for a release name (helm/helm pkg/chartutil/validate_name.go:50) hold under both.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { FIXTURES, fixtureSources, formatted } from './helpers.js';

type Result = { errors: string[]; files?: Map<string, string> };

/** An environment written inline next to the fixtures (extends _fixture): its errors, and its files when it renders. */
function prepare(name: string, body: string, render = false): Result {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set(`environments/${name}.yaml`, `# yaml-language-server: $schema=../schemas/environment.schema.json\nname: ${name}\nextends: _fixture\n${body}`);
  const r = prepareEnvironment(name, sources);
  const errors = formatted(r).filter((l) => !l.includes(': warning: '));
  return { errors, ...(render && r.prepared ? { files: new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content])) } : {}) };
}

const workload = (ns: string, secret: boolean): string =>
  `workloads:\n  - name: reports\n    namespace: ${ns}\n    image: ghcr.io/opendev/reports:1.0.0\n${secret ? '    env:\n      TOKEN: { secret: /odp/names/reports/token }\n' : ''}    resources: { requests: { cpu: 100m, memory: 128Mi } }\n`;

/** A DNS label of exactly `n` characters. */
const label = (n: number, seed = 'a'): string => (n === 1 ? seed : `${seed}${'x'.repeat(n - 2)}1`);

/** Every delivery object's name and Helm release name in a rendered tree, by kind. */
function deliveryNames(files: Map<string, string>): { kind: string; name: string; release?: string }[] {
  const out: { kind: string; name: string; release?: string }[] = [];
  for (const [path, content] of files) {
    if (!path.endsWith('.yaml')) continue;
    for (const d of parseAllDocuments(content)) {
      const o = d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { releaseName?: string; sources?: { helm?: { releaseName?: string } }[] } } | null;
      if (!o?.kind || !['Kustomization', 'HelmRelease', 'Application'].includes(o.kind) || !o.metadata?.name) continue;
      const release = o.spec?.releaseName ?? o.spec?.sources?.find((s) => s.helm?.releaseName)?.helm?.releaseName;
      out.push({ kind: o.kind, name: o.metadata.name, ...(release ? { release } : {}) });
    }
  }
  return out;
}

describe('unit-name-length: the engine says the limit of its delivery object names', () => {
  it('Flux: the store unit of a 40-character secret namespace fits (63), and renders so', () => {
    const ns = label(40);
    const r = prepare('names', `gitops: flux\n${workload(ns, true)}`, true);
    expect(r.errors).toStrictEqual([]);
    const names = deliveryNames(r.files!);
    expect(names.find((n) => n.kind === 'Kustomization' && n.name === `external-secrets-store-${ns}`)?.name).toHaveLength(63);
    for (const n of names.filter((x) => x.kind !== 'Application')) expect(n.name.length, n.name).toBeLessThanOrEqual(63);
  });

  it('Argo CD: a 63-character secret namespace is fine (annotation tracking: no label carries an Application name)', () => {
    const ns = label(63);
    const r = prepare('names', workload(ns, true), true);
    expect(r.errors).toStrictEqual([]);
    expect(deliveryNames(r.files!).find((n) => n.kind === 'Application' && n.name === `external-secrets-store-${ns}`)?.name).toHaveLength(86);
  });

  it('Flux: one finding per name the user wrote, listing every unit name derived from it, with the tightest fit', () => {
    const ns = label(60);
    const r = prepare('names', `gitops: flux\n${workload(ns, true)}`);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(`workloads[0].namespace: namespace '${ns}' gives the Flux Kustomizations 'external-secrets-store-${ns}' (83 characters), 'namespace-${ns}' (70 characters); at most 63`);
    expect(r.errors[0]).toMatch(/\(shorten the namespace to at most 40 characters\)$/);
  });

  it('Flux: a workload without a namespace is positioned at its name (the namespace it names)', () => {
    const name = label(55, 'r');
    const r = prepare('names', `gitops: flux\nworkloads:\n  - name: ${name}\n    image: ghcr.io/opendev/reports:1.0.0\n    resources: { requests: { cpu: 100m, memory: 128Mi } }\n`);
    expect(r.errors).toStrictEqual([expect.stringMatching(new RegExp(`^environments/names\\.yaml:\\d+:\\d+  workloads\\[0\\]\\.name: namespace '${name}' gives the Flux Kustomization 'namespace-${name}' \\(65 characters\\)`))]);
  });

  it.each(['k3s-postgres', 'rke2-postgres', 'flux-talos'])('on every distribution: %s under Flux with a 41-character secret namespace', (fixture) => {
    const ns = label(41);
    const body = readFileSync(join(FIXTURES, 'valid', `${fixture}.yaml`), 'utf8')
      .replace(/^(name|extends|gitops): .*\n/gm, '')
      .replace(/^workloads:\n/m, `${workload(ns, true)}`);
    const r = prepare('names', `gitops: flux\n${body}${body.includes('workloads:') ? '' : workload(ns, true)}`);
    expect(r.errors).toStrictEqual([expect.stringContaining(`namespace '${ns}' gives the Flux Kustomization 'external-secrets-store-${ns}' (64 characters); at most 63`)]);
  });

  it("Flux: an add-on's secrets give its namespace a store unit: refused at addons.<name>.namespace", () => {
    const ns = label(45);
    const r = prepare(
      'names',
      `gitops: flux\naddons:\n  reports:\n    namespace: ${ns}\n    clusterResources: []\n    chart: { repoURL: https://charts.example.com, name: reports, version: 1.0.0 }\n    secrets:\n      reports-token:\n        token: { secret: /odp/names/reports/token }\n`,
    );
    expect(r.errors).toStrictEqual([
      expect.stringMatching(new RegExp(`^environments/names\\.yaml:\\d+:\\d+  addons\\.reports\\.namespace: namespace '${ns}' gives the Flux Kustomization 'external-secrets-store-${ns}' \\(68 characters\\); at most 63: .*\\(shorten the namespace to at most 40 characters\\)$`)),
    ]);
  });

  it('property: refused exactly when a Flux unit name would pass 63 characters, under either engine', () => {
    fc.assert(
      fc.property(fc.integer({ min: 30, max: 63 }), fc.boolean(), fc.constantFrom('flux', 'argocd'), (n, secret, engine) => {
        const ns = label(n);
        const errors = prepare('names', `gitops: ${engine}\n${workload(ns, secret)}`).errors;
        const longest = Math.max(`namespace-${ns}`.length, secret ? `external-secrets-store-${ns}`.length : 0);
        const refused = engine === 'flux' && longest > 63;
        expect(errors.filter((e) => e.includes(`namespace '${ns}' gives the`)), `${engine} ns ${n} secret ${secret}`).toHaveLength(refused ? 1 : 0);
        expect(errors.length, errors.join('\n')).toBe(refused ? 1 : 0);
      }),
      { numRuns: 24 },
    );
  });
});

describe('helm-release-name: an add-on name is its chart release name, Helm takes 53 characters', () => {
  const addon = (name: string): string => `addons:\n  ${name}:\n    namespace: reports\n    clusterResources: []\n    chart: { repoURL: https://charts.example.com, name: reports, version: 1.0.0 }\n`;

  it('property: refused exactly over 53, under either engine; what passes renders release names of at most 53', () => {
    fc.assert(
      fc.property(fc.integer({ min: 45, max: 63 }), fc.constantFrom('flux', 'argocd'), (n, engine) => {
        const name = label(n, 'r');
        const r = prepare('names', `gitops: ${engine}\n${addon(name)}`, n === 53);
        expect(r.errors, `${engine} ${n}`).toStrictEqual(n > 53 ? [expect.stringContaining(`add-on '${name}' is the Helm release name of its chart: ${n} characters; Helm takes at most 53`)] : []);
        if (r.files) for (const x of deliveryNames(r.files)) if (x.release) expect(x.release.length, x.release).toBeLessThanOrEqual(53);
      }),
      { numRuns: 16 },
    );
  });
});
