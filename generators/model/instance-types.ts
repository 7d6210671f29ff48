/**
 * EC2 instance types users pick for nodes, as data: architecture, vCPUs, memory (MiB, as EC2
 * DescribeInstanceTypes reports MemoryInfo.SizeInMiB), NVIDIA GPUs and their model. Validation
 * checks a pool's arch and GPU against this table (not against family-name patterns) and plans
 * capacity with it. A type missing here but locked from EC2 by `--refresh-ssm` (DescribeInstanceTypes,
 * generators/ssm/ec2.ts) is taken from the lock instead.
 *
 * Sources: the AWS instance type specification pages (general purpose, compute optimized, memory
 * optimized, burstable, accelerated computing) and the AWS Batch GPU table; the names are checked in
 * test/instance-types.test.ts against the InstanceType enum of @aws-sdk/client-ec2. Within one family
 * memory scales with vCPUs (m: 4 GiB, c: 2 GiB, r: 8 GiB per vCPU; sizes medium = 1 vCPU, large = 2,
 * xlarge = 4, Nxlarge = 4N, metal-Nxl = 4N, metal = the family's largest size); the exceptions are
 * written out per size.
 */
import type { Arch } from './types.js';

export interface InstanceTypeFacts {
  arch: Arch;
  vcpu: number;
  memoryMiB: number;
  /** NVIDIA GPUs (0 for none). */
  gpus: number;
  gpuModel?: string;
}

type Category = 'general' | 'compute' | 'memory' | 'burstable' | 'gpu';

interface Family {
  category: Category;
  arch: Arch;
  /** GiB per vCPU, for sizes not listed in `sizes` with their own numbers. */
  gibPerVcpu?: number;
  /** Size → vCPUs, or [vCPUs, GiB] or [vCPUs, GiB, GPUs] where the family rule does not hold. */
  sizes: Record<string, number | [number, number] | [number, number, number]>;
  gpuModel?: string;
  /** GPUs of the sizes that do not say (GPU families). */
  gpus?: number;
}

const std = (...names: string[]): Record<string, number> => {
  const vcpu = (n: string): number => {
    if (n === 'medium') return 1;
    if (n === 'large') return 2;
    if (n === 'xlarge') return 4;
    const m = /^(?:metal-)?(\d+)x(?:large|l)$/.exec(n);
    if (!m) throw new Error(`size ${n} needs explicit numbers`);
    return Number(m[1]) * 4;
  };
  return Object.fromEntries(names.map((n) => [n, vcpu(n)]));
};

// Size lists of the common shapes (DescribeInstanceTypes, per family).
const GEN5 = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'];
const GEN5_METAL = { metal: 96 };
const GEN6I = [...GEN5, '32xlarge'];
const GEN6A = [...GEN6I, '48xlarge'];
const GRAVITON = ['medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'];
const GEN7I = [...GEN5, '48xlarge', 'metal-24xl', 'metal-48xl'];
const GEN7A = ['medium', ...GEN6A, 'metal-48xl'];
const GEN8 = ['medium', ...GEN5, '48xlarge', 'metal-24xl', 'metal-48xl'];
const GEN8I = [...GEN6A, '96xlarge', 'metal-48xl', 'metal-96xl'];
const FLEX = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'];
const BURST: Family['sizes'] = { nano: [2, 0.5], micro: [2, 1], small: [2, 2], medium: [2, 4], large: [2, 8], xlarge: [4, 16], '2xlarge': [8, 32] };

const m = (arch: Arch, sizes: Family['sizes']): Family => ({ category: 'general', arch, gibPerVcpu: 4, sizes });
const c = (arch: Arch, sizes: Family['sizes']): Family => ({ category: 'compute', arch, gibPerVcpu: 2, sizes });
const r = (arch: Arch, sizes: Family['sizes']): Family => ({ category: 'memory', arch, gibPerVcpu: 8, sizes });

export const INSTANCE_FAMILIES: Record<string, Family> = {
  // General purpose
  m5: m('amd64', { ...std(...GEN5), ...GEN5_METAL }),
  m5a: m('amd64', std(...GEN5)),
  m5n: m('amd64', { ...std(...GEN5), ...GEN5_METAL }),
  m5d: m('amd64', { ...std(...GEN5), ...GEN5_METAL }),
  m6i: m('amd64', { ...std(...GEN6I), metal: 128 }),
  m6id: m('amd64', { ...std(...GEN6I), metal: 128 }),
  m6a: m('amd64', { ...std(...GEN6A), metal: 192 }),
  m6g: m('arm64', { ...std(...GRAVITON), metal: 64 }),
  m7i: m('amd64', std(...GEN7I)),
  'm7i-flex': m('amd64', std(...FLEX)),
  m7a: m('amd64', std(...GEN7A)),
  m7g: m('arm64', { ...std(...GRAVITON), metal: 64 }),
  m8g: m('arm64', std(...GEN8)),
  m8i: m('amd64', std(...GEN8I)),
  'm8i-flex': m('amd64', std(...FLEX)),
  m8a: m('amd64', std(...GEN8)),
  // Compute optimized
  c5: c('amd64', { ...std('large', 'xlarge', '2xlarge', '4xlarge', '9xlarge', '12xlarge', '18xlarge', '24xlarge'), ...GEN5_METAL }),
  c5a: c('amd64', std(...GEN5)),
  c5n: c('amd64', { large: [2, 5.25], xlarge: [4, 10.5], '2xlarge': [8, 21], '4xlarge': [16, 42], '9xlarge': [36, 96], '18xlarge': [72, 192], metal: [72, 192] }),
  c6i: c('amd64', { ...std(...GEN6I), metal: 128 }),
  c6a: c('amd64', { ...std(...GEN6A), metal: 192 }),
  c6g: c('arm64', { ...std(...GRAVITON), metal: 64 }),
  c6gn: c('arm64', std(...GRAVITON)),
  c7i: c('amd64', std(...GEN7I)),
  'c7i-flex': c('amd64', std(...FLEX)),
  c7a: c('amd64', std(...GEN7A)),
  c7g: c('arm64', { ...std(...GRAVITON), metal: 64 }),
  c7gn: c('arm64', { ...std(...GRAVITON), metal: 64 }),
  c8g: c('arm64', std(...GEN8)),
  c8i: c('amd64', std(...GEN8I)),
  'c8i-flex': c('amd64', std(...FLEX)),
  c8a: c('amd64', std(...GEN8)),
  // Memory optimized
  r5: r('amd64', { ...std(...GEN5), ...GEN5_METAL }),
  r5a: r('amd64', std(...GEN5)),
  r5n: r('amd64', { ...std(...GEN5), ...GEN5_METAL }),
  r6i: r('amd64', { ...std(...GEN6I), metal: 128 }),
  r6a: r('amd64', { ...std(...GEN6A), metal: 192 }),
  r6g: r('arm64', { ...std(...GRAVITON), metal: 64 }),
  r7i: r('amd64', std(...GEN7I)),
  r7a: r('amd64', std(...GEN7A)),
  r7g: r('arm64', { ...std(...GRAVITON), metal: 64 }),
  r8g: r('arm64', std(...GEN8)),
  r8i: r('amd64', std(...GEN8I)),
  'r8i-flex': r('amd64', std(...FLEX)),
  r8a: r('amd64', std(...GEN8)),
  // Burstable
  t3: { category: 'burstable', arch: 'amd64', sizes: BURST },
  t3a: { category: 'burstable', arch: 'amd64', sizes: BURST },
  t4g: { category: 'burstable', arch: 'arm64', sizes: BURST },
  // NVIDIA GPU
  g4dn: { category: 'gpu', arch: 'amd64', gibPerVcpu: 4, gpuModel: 'T4', gpus: 1, sizes: { ...std('xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'), '12xlarge': [48, 192, 4], metal: [96, 384, 8] } },
  g5: { category: 'gpu', arch: 'amd64', gibPerVcpu: 4, gpuModel: 'A10G', gpus: 1, sizes: { ...std('xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'), '12xlarge': [48, 192, 4], '24xlarge': [96, 384, 4], '48xlarge': [192, 768, 8] } },
  g5g: { category: 'gpu', arch: 'arm64', gibPerVcpu: 2, gpuModel: 'T4g', gpus: 1, sizes: { ...std('xlarge', '2xlarge', '4xlarge', '8xlarge'), '16xlarge': [64, 128, 2], metal: [64, 128, 2] } },
  g6: { category: 'gpu', arch: 'amd64', gibPerVcpu: 4, gpuModel: 'L4', gpus: 1, sizes: { ...std('xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'), '12xlarge': [48, 192, 4], '24xlarge': [96, 384, 4], '48xlarge': [192, 768, 8] } },
  gr6: { category: 'gpu', arch: 'amd64', gibPerVcpu: 8, gpuModel: 'L4', gpus: 1, sizes: std('4xlarge', '8xlarge') },
  g6e: { category: 'gpu', arch: 'amd64', gibPerVcpu: 8, gpuModel: 'L40S', gpus: 1, sizes: { ...std('xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'), '12xlarge': [48, 384, 4], '24xlarge': [96, 768, 4], '48xlarge': [192, 1536, 8] } },
  p3: { category: 'gpu', arch: 'amd64', gpuModel: 'V100', sizes: { '2xlarge': [8, 61, 1], '8xlarge': [32, 244, 4], '16xlarge': [64, 488, 8] } },
  p3dn: { category: 'gpu', arch: 'amd64', gpuModel: 'V100', sizes: { '24xlarge': [96, 768, 8] } },
  p4d: { category: 'gpu', arch: 'amd64', gpuModel: 'A100', sizes: { '24xlarge': [96, 1152, 8] } },
  p4de: { category: 'gpu', arch: 'amd64', gpuModel: 'A100 80GB', sizes: { '24xlarge': [96, 1152, 8] } },
  p5: { category: 'gpu', arch: 'amd64', gpuModel: 'H100', sizes: { '4xlarge': [16, 256, 1], '48xlarge': [192, 2048, 8] } },
  p5e: { category: 'gpu', arch: 'amd64', gpuModel: 'H200', sizes: { '48xlarge': [192, 2048, 8] } },
  p5en: { category: 'gpu', arch: 'amd64', gpuModel: 'H200', sizes: { '48xlarge': [192, 2048, 8] } },
};

function expand(): Map<string, InstanceTypeFacts> {
  const out = new Map<string, InstanceTypeFacts>();
  for (const [family, f] of Object.entries(INSTANCE_FAMILIES)) {
    for (const [size, spec] of Object.entries(f.sizes)) {
      const [vcpu, gib, gpus] = typeof spec === 'number' ? [spec, spec * f.gibPerVcpu!, f.gpus ?? 0] : [spec[0], spec[1], spec[2] ?? f.gpus ?? 0];
      out.set(`${family}.${size}`, { arch: f.arch, vcpu, memoryMiB: Math.round(gib * 1024), gpus, ...(f.gpuModel ? { gpuModel: f.gpuModel } : {}) });
    }
  }
  return out;
}

/** Every instance type of the table, by name. */
export const INSTANCE_TYPES: ReadonlyMap<string, InstanceTypeFacts> = expand();

export const instanceTypeFacts = (name: string): InstanceTypeFacts | undefined => INSTANCE_TYPES.get(name);

/** EC2's answer for one type, as locked by `--refresh-ssm` (generators/load/ssm-lock.ts `ec2`). */
export interface LockedFacts {
  offered: boolean;
  arch?: Arch;
  vcpu?: number;
  memoryMiB?: number;
  gpus?: number;
  gpuModel?: string;
}

/** Facts from the lock (what EC2 said, for offered types) before the table. */
export function factsWithLock(locked: Readonly<Record<string, LockedFacts>> | undefined): (name: string) => InstanceTypeFacts | undefined {
  if (!locked) return instanceTypeFacts;
  return (name) => {
    const l = locked[name];
    if (l?.offered && l.arch && l.vcpu !== undefined && l.memoryMiB !== undefined)
      return { arch: l.arch, vcpu: l.vcpu, memoryMiB: l.memoryMiB, gpus: l.gpus ?? 0, ...(l.gpuModel ? { gpuModel: l.gpuModel } : {}) };
    return instanceTypeFacts(name);
  };
}

/** NVIDIA GPU families of the table (for hints). */
export const GPU_FAMILIES: readonly string[] = Object.entries(INSTANCE_FAMILIES)
  .filter(([, f]) => f.category === 'gpu')
  .map(([name]) => name);

/**
 * What a node keeps for itself before pods get anything (Kubernetes "allocatable"): kubelet and
 * container runtime, the OS (the distribution's image), and the DaemonSets every node runs (CNI, kube-proxy,
 * CSI node plugin, node exporter …). The numbers follow the EKS AMI's kube-reserved formula (CPU:
 * 6% of the first core, 1% of the second, 0.5% of cores 3–4, 0.25% above; memory: 255 MiB + 11 MiB per
 * pod the node may run) plus 100 MiB system-reserved and the kubelet's 100 MiB hard eviction threshold;
 * the DaemonSets' requests are added by the caller. Documented in docs/concepts/validation.md (Instance types and capacity).
 */
export function systemReserve(facts: InstanceTypeFacts, maxPods: number): { cpuMilli: number; memoryMiB: number } {
  const cores = facts.vcpu;
  const tiers: [number, number][] = [
    [1, 60],
    [1, 10],
    [2, 5],
  ];
  let cpu = 0;
  let left = cores;
  for (const [n, milli] of tiers) {
    const take = Math.min(left, n);
    cpu += take * milli;
    left -= take;
  }
  cpu += left * 2.5;
  return { cpuMilli: Math.ceil(cpu), memoryMiB: 255 + 11 * maxPods + 100 + 100 };
}
