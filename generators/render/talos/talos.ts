/**
 * rendered/<env>/talos/: one machine config per config target (fixed node, or auto-scaled pool)
 * and one Image Factory schematic per node class. Secrets are references to the bundle in SSM.
 */
import type { DocPath } from '../../lib/paths.js';
import { toYaml, toYamlStream } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import { machineConfigDocuments } from '../../talos/machineconfig.js';
import { classImages } from '../../talos/nodeclass.js';
import { marshalSchematic } from '../../talos/schematic.js';
import type { RenderedFile } from '../types.js';

export const talosConfigPath = (target: string): string => `talos/${target}.yaml`;
export const schematicPath = (cls: string): string => `talos/schematics/${cls}.yaml`;

export function renderTalos(model: EnvironmentModel): RenderedFile[] {
  if (model.cluster.distribution !== 'talos') return [];
  const poolIndex = new Map(model.pools.map((p, i) => [p.name, i]));
  const cpPools: DocPath[] = model.pools.flatMap((p, i) => (p.role === 'controlplane' ? [['nodePools', i] as DocPath] : []));
  const configs = model.configTargets.map((t): RenderedFile => {
    const own: DocPath = ['nodePools', poolIndex.get(t.pool.name)!];
    const inputs = new Map<string, DocPath>([own, ...cpPools].map((p) => [JSON.stringify(p), p]));
    return {
      path: talosConfigPath(t.name),
      content: toYamlStream(machineConfigDocuments(model, t)),
      inputs: [['cluster'], ['aws'], ...inputs.values()],
    };
  });
  const schematics = model.nodeClasses.map((cls): RenderedFile => {
    const img = classImages(model, cls);
    return {
      path: schematicPath(cls.name),
      content: toYaml({
        id: img.id,
        nodeClass: { name: cls.name, arch: cls.arch, ...(cls.gpu ? { gpu: cls.gpu } : {}) },
        talosVersion: model.cluster.talosVersion,
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
