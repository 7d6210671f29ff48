/**
 * Renderer of rendered/<env>/manifests/<workload>/: one object per file, `<kind>-<name>.yaml`,
 * stable names, each file's inputs naming exactly the parts of the environment it derives from.
 */
import { toYaml } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../types.js';
import { workloadObjects, type KubeObject } from './objects.js';
import { namespaceOwners } from './plan.js';

export const manifestFileName = (o: KubeObject): string => `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;

/** Every workload's objects, by workload name. */
export function workloadManifests(model: EnvironmentModel): Map<string, { object: KubeObject; inputs: RenderedFile['inputs'] }[]> {
  const owners = namespaceOwners(model);
  const out = new Map<string, { object: KubeObject; inputs: RenderedFile['inputs'] }[]>();
  for (const w of model.workloads) out.set(w.name, workloadObjects(model, w, owners.get(w.namespace)?.name === w.name));
  return out;
}

export function renderWorkloads(model: EnvironmentModel): RenderedFile[] {
  const files: RenderedFile[] = [];
  for (const [name, objects] of workloadManifests(model)) {
    for (const { object, inputs } of objects) files.push({ path: `manifests/${name}/${manifestFileName(object)}`, content: toYaml(object), inputs });
  }
  return files;
}
