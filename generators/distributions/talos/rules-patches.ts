/**
 * Rules for Talos strategic-merge patches (`cluster.talos.patches`, `nodePools[].talos.patches`):
 * what a patch may not touch, and the merged configs checked again by Talos' rules, every finding
 * positioned at the patch that caused it.
 */
import type { DocPath } from '../../lib/paths.js';
import { buildModel } from '../../model/build.js';
import { hintFor } from '../../lib/suggest.js';
import { machineConfigDocuments, talosPatchesFor } from './machineconfig.js';
import { applyPatch, PatchConflict } from './patch.js';
import { APISERVER_DENIED_ARGS, KUBELET_DENIED_ARGS } from './release.js';
import { CONFIG_SECRET_FIELDS } from './secrets.js';
import { checkTalosDocuments } from './checks.js';
import type { Reporter, Rule } from '../../validate/rules.js';
import type { EnvironmentInput } from '../../model/input.js';
import { talosCluster, talosPool } from './model.js';
import { talosValueAccepted, type TalosEnum, talosValuesOf } from './config-values.js';
import { type FieldTable, TALOS_DOCUMENT_FIELDS, TALOS_RELEASE_OF_FIELDS, TALOS_TYPE_TEXT, TALOS_V1ALPHA1_FIELDS, talosFieldsOf, type TalosFieldType, talosValueMatches } from './config-fields.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Fields the generator derives from other settings: a patch would silently fork them. */
const MANAGED: readonly { path: string[]; use: string }[] = [
  { path: ['machine', 'type'], use: 'the pool role' },
  { path: ['machine', 'install', 'image'], use: 'talosVersion and the extensions (cluster.talos.extensions, nodePools[].talos.extensions)' },
  { path: ['machine', 'kubelet', 'image'], use: 'kubernetesVersion' },
  { path: ['cluster', 'apiServer', 'image'], use: 'kubernetesVersion' },
  { path: ['cluster', 'controllerManager', 'image'], use: 'kubernetesVersion' },
  { path: ['cluster', 'scheduler', 'image'], use: 'kubernetesVersion' },
  { path: ['cluster', 'proxy', 'image'], use: 'kubernetesVersion' },
  // Typed settings the rest of the platform reads too (the CNI add-on's values, the capacity rules,
  // the subnet checks, CoreDNS): a patch would leave them saying one thing and the nodes another.
  { path: ['cluster', 'network', 'cni'], use: 'cluster.network.cni' },
  { path: ['cluster', 'network', 'podSubnets'], use: 'cluster.network.podCIDR' },
  { path: ['cluster', 'network', 'serviceSubnets'], use: 'cluster.network.serviceCIDR' },
  { path: ['cluster', 'network', 'dnsDomain'], use: 'cluster.network.dnsDomain' },
  { path: ['cluster', 'proxy', 'disabled'], use: 'cluster.network.cni (Cilium replaces kube-proxy)' },
  { path: ['machine', 'kubelet', 'extraConfig', 'maxPods'], use: 'the pool\'s maxPods (nodePools[].maxPods)' },
];

/**
 * Talos fields holding a secret of their own, not one of the bundle's (those are CONFIG_SECRET_FIELDS, references filled
 * at `npm run talos -- config`): a patch has no way to reference SSM, so its value would be written to
 * rendered/talos/*.yaml, that is to git. By document kind ('' the v1alpha1 document); a path segment `[]` is every item
 * of a list, `*` every value of a map. Source: the Go types at T@v1.13.9 (the files config-fields.ts names per kind:
 * block/encryption.go EncryptionKeyStatic.Passphrase, cri/registry_auth.go, network/wireguard.go, network/hcloud_vip.go,
 * siderolink/siderolink.go; v1alpha1_types.go ClusterConfig.ClusterAESCBCEncryptionSecret, RegistryAuthConfig,
 * SystemDiskEncryptionConfig).
 */
const STATIC_KEY = ['encryption', 'keys', '[]', 'static', 'passphrase'];
const LITERAL_SECRET_FIELDS: Readonly<Record<string, { paths: readonly (readonly string[])[]; instead: string }>> = {
  '': {
    paths: [
      ['cluster', 'aescbcEncryptionSecret'],
      ['machine', 'registries', 'config', '*', 'auth', 'password'],
      ['machine', 'registries', 'config', '*', 'auth', 'auth'],
      ['machine', 'registries', 'config', '*', 'auth', 'identityToken'],
      ['machine', 'systemDiskEncryption', '*', 'keys', '[]', 'static', 'passphrase'],
    ],
    instead: 'Secrets are encrypted at rest with the bundle\'s secretboxEncryptionSecret already; encrypt disks with tpm, kms or nodeID keys; pull private images through the kubelet\'s image credential provider (machine.kubelet.credentialProviderConfig)',
  },
  RawVolumeConfig: { paths: [STATIC_KEY], instead: 'encrypt with tpm, kms or nodeID keys' },
  SwapVolumeConfig: { paths: [STATIC_KEY], instead: 'encrypt with tpm, kms or nodeID keys' },
  UserVolumeConfig: { paths: [STATIC_KEY], instead: 'encrypt with tpm, kms or nodeID keys' },
  VolumeConfig: { paths: [STATIC_KEY], instead: 'encrypt with tpm, kms or nodeID keys' },
  RegistryAuthConfig: { paths: [['password'], ['auth'], ['identityToken']], instead: 'pull private images through the kubelet\'s image credential provider (machine.kubelet.credentialProviderConfig), or a mirror without credentials' },
  WireguardConfig: { paths: [['privateKey'], ['peers', '[]', 'presharedKey']], instead: 'KubeSpan (a KubeSpanConfig document): Talos generates its WireGuard keys on each node' },
  HCloudVIPConfig: { paths: [['apiToken']], instead: 'an AWS Elastic IP or load balancer in front of the API server' },
  SideroLinkConfig: { paths: [['uniqueToken']], instead: 'no SideroLink from a committed config' },
};

/**
 * A SideroLink join token in SideroLinkConfig.apiUrl's query: machined reads it as the `jointoken` parameter of the URL
 * (T@v1.13.9 internal/app/machined/pkg/controllers/siderolink/config.go:80-87 `parsed.GetParam("jointoken")`, the same at
 * v1.12.11; internal/pkg/endpoint/endpoint.go:23-49: Go's url.Query().Get, a case-sensitive key; the documented form:
 * website/content/v1.13/reference/cli.md:186 "…?jointoken=foobar"). An empty value is no token (Get returns "").
 */
function sideroLinkJoinToken(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  const query = url.split('#')[0]!.split('?').slice(1).join('?');
  return query.split('&').some((kv) => kv.startsWith('jointoken=') && kv.length > 'jointoken='.length);
}

/** Every path under `doc` a pattern of LITERAL_SECRET_FIELDS reaches with a value (null, '' and `$patch: delete` set none). */
function literalSecrets(doc: unknown, pattern: readonly string[], at: (string | number)[] = []): (string | number)[][] {
  if (pattern.length === 0) return doc === null || doc === undefined || doc === '' || (isObj(doc) && doc.$patch === 'delete') ? [] : [at];
  const [head, ...rest] = pattern;
  if (head === '[]') return Array.isArray(doc) ? doc.flatMap((v, i) => literalSecrets(v, rest, [...at, i])) : [];
  if (!isObj(doc)) return [];
  if (head === '*') return Object.entries(doc).flatMap(([k, v]) => literalSecrets(v, rest, [...at, k]));
  return head! in doc ? literalSecrets(doc[head!], rest, [...at, head!]) : [];
}

/** Talos rules that patchShape checks on the patch itself. */
const DIRECT = ['talos.secret-reference', 'talos.worker-secret', 'talos.apiserver-denied-arg', 'talos.kubelet-denied-arg'];

/** Every patch of the input with its document path. */
function patchesOf(input: EnvironmentInput): { at: DocPath; doc: Obj }[] {
  const out: { at: DocPath; doc: Obj }[] = [];
  (input.cluster.talos?.patches ?? []).forEach((doc, i) => out.push({ at: ['cluster', 'talos', 'patches', i], doc }));
  input.nodePools.forEach((p, pi) => (p.talos?.patches ?? []).forEach((doc, i) => out.push({ at: ['nodePools', pi, 'talos', 'patches', i], doc })));
  return out;
}

/** The deepest prefix of `path` the patch sets (a `$patch: delete` on a parent counts), if any. */
function touches(doc: Obj, path: readonly string[]): string[] | undefined {
  let cur: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    if (!isObj(cur) || !(path[i]! in cur)) return undefined;
    cur = cur[path[i]!];
    if (isObj(cur) && cur.$patch === 'delete') return path.slice(0, i + 1);
  }
  return [...path];
}

/**
 * A mode someone would write on purpose: no special bits, each of owner, group and other read-only,
 * read-execute, read-write or everything (or nothing), and other ⊆ group ⊆ owner (0o644, 0o640,
 * 0o400, 0o755 …; not 0o674 or 0o620).
 */
function plausibleMode(mode: number): boolean {
  if (mode > 0o777) return false;
  const [u, g, o] = [(mode >> 6) & 7, (mode >> 3) & 7, mode & 7];
  return [u, g, o].every((t) => [0, 4, 5, 6, 7].includes(t)) && (g & ~u) === 0 && (o & ~g) === 0;
}

/**
 * `machine.files[].permissions` is a number (Talos MachineFile.FilePermissions, uint32 file mode).
 * Environments are YAML 1.2, where \`644\` and \`0644\` are both the decimal 644 (only \`0o644\` is
 * octal): the file would get mode 0o1204. A decimal whose digits are all octal is refused when it is
 * above 0o777 (644 → 0o1204: sticky and odd bits), and at most 0o777 when it is no plausible mode
 * while its digits read as octal are one (444 → 0o674, meant 0o444); one that is a plausible mode as
 * it stands (420 = 0o644, 256 = 0o400) is taken as written; one plausible neither way only warns.
 * Above 0o7777 is no mode at all.
 */
function fileMode(v: unknown, path: DocPath, report: Reporter): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) return;
  const octal = (n: number): string => `0o${n.toString(8)}`;
  const digits = String(v);
  const looksOctal = /^[0-7]{3,4}$/.test(digits);
  if (v > 0o7777 && !looksOctal) return report('talos-patch-file-mode', path, `permissions ${v} is no file mode (at most 0o7777)`, { hint: 'write the mode in octal with the 0o prefix, e.g. 0o644' });
  if (!looksOctal) return;
  const meant = parseInt(digits, 8);
  if (v > 0o777)
    report('talos-patch-file-mode', path, `permissions ${digits} is the decimal number ${v}, mode ${octal(v)}, not ${octal(meant)}: YAML 1.2 reads 644 and 0644 as decimal`, { hint: `write ${octal(meant)} (or ${meant})` });
  else if (plausibleMode(v)) return;
  else if (plausibleMode(meant))
    report('talos-patch-file-mode', path, `permissions ${digits} is the decimal number ${v}, mode ${octal(v)} (${octal(v)} is no mode a file is given on purpose), not ${octal(meant)}: YAML 1.2 reads ${digits} as decimal`, { hint: `write ${octal(meant)} (or ${meant}); to keep ${octal(v)}, write it in octal` });
  else
    report('talos-patch-file-mode', path, `permissions ${digits} is the decimal number ${v}, mode ${octal(v)}; if ${octal(meant)} is meant, write it with the 0o prefix`, { hint: `write ${octal(meant)}, or ${octal(v)} to keep this mode`, severity: 'warning' });
}

/**
 * Fields of a patch document Talos does not know, and values of the wrong shape, in every section of
 * the document's kind (config-fields.ts; Talos refuses both when it loads the config). The v1alpha1
 * document's own keys keep their older message; free maps (extraArgs, sysctls …) are not walked.
 */
function checkFields(doc: Obj, at: DocPath, table: FieldTable, fieldsOf: (section: string) => Readonly<Record<string, TalosFieldType>> | undefined, label: (section: string) => string, report: Reporter, valuesOf: (section: string, field: string) => TalosEnum | undefined): void {
  const walk = (v: unknown, section: string, path: (string | number)[]): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${section}[]`, [...path, i]));
    if (!isObj(v) || v.$patch === 'delete') return;
    const fields = fieldsOf(section);
    if (!fields) return;
    const names = Object.keys(fields);
    for (const [k, x] of Object.entries(v)) {
      if (k === '$patch') continue;
      const type = fields[k];
      if (type === undefined) {
        report('talos-patch', [...at, ...path, k], `unknown key '${k}' in ${label(section)}; expected one of: ${names.join(', ')}`, {
          key: true,
          hint: hintFor(k, names) ?? (section === '' && table === TALOS_V1ALPHA1_FIELDS ? 'a patch for another Talos document needs apiVersion and kind' : `Talos ${TALOS_RELEASE_OF_FIELDS} refuses fields it does not know`),
        });
        continue;
      }
      if (!talosValueMatches(type, x)) {
        const hint = type === 'int' && typeof x === 'string' && /^-?\d+$/.test(x) ? 'remove the quotes' : type === 'bool' && (x === 'true' || x === 'false') ? 'remove the quotes' : type === 'list' && !isObj(x) ? `write [${JSON.stringify(x)}]` : `write ${TALOS_TYPE_TEXT[type]} (the Talos ${TALOS_RELEASE_OF_FIELDS} configuration reference describes ${k})`;
        report('talos-patch-type', [...at, ...path, k], `${k} in ${label(section)} takes ${TALOS_TYPE_TEXT[type]}, not ${describe(x)}: Talos ${TALOS_RELEASE_OF_FIELDS} refuses the config when it decodes it`, { hint });
        continue;
      }
      const allowed = valuesOf(section, k);
      if (allowed && !talosValueAccepted(allowed, x)) {
        const hint = hintFor(String(x), [...allowed.values]) ?? `use one of: ${allowed.values.join(', ')}`;
        if (allowed.warn) report('talos-patch-value', [...at, ...path, k], `${k} '${String(x)}' in ${label(section)} is none of the values Talos ${TALOS_RELEASE_OF_FIELDS} documents (${allowed.values.join(', ')}); ${allowed.warn}`, { hint, severity: 'warning' });
        else report('talos-patch-value', [...at, ...path, k], `${k} '${String(x)}' in ${label(section)} is not one of the values Talos ${TALOS_RELEASE_OF_FIELDS} accepts: ${allowed.values.join(', ')}`, { hint });
        continue;
      }
      const next = section === '' ? k : `${section}.${k}`;
      if (table[next] || table[`${next}[]`]) walk(x, next, [...path, k]);
    }
  };
  walk(doc, '', []);
}

const describe = (v: unknown): string => (Array.isArray(v) ? 'a list' : isObj(v) ? 'a map' : typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `${typeof v} ${String(v)}`);

/**
 * Whether the value at `path` inside a patch document has a type its field does not take (patchShape
 * reports it there; a merge conflict it causes would say the same thing again).
 */
function wrongType(doc: unknown, path: readonly (string | number)[]): boolean {
  if (!isObj(doc)) return false;
  const table = doc.kind === undefined ? TALOS_V1ALPHA1_FIELDS : TALOS_DOCUMENT_FIELDS[String(doc.kind)];
  if (!table) return false;
  let section = '';
  let v: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    const k = path[i]!;
    if (typeof k === 'number') {
      section = `${section}[]`;
      v = Array.isArray(v) ? v[k] : undefined;
      continue;
    }
    const type = (doc.kind === undefined ? talosFieldsOf(section) : table[section])?.[k];
    v = isObj(v) ? v[k] : undefined;
    if (type === undefined) return false;
    if (!talosValueMatches(type, v)) return true;
    section = section === '' ? k : `${section}.${k}`;
  }
  return false;
}

/** A v1alpha1 patch: its sections as talosFieldsOf lists them (nodoc fields included). */
const v1alpha1Fields = (doc: Obj, at: DocPath, report: Reporter): void =>
  checkFields(doc, at, TALOS_V1ALPHA1_FIELDS, talosFieldsOf, (s) => (s === '' ? 'a v1alpha1 patch' : s), report, (s, f) => talosValuesOf('', s, f));

/** A patch for another document: a kind Talos registers, apiVersion v1alpha1, then its fields. */
function documentFields(doc: Obj, at: DocPath, report: Reporter): void {
  const kind = String(doc.kind);
  const table = TALOS_DOCUMENT_FIELDS[kind];
  const kinds = Object.keys(TALOS_DOCUMENT_FIELDS);
  if (!table) {
    report('talos-patch', [...at, 'kind'], `kind '${kind}' is not a Talos ${TALOS_RELEASE_OF_FIELDS} config document`, { hint: hintFor(kind, kinds) ?? `one of: ${kinds.join(', ')}` });
    return;
  }
  if (doc.apiVersion !== 'v1alpha1') report('talos-patch', [...at, 'apiVersion'], `${kind} documents are apiVersion v1alpha1, not ${JSON.stringify(doc.apiVersion)}`, { hint: 'write apiVersion: v1alpha1' });
  const { apiVersion: _a, kind: _k, ...rest } = doc;
  checkFields(rest, at, table, (s) => table[s], (s) => (s === '' ? `the ${kind} document` : `${kind} ${s}`), report, (s, f) => talosValuesOf(kind, s, f));
}

const patchShape: Rule = ({ input }, report) => {
  // Another distribution's environment: its cluster.talos is refused by talosVersions; pools' here.
  if (input.cluster.distribution !== 'talos') {
    input.nodePools.forEach((p, i) => {
      if (p.talos) report('talos-patch', ['nodePools', i, 'talos'], 'talos settings are only used by distribution talos', { key: true, hint: "remove it, or set cluster.distribution: talos; if a base sets it, remove it here with `talos: null`" });
    });
    return;
  }
  for (const { at, doc } of patchesOf(input)) {
    const own = LITERAL_SECRET_FIELDS[doc.kind === undefined ? '' : String(doc.kind)];
    for (const pattern of own?.paths ?? [])
      for (const hit of literalSecrets(doc, pattern))
        report('talos-patch-literal-secret', [...at, ...hit], `${pattern.join('.').replace(/\.\[\]/g, '[]')} holds a secret; a patch's value is written to rendered/talos/ (git): no secret is ever committed`, { key: true, hint: own!.instead });
    if (doc.kind === 'SideroLinkConfig' && sideroLinkJoinToken(doc.apiUrl))
      report('talos-patch-literal-secret', [...at, 'apiUrl'], "apiUrl carries a SideroLink join token (its query's jointoken parameter); a patch's value is written to rendered/talos/ (git): no secret is ever committed", { key: true, hint: LITERAL_SECRET_FIELDS.SideroLinkConfig!.instead });
    if (doc.kind !== undefined) {
      if (typeof doc.kind !== 'string' || typeof doc.apiVersion !== 'string')
        report('talos-patch', [...at, typeof doc.kind === 'string' ? 'kind' : 'apiVersion'], 'a patch for a Talos document other than v1alpha1 needs apiVersion and kind (and name for named documents)', { key: true, hint: 'e.g. apiVersion: v1alpha1, kind: ExtensionServiceConfig, name: …' });
      else documentFields(doc, at, report);
      continue;
    }
    v1alpha1Fields(doc, at, report);
    for (const f of CONFIG_SECRET_FIELDS) {
      const hit = touches(doc, f.path);
      if (hit)
        report('talos-patch-secret', [...at, ...hit], `${f.path.join('.')} is a secret reference (\${talos-secrets:${f.bundle}}) filled from the SSM bundle by npm run talos -- config; patches may not change it`, { key: true, hint: 'rotate secrets with talosctl gen secrets and npm run talos -- secrets import' });
    }
    for (const m of MANAGED) {
      const hit = touches(doc, m.path);
      if (hit) report('talos-patch-managed', [...at, ...hit], `${m.path.join('.')} is rendered from ${m.use}; a patch may not change it`, { key: true, hint: `set ${m.use} instead` });
    }
    const denied = (path: string[], list: readonly string[], component: string): void => {
      const args = path.reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), doc);
      if (!isObj(args)) return;
      for (const k of Object.keys(args))
        if (list.includes(k.replace(/^--/, '')))
          report('talos-patch-denied-arg', [...at, ...path, k], `${component} flag '${k.replace(/^--/, '')}' is managed by Talos; Talos refuses it (extra arg "${k.replace(/^--/, '')}" is not allowed)`, { key: true, hint: `denied: ${list.join(', ')}` });
    };
    const files = isObj(doc.machine) ? doc.machine.files : undefined;
    if (Array.isArray(files)) files.forEach((f, i) => fileMode(isObj(f) ? f.permissions : undefined, [...at, 'machine', 'files', i, 'permissions'], report));
    denied(['cluster', 'apiServer', 'extraArgs'], APISERVER_DENIED_ARGS, 'kube-apiserver');
    denied(['machine', 'kubelet', 'extraArgs'], KUBELET_DENIED_ARGS, 'kubelet');
  }
};

/**
 * The merged configs, checked by the same Talos rules as the rendered tree; a finding inside what
 * a patch wrote is reported at that patch, a merge the types forbid at the patch value.
 */
const patchedConfigs: Rule = ({ env, input }, report) => {
  if (input.cluster.distribution !== 'talos' || patchesOf(input).length === 0) return;
  let model;
  try {
    model = buildModel(input, env.files);
  } catch {
    return; // another rule reports what keeps the model from building
  }
  const seen = new Set<string>();
  for (const t of model.configTargets) {
    const patches = talosPatchesFor(model, t);
    if (patches.length === 0) continue;
    // Merge step by step as the renderer does, keeping what each patch wrote.
    const unpatched = { ...model, cluster: { ...model.cluster, extension: { ...talosCluster(model), patches: [] } } };
    let docs: unknown[] = machineConfigDocuments(unpatched, { ...t, pool: { ...t.pool, extension: { ...talosPool(t.pool), patches: [] } } });
    const writes: { source: (string | number)[]; at: (string | number)[]; from: (string | number)[] }[] = [];
    let failed = false;
    for (const p of patches) {
      try {
        const r = applyPatch(docs, p.docs);
        docs = r.docs;
        writes.push(...r.written.map((w) => ({ source: p.source, at: w.at, from: w.from.slice(1) })));
      } catch (e) {
        if (!(e instanceof PatchConflict)) throw e;
        const key = `${p.source.join('.')}|${e.at.join('.')}`;
        if (!seen.has(key) && !wrongType(p.docs[Number(e.at[0])], e.at.slice(1))) report('talos-patch', [...p.source, ...e.at.slice(1)] as DocPath, `cannot merge into ${t.name}'s config: ${e.message}`, { hint: 'Talos merges maps into maps and lists into lists' });
        seen.add(key);
        failed = true;
        break;
      }
    }
    if (failed) continue;
    for (const d of checkTalosDocuments(`talos/${t.name}.yaml`, docs)) {
      if (DIRECT.includes(d.rule)) continue; // patchShape reports these at the patch already
      const path = d.path.map((s) => (typeof s === 'object' ? JSON.stringify(s) : s));
      const w = [...writes].reverse().find((x) => x.at.every((s, i) => path[i] === s) || path.every((s, i) => x.at[i] === s));
      if (!w) continue;
      const key = `${w.source.join('.')}|${d.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      report('talos-patch-result', [...w.source, ...w.from] as DocPath, `after this patch, ${t.name}'s config is refused: ${d.path.slice(1).join('.')}: ${d.message}`, { hint: d.hint, key: true });
    }
  }
};

export const TALOS_PATCH_RULES: readonly Rule[] = [patchShape, patchedConfigs];
