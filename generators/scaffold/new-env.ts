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
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Scalar } from 'yaml';
import type { DocPath } from '../lib/paths.js';
import { cidrContains, parseCidr, parseIpv4 } from '../lib/cidr.js';
import { distributions } from '../distributions/registry.js';
import { engines } from '../engines/registry.js';

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

/** A value of the new environment's file that still names the source environment. */
export interface SourceMention {
  line: number;
  col: number;
  path: DocPath;
  value: string;
  /** The mention is a map key (e.g. an environment variable's name), not a value. */
  key: boolean;
}

/**
 * Name parts that say what a cluster runs, not which environment it is (`staging-<distribution>` →
 * only `staging` counts): every registered distribution's and engine's name and the words of its
 * product name, and `hub`. A function: the registries are read when it is used.
 */
const productWords = (): Set<string> =>
  new Set([...distributions(), ...engines()].flatMap((x) => [x.name, ...x.title.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 3)]).concat('hub'));

const isSubsequence = (t: string, p: string): boolean => {
  let i = 0;
  for (const c of p) if (c === t[i]) i++;
  return i === t.length;
};

/**
 * Whether a word names the environment part `p`: the part itself, a longer word it starts
 * (`production` for prod), a word sharing its first four letters (`stage` for staging), or an
 * abbreviation: at least three letters of it in order, with its first two and its last (`stg`, `prd`).
 */
export function namesPart(word: string, p: string): boolean {
  const t = word.toLowerCase();
  if (t === p) return true;
  if (p.length >= 4 && t.startsWith(p)) return true;
  let common = 0;
  while (common < Math.min(t.length, p.length) && t[common] === p[common]) common++;
  if (common >= 4 && t.length <= p.length + 2) return true;
  return t.length >= 3 && t.length < p.length && t.slice(0, 2) === p.slice(0, 2) && t[t.length - 1] === p[p.length - 1] && isSubsequence(t, p);
}

/** Whether a text names environment `env`: its whole name as a token, or a word naming one of its distinctive parts. */
export function namesEnvironment(text: string, env: string): boolean {
  // A host name's last label (its top-level domain: portal.opendev.dev) names no environment.
  const isTld = (index: number, length: number): boolean => text[index - 1] === '.' && /^(?:$|[:/])/.test(text.slice(index + length));
  if ([...text.matchAll(nameToken(env))].some((m) => !isTld(m.index!, m[0].length))) return true;
  const product = productWords();
  const parts = env.split('-').filter((p) => p.length >= 2 && !product.has(p) && !/^[0-9]+$/.test(p));
  // Words: split on punctuation and camelCase.
  const words = [...text.matchAll(/[A-Za-z0-9]+/g)].filter((m) => !isTld(m.index!, m[0].length)).flatMap((m) => m[0].split(/(?<=[a-z0-9])(?=[A-Z])/));
  return words.some((w) => parts.some((p) => namesPart(w, p)));
}

/**
 * Every value (and key) of the new file that still names the source environment after the rewrite:
 * node names, queue names, hosts, buckets, SSM paths new-env could not tell apart (`stg-cp-1`,
 * `QUEUE_NAME: odp-staging-jobs`), with their positions. The description new-env wrote is left out.
 */
export function sourceMentions(text: string, from: string): SourceMention[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const out: SourceMention[] = [];
  visit(doc, {
    Scalar(_key, node: Scalar, ancestors) {
      if (typeof node.value !== 'string' || !namesEnvironment(node.value, from)) return;
      const path: (string | number)[] = [];
      let isKey = false;
      ancestors.forEach((a, i) => {
        const child = ancestors[i + 1] ?? node;
        if (isSeq(a)) path.push(a.items.indexOf(child as never));
        else if (isPair(a)) {
          if (a.key === child) isKey = true;
          else if (isScalar(a.key)) path.push(String(a.key.value));
        }
      });
      if (isKey) path.push(node.value);
      if (path.length === 1 && path[0] === 'description') return;
      const { line, col } = lineCounter.linePos(node.range?.[0] ?? 0);
      out.push({ line, col, path, value: node.value, key: isKey });
    },
  });
  return out;
}
