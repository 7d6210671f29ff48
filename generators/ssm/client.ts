/**
 * The one module that talks to AWS SSM Parameter Store. Everything else receives its results as
 * data. Standard credential chain and region; `AWS_ENDPOINT_URL_SSM` (read by the SDK itself)
 * points it at another endpoint; retries: the SDK's standard strategy.
 */
import {
  GetParameterCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
  paginateGetParametersByPath,
  type Parameter,
} from '@aws-sdk/client-ssm';

export const SSM_MAX_ATTEMPTS = 5;

export function createSsmClient(region?: string): SSMClient {
  return new SSMClient({ region, maxAttempts: SSM_MAX_ATTEMPTS, retryMode: 'standard' });
}

export interface FetchedParameter {
  name: string;
  value: string;
  type: 'String' | 'StringList' | 'SecureString';
  version: number;
  lastModified: string;
}

function toFetched(p: Parameter): FetchedParameter {
  return {
    name: p.Name ?? '',
    value: p.Value ?? '',
    type: (p.Type ?? 'String') as FetchedParameter['type'],
    version: p.Version ?? 0,
    lastModified: p.LastModifiedDate ? p.LastModifiedDate.toISOString() : '',
  };
}

/** GetParameters in batches of 10 (the API's limit), without decryption. Missing names are returned apart. */
export async function getParameters(client: SSMClient, names: readonly string[]): Promise<{ found: FetchedParameter[]; missing: string[] }> {
  const found: FetchedParameter[] = [];
  const missing: string[] = [];
  for (let i = 0; i < names.length; i += 10) {
    const out = await client.send(new GetParametersCommand({ Names: names.slice(i, i + 10), WithDecryption: false }));
    found.push(...(out.Parameters ?? []).map(toFetched));
    missing.push(...(out.InvalidParameters ?? []));
  }
  return { found, missing };
}

/** Every parameter under a prefix (recursive), through the SDK paginator. */
export async function getParametersByPath(client: SSMClient, path: string): Promise<FetchedParameter[]> {
  const out: FetchedParameter[] = [];
  for await (const page of paginateGetParametersByPath({ client }, { Path: path, Recursive: true, WithDecryption: false })) {
    out.push(...(page.Parameters ?? []).map(toFetched));
  }
  return out;
}

/** A SecureString's decrypted value (Talos secrets bundle, at apply time only). */
export async function getSecureString(client: SSMClient, name: string): Promise<FetchedParameter> {
  const out = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  if (!out.Parameter) throw new Error(`SSM returned no parameter for ${name}`);
  return toFetched(out.Parameter);
}

/** Store a SecureString; refuses to replace an existing one unless `overwrite`. */
export async function putSecureString(client: SSMClient, name: string, value: string, opts: { kmsKeyId?: string; overwrite: boolean; description?: string }): Promise<number> {
  const out = await client.send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', KeyId: opts.kmsKeyId, Overwrite: opts.overwrite, Tier: value.length > 4096 ? 'Advanced' : 'Standard', Description: opts.description }),
  );
  return out.Version ?? 0;
}
