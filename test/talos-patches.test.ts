/**
 * Talos strategic-merge patches (merged as Talos merges them) and per-pool system extensions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { diffTrees } from '../generators/diff/diff.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { applyPatch } from '../generators/distributions/talos/patch.js';
import { TALOS_RELEASE_OF_FIELDS, TALOS_V1ALPHA1_FIELDS } from '../generators/distributions/talos/config-fields.js';
import { SHARED, sharedPath } from './helpers.js';
import { diagnosticsOf, renderInline } from './support/inline-env.js';

type Obj = Record<string, any>;
const v1 = (extra: Obj = {}) => ({ version: 'v1alpha1', machine: { type: 'worker', sysctls: { a: '1' }, kubelet: { extraArgs: { x: '1' } }, certSANs: ['a'] }, cluster: { network: { podSubnets: ['10.244.0.0/16'] } }, ...extra });

describe('strategic merge as Talos does it (configpatcher/strategic.go, merge/merge.go)', () => {
  it('maps merge, scalars replace, lists append; podSubnets replace; extraArgs per flag', () => {
    const { docs } = applyPatch([v1()], [{ machine: { sysctls: { b: '2' }, kubelet: { extraArgs: { x: '2', y: '3' } }, certSANs: ['b'] }, cluster: { network: { podSubnets: ['10.32.0.0/16'] } } }]);
    expect(docs[0]).toStrictEqual({ version: 'v1alpha1', machine: { type: 'worker', sysctls: { a: '1', b: '2' }, kubelet: { extraArgs: { x: '2', y: '3' } }, certSANs: ['a', 'b'] }, cluster: { network: { podSubnets: ['10.32.0.0/16'] } } });
  });

  it('a zero value leaves the config as it is, false always applies, $patch: delete removes', () => {
    const { docs } = applyPatch([v1({ debug: true })], [{ debug: false, machine: { type: '', sysctls: { $patch: 'delete' } } }]);
    expect(docs[0]).toMatchObject({ debug: false, machine: { type: 'worker' } });
    expect((docs[0] as Obj).machine.sysctls).toBeUndefined();
  });

  it('interfaces merge by interface name; other documents by apiVersion/kind/name, new ones appended', () => {
    const base = [{ version: 'v1alpha1', machine: { network: { interfaces: [{ interface: 'eth0', mtu: 1500 }] } } }, { apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' }];
    const { docs } = applyPatch(base, [{ machine: { network: { interfaces: [{ interface: 'eth0', mtu: 9001 }, { interface: 'eth1', dhcp: true }] } } }]);
    expect((docs[0] as Obj).machine.network.interfaces).toStrictEqual([{ interface: 'eth0', mtu: 9001 }, { interface: 'eth1', dhcp: true }]);
    const more = applyPatch(base, [{ apiVersion: 'v1alpha1', kind: 'HostnameConfig', hostname: 'n1' }, { apiVersion: 'v1alpha1', kind: 'ExtensionServiceConfig', name: 'x', environment: ['A=1'] }]).docs;
    expect(more.slice(1)).toStrictEqual([{ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable', hostname: 'n1' }, { apiVersion: 'v1alpha1', kind: 'ExtensionServiceConfig', name: 'x', environment: ['A=1'] }]);
  });
});

const PATCHED = `cluster:
  talos:
    patches:
      - machine:
          sysctls: { vm.max_map_count: "262144" }
          kubelet: { extraArgs: { image-gc-high-threshold: "80" } }
nodePools:
  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }
  - name: workers
    role: worker
    arch: amd64
    instanceType: m7i.xlarge
    subnet: private-a
    count: 1
    talos:
      extensions: [siderolabs/iscsi-tools]
      patches:
        - machine: { nodeLabels: { storage: iscsi } }
`;

const configOf = (files: { path: string; content: string }[], node: string) => parseYamlStream(files.find((f) => f.path === `talos/${node}.yaml`)!.content) as Obj[];

describe('patches and extensions in an environment', () => {
  const { files } = renderInline('patched', PATCHED);

  it('cluster patches reach every config, pool patches only the pool\'s', () => {
    const cp = configOf(files, 'cp-1')[0]!;
    const w = configOf(files, 'workers')[0]!;
    for (const c of [cp, w]) {
      expect(c.machine.sysctls['vm.max_map_count']).toBe('262144');
      expect(c.machine.kubelet.extraArgs['image-gc-high-threshold']).toBe('80');
      expect(c.machine.kubelet.extraArgs['rotate-server-certificates']).toBe('true');
    }
    expect(w.machine.nodeLabels.storage).toBe('iscsi');
    expect(cp.machine.nodeLabels.storage).toBeUndefined();
  });

  it('a pool with extensions of its own gets its own schematic and installer image', () => {
    const schematic = parseYamlStream(files.find((f) => f.path === 'talos/schematics/amd64-workers.yaml')!.content)[0] as Obj;
    expect(schematic.schematic).toStrictEqual({ customization: { systemExtensions: { officialExtensions: ['siderolabs/iscsi-tools'] } } });
    expect(configOf(files, 'workers')[0]!.machine.install.image).toBe(schematic.installerImage);
    expect(configOf(files, 'cp-1')[0]!.machine.install.image).not.toBe(schematic.installerImage);
    expect(files.some((f) => f.path === 'talos/schematics/amd64.yaml')).toBe(true);
  });

  it.skipIf(!sharedPath('upstream', 'talos', 'v1.13', 'config.schema.json'))('merged configs are valid against the Talos v1.13 schema', () => {
    const schema = JSON.parse(readFileSync(join(SHARED, 'upstream', 'talos', 'v1.13', 'config.schema.json'), 'utf8')) as Obj;
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    for (const node of ['cp-1', 'workers'])
      for (const d of configOf(files, node)) {
        const { persist: _p, ...doc } = d; // persist: written by gen config, missing from the schema (SOURCES.md)
        expect(validate(doc), `${node}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
  });

  it('the diff shows a patch change with its Talos impact', () => {
    const head = renderInline('patched', PATCHED.replace('storage: iscsi', 'storage: iscsi, tier: fast')).files;
    const map = (fs: typeof files) => new Map(fs.map((f) => [`patched/${f.path}`, f.content]));
    const t = diffTrees(map(files), map(head)).envs[0]!.talos;
    expect(t.map((i) => [i.node, i.headline, i.reasons.map((r) => r.path)])).toStrictEqual([['workers', 'no-reboot', ['machine.nodeLabels.tier']]]);
    const files2 = renderInline('patched', PATCHED.replace('- machine: { nodeLabels: { storage: iscsi } }', '- machine: { nodeLabels: { storage: iscsi }, files: [{ path: /var/etc/x, content: y, op: create, permissions: 420 }] }')).files;
    expect(diffTrees(map(files), map(files2)).envs[0]!.talos.map((i) => [i.node, i.headline])).toStrictEqual([['workers', 'reboot']]);
  });
});

describe('what a patch may not do, positioned at the patch', () => {
  const patch = (body: string) => diagnosticsOf('bad', `cluster:\n  talos:\n    patches:\n      - ${body}\n`);

  it('secret reference fields', () => {
    expect(patch('machine: { token: abc.def }')).toStrictEqual([
      'environments/bad.yaml:7:20  cluster.talos.patches[0].machine.token: machine.token is a secret reference (${talos-secrets:trustdinfo.token}) filled from the SSM bundle by npm run talos -- config; patches may not change it  (rotate secrets with talosctl gen secrets and npm run talos -- secrets import)',
    ]);
  });

  it('denied kube-apiserver flags stay denied', () => {
    expect(patch('cluster: { apiServer: { extraArgs: { etcd-servers: https://x:2379 } } }')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:7:46  cluster\.talos\.patches\[0\]\.cluster\.apiServer\.extraArgs\.etcd-servers: kube-apiserver flag 'etcd-servers' is managed by Talos; Talos refuses it \(extra arg "etcd-servers" is not allowed\)  \(denied: /),
    ]);
  });

  it('generator-managed fields: the installer image', () => {
    expect(patch('machine: { install: { image: ghcr.io/siderolabs/installer:v1.13.9 } }')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:7:\d+  cluster\.talos\.patches\[0\]\.machine\.install\.image: machine\.install\.image is rendered from talosVersion and the extensions/),
    ]);
  });

  it('a merge the types forbid, and a merged config Talos refuses', () => {
    expect(patch('machine: { kubelet: [a] }')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:7:\d+  cluster\.talos\.patches\[0\]\.machine\.kubelet: cannot merge into cp-1's config: the config has a map at machine\.kubelet, the patch a list/),
    ]);
    expect(patch('machine: { features: { hostDNS: { enabled: false, forwardKubeDNSToHost: true } } }')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:7:\d+  cluster\.talos\.patches\[0\]\.machine\.features\.hostDNS\.forwardKubeDNSToHost: after this patch, cp-1's config is refused: machine\.features\.hostDNS\.forwardKubeDNSToHost: forwardKubeDNSToHost requires hostDNS\.enabled/),
    ]);
  });

  it('unknown top-level keys of a v1alpha1 patch', () => {
    expect(patch('machin: { sysctls: { a: "1" } }')).toStrictEqual([
      "environments/bad.yaml:7:9  cluster.talos.patches[0].machin: unknown key 'machin' in a v1alpha1 patch; expected one of: cluster, debug, machine, version, persist  (did you mean 'machine'?)",
    ]);
  });
});

describe('the known-field table of Talos patches (distributions/talos/config-fields.ts)', () => {
  it('names the schema\'s fields of each section it lists (optional upstream data)', (ctx) => {
    const file = sharedPath('upstream', 'talos', 'v1.13', 'config.schema.json');
    if (!file) return ctx.skip();
    expect(TALOS_RELEASE_OF_FIELDS.startsWith('v1.13.')).toBe(true);
    const defs = (JSON.parse(readFileSync(file, 'utf8')) as { $defs: Record<string, Obj> }).$defs;
    const deref = (x: Obj): Obj => (x.$ref ? defs[String(x.$ref).split('/').pop()!]! : x);
    const at = (section: string): Obj =>
      section === ''
        ? defs['v1alpha1.Config']!
        : section.split('.').reduce<Obj>((cur, part) => {
            const list = part.endsWith('[]');
            const next = deref(cur.properties[list ? part.slice(0, -2) : part]);
            return list ? deref(next.items) : next;
          }, defs['v1alpha1.Config']!);
    for (const [section, fields] of Object.entries(TALOS_V1ALPHA1_FIELDS)) {
      const schema = at(section);
      expect(schema.additionalProperties, section).toBe(false);
      expect([...fields].sort(), section).toStrictEqual(Object.keys(schema.properties).sort());
    }
  });

  it('refuses a misspelt field inside a section, with the fields it has', () => {
    expect(diagnosticsOf('bad', 'cluster:\n  talos:\n    patches:\n      - machine: { kubelet: { extraConfg: { serializeImagePulls: false } } }\n')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:7:31  cluster\.talos\.patches\[0\]\.machine\.kubelet\.extraConfg: unknown key 'extraConfg' in machine\.kubelet; expected one of: .*\(did you mean 'extraConfig'\?\)$/),
    ]);
  });
});
