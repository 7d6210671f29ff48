/** One Image Factory schematic per node class (arch × GPU), and the installer image it gives. */
import type { EnvironmentModel } from '../../model/types.js';
import type { NodeClass } from './model.js';
import { IMAGE_FACTORY } from './release.js';
import { schematicId, type Schematic } from './schematic.js';
import { talosCluster, talosPool } from './model.js';

/** NVIDIA system extensions of one tier: open GPU kernel modules + container toolkit of the same tier. */
export function nvidiaExtensions(tier: 'lts' | 'production'): string[] {
  return [`siderolabs/nvidia-container-toolkit-${tier}`, `siderolabs/nvidia-open-gpu-kernel-modules-${tier}`];
}

/** Kernel modules the NVIDIA extension blacklists from autoloading (modprobe.d/nvidia.conf): loaded explicitly. */
export const NVIDIA_KERNEL_MODULES = ['nvidia', 'nvidia_uvm', 'nvidia_drm', 'nvidia_modeset'] as const;

export function schematicFor(model: EnvironmentModel, cls: NodeClass): Schematic {
  const extensions = [...talosCluster(model).extensions, ...(cls.extensions ?? []), ...(cls.gpu === 'nvidia' ? nvidiaExtensions(talosCluster(model).nvidiaDriver) : [])];
  const sorted = [...new Set(extensions)].sort();
  return { customization: sorted.length > 0 ? { systemExtensions: { officialExtensions: sorted } } : {} };
}

export interface ClassImages {
  schematic: Schematic;
  id: string;
  /** `factory.talos.dev/aws-installer/<id>:<talos version>`: the platform installer (Talos ≥ 1.10). */
  installer: string;
  /** AMI source image for this class and arch. */
  diskImage: string;
}

export function classImages(model: EnvironmentModel, cls: NodeClass): ClassImages {
  const version = talosCluster(model).version!;
  const schematic = schematicFor(model, cls);
  const id = schematicId(schematic);
  return {
    schematic,
    id,
    installer: `${IMAGE_FACTORY}/aws-installer/${id}:${version}`,
    diskImage: `https://${IMAGE_FACTORY}/image/${id}/${version}/aws-${cls.arch}.raw.xz`,
  };
}
