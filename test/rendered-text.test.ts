/**
 * Rendered text is true for the environment it is in (issue 24 item 10): every distribution ×
 * engine × datastore combination is rendered from the test fixtures, and its README and scripts name
 * only its own parts: no other registered distribution or engine, and no datastore it does not run
 * where the text says what this cluster runs. The names come from the registries, so a distribution,
 * engine or datastore added later is checked without changing this test.
 */
import { describe, expect, it } from 'vitest';
import { distributions } from '../generators/distributions/registry.js';
import { engines } from '../generators/engines/registry.js';
import { renderInline } from './support/inline-env.js';

/** The `cluster` keys a distribution needs besides its datastore (its release), from the valid fixtures. */
const RELEASE: Record<string, string> = {
  talos: '',
  k3s: '  talosVersion: null\n  k3sVersion: v1.35.2+k3s1\n',
  rke2: '  talosVersion: null\n  rke2Version: v1.36.3+rke2r1\n  kubernetesVersion: 1.36.3\n',
};
/** A distribution's own keys of `cluster.datastore.backup`. */
const BACKUP: Record<string, string> = { talos: ', ageRecipientPublicKey: age10y9etcu38q2a7qlxu5cy9qvnjkns3np0pnxr5rwl770encdxq3rqlzmv6k' };
/** Each datastore type's settings, as the valid fixtures write them. */
const DATASTORE: Record<string, string> = {
  etcd: '{ type: etcd, backup: { bucket: odp-fixture-etcd, prefix: etcd/fixture{{backup}} } }',
  'kine-postgres': '{ type: kine-postgres, postgres: { host: kine.fixture.internal, database: kine, user: kine, password: { secret: /odp/fixture/kine/password } } }',
  'kine-sqlite': '{ type: kine-sqlite, litestream: { bucket: odp-fixture-litestream } }',
};
/** Three servers where the datastore is replicated or external, one where it is a local file. */
const servers = (datastore: string): string => (datastore === 'kine-sqlite' ? '[{ name: cp-1, ip: 10.10.1.10 }]' : '[{ name: cp-1, ip: 10.10.1.10 }, { name: cp-2, ip: 10.10.1.11 }, { name: cp-3, ip: 10.10.1.12 }]');

const body = (distribution: string, engine: string, datastore: string): string =>
  `gitops: ${engine}
cluster:
  distribution: ${distribution}
${RELEASE[distribution]}  datastore: ${DATASTORE[datastore]!.replace('{{backup}}', BACKUP[distribution] ?? '')}
nodePools:
  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: ${servers(datastore)} }
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
`;

const combos = distributions().flatMap((d) => engines().flatMap((e) => d.datastores.map((s) => [d.name, e.name, s] as const)));
/** A name as it appears in text: whole word, case-insensitively (so 'K3s' and 'k3s', not 'k3s' inside 'ok3s'). */
const word = (name: string): RegExp => new RegExp(`(?<![\\w-])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '[\\s-]?')}(?![\\w-])`, 'i');

describe('README and scripts name only their own distribution, engine and datastore', () => {
  it('every registered distribution, engine and datastore has fixture settings here', () => {
    expect(distributions().map((d) => d.name).filter((n) => RELEASE[n] === undefined)).toStrictEqual([]);
    expect(distributions().flatMap((d) => d.datastores).filter((s) => DATASTORE[s] === undefined)).toStrictEqual([]);
  });

  it.each(combos)('%s on %s with %s', (distribution, engine, datastore) => {
    const { files } = renderInline(`text-${distribution}-${engine}-${datastore}`.replace(/[^a-z0-9-]/g, ''), body(distribution, engine, datastore));
    // The README, the scripts, and the node user data (boot scripts inside YAML).
    const texts = files.filter((f) => f.path === 'README.md' || f.path.endsWith('.sh') || /(^|\/)userdata\//.test(f.path));
    expect(texts.map((f) => f.path)).toContain('README.md');
    const others = [
      ...distributions().filter((d) => d.name !== distribution).flatMap((d) => [d.title, d.name]),
      ...engines().filter((e) => e.name !== engine).flatMap((e) => [e.title, e.name]),
    ];
    // A datastore this cluster does not run, by the words of its type that this one's lacks
    // (kine-sqlite beside kine-postgres: 'sqlite'), where the text says what the cluster runs or uses.
    const own = datastore.split('-');
    const absent = [...new Set(distributions().flatMap((d) => d.datastores).flatMap((s) => s.split('-')))].filter((w) => !own.includes(w));
    const claims = absent.map((w) => [w, new RegExp(`\\b(runs?|running|uses?|using|on|stores?|embedded)\\s+(\\w+\\s+)?\`?${w}\\b`, 'i')] as const);
    const found: string[] = [];
    for (const f of texts)
      f.content.split('\n').forEach((line, i) => {
        const named = [...new Set(others)].find((n) => word(n).test(line));
        if (named) found.push(`${f.path}:${i + 1} names ${named}: ${line.trim()}`);
        // What a line says the cluster does not run is no claim ("no embedded etcd", "cannot use Kine").
        const said = line.replace(/\b(no|not|cannot|never|without)\s+(\w+\s+)?`?\w+/gi, '');
        for (const [w, claim] of claims) if (claim.test(said)) found.push(`${f.path}:${i + 1} says it runs ${w}: ${line.trim()}`);
      });
    expect(found).toStrictEqual([]);
  });
});

describe('the name check itself', () => {
  it('finds a name written either way, and not inside another word', () => {
    expect(['an Argo CD add-on', 'argocd', 'Argo-CD'].map((t) => word('Argo CD').test(t))).toStrictEqual([true, true, true]);
    expect([word('Talos').test("Talos' KubePrism"), word('talos').test('talosctl'), word('k3s').test('k3s-io')]).toStrictEqual([true, false, false]);
  });
});
