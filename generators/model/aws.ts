/** Facts about EC2 instance types, used by validation and the model. */
import type { Arch } from './types.js';

export interface InstanceTypeInfo {
  family: string;
  /** Letters after the generation digit(s), e.g. `g` in m7g, `dn` in g4dn. */
  attributes: string;
}

export function parseInstanceType(instanceType: string): InstanceTypeInfo {
  const family = instanceType.split('.')[0] ?? instanceType;
  const m = /^([a-z]+)(\d+)([a-z-]*)/.exec(family);
  return { family, attributes: m ? m[3]! : '' };
}

/** Graviton families carry a `g` right after the generation: m7g, c7gn, r8g, t4g, g5g, im4gn, x2gd. */
export function archOfInstanceType(instanceType: string): Arch {
  return parseInstanceType(instanceType).attributes.startsWith('g') ? 'arm64' : 'amd64';
}

/** EC2 families with NVIDIA GPUs. */
export const NVIDIA_GPU_FAMILIES: readonly string[] = [
  'g4dn', 'g5', 'g5g', 'g6', 'g6e', 'g6f', 'gr6', 'gr6f', 'g7e',
  'p3', 'p3dn', 'p4d', 'p4de', 'p5', 'p5e', 'p5en', 'p6-b200', 'p6e-gb200',
];

export const isNvidiaGpuInstanceType = (instanceType: string): boolean =>
  NVIDIA_GPU_FAMILIES.includes(parseInstanceType(instanceType).family);
