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
import type { RenderedFile, Renderer } from '../types.js';

const uniquePaths = (ps: InputPath[]): InputPath[] => [...new Map(ps.map((p) => [JSON.stringify(p), p])).values()];

/** File name of a manifest: <kind>-<name>.yaml, lower case. */
export const manifestFileName = (o: { kind: string; metadata: { name: string } }): string => `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;

export function addonFiles(model: EnvironmentModel, addons: readonly ResolvedAddon[]): RenderedFile[] {
  const files: RenderedFile[] = [];
  const groups: Record<string, { toJSON(): unknown }[]> = {};
  for (const a of addons) {
    if (a.values) files.push({ path: valuesFile(a.name), content: toYaml(a.values), inputs: a.inputs });
    if (a.manifests.length > 0) groups[a.name] = a.manifests.map((m: K8sObject) => ({ toJSON: () => m }));
  }
  const synthesized = synthesize(model.name, groups);
  for (const a of addons) {
    const seen = new Set<string>();
    for (const o of synthesized[a.name] ?? []) {
      const file = manifestFileName(o as K8sObject);
      if (seen.has(file)) throw new Error(`add-on ${a.name}: two manifests would be written to ${file}`);
      seen.add(file);
      files.push({ path: `${manifestsDir(a.name)}/${file}`, content: toYaml(o), inputs: uniquePaths([...a.inputs, ...a.manifestInputs]) });
    }
  }
  return files;
}

export const renderDelivery: Renderer = (model) => addonFiles(model, resolveAddons(model));
