/**
 * Engine-neutral files of the delivery plan: the add-ons' Helm values (rendered/<env>/values/<name>.yaml)
 * and extra manifests (rendered/<env>/manifests/<name>/). Every engine delivers these same files
 * through its own objects (each engine's render.ts says how); the bootstrap feeds the same values
 * files to `helm -f`.
 */
import { resolveAddons, type ResolvedAddon } from '../../catalog/resolve.js';
import type { K8sObject } from '../../catalog/types.js';
import type { InputPath } from '../../lib/paths.js';
import { synthesize } from '../../lib/synth.js';
import { toYaml } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import { manifestsDir, valuesFile } from '../../plan/addons.js';
import { deliveryAnnotations, type ManifestIntent } from '../../plan/annotations.js';
import { deliveryGraph } from '../../plan/graph.js';
import { objectFacts } from '../../plan/needs.js';
import type { RenderedFile, Renderer } from '../types.js';

const objectNeedsOf = (o: K8sObject, ns: string): string[] => objectFacts(o as never, ns).needs.map((n) => n.what);

const uniquePaths = (ps: InputPath[]): InputPath[] => [...new Map(ps.map((p) => [JSON.stringify(p), p])).values()];

/** File name of a manifest: <kind>-<name>.yaml, lower case. */
/**
 * File of an add-on's manifest: <kind>-<name>.yaml, or <kind>-<namespace>-<name>.yaml for an object outside the
 * add-on's namespace (`own`), where names repeat: the IMDS denial of each extra namespace (catalog/resolve.ts withImdsDenial).
 */
export const manifestFileName = (o: { kind: string; metadata: { name: string; namespace?: string } }, own?: string): string =>
  `${o.kind.toLowerCase()}-${own !== undefined && o.metadata.namespace !== undefined && o.metadata.namespace !== own ? `${o.metadata.namespace}-` : ''}${o.metadata.name}.yaml`;

/**
 * What each extra manifest asks of the engine inside its unit, from the delivery graph: before the
 * chart when the chart needs it, after the chart when it needs the chart's CRDs or webhooks (and may
 * be checked before that CRD exists), unordered otherwise.
 */
function intents(model: EnvironmentModel): Map<K8sObject, ManifestIntent> {
  const g = deliveryGraph(model);
  const out = new Map<K8sObject, ManifestIntent>();
  for (const s of g.steps) {
    if (!s.unit?.chart || s.part === 'main') continue;
    const main = g.steps.find((x) => x.unit === s.unit && x.part === 'main')!;
    const own = new Set(main.provides);
    for (const o of s.manifests) {
      if (s.part === 'before') out.set(o, { order: -1 });
      else {
        const needs = objectNeedsOf(o, s.unit.namespace).filter((w) => own.has(w));
        if (needs.length > 0) out.set(o, { order: 1, ...(needs.some((w) => w.startsWith('CRD ')) ? { crdLater: true } : {}) });
      }
    }
  }
  return out;
}

export function addonFiles(model: EnvironmentModel, addons: readonly ResolvedAddon[]): RenderedFile[] {
  const files: RenderedFile[] = [];
  const groups: Record<string, { toJSON(): unknown }[]> = {};
  const intent = intents(model);
  const annotated = (m: K8sObject): K8sObject => {
    const i = intent.get(m);
    const extra = i ? deliveryAnnotations(model, i) : {};
    return Object.keys(extra).length === 0 ? m : { ...m, metadata: { ...m.metadata, annotations: { ...(m.metadata.annotations ?? {}), ...extra } } };
  };
  for (const a of addons) {
    if (a.values) files.push({ path: valuesFile(a.name), content: toYaml(a.values), inputs: a.inputs });
    if (a.manifests.length > 0) groups[a.name] = a.manifests.map((m: K8sObject) => ({ toJSON: () => annotated(m) }));
  }
  const synthesized = synthesize(model.name, groups);
  for (const a of addons) {
    const seen = new Set<string>();
    for (const o of synthesized[a.name] ?? []) {
      const file = manifestFileName(o as K8sObject, a.namespace);
      if (seen.has(file)) throw new Error(`add-on ${a.name}: two manifests would be written to ${file}`);
      seen.add(file);
      files.push({ path: `${manifestsDir(a.name)}/${file}`, content: toYaml(o), inputs: uniquePaths([...a.inputs, ...a.manifestInputs]) });
    }
  }
  return files;
}

export const renderDelivery: Renderer = (model) => addonFiles(model, resolveAddons(model));
