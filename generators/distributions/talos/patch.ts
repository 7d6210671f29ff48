/**
 * Strategic-merge patches on rendered Talos machine configs (`cluster.talos.patches`,
 * `nodePools[].talos.patches`), merged the way Talos merges them (T@v1.13.9 and T@v1.12.11 agree):
 *
 * - documents are matched by (apiVersion, kind, name); a patch document without `kind` is the
 *   v1alpha1 document; a document the config does not have is appended
 *   (pkg/machinery/config/configpatcher/strategic.go `StrategicMerge`);
 * - maps merge key by key; a scalar replaces the config's value unless it is a zero value (`""`,
 *   `0`), except booleans, whose `false` always applies (pkg/machinery/config/merge/merge.go);
 * - lists are APPENDED, except fields tagged `merge:"replace"` — `cluster.network.podSubnets`,
 *   `cluster.network.serviceSubnets`, `cluster.apiServer.auditPolicy` (v1alpha1_types.go) — and the
 *   types with their own Merge: `extraArgs` maps replace per flag (`Args.Merge`),
 *   `machine.network.interfaces` merge by `interface`/`deviceSelector` (`NetworkDeviceList.Merge`),
 *   their `vlans` by `vlanId` (`VlanList.Merge`), `cluster.apiServer.admissionControl` by `name`
 *   (`AdmissionPluginConfigList.Merge`);
 * - a map `{ $patch: delete }` deletes the key it stands for (configloader's delete selector).
 *
 * Pure. Each applied patch reports the paths it wrote, so findings on the merged config can be
 * positioned at the patch in the environment file.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A path in the merged config: the document index, then keys / list indexes. */
export type ConfigPath = (string | number)[];

const REPLACE: readonly string[] = ['cluster.network.podSubnets', 'cluster.network.serviceSubnets', 'cluster.apiServer.auditPolicy'];
const KEYED: Record<string, (item: Obj) => string | undefined> = {
  'machine.network.interfaces': (i) => (typeof i.interface === 'string' ? `if:${i.interface}` : isObj(i.deviceSelector) ? `ds:${JSON.stringify(i.deviceSelector)}` : undefined),
  'machine.network.interfaces[].vlans': (i) => (typeof i.vlanId === 'number' ? String(i.vlanId) : undefined),
  'cluster.apiServer.admissionControl': (i) => (typeof i.name === 'string' ? i.name : undefined),
};

export class PatchConflict extends Error {
  constructor(
    /** Path inside the patch document. */
    readonly at: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

const isZero = (v: unknown): boolean => v === '' || v === 0 || v === null || v === undefined;
const kindOf = (v: unknown): string => (Array.isArray(v) ? 'list' : isObj(v) ? 'map' : typeof v);

/** Schema-path form of a patch path: list indexes as `[]` (for the REPLACE / KEYED tables). */
const shape = (p: readonly (string | number)[]): string => p.map((s) => (typeof s === 'number' ? '[]' : s)).join('.').replace(/\.\[\]/g, '[]');

interface Merged {
  value: unknown;
  /** Paths (relative to where the merge started) the patch wrote or appended. */
  written: (string | number)[][];
}

function mergeValue(left: unknown, right: unknown, path: (string | number)[], patchPath: (string | number)[]): Merged {
  if (isObj(right) && right.$patch === 'delete') return { value: undefined, written: [[]] };
  if (left === undefined) return { value: right, written: [[]] };
  if (right === null || right === undefined) return { value: left, written: [] };
  if (kindOf(left) !== kindOf(right)) throw new PatchConflict(patchPath, `the config has a ${kindOf(left)} at ${shape(path) || '(document)'}, the patch a ${kindOf(right)}`);
  const key = shape(path);
  if (Array.isArray(left) && Array.isArray(right)) {
    if (right.length === 0) return { value: left, written: [] };
    if (REPLACE.includes(key)) return { value: right, written: [[]] };
    const keyOf = KEYED[key];
    if (keyOf) {
      const out = [...left];
      const written: (string | number)[][] = [];
      right.forEach((item, ri) => {
        const k = isObj(item) ? keyOf(item) : undefined;
        const li = k === undefined ? -1 : out.findIndex((x) => isObj(x) && keyOf(x) === k);
        if (li === -1) {
          out.push(item);
          written.push([out.length - 1]);
        } else {
          const m = mergeValue(out[li], item, [...path, li], [...patchPath, ri]);
          out[li] = m.value;
          written.push(...m.written.map((w) => [li, ...w]));
        }
      });
      return { value: out, written };
    }
    return { value: [...left, ...right], written: right.map((_, i) => [left.length + i]) };
  }
  if (isObj(left) && isObj(right)) {
    const out: Obj = { ...left };
    const written: (string | number)[][] = [];
    // Args (extraArgs): each flag replaces the config's value whole (a list value is not appended).
    const shallow = path[path.length - 1] === 'extraArgs';
    for (const [k, v] of Object.entries(right)) {
      if (shallow && !(isObj(v) && v.$patch === 'delete')) {
        out[k] = v;
        written.push([k]);
        continue;
      }
      const m = mergeValue(left[k], v, [...path, k], [...patchPath, k]);
      if (m.value === undefined) delete out[k];
      else out[k] = m.value;
      written.push(...m.written.map((w) => [k, ...w]));
    }
    return { value: out, written };
  }
  // Scalars: a zero value leaves the config's value; booleans always apply.
  if (typeof right !== 'boolean' && isZero(right)) return { value: left, written: [] };
  return { value: right, written: [[]] };
}

/** Identity of a config document as Talos matches patches to it. */
export function documentId(doc: unknown): string {
  if (!isObj(doc)) return '?';
  if (doc.kind === undefined) return 'v1alpha1';
  return `${String(doc.apiVersion)}/${String(doc.kind)}${typeof doc.name === 'string' ? `/${doc.name}` : ''}`;
}

export interface AppliedPatch {
  docs: unknown[];
  /** Merged-config paths this patch wrote, each with the path inside the patch it came from. */
  written: { at: ConfigPath; from: (string | number)[] }[];
}

/** Apply one strategic-merge patch (one or more documents) to a config's documents. */
export function applyPatch(docs: readonly unknown[], patch: readonly unknown[]): AppliedPatch {
  const out = [...docs];
  const written: AppliedPatch['written'] = [];
  patch.forEach((p, pi) => {
    const id = documentId(p);
    const di = out.findIndex((d) => documentId(d) === id);
    if (di === -1) {
      out.push(p);
      written.push({ at: [out.length - 1], from: [pi] });
      return;
    }
    // The v1alpha1 patch document may omit `version`; the merge skips identity keys.
    const m = mergeValue(out[di], p, [], [pi]);
    out[di] = m.value;
    for (const w of m.written) written.push({ at: [di, ...w], from: [pi, ...w.filter((s) => typeof s === 'string')] });
  });
  return { docs: out, written };
}
