/**
 * The one module that talks to AWS SSM Parameter Store. Everything else receives its results as
 * data. Standard credential chain; the region is the caller's choice (refresh: the environment's
 * `aws.region`); `AWS_ENDPOINT_URL_SSM` (or `AWS_ENDPOINT_URL`, read by the SDK itself) points it at
 * another endpoint; retries: the SDK's standard strategy; every request has a connection and a
 * request timeout.
 *
 * Non-secret reads (`getParameters`, `getParametersByPath`) never ask for decryption and never hand
 * back a SecureString's value: such a parameter comes back with its type and an empty value, so
 * callers can refuse it without ever holding its ciphertext.
 */
import type { Parameter, SSMClient, SSMClientConfig } from '@aws-sdk/client-ssm';
import type * as SsmSdk from '@aws-sdk/client-ssm';
import type * as SmithyRetry from '@smithy/core/retry';
import { lazyModule } from '../lib/lazy.js';

/** Loaded at the first SSM call (see lib/lazy.ts): synth without --refresh-ssm never imports the SDK. */
const sdk = lazyModule<typeof SsmSdk>('@aws-sdk/client-ssm');
const retry = lazyModule<typeof SmithyRetry>('@smithy/core/retry');

export const SSM_MAX_ATTEMPTS = 5;
/** Milliseconds to establish a TCP/TLS connection, and to wait for a response once connected. */
export const SSM_CONNECTION_TIMEOUT_MS = 5_000;
export const SSM_REQUEST_TIMEOUT_MS = 15_000;
/** GetParameters takes at most this many names per call. */
export const GET_PARAMETERS_BATCH = 10;

export interface SsmClientOptions {
  maxAttempts?: number;
  /**
   * Fixed delay between attempts instead of the standard strategy's exponential backoff with
   * jitter (tests and emulators; the retry rules themselves stay the standard ones).
   */
  retryDelayMs?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Explicit credentials (tests); default: the SDK's standard credential provider chain. */
  credentials?: SSMClientConfig['credentials'];
}

export function createSsmClient(region?: string, opts: SsmClientOptions = {}): SSMClient {
  const maxAttempts = opts.maxAttempts ?? SSM_MAX_ATTEMPTS;
  return new sdk.SSMClient({
    region,
    maxAttempts,
    ...(opts.retryDelayMs === undefined ? { retryMode: 'standard' } : { retryStrategy: new retry.ConfiguredRetryStrategy(maxAttempts, opts.retryDelayMs) }),
    requestHandler: {
      connectionTimeout: opts.connectionTimeoutMs ?? SSM_CONNECTION_TIMEOUT_MS,
      requestTimeout: opts.requestTimeoutMs ?? SSM_REQUEST_TIMEOUT_MS,
      // Without this the handler only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
    },
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
}

/** Whether an endpoint override is in effect (the SDK reads these variables itself). */
export function ssmEndpointOverride(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL || undefined;
}

export interface FetchedParameter {
  name: string;
  /** Empty for a SecureString read through getParameters/getParametersByPath. */
  value: string;
  type: 'String' | 'StringList' | 'SecureString';
  version: number;
  lastModified: string;
  /** arn:aws:ssm:<region>:<account>:parameter/… when the service returned it. */
  arn?: string;
}

function toFetched(p: Parameter): FetchedParameter {
  const out: FetchedParameter = {
    name: p.Name ?? '',
    value: p.Value ?? '',
    type: (p.Type ?? 'String') as FetchedParameter['type'],
    version: p.Version ?? 0,
    lastModified: p.LastModifiedDate ? p.LastModifiedDate.toISOString() : '',
  };
  if (p.ARN) out.arn = p.ARN;
  return out;
}

/** For non-secret reads: a SecureString keeps its metadata, never its (encrypted) value. */
function withoutSecureValue(p: Parameter): FetchedParameter {
  const f = toFetched(p);
  return f.type === 'SecureString' ? { ...f, value: '' } : f;
}

/** GetParameters in batches of 10 (the API's limit), without decryption. Missing names are returned apart. */
export async function getParameters(client: SSMClient, names: readonly string[]): Promise<{ found: FetchedParameter[]; missing: string[] }> {
  const found: FetchedParameter[] = [];
  const missing: string[] = [];
  for (let i = 0; i < names.length; i += GET_PARAMETERS_BATCH) {
    const batch = names.slice(i, i + GET_PARAMETERS_BATCH);
    try {
      const out = await client.send(new sdk.GetParametersCommand({ Names: batch, WithDecryption: false }));
      found.push(...(out.Parameters ?? []).map(withoutSecureValue));
      missing.push(...(out.InvalidParameters ?? []));
    } catch (e) {
      throw new SsmRequestError('GetParameters', batch, e);
    }
  }
  return { found, missing };
}

/**
 * Every parameter under a prefix, through the SDK paginator, without decryption. `recursive`
 * false: only the parameters directly below `path`.
 */
export async function getParametersByPath(client: SSMClient, path: string, opts: { recursive?: boolean } = {}): Promise<FetchedParameter[]> {
  const out: FetchedParameter[] = [];
  try {
    for await (const page of sdk.paginateGetParametersByPath({ client }, { Path: path, Recursive: opts.recursive ?? true, WithDecryption: false })) {
      out.push(...(page.Parameters ?? []).map(withoutSecureValue));
    }
  } catch (e) {
    throw new SsmRequestError('GetParametersByPath', [path], e);
  }
  return out;
}

/** A SecureString's decrypted value (a distribution's secrets bundle, at apply time only). */
export async function getSecureString(client: SSMClient, name: string): Promise<FetchedParameter> {
  const out = await client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true }));
  if (!out.Parameter) throw new Error(`SSM returned no parameter for ${name}`);
  return toFetched(out.Parameter);
}

/** Store a SecureString; refuses to replace an existing one unless `overwrite`. */
export async function putSecureString(client: SSMClient, name: string, value: string, opts: { kmsKeyId?: string; overwrite: boolean; description?: string }): Promise<number> {
  const out = await client.send(
    new sdk.PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', KeyId: opts.kmsKeyId, Overwrite: opts.overwrite, Tier: value.length > 4096 ? 'Advanced' : 'Standard', Description: opts.description }),
  );
  return out.Version ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Failures, classified for people.

export type SsmFailureKind = 'access-denied' | 'throttled' | 'no-credentials' | 'bad-credentials' | 'timeout' | 'unreachable' | 'other';

export interface SsmFailure {
  kind: SsmFailureKind;
  /** One line: what happened, with the service's own words. */
  summary: string;
  hint: string;
  /** The parameter the service named in its error (AccessDenied names the resource ARN). */
  parameter?: string;
}

const CREDENTIAL_ERRORS = new Set([
  'ExpiredTokenException',
  'ExpiredToken',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/** Turn whatever the SDK threw into a kind, a summary and a hint. */
export function describeSsmFailure(e: unknown): SsmFailure {
  const err = (e ?? {}) as Error & { code?: string; $metadata?: { attempts?: number; httpStatusCode?: number }; cause?: unknown };
  const name = err.name ?? 'Error';
  const code = err.code ?? (err.cause as { code?: string } | undefined)?.code;
  const message = (err.message ?? String(e)).split('\n')[0]!.trim();
  const attempts = err.$metadata?.attempts;
  const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    const m = /:parameter(\/[^\s"']*)/.exec(message);
    return {
      kind: 'access-denied',
      summary: `access denied (${name}: ${message})`,
      hint: 'the credentials need ssm:GetParameters on the referenced parameters and on the SecureStrings the environment depends on, and ssm:GetParametersByPath on the { ssmPath } prefixes (no kms:Decrypt: synth never decrypts, SecureStrings are only checked to exist)',
      ...(m ? { parameter: m[1]!.replace(/[.,;]$/, '') } : {}),
    };
  }
  if (name === 'ThrottlingException' || name === 'TooManyRequestsException' || name === 'RequestLimitExceeded' || name === 'ThrottledException') {
    return { kind: 'throttled', summary: `throttled by SSM${tries} (${name}: ${message})`, hint: 'retry later, or raise the account\'s Parameter Store throughput (higher throughput setting)' };
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return { kind: 'no-credentials', summary: `no AWS credentials found (${message})`, hint: 'set AWS_PROFILE (and run aws sso login), or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN' };
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    return { kind: 'bad-credentials', summary: `the AWS credentials were rejected (${name}: ${message})`, hint: 'they are expired or invalid: renew them (aws sso login, or new session credentials) and run again' };
  }
  if (TIMEOUT_NAMES.has(name) || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return { kind: 'timeout', summary: `SSM did not answer in time${tries} (${name}${code ? ` ${code}` : ''}: ${message})`, hint: 'check the network path to the SSM endpoint (proxy, VPC endpoint) and run again' };
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    const endpoint = ssmEndpointOverride();
    return {
      kind: 'unreachable',
      summary: `the SSM endpoint is unreachable${tries} (${code}: ${message})`,
      hint: endpoint ? `AWS_ENDPOINT_URL_SSM/AWS_ENDPOINT_URL points at ${endpoint}: is it up?` : 'check the network, proxy settings and the region',
    };
  }
  return { kind: 'other', summary: `SSM request failed${tries} (${name}: ${message})`, hint: 'run again with --debug for the stack trace' };
}

/** An SDK failure of one request, with the parameter names (or path) it was about. */
export class SsmRequestError extends Error {
  readonly failure: SsmFailure;
  constructor(
    readonly operation: 'GetParameters' | 'GetParametersByPath',
    readonly names: readonly string[],
    cause: unknown,
  ) {
    const failure = describeSsmFailure(cause);
    super(`${operation}: ${failure.summary}`, { cause });
    this.name = 'SsmRequestError';
    this.failure = failure;
  }
}
