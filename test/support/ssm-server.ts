/**
 * A small SSM Parameter Store on 127.0.0.1 speaking the awsJson1_1 protocol, for driving the real
 * SDK client (serialization, signing, pagination, retries) without AWS: point the client at it with
 * AWS_ENDPOINT_URL_SSM. Dispatches on `x-amz-target`; errors are status 400 with `{"__type": …}`
 * like the service's.
 */
import { afterAll, beforeAll } from 'vitest';
import { hermeticAwsEnv } from './aws-env.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { LocalServer } from './local-server.js';
import type { AddressInfo } from 'node:net';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

interface StoredParameter {
  value: string;
  type: ParameterType;
  version: number;
  lastModified: Date;
}

export interface RecordedRequest {
  target: string;
  body: Record<string, unknown>;
  signed: boolean;
}

/** An error answer, or 'hang': accept the request and never answer (timeouts). */
export type Fault = { type: string; message?: string; status?: number } | 'hang';

interface FaultRule {
  match: (req: RecordedRequest) => boolean;
  fault: Fault;
  remaining: number;
}

export const throttling: Fault = { type: 'ThrottlingException', message: 'Rate exceeded' };
export const expiredToken: Fault = { type: 'ExpiredTokenException', message: 'The security token included in the request is expired' };

export class FakeSsm {
  readonly parameters = new Map<string, StoredParameter>();
  readonly requests: RecordedRequest[] = [];
  private readonly faults: FaultRule[] = [];
  private readonly http = new LocalServer((req, res) => this.handle(req, res));
  url = '';

  constructor(readonly opts: { accountId?: string; region?: string; pageSize?: number } = {}) {}

  get accountId(): string {
    return this.opts.accountId ?? '111111111111';
  }

  /** Create or update a parameter (the version goes up on every put, like the service's). */
  put(name: string, value: string, type: ParameterType = 'String', lastModified = new Date(Date.UTC(2026, 10, 20, 9, 0, 0))): this {
    const prev = this.parameters.get(name);
    this.parameters.set(name, { value, type, version: (prev?.version ?? 0) + 1, lastModified });
    return this;
  }

  /** Answer requests matching `match` with `fault`, `times` times (default: forever). */
  fail(match: string | ((req: RecordedRequest) => boolean), fault: Fault, times = Number.POSITIVE_INFINITY): this {
    const m = typeof match === 'string' ? (r: RecordedRequest) => match === '*' || r.target === `AmazonSSM.${match}` : match;
    this.faults.push({ match: m, fault, remaining: times });
    return this;
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  accessDenied(name: string, action = 'GetParameters'): Fault {
    return {
      type: 'AccessDeniedException',
      message: `User: arn:aws:sts::${this.accountId}:assumed-role/ci/session is not authorized to perform: ssm:${action} on resource: arn:aws:ssm:${this.region}:${this.accountId}:parameter${name} because no identity-based policy allows the ssm:${action} action`,
    };
  }

  get region(): string {
    return this.opts.region ?? 'eu-west-1';
  }

  count(operation: string): number {
    return this.requests.filter((r) => r.target === `AmazonSSM.${operation}`).length;
  }

  async start(): Promise<this> {
    await this.http.start();
    this.url = this.http.url;
    return this;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private arn(name: string): string {
    return `arn:aws:ssm:${this.region}:${this.accountId}:parameter${name}`;
  }

  private wire(name: string, p: StoredParameter, decrypt: boolean): Record<string, unknown> {
    // Without decryption the service returns a SecureString's ciphertext, never its plaintext.
    const value = p.type === 'SecureString' && !decrypt ? `AQICAHhCIPHERTEXT${Buffer.from(name).toString('base64')}` : p.value;
    return { Name: name, Type: p.type, Value: value, Version: p.version, LastModifiedDate: p.lastModified.getTime() / 1000, ARN: this.arn(name), DataType: 'text' };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    const recorded: RecordedRequest = { target, body, signed: String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ') };
    this.requests.push(recorded);
    const send = (status: number, payload: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${this.requests.length}` });
      res.end(JSON.stringify(payload));
    };
    const error = (type: string, message: string, status = 400): void => send(status, { __type: type, message });
    const rule = this.faults.find((f) => f.remaining > 0 && f.match(recorded));
    if (rule) {
      rule.remaining--;
      if (rule.fault === 'hang') return; // never answer
      error(rule.fault.type, rule.fault.message ?? rule.fault.type, rule.fault.status);
      return;
    }
    if (!recorded.signed) return error('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    switch (target) {
      case 'AmazonSSM.GetParameters': {
        const names = (body.Names ?? []) as string[];
        if (names.length < 1 || names.length > 10)
          return error('ValidationException', `1 validation error detected: Value '[${names.join(', ')}]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`);
        const found = names.filter((n) => this.parameters.has(n));
        return send(200, { Parameters: found.map((n) => this.wire(n, this.parameters.get(n)!, body.WithDecryption === true)), InvalidParameters: names.filter((n) => !this.parameters.has(n)) });
      }
      case 'AmazonSSM.GetParametersByPath': {
        const path = String(body.Path ?? '');
        if (!path.startsWith('/')) return error('ValidationException', 'The parameter path must begin with a forward slash (/)');
        const prefix = path.endsWith('/') ? path : `${path}/`;
        const recursive = body.Recursive === true;
        const max = Math.min(Number(body.MaxResults ?? 10), this.opts.pageSize ?? 10);
        const all = [...this.parameters.keys()].filter((n) => n.startsWith(prefix) && (recursive || !n.slice(prefix.length).includes('/'))).sort();
        const start = body.NextToken ? Number(Buffer.from(String(body.NextToken), 'base64').toString('utf8')) : 0;
        const page = all.slice(start, start + max);
        const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
        return send(200, { Parameters: page.map((n) => this.wire(n, this.parameters.get(n)!, body.WithDecryption === true)), ...(next ? { NextToken: next } : {}) });
      }
      default:
        return error('UnknownOperationException', `unknown operation ${target}`);
    }
  }
}

/** Credentials for the local server only: obviously not real. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'local-test-secret-not-a-real-key' };

/** A port on 127.0.0.1 where nothing listens (for "endpoint unreachable"). */
export async function closedPortUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Start `server` for the tests of this file, with the AWS settings made hermetic and the SDK's SSM
 * endpoint pointing at it; stop it and restore the environment afterwards.
 */
export function serveFakeSsm(server: FakeSsm): void {
  let restoreEnv: () => void = () => {};
  beforeAll(async () => {
    await server.start();
    restoreEnv = hermeticAwsEnv({ AWS_ENDPOINT_URL_SSM: server.url });
  });
  afterAll(async () => {
    restoreEnv();
    await server.close();
  });
}
