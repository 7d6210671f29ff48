import { _InstanceType } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { INSTANCE_FAMILIES, INSTANCE_TYPES, instanceTypeFacts, systemReserve } from '../generators/model/instance-types.js';

describe('EC2 instance table', () => {
  it('every type is a real EC2 type, and every size EC2 has of a tabled family is tabled', () => {
    const sdk = new Set(Object.values(_InstanceType) as string[]);
    expect([...INSTANCE_TYPES.keys()].filter((t) => !sdk.has(t))).toStrictEqual([]);
    const families = new Set(Object.keys(INSTANCE_FAMILIES));
    expect([...sdk].filter((t) => families.has(t.split('.')[0]!) && !INSTANCE_TYPES.has(t))).toStrictEqual([]);
  });

  it.each([
    ['m7g.xlarge', 'arm64'], ['c7gn.large', 'arm64'], ['r8g.2xlarge', 'arm64'], ['t4g.small', 'arm64'], ['g5g.xlarge', 'arm64'],
    ['m7i.large', 'amd64'], ['m7a.large', 'amd64'], ['g5.xlarge', 'amd64'], ['g4dn.xlarge', 'amd64'], ['p5.48xlarge', 'amd64'], ['m7i-flex.large', 'amd64'],
  ])('%s is %s', (t, arch) => expect(instanceTypeFacts(t)?.arch).toBe(arch));

  it('sizes as DescribeInstanceTypes reports them (vCPUs, MiB, GPUs)', () => {
    const f = (t: string) => {
      const x = instanceTypeFacts(t)!;
      return [x.vcpu, x.memoryMiB, x.gpus, x.gpuModel];
    };
    expect(f('m5.large')).toStrictEqual([2, 8192, 0, undefined]);
    expect(f('m7i.metal-48xl')).toStrictEqual([192, 786432, 0, undefined]);
    expect(f('c5.9xlarge')).toStrictEqual([36, 73728, 0, undefined]);
    expect(f('c5n.large')).toStrictEqual([2, 5376, 0, undefined]);
    expect(f('r6g.medium')).toStrictEqual([1, 8192, 0, undefined]);
    expect(f('t3.nano')).toStrictEqual([2, 512, 0, undefined]);
    expect(f('t4g.2xlarge')).toStrictEqual([8, 32768, 0, undefined]);
    expect(f('g4dn.12xlarge')).toStrictEqual([48, 196608, 4, 'T4']);
    expect(f('g5.48xlarge')).toStrictEqual([192, 786432, 8, 'A10G']);
    expect(f('g5g.16xlarge')).toStrictEqual([64, 131072, 2, 'T4g']);
    expect(f('g6e.xlarge')).toStrictEqual([4, 32768, 1, 'L40S']);
    expect(f('p3.2xlarge')).toStrictEqual([8, 62464, 1, 'V100']);
    expect(f('p4d.24xlarge')).toStrictEqual([96, 1179648, 8, 'A100']);
    expect(f('p5.48xlarge')).toStrictEqual([192, 2097152, 8, 'H100']);
    expect(instanceTypeFacts('inf2.xlarge')).toBeUndefined();
  });

  it('system reserve: EKS kube-reserved formula plus system-reserved and eviction threshold', () => {
    expect(systemReserve(instanceTypeFacts('m7i.xlarge')!, 110)).toStrictEqual({ cpuMilli: 80, memoryMiB: 255 + 1210 + 200 });
    expect(systemReserve(instanceTypeFacts('m5.large')!, 110).cpuMilli).toBe(70);
    expect(systemReserve(instanceTypeFacts('m7i.4xlarge')!, 110).cpuMilli).toBe(110);
  });
});
