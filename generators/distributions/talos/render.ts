/**
 * rendered/<env>/talos/: one machine config per config target (fixed node, or auto-scaled pool)
 * and one Image Factory schematic per node class. Secrets are references to the bundle in SSM.
 */
import type { InputPath } from '../../lib/paths.js';
import { toYaml, toYamlStream } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import { machineConfigDocuments } from './machineconfig.js';
import { classImages } from './nodeclass.js';
import { marshalSchematic } from './schematic.js';
import type { RenderedFile } from '../../render/types.js';
import { talosCluster, talosPool } from './model.js';

export const talosConfigPath = (target: string): string => `talos/${target}.yaml`;
export const schematicPath = (cls: string): string => `talos/schematics/${cls}.yaml`;

export function renderTalos(model: EnvironmentModel): RenderedFile[] {
  if (model.cluster.distribution !== 'talos') return [];
  // Pools by name (not index), so reordering nodePools changes no provenance hash.
  const pool = (name: string): InputPath => ['nodePools', { name }];
  const cpPools = model.pools.filter((p) => p.role === 'controlplane').map((p) => pool(p.name));
  const configs = model.configTargets.map((t): RenderedFile => {
    const inputs = new Map<string, InputPath>([pool(t.pool.name), ...cpPools].map((p) => [JSON.stringify(p), p]));
    return {
      path: talosConfigPath(t.name),
      content: toYamlStream(machineConfigDocuments(model, t)),
      inputs: [['cluster'], ['aws'], ...inputs.values()],
    };
  });
  const schematics = talosCluster(model).nodeClasses.map((cls): RenderedFile => {
    const img = classImages(model, cls);
    return {
      path: schematicPath(cls.name),
      content: toYaml({
        id: img.id,
        nodeClass: { name: cls.name, arch: cls.arch, ...(cls.gpu ? { gpu: cls.gpu } : {}) },
        talosVersion: talosCluster(model).version,
        installerImage: img.installer,
        diskImage: img.diskImage,
        schematic: img.schematic,
        // The exact bytes Image Factory hashes (go-yaml); POST them to reproduce the ID.
        canonical: marshalSchematic(img.schematic),
      }),
      inputs: [['cluster', 'talosVersion'], ['cluster', 'talos'], ['nodePools']],
    };
  });
  return [...configs, ...schematics];
}
