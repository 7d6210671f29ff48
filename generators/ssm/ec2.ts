/**
 * The one module that asks EC2 about instance types, for `--refresh-ssm`: which of the types an
 * environment uses are offered in its region (DescribeInstanceTypeOfferings, location type region)
 * and their vCPUs, memory, architecture and GPUs (DescribeInstanceTypes). @aws-sdk/client-ec2 is
 * large (~450 ms to import), so it is loaded only here, only for a refresh. Standard credential
 * chain; `AWS_ENDPOINT_URL_EC2` (read by the SDK) points it at another endpoint; standard retries
 * and the same timeouts as the SSM client.
 */
import type { LockedInstanceType } from '../load/ssm-lock.js';
import { SSM_CONNECTION_TIMEOUT_MS, SSM_MAX_ATTEMPTS, SSM_REQUEST_TIMEOUT_MS } from './client.js';

export interface Ec2Facts {
  /** The facts of `types` in the client's region: offered or not, and for offered ones their sizes. */
  describe(types: readonly string[]): Promise<Record<string, LockedInstanceType>>;
  destroy(): void;
}

export interface Ec2ClientOptions {
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
  retryDelayMs?: number;
}

/** An EC2 request that failed: the operation and the SDK's error name and message. */
export class Ec2RequestError extends Error {
  constructor(
    readonly operation: string,
    readonly code: string,
    message: string,
  ) {
    super(`${operation}: ${code}: ${message}`);
    this.name = 'Ec2RequestError';
  }
}

/** DescribeInstanceTypes takes at most 100 names per call. */
const DESCRIBE_BATCH = 100;

export async function createEc2Facts(region: string, opts: Ec2ClientOptions = {}): Promise<Ec2Facts> {
  const ec2 = await import('@aws-sdk/client-ec2');
  const { ConfiguredRetryStrategy } = await import('@smithy/core/retry');
  const maxAttempts = opts.maxAttempts ?? SSM_MAX_ATTEMPTS;
  const client = new ec2.EC2Client({
    region,
    maxAttempts,
    ...(opts.retryDelayMs === undefined ? { retryMode: 'standard' } : { retryStrategy: new ConfiguredRetryStrategy(maxAttempts, opts.retryDelayMs) }),
    requestHandler: { connectionTimeout: SSM_CONNECTION_TIMEOUT_MS, requestTimeout: SSM_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
  const call = async <T>(operation: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      const err = e as { name?: string; Code?: string; message?: string };
      throw new Ec2RequestError(operation, err.Code ?? err.name ?? 'Error', err.message ?? String(e));
    }
  };
  return {
    async describe(types) {
      const wanted = [...new Set(types)].sort();
      const out: Record<string, LockedInstanceType> = Object.fromEntries(wanted.map((t) => [t, { offered: false }]));
      if (wanted.length === 0) return out;
      const offered = new Set<string>();
      let next: string | undefined;
      do {
        const page = await call('DescribeInstanceTypeOfferings', () =>
          client.send(new ec2.DescribeInstanceTypeOfferingsCommand({ LocationType: 'region', Filters: [{ Name: 'instance-type', Values: wanted }], ...(next ? { NextToken: next } : {}) })),
        );
        for (const o of page.InstanceTypeOfferings ?? []) if (o.InstanceType && (o.Location ?? region) === region) offered.add(o.InstanceType);
        next = page.NextToken;
      } while (next);
      const names = wanted.filter((t) => offered.has(t));
      for (let i = 0; i < names.length; i += DESCRIBE_BATCH) {
        const batch = names.slice(i, i + DESCRIBE_BATCH);
        let token: string | undefined;
        do {
          const page = await call('DescribeInstanceTypes', () => client.send(new ec2.DescribeInstanceTypesCommand({ InstanceTypes: batch as never[], ...(token ? { NextToken: token } : {}) })));
          for (const t of page.InstanceTypes ?? []) {
            if (!t.InstanceType) continue;
            const archs = t.ProcessorInfo?.SupportedArchitectures ?? [];
            const nvidia = (t.GpuInfo?.Gpus ?? []).filter((g) => (g.Manufacturer ?? '').toUpperCase() === 'NVIDIA');
            out[t.InstanceType] = {
              offered: true,
              arch: archs.includes('arm64') ? 'arm64' : 'amd64',
              vcpu: t.VCpuInfo?.DefaultVCpus ?? 0,
              memoryMiB: t.MemoryInfo?.SizeInMiB ?? 0,
              gpus: nvidia.reduce((n, g) => n + (g.Count ?? 0), 0),
              ...(nvidia[0]?.Name ? { gpuModel: nvidia[0].Name } : {}),
            };
          }
          token = page.NextToken;
        } while (token);
      }
      return out;
    },
    destroy: () => client.destroy(),
  };
}
