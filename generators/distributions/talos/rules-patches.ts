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
import type { Rule } from '../../validate/rules.js';
import type { EnvironmentInput } from '../../model/input.js';
import { talosCluster, talosPool } from './model.js';
import { TALOS_RELEASE_OF_FIELDS, TALOS_V1ALPHA1_FIELDS, talosFieldsOf } from './config-fields.js';

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
 * `machine.files[].permissions` is a number (Talos MachineFile.FilePermissions, uint32 file mode).
 * Environments are YAML 1.2, where \`644\` and \`0644\` are both the decimal 644 (only \`0o644\` is
 * octal): the file would get mode 0o1204. A decimal whose digits are all octal and that is above
 * 0o777 is such a slip; one at most 0o777 (\`444\`, \`400\`) may be meant either way (420 is 0o644),
 * so it is a warning; above 0o7777 is no mode at all.
 */
function fileMode(v: unknown, path: DocPath, report: Parameters<Rule>[1]): void {
  if (typeof v !== 'number' || !Number.isInteger(v)) return;
  const octal = (n: number): string => `0o${n.toString(8)}`;
  const digits = String(v);
  const looksOctal = /^[0-7]{3,4}$/.test(digits);
  if (v > 0o7777 && !looksOctal) return report('talos-patch-file-mode', path, `permissions ${v} is no file mode (at most 0o7777)`, { hint: 'write the mode in octal with the 0o prefix, e.g. 0o644' });
  if (!looksOctal) return;
  const meant = parseInt(digits, 8);
  if (v > 0o777)
    report('talos-patch-file-mode', path, `permissions ${digits} is the decimal number ${v}, mode ${octal(v)}, not ${octal(meant)}: YAML 1.2 reads 644 and 0644 as decimal`, { hint: `write ${octal(meant)} (or ${meant})` });
  else
    report('talos-patch-file-mode', path, `permissions ${digits} is the decimal number ${v}, mode ${octal(v)}; if ${octal(meant)} is meant, write it with the 0o prefix`, { hint: `write ${octal(meant)}, or ${octal(v)} to keep this mode`, severity: 'warning' });
}

/**
 * Fields of a v1alpha1 patch Talos does not know, in the sections config-fields.ts lists (Talos
 * refuses the config when it loads it). The document's own keys keep their older message.
 */
function unknownFields(doc: Obj, at: DocPath, report: Parameters<Rule>[1]): void {
  const walk = (v: unknown, section: string, path: (string | number)[]): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${section}[]`, [...path, i]));
    if (!isObj(v)) return;
    const fields = talosFieldsOf(section);
    for (const [k, x] of Object.entries(v)) {
      if (k === '$patch') continue;
      if (fields && !fields.includes(k)) {
        const where = section === '' ? 'a v1alpha1 patch' : `${section.replace(/\[\]$/, '[]')}`;
        report('talos-patch', [...at, ...path, k], `unknown key '${k}' in ${where}; expected one of: ${fields.join(', ')}`, {
          key: true,
          hint: hintFor(k, [...fields]) ?? (section === '' ? 'a patch for another Talos document needs apiVersion and kind' : `Talos ${TALOS_RELEASE_OF_FIELDS} refuses fields it does not know`),
        });
        continue;
      }
      const next = section === '' ? k : `${section}.${k}`;
      if (Object.keys(TALOS_V1ALPHA1_FIELDS).some((s) => s === next || s.startsWith(`${next}.`) || s.startsWith(`${next}[]`))) walk(x, next, [...path, k]);
    }
  };
  walk(doc, '', []);
}

const patchShape: Rule = ({ input }, report) => {
  // Another distribution's environment: its cluster.talos is refused by talosVersions; pools' here.
  if (input.cluster.distribution !== 'talos') {
    input.nodePools.forEach((p, i) => {
      if (p.talos) report('talos-patch', ['nodePools', i, 'talos'], 'talos settings are only used by distribution talos', { key: true });
    });
    return;
  }
  for (const { at, doc } of patchesOf(input)) {
    if (doc.kind !== undefined) {
      if (typeof doc.kind !== 'string' || typeof doc.apiVersion !== 'string')
        report('talos-patch', [...at, typeof doc.kind === 'string' ? 'kind' : 'apiVersion'], 'a patch for a Talos document other than v1alpha1 needs apiVersion and kind (and name for named documents)', { key: true, hint: 'e.g. apiVersion: v1alpha1, kind: ExtensionServiceConfig, name: …' });
      continue;
    }
    unknownFields(doc, at, report);
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
        if (!seen.has(key)) report('talos-patch', [...p.source, ...e.at.slice(1)] as DocPath, `cannot merge into ${t.name}'s config: ${e.message}`, { hint: 'Talos merges maps into maps and lists into lists' });
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
