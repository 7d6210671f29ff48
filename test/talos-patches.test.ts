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
import { TALOS_DOCUMENT_FIELDS, TALOS_RELEASE_OF_FIELDS, TALOS_SCHEMA_KIND_NAMES, TALOS_V1ALPHA1_FIELDS } from '../generators/distributions/talos/config-fields.js';
import { TALOS_ENUMS_NOT_CHECKED, TALOS_FIELD_VALUES } from '../generators/distributions/talos/config-values.js';
import { SHARED, sharedPath } from './helpers.js';
import { diagnosticsOf, prepareInline, renderInline } from './support/inline-env.js';

type Obj = Record<string, any>;
const patchDiag = (body: string): string[] => diagnosticsOf('bad', `cluster:\n  talos:\n    patches:\n      - ${body}\n`);
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
  const patch = (...bodies: string[]) => diagnosticsOf('bad', `cluster:\n  talos:\n    patches:\n${bodies.map((b) => `      - ${b}\n`).join('')}`);

  it('secret reference fields', () => {
    expect(patch('machine: { token: abc.def }')).toStrictEqual([
      'environments/bad.yaml:7:20  cluster.talos.patches[0].machine.token: machine.token is a secret reference (${talos-secrets:trustdinfo.token}) filled from the SSM bundle by npm run talos -- config; patches may not change it  (rotate secrets with talosctl gen secrets and npm run talos -- secrets import)',
    ]);
  });

  // A patch has no reference to SSM: a value of a Talos field holding its own secret would be committed to rendered/.
  it('fields holding a secret of their own, in every document kind that has one; deleting one is fine', () => {
    const heads = (lines: string[]) => lines.map((l) => l.replace(/ holds a secret.*$/, ''));
    expect(heads(patch('cluster: { aescbcEncryptionSecret: short }'))).toStrictEqual(['environments/bad.yaml:7:20  cluster.talos.patches[0].cluster.aescbcEncryptionSecret: cluster.aescbcEncryptionSecret']);
    expect(heads(patch('{ apiVersion: v1alpha1, kind: RegistryAuthConfig, name: ghcr.io, username: bot, password: "pass word" }'))).toStrictEqual(['environments/bad.yaml:7:89  cluster.talos.patches[0].password: password']);
    expect(heads(patch('{ apiVersion: v1alpha1, kind: WireguardConfig, name: wg0, privateKey: k, peers: [{ publicKey: p, presharedKey: s }] }')).map((l) => l.replace(/:\d+:\d+ /, ' '))).toStrictEqual([
      'environments/bad.yaml  cluster.talos.patches[0].privateKey: privateKey',
      'environments/bad.yaml  cluster.talos.patches[0].peers[0].presharedKey: peers[].presharedKey',
    ]);
    expect(heads(patch('machine: { registries: { config: { ghcr.io: { auth: { username: bot, password: hunter2 } } } } }')).map((l) => l.replace(/:\d+:\d+ /, ' '))).toStrictEqual([
      'environments/bad.yaml  cluster.talos.patches[0].machine.registries.config["ghcr.io"].auth.password: machine.registries.config.*.auth.password',
    ]);
    expect(patch('cluster: { aescbcEncryptionSecret: { $patch: delete } }').filter((l) => l.includes('holds a secret'))).toStrictEqual([]);
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
    // The field table refuses a list for a map first; the merge does not say it again.
    expect(patch('machine: { kubelet: [a] }')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:7:\d+  cluster\.talos\.patches\[0\]\.machine\.kubelet: kubelet in machine takes a map, not a list: Talos v1\.13\.9 refuses the config when it decodes it  \(write a map \(the Talos v1\.13\.9 configuration reference describes kubelet\)\)$/),
    ]);
    // A free map (extraConfig) is not typed by the table: the merge still finds the clash.
    expect(patch('machine: { kubelet: { extraConfig: { maxParallelImagePulls: [1] } } }', 'machine: { kubelet: { extraConfig: { maxParallelImagePulls: 2 } } }')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:8:\d+  cluster\.talos\.patches\[1\]\.machine\.kubelet\.extraConfig\.maxParallelImagePulls: cannot merge into cp-1's config: the config has a list at machine\.kubelet\.extraConfig\.maxParallelImagePulls, the patch a number/),
    ]);
    expect(patch('machine: { features: { hostDNS: { enabled: false, forwardKubeDNSToHost: true } } }')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:7:\d+  cluster\.talos\.patches\[0\]\.machine\.features\.hostDNS\.forwardKubeDNSToHost: after this patch, cp-1's config is refused: machine\.features\.hostDNS\.forwardKubeDNSToHost: forwardKubeDNSToHost requires hostDNS\.enabled/),
    ]);
  });

  it('file modes: a plausible decimal mode is taken, one plausible only read as octal refused, neither warns', () => {
    const mode = (m: number) => patch(`machine: { files: [{ path: /var/etc/x, content: y, op: create, permissions: ${m} }] }`);
    expect(mode(420)).toStrictEqual([]); // 0o644
    expect(mode(256)).toStrictEqual([]); // 0o400
    expect(mode(0o644)).toStrictEqual([]); // written 0o644
    expect(mode(444)).toStrictEqual([expect.stringMatching(/permissions 444 is the decimal number 444, mode 0o674 \(0o674 is no mode a file is given on purpose\), not 0o444: .*\(write 0o444 \(or 292\); to keep 0o674, write it in octal\)$/)]);
    expect(mode(400)).toStrictEqual([expect.stringMatching(/permissions 400 is the decimal number 400, mode 0o620 .*not 0o400/)]);
    expect(mode(640)).toStrictEqual([expect.stringMatching(/permissions 640 is the decimal number 640, mode 0o1200, not 0o640: YAML 1\.2 reads 644 and 0644 as decimal  \(write 0o640 \(or 416\)\)$/)]);
    // 123: 0o173 as written, 0o123 read as octal: plausible neither way, a warning only.
    const w = prepareInline('bad', `cluster:\n  talos:\n    patches:\n      - machine: { files: [{ path: /var/etc/x, content: y, op: create, permissions: 123 }] }\n`);
    expect(w.diagnostics.filter((d) => d.rule === 'talos-patch-file-mode').map((d) => d.severity)).toStrictEqual(['warning']);
  });

  it('unknown top-level keys of a v1alpha1 patch', () => {
    expect(patch('machin: { sysctls: { a: "1" } }')).toStrictEqual([
      "environments/bad.yaml:7:9  cluster.talos.patches[0].machin: unknown key 'machin' in a v1alpha1 patch; expected one of: cluster, debug, machine, version, persist  (did you mean 'machine'?)",
    ]);
  });
});

describe('the known-field table of Talos patches (distributions/talos/config-fields.ts)', () => {
  type Def = Obj;
  /** The table's value type of a schema property (the reading config-fields.ts documents). */
  const typeOf = (defs: Record<string, Def>, v: Def): string => {
    if (v.$ref) return Object.keys(defs[String(v.$ref).split('/').pop()!]!.properties).length ? 'map' : 'scalar';
    if (v.type === 'array') return 'list';
    if (v.type === 'object') return v.properties ? 'any' : 'map';
    return ({ string: 'scalar', integer: 'int', boolean: 'bool' } as Record<string, string>)[v.type] ?? (v.enum ? 'scalar' : '?');
  };
  /** Every section reachable from a definition, as config-fields.ts keys them, with its fields' types. */
  const sectionsOf = (defs: Record<string, Def>, root: string): Record<string, Record<string, string>> => {
    const out: Record<string, Record<string, string>> = {};
    const walk = (name: string, path: string): void => {
      const def = defs[name]!;
      expect(def.additionalProperties, `${root} ${path}`).toBe(false);
      out[path] = {};
      for (const [k, v] of Object.entries(def.properties as Record<string, Def>)) {
        out[path]![k] = typeOf(defs, v);
        const at = path === '' ? k : `${path}.${k}`;
        const ref = v.$ref ?? (v.type === 'array' ? v.items?.$ref : undefined);
        if (ref && Object.keys(defs[String(ref).split('/').pop()!]!.properties).length) walk(String(ref).split('/').pop()!, v.$ref ? at : `${at}[]`);
      }
    };
    walk(root, '');
    return out;
  };
  const schema = (): { defs: Record<string, Def>; kinds: Record<string, string> } | undefined => {
    const file = sharedPath('upstream', 'talos', 'v1.13', 'config.schema.json');
    if (!file) return undefined;
    const json = JSON.parse(readFileSync(file, 'utf8')) as { $defs: Record<string, Def>; oneOf: { $ref: string }[] };
    const kinds = Object.fromEntries(json.oneOf.map((r) => r.$ref.split('/').pop()!).filter((n) => n !== 'v1alpha1.Config').map((n) => [json.$defs[n]!.properties.kind.enum[0] as string, n]));
    return { defs: json.$defs, kinds };
  };

  it('lists every section of the v1alpha1 document with the schema\'s fields and types (optional upstream data)', (ctx) => {
    const s = schema();
    if (!s) return ctx.skip();
    expect(TALOS_RELEASE_OF_FIELDS.startsWith('v1.13.')).toBe(true);
    const want = sectionsOf(s.defs, 'v1alpha1.Config');
    // Routing-rule actions and acceptedCAs decode their own way: the table says `any` where the schema's type is not what YAML takes.
    expect(TALOS_V1ALPHA1_FIELDS).toStrictEqual(want);
  });

  it('lists every other document kind with the schema\'s sections, fields and types (optional upstream data)', (ctx) => {
    const s = schema();
    if (!s) return ctx.skip();
    const schemaName = (kind: string): string => TALOS_SCHEMA_KIND_NAMES[kind] ?? kind;
    // ImageVerificationConfig is registered at v1.13.9 but missing from the published schema (SOURCES.md).
    const ours = Object.keys(TALOS_DOCUMENT_FIELDS).filter((k) => k !== 'ImageVerificationConfig');
    expect(ours.map(schemaName).sort()).toStrictEqual(Object.keys(s.kinds).sort());
    for (const kind of ours) {
      const want = sectionsOf(s.defs, s.kinds[schemaName(kind)]!);
      delete want['']!.apiVersion;
      delete want['']!.kind;
      if (kind === 'RoutingRuleConfig') want['']!.action = 'scalar'; // nethelpers.RoutingRuleAction decodes a name (routing_rule.go)
      expect(TALOS_DOCUMENT_FIELDS[kind], kind).toStrictEqual(want);
    }
  });

  it('refuses a misspelt field inside a section, with the fields it has', () => {
    expect(diagnosticsOf('bad', 'cluster:\n  talos:\n    patches:\n      - machine: { kubelet: { extraConfg: { serializeImagePulls: false } } }\n')).toStrictEqual([
      expect.stringMatching(/^environments\/bad\.yaml:7:31  cluster\.talos\.patches\[0\]\.machine\.kubelet\.extraConfg: unknown key 'extraConfg' in machine\.kubelet; expected one of: .*\(did you mean 'extraConfig'\?\)$/),
    ]);
  });

  it('refuses a misspelt field deep in a section the short table did not have, and in list items', () => {
    expect(patchDiag('machine: { features: { kubePrism: { enabeld: true } } }')).toStrictEqual([
      expect.stringMatching(/machine\.features\.kubePrism\.enabeld: unknown key 'enabeld' in machine\.features\.kubePrism; expected one of: enabled, port  \(did you mean 'enabled'\?\)$/),
    ]);
    expect(patchDiag('cluster: { inlineManifests: [{ name: x, content: y }] }')).toStrictEqual([
      expect.stringMatching(/cluster\.inlineManifests\[0\]\.content: unknown key 'content' in cluster\.inlineManifests\[\]; expected one of: contents, name  \(did you mean 'contents'\?\)$/),
    ]);
  });

  it('refuses a value of the wrong type, with the fix', () => {
    expect(patchDiag('machine: { features: { kubePrism: { enabled: "true", port: "7445" } } }')).toStrictEqual([
      expect.stringMatching(/kubePrism\.enabled: enabled in machine\.features\.kubePrism takes true or false \(unquoted\), not the string "true": .*  \(remove the quotes\)$/),
      expect.stringMatching(/kubePrism\.port: port in machine\.features\.kubePrism takes an integer, not the string "7445": .*  \(remove the quotes\)$/),
    ]);
    expect(patchDiag('machine: { certSANs: api.example.com }')).toStrictEqual([
      expect.stringMatching(/machine\.certSANs: certSANs in machine takes a list, not the string "api\.example\.com": .*  \(write \["api\.example\.com"\]\)$/),
    ]);
  });

  it('checks the other document kinds: the kind, its apiVersion, its fields and types', () => {
    expect(patchDiag('{ apiVersion: v1alpha1, kind: KubeSpanConfg, enabled: true }')).toStrictEqual([
      expect.stringMatching(/patches\[0\]\.kind: kind 'KubeSpanConfg' is not a Talos v1\.13\.9 config document  \(did you mean 'KubeSpanConfig'\?\)$/),
    ]);
    expect(patchDiag('{ apiVersion: v1alpha2, kind: KubeSpanConfig, enabled: true, harvestExtraEndpoint: true }')).toStrictEqual([
      expect.stringMatching(/patches\[0\]\.apiVersion: KubeSpanConfig documents are apiVersion v1alpha1, not "v1alpha2"  \(write apiVersion: v1alpha1\)$/),
      expect.stringMatching(/patches\[0\]\.harvestExtraEndpoint: unknown key 'harvestExtraEndpoint' in the KubeSpanConfig document; expected one of: .*\(did you mean 'harvestExtraEndpoints'\?\)$/),
    ]);
    expect(patchDiag('{ apiVersion: v1alpha1, kind: ExtensionServiceConfig, name: x, environment: A=1, configFiles: [{ content: y, mountpath: /etc/x }] }')).toStrictEqual([
      expect.stringMatching(/patches\[0\]\.environment: environment in the ExtensionServiceConfig document takes a list/),
      expect.stringMatching(/patches\[0\]\.configFiles\[0\]\.mountpath: unknown key 'mountpath' in ExtensionServiceConfig configFiles\[\]; .*\(did you mean 'mountPath'\?\)$/),
    ]);
    expect(patchDiag('{ apiVersion: v1alpha1, kind: NetworkDefaultActionConfig, ingress: block }')).toStrictEqual([]);
  });

  it('knows the values of every field the schema gives an enum, or says why it leaves one (optional upstream data)', (ctx) => {
    const s = schema();
    if (!s) return ctx.skip();
    /** kind ('' for v1alpha1) → 'section|field' → the schema's enum, sections keyed as config-fields.ts keys them. */
    const enums = (root: string): Record<string, string[]> => {
      const out: Record<string, string[]> = {};
      const walk = (name: string, path: string): void => {
        for (const [k, v] of Object.entries(s.defs[name]!.properties as Record<string, Def>)) {
          const e = v.enum ?? v.items?.enum;
          if (e && !(path === '' && (k === 'apiVersion' || k === 'kind'))) out[`${path}|${k}`] = e;
          const at = path === '' ? k : `${path}.${k}`;
          const ref = v.$ref ?? (v.type === 'array' ? v.items?.$ref : undefined);
          if (ref) walk(String(ref).split('/').pop()!, v.$ref ? at : `${at}[]`);
        }
      };
      walk(root, '');
      return out;
    };
    const schemaName = (kind: string): string => TALOS_SCHEMA_KIND_NAMES[kind] ?? kind;
    const roots: Record<string, string> = { '': 'v1alpha1.Config', ...Object.fromEntries(Object.keys(TALOS_DOCUMENT_FIELDS).filter((k) => s.kinds[schemaName(k)]).map((k) => [k, s.kinds[schemaName(k)]!])) };
    const want: Record<string, string[]> = {};
    for (const [kind, root] of Object.entries(roots)) for (const [key, e] of Object.entries(enums(root))) want[`${kind}|${key}`] = e;
    const ours: Record<string, readonly string[]> = {};
    for (const [kind, sections] of Object.entries(TALOS_FIELD_VALUES))
      for (const [section, fields] of Object.entries(sections)) for (const [field, e] of Object.entries(fields)) if (!e.notInSchema) ours[`${kind}|${section}|${field}`] = e.schema ?? e.values;
    const left = Object.entries(TALOS_ENUMS_NOT_CHECKED).flatMap(([kind, m]) => Object.keys(m).map((f) => `${kind}|${f.includes('.') ? f.slice(0, f.lastIndexOf('.')) : ''}|${f.slice(f.lastIndexOf('.') + 1)}`));
    for (const k of left) delete want[k];
    expect(Object.keys(want).length).toBeGreaterThan(20);
    expect(ours).toStrictEqual(want);
  });

  it('refuses a value outside a field\'s values at its position, case as the Talos decoder reads it', () => {
    expect(patchDiag('{ apiVersion: v1alpha1, kind: BondConfig, name: bond0, links: [eth0], bondMode: 802.3ab }')).toStrictEqual([
      "environments/bad.yaml:7:89  cluster.talos.patches[0].bondMode: bondMode '802.3ab' in the BondConfig document is not one of the values Talos v1.13.9 accepts: balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb  (did you mean '802.3ad'?)",
    ]);
    // nethelpers' generated decoders lower-case the name before the second lookup (BondModeString).
    expect(patchDiag('{ apiVersion: v1alpha1, kind: BondConfig, name: bond0, links: [eth0], bondMode: Active-Backup }')).toStrictEqual([]);
    // machine.files[].op is compared as written (a plain Go string, switch in the boot task).
    expect(patchDiag('machine: { files: [{ path: /var/etc/x, content: y, permissions: 0o644, op: Create }] }')).toStrictEqual([
      expect.stringMatching(/machine\.files\[0\]\.op: op 'Create' in machine\.files\[\] is not one of the values Talos v1\.13\.9 accepts: create, append, overwrite  \(did you mean 'create'\?\)$/),
    ]);
  });

  it('a field Talos checks without a schema enum: the node address sort algorithm', () => {
    expect(patchDiag('machine: { features: { nodeAddressSortAlgorithm: V2 } }')).toStrictEqual([]);
    expect(patchDiag('machine: { features: { nodeAddressSortAlgorithm: v3 } }')).toStrictEqual([
      expect.stringMatching(/nodeAddressSortAlgorithm: nodeAddressSortAlgorithm 'v3' in machine\.features is not one of the values Talos v1\.13\.9 accepts: v1, v2/),
    ]);
  });

  it('only warns where Talos checks the value later than this table can read (the LUKS cipher)', () => {
    const body = '{ apiVersion: v1alpha1, kind: VolumeConfig, name: EPHEMERAL, encryption: { provider: luks2, cipher: aes-cbc, keys: [{ slot: 0, nodeID: {} }] } }';
    const r = prepareInline('bad', `cluster:\n  talos:\n    patches:\n      - ${body}\n`);
    const d = r.diagnostics.filter((x) => x.rule === 'talos-patch-value');
    expect(d.map((x) => [x.severity, x.message])).toStrictEqual([
      ['warning', expect.stringMatching(/^cipher 'aes-cbc' in VolumeConfig encryption is none of the values Talos v1\.13\.9 documents \(aes-xts-plain64, /)],
    ]);
  });
});
