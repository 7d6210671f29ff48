/**
 * A new environment from an existing one (`npm run new-env`): the source file's YAML document
 * (comments kept, through the yaml Document API) with everything that names the old environment
 * rewritten. Pure: text in, text and a report out; the command reads, validates and writes.
 *
 * - every IPv4 address and CIDR inside the old VPC CIDR (subnets, node IPs, …) is re-based into the
 *   new one at the same offset (the new VPC must be large enough);
 * - the old name as a token (`/odp/<old>/…`, `api.<old>.odp.internal`, `odp-<old>`, `<old>-cp-1`) in
 *   the name-bearing fields: SSM paths, hosts, endpoint, SANs, the cluster, node and bucket names;
 * - ARNs and availability zones take the new account and region;
 * - certificate ARNs become `{ ssm: /odp/<new>/acm/<workload> }` placeholders (an ACM certificate
 *   belongs to one account), which the SSM refresh then requires.
 */
import { isMap, isPair, isScalar, isSeq, parseDocument, visit, type Scalar } from 'yaml';
import { cidrContains, parseCidr, parseIpv4 } from '../lib/cidr.js';

export interface NewEnvOptions {
  name: string;
  from: string;
  accountId: string;
  /** New region; default: the source's. */
  region?: string;
  /** The new VPC CIDR. */
  cidr: string;
}

export interface ScaffoldReport {
  text: string;
  addresses: number;
  renamed: number;
  arns: number;
  /** SecureStrings the new file references (`{ secret: … }`): created by hand, never read at synth. */
  secrets: string[];
  /** Certificate placeholders: SSM parameter → what it must hold. */
  certificates: { parameter: string; host?: string }[];
}

export class ScaffoldError extends Error {}

/** Keys whose values name the environment (SSM paths, hosts, resource names). */
const NAMED_KEYS = new Set(['ssm', 'secret', 'ssmPath', 'parameter', 'endpoint', 'host', 'hosts', 'extraSANs', 'issuerURL', 'bucket', 'prefix', 'url', 'groupName']);

const ipToText = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The environment name as a token: not part of a longer word (`/odp/dev/`, `api.dev.x`, `odp-dev`, not `devops`). */
export const nameToken = (name: string): RegExp => new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(name)}(?![A-Za-z0-9])`, 'g');

export function scaffoldEnvironment(source: string, oldVpcCidr: string, oldRegion: string | undefined, o: NewEnvOptions): ScaffoldReport {
  const from = parseCidr(oldVpcCidr);
  const to = parseCidr(o.cidr);
  if (!from) throw new ScaffoldError(`${o.from}: aws.vpc.cidr '${oldVpcCidr}' is not a CIDR`);
  if (!to || to.hostBits) throw new ScaffoldError(`--cidr ${o.cidr}: expected a network CIDR such as 10.40.0.0/16`);
  const size = (c: { bits: number }): number => 2 ** (32 - c.bits);
  const doc = parseDocument(source);
  if (doc.errors.length > 0) throw new ScaffoldError(`${o.from}: ${doc.errors[0]!.message}`);
  const report: ScaffoldReport = { text: '', addresses: 0, renamed: 0, arns: 0, secrets: [], certificates: [] };
  const token = nameToken(o.from);
  const region = o.region;

  const rebase = (s: string): string =>
    s.replace(/\b(\d{1,3}(?:\.\d{1,3}){3})(\/\d{1,2})?\b/g, (m, ip: string, prefix: string | undefined) => {
      const n = parseIpv4(ip);
      if (n === undefined || !cidrContains(from, n)) return m;
      const offset = (n - from.base) >>> 0;
      if (offset >= size(to)) throw new ScaffoldError(`${m} is ${offset} addresses into ${oldVpcCidr}, beyond the new VPC ${o.cidr}: use a VPC CIDR of at least /${from.bits}`);
      if (prefix && Number(prefix.slice(1)) < to.bits) return `${ipToText(to.base)}/${to.bits}`;
      report.addresses++;
      return `${ipToText((to.base + offset) >>> 0)}${prefix ?? ''}`;
    });

  visit(doc, {
    Scalar(_key, node: Scalar, path) {
      if (typeof node.value !== 'string') return;
      const parent = path[path.length - 1];
      // Map keys stay as they are; the value's key decides what it names.
      if (isPair(parent) && parent.key === node) return;
      const pair = [...path].reverse().find(isPair);
      const key = pair && isScalar(pair.key) ? String(pair.key.value) : undefined;
      const inSeq = isSeq(parent);
      let v = node.value;
      const before = v;
      v = rebase(v);
      if (/^arn:aws[a-z-]*:/.test(v)) {
        const next = v.replace(/^(arn:aws[a-z-]*:[a-z0-9-]+:)([a-z0-9-]*)(:)(\d{12})?(:)/, (_m, a: string, r: string, c: string, acct: string | undefined, d: string) => `${a}${r && region ? region : r}${c}${acct ? o.accountId : ''}${d}`);
        if (next !== v) report.arns++;
        v = next;
      }
      if (region && oldRegion && key === 'zone') v = v.replace(new RegExp(`^${escapeRegExp(oldRegion)}([a-z])$`), `${region}$1`);
      const isName = key !== undefined && (NAMED_KEYS.has(key) || (key === 'name' && !inSeq));
      if (isName && token.test(v)) {
        v = v.replace(token, o.name);
        report.renamed++;
      }
      token.lastIndex = 0;
      if (key === 'secret' && !report.secrets.includes(v)) report.secrets.push(v);
      if (v !== before) node.value = v;
    },
  });

  // Top-level identity; account and region.
  doc.set('name', o.name);
  if (doc.has('description')) doc.set('description', `${o.name}: scaffolded from ${o.from} by npm run new-env; say what this environment is for.`);
  doc.setIn(['aws', 'accountId'], o.accountId);
  if (region) doc.setIn(['aws', 'region'], region);
  // The VPC itself (also when the source inherits it).
  doc.setIn(['aws', 'vpc', 'cidr'], `${ipToText(to.base)}/${to.bits}`);

  // Certificates belong to one account: an SSM placeholder per workload ingress.
  const workloads = doc.get('workloads', true);
  if (isSeq(workloads)) {
    for (const w of workloads.items) {
      if (!isMap(w)) continue;
      const ingress = w.get('ingress', true);
      if (!isMap(ingress) || !ingress.has('certificateArn')) continue;
      const parameter = `/odp/${o.name}/acm/${String(w.get('name'))}`;
      const host = ingress.get('host');
      ingress.set('certificateArn', doc.createNode({ ssm: parameter }, { flow: true }));
      report.certificates.push({ parameter, ...(typeof host === 'string' ? { host } : {}) });
    }
  }
  report.text = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  return report;
}
