/**
 * A small EC2 endpoint on 127.0.0.1 speaking the EC2 query protocol (form-encoded POST with
 * `Action=…`, XML replies, errors as `<Response><Errors><Error><Code>`), answering
 * DescribeInstanceTypeOfferings and DescribeInstanceTypes, for driving the real @aws-sdk/client-ec2
 * without AWS: point it at the server with AWS_ENDPOINT_URL_EC2.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server.js';

export interface FakeInstanceType {
  vcpu: number;
  memoryMiB: number;
  arch: 'x86_64' | 'arm64';
  gpus?: { name: string; manufacturer: string; count: number }[];
}

export interface Ec2Request {
  action: string;
  params: URLSearchParams;
  signed: boolean;
}

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export class FakeEc2 {
  /** Types that exist, with their facts. */
  readonly types = new Map<string, FakeInstanceType>();
  /** Region → types offered there. */
  readonly offered = new Map<string, Set<string>>();
  readonly requests: Ec2Request[] = [];
  /** Action → error code to answer with (e.g. UnauthorizedOperation), while set. */
  readonly faults = new Map<string, { code: string; status: number }>();
  private readonly http = new LocalServer((req, res) => this.handle(req, res));
  url = '';

  constructor(readonly opts: { pageSize?: number } = {}) {}

  add(name: string, t: FakeInstanceType, regions: string[]): this {
    this.types.set(name, t);
    for (const r of regions) {
      if (!this.offered.has(r)) this.offered.set(r, new Set());
      this.offered.get(r)!.add(name);
    }
    return this;
  }

  count(action: string): number {
    return this.requests.filter((r) => r.action === action).length;
  }

  async start(): Promise<this> {
    await this.http.start();
    this.url = this.http.url;
    return this;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** The region a request was signed for (the SigV4 credential scope). */
  private regionOf(req: IncomingMessage): string {
    return /Credential=[^/]+\/\d{8}\/([^/]+)\/ec2\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'us-east-1';
  }

  /** `Prefix.1`, `Prefix.2` … values of a query-protocol list. */
  private static list(params: URLSearchParams, prefix: string): string[] {
    const out: string[] = [];
    for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`)!);
    return out;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const action = params.get('Action') ?? '';
    const recorded: Ec2Request = { action, params, signed: String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ') };
    this.requests.push(recorded);
    const send = (status: number, xml: string): void => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
    };
    const error = (code: string, message: string, status = 400): void =>
      send(status, `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>req-${this.requests.length}</RequestID></Response>`);
    const fault = this.faults.get(action);
    if (fault) return error(fault.code, `fault injected for ${action}`, fault.status);
    if (!recorded.signed) return error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
    const region = this.regionOf(req);
    const page = this.opts.pageSize ?? 1000;
    switch (action) {
      case 'DescribeInstanceTypeOfferings': {
        if (params.get('LocationType') !== 'region') return error('InvalidParameterValue', 'expected LocationType region in this fake');
        const filterValues = FakeEc2.list(params, 'Filter.1.Value');
        if (params.get('Filter.1.Name') !== 'instance-type') return error('InvalidParameterValue', 'expected an instance-type filter in this fake');
        const all = [...(this.offered.get(region) ?? [])].filter((t) => filterValues.includes(t)).sort();
        const start = Number(params.get('NextToken') ?? 0);
        const items = all.slice(start, start + page);
        const next = start + page < all.length ? `<nextToken>${start + page}</nextToken>` : '';
        return send(
          200,
          `<DescribeInstanceTypeOfferingsResponse xmlns="${XMLNS}"><requestId>req-${this.requests.length}</requestId><instanceTypeOfferingSet>${items
            .map((t) => `<item><instanceType>${t}</instanceType><locationType>region</locationType><location>${region}</location></item>`)
            .join('')}</instanceTypeOfferingSet>${next}</DescribeInstanceTypeOfferingsResponse>`,
        );
      }
      case 'DescribeInstanceTypes': {
        const names = FakeEc2.list(params, 'InstanceType');
        const unknown = names.filter((n) => !this.offered.get(region)?.has(n));
        if (unknown.length > 0) return error('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
        const item = (n: string): string => {
          const t = this.types.get(n)!;
          const gpus = t.gpus?.length
            ? `<gpuInfo><gpus>${t.gpus.map((g) => `<item><name>${g.name}</name><manufacturer>${g.manufacturer}</manufacturer><count>${g.count}</count></item>`).join('')}</gpus></gpuInfo>`
            : '';
          return `<item><instanceType>${n}</instanceType><vCpuInfo><defaultVCpus>${t.vcpu}</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>${t.memoryMiB}</sizeInMiB></memoryInfo><processorInfo><supportedArchitectures><item>${t.arch}</item></supportedArchitectures></processorInfo>${gpus}</item>`;
        };
        return send(200, `<DescribeInstanceTypesResponse xmlns="${XMLNS}"><requestId>req-${this.requests.length}</requestId><instanceTypeSet>${names.map(item).join('')}</instanceTypeSet></DescribeInstanceTypesResponse>`);
      }
      default:
        return error('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }
}
