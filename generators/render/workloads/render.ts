/**
 * Renderer of rendered/<env>/manifests/<workload>/ and manifests/namespace-<ns>/: one object per
 * file, `<kind>-<name>.yaml`, stable names, each file's inputs naming exactly the parts of the
 * environment it derives from.
 */
import { toYaml } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../types.js';
import { namespaceObjects, workloadObjects, type KubeObject } from './objects.js';
import { namespaceAppName, workloadNamespaces } from './plan.js';

export const manifestFileName = (o: KubeObject): string => `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;

type Manifests = Map<string, { object: KubeObject; inputs: RenderedFile['inputs'] }[]>;

/** Every workload's objects, by workload name. */
export function workloadManifests(model: EnvironmentModel): Manifests {
  const out: Manifests = new Map();
  for (const w of model.workloads) out.set(w.name, workloadObjects(model, w));
  return out;
}

/** Every workload namespace's own objects (Namespace, baseline policies), by Application name. */
export function namespaceManifests(model: EnvironmentModel): Manifests {
  const out: Manifests = new Map();
  for (const [namespace, members] of workloadNamespaces(model)) out.set(namespaceAppName(namespace), namespaceObjects(model, namespace, members));
  return out;
}

export function renderWorkloads(model: EnvironmentModel): RenderedFile[] {
  const files: RenderedFile[] = [];
  for (const [app, objects] of [...namespaceManifests(model), ...workloadManifests(model)]) {
    for (const { object, inputs } of objects) files.push({ path: `manifests/${app}/${manifestFileName(object)}`, content: toYaml(object), inputs });
  }
  return files;
}
