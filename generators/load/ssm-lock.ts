/**
 * The SSM lock: the non-secret SSM parameters an environment references, committed as
 * environments/<env>.ssm.lock.json so that synth is offline and deterministic.
 *
 * - `{ ssm: /name }` anywhere a string is wanted: replaced by the parameter's locked value.
 * - `{ ssmPath: /prefix/ }` where a map is wanted (a workload's `envFrom`): replaced by a map of
 *   the String parameters directly below the prefix, base name → value.
 *
 * Pure: parse, resolve, serialize, diff. Fetching lives in ../ssm/refresh.ts.
 */
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { DocPath } from '../lib/paths.js';
import type { Arch } from '../model/types.js';
import { locate, type ResolvedEnvironment } from './loader.js';
import type { Diagnostic } from '../validate/diagnostics.js';
import { didYouMean } from '../lib/suggest.js';
import { genericPlaceholder, isPlaceholder, placeholderFor, PLACEHOLDER_DATE, PLACEHOLDER_VERSION } from '../lib/placeholder.js';
import { checkPriceShape, serializablePrices, type PriceLock } from './price-lock.js';

export interface LockedParameter {
  value: string;
  type: 'String' | 'StringList';
  version: number;
  lastModified: string;
}

/** What EC2 said about one instance type in the environment's region (DescribeInstanceTypeOfferings, DescribeInstanceTypes). */
export interface LockedInstanceType {
  offered: boolean;
  /** Facts, for offered types. */
  arch?: 'amd64' | 'arm64';
  vcpu?: number;
  memoryMiB?: number;
  gpus?: number;
  gpuModel?: string;
}

/** EC2 facts of the instance types the environment uses, in its region (optional: older locks have none). */
export interface Ec2Lock {
  region: string;
  instanceTypes: Record<string, LockedInstanceType>;
}

export interface SsmLock {
  version: 1;
  parameters: Record<string, LockedParameter>;
  /** `{ ssmPath }` prefixes → the parameter names found directly below them (sorted). */
  paths: Record<string, string[]>;
  ec2?: Ec2Lock;
  /**
   * The AMI each fixed node was created with (node name → AMI id), recorded by `--refresh-ssm` when
   * the node is new and never changed by it afterwards: an instance's ImageId cannot change without
   * replacing it, so a newer image of its class must not replace a running control plane. Delete a
   * node's entry (and refresh) to replace that node with its class's current image.
   */
  nodeImages?: Record<string, string>;
  /**
   * The architecture of each pinned AMI (node name → amd64|arm64), recorded by `--refresh-ssm` with the pin (absent
   * for a pin of a lock written before it): a pool moved to the other architecture cannot keep its fixed nodes on an
   * AMI of the old one (rule aws.node-image-arch).
   */
  nodeImageArch?: Record<string, Arch>;
  /** On-demand prices of the environment's instance and volume types (./price-lock.ts), locked by `--refresh-ssm`. */
  prices?: PriceLock;
}

export const lockFile = (env: string): string => `environments/${env}.ssm.lock.json`;

export const emptyLock = (): SsmLock => ({ version: 1, parameters: {}, paths: {} });

export const REFRESH_COMMAND = (env: string): string => `npm run synth -- --env ${env} --refresh-ssm`;

/**
 * A lock of placeholders (lib/placeholder.ts) for every reference of a new environment whose AWS
 * account does not exist yet: each `{ ssm }` gets a placeholder shaped for where it is used; each
 * `{ ssmPath }` the names `known` lists for it (the source environment's, renamed) or one
 * ODP_PLACEHOLDER, each a placeholder. `--refresh-ssm` replaces the whole lock with what SSM holds.
 */
export function placeholderLock(refs: readonly SsmReference[], known: Readonly<Record<string, readonly string[]>> = {}): SsmLock {
  const lock = emptyLock();
  const put = (name: string, value: string): void => {
    lock.parameters[name] ??= { value, type: 'String', version: PLACEHOLDER_VERSION, lastModified: PLACEHOLDER_DATE };
  };
  for (const ref of refs) {
    if (ref.kind === 'name') put(ref.name, placeholderFor(ref.name, ref.path));
    else {
      const names = known[ref.name]?.length ? [...known[ref.name]!] : [`${ref.name}ODP_PLACEHOLDER`];
      for (const n of names) put(n, genericPlaceholder(n));
      lock.paths[ref.name] = [...names].sort();
    }
  }
  return lock;
}

/** The placeholder parameters of a lock (what `npm run new-env` wrote and no refresh replaced yet). */
export const placeholderNames = (lock: SsmLock): string[] => Object.keys(lock.parameters).filter((n) => isPlaceholder(lock.parameters[n]!.value)).sort();

/** A lock that is not what synth wrote: `path` is where in the lock (for the position). */
class LockShapeError extends Error {
  constructor(
    readonly path: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

/** What serializeLock writes for a time. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A key synth never writes (a hand edit, or a lock of another tool): refused at the key's value. */
function onlyKeys(o: Record<string, unknown>, at: (string | number)[], keys: readonly string[], what: string, fail: (path: (string | number)[], why: string) => never): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail([...at, k], `${what}: unknown key "${k}"; synth writes only ${keys.map((x) => `"${x}"`).join(', ')}`);
}

function checkLockShape(raw: unknown): SsmLock {
  const fail = (path: (string | number)[], why: string): never => {
    throw new LockShapeError(path, why);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail([], 'expected { "version": 1, "parameters": { … } }');
  const r = raw as Record<string, unknown>;
  if (r.version !== 1) fail(['version'], `unknown lock version ${JSON.stringify(r.version)}; expected 1`);
  onlyKeys(r, [], ['version', 'parameters', 'paths', 'ec2', 'nodeImages', 'nodeImageArch', 'prices'], 'the lock', fail);
  if (r.parameters === null || typeof r.parameters !== 'object' || Array.isArray(r.parameters)) fail(['parameters'], 'expected "parameters" to be a map of parameter name → { value, type, version, lastModified }');
  const parameters: Record<string, LockedParameter> = {};
  for (const [name, p] of Object.entries(r.parameters as Record<string, unknown>)) {
    const q = (p ?? {}) as Record<string, unknown>;
    if (typeof q.value !== 'string') fail(['parameters', name, ...('value' in q ? ['value'] : [])], `parameter ${name}: "value" must be a string`);
    if (q.type !== 'String' && q.type !== 'StringList') fail(['parameters', name, ...('type' in q ? ['type'] : [])], `parameter ${name}: type ${JSON.stringify(q.type)} may not be locked (only String and StringList; SecureStrings never enter the lock)`);
    // SSM's Version is a positive integer (0: a placeholder of new-env), LastModifiedDate a timestamp,
    // written as ISO 8601 ('' when SSM gave none: ssm/client.ts).
    if (typeof q.version !== 'number' || !Number.isInteger(q.version) || q.version < 0) fail(['parameters', name, ...('version' in q ? ['version'] : [])], `parameter ${name}: "version" must be SSM's version number (an integer), not ${JSON.stringify(q.version)}`);
    if (typeof q.lastModified !== 'string' || (q.lastModified !== '' && !ISO_TIME.test(q.lastModified))) fail(['parameters', name, ...('lastModified' in q ? ['lastModified'] : [])], `parameter ${name}: "lastModified" must be an ISO 8601 time such as "2026-11-20T09:00:00.000Z", not ${JSON.stringify(q.lastModified)}`);
    onlyKeys(q, ['parameters', name], ['value', 'type', 'version', 'lastModified'], `parameter ${name}`, fail);
    parameters[name] = { value: q.value as string, type: q.type as LockedParameter['type'], version: q.version as number, lastModified: q.lastModified as string };
  }
  const paths: Record<string, string[]> = {};
  if (r.paths !== undefined) {
    if (r.paths === null || typeof r.paths !== 'object' || Array.isArray(r.paths)) fail(['paths'], 'expected "paths" to be a map of prefix → parameter names');
    for (const [prefix, names] of Object.entries(r.paths as Record<string, unknown>)) {
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) fail(['paths', prefix], `path ${prefix}: expected a list of parameter names`);
      (names as string[]).forEach((n, i) => {
        if (!parameters[n]) fail(['paths', prefix, i], `path ${prefix}: ${n} is listed but not in "parameters"`);
        if ((names as string[]).indexOf(n) !== i) fail(['paths', prefix, i], `path ${prefix}: ${n} is listed twice`);
      });
      paths[prefix] = names as string[];
    }
  }
  const ec2 = r.ec2 === undefined ? undefined : checkEc2Shape(r.ec2, fail);
  let nodeImages: Record<string, string> | undefined;
  if (r.nodeImages !== undefined) {
    if (r.nodeImages === null || typeof r.nodeImages !== 'object' || Array.isArray(r.nodeImages)) fail(['nodeImages'], 'expected "nodeImages" to be a map of node name → AMI id');
    for (const [node, ami] of Object.entries(r.nodeImages as Record<string, unknown>)) if (typeof ami !== 'string' || !/^ami-[0-9a-f]{8,17}$/.test(ami)) fail(['nodeImages', node], `node ${node}: expected an AMI id (ami-…)`);
    nodeImages = r.nodeImages as Record<string, string>;
  }
  let nodeImageArch: Record<string, Arch> | undefined;
  if (r.nodeImageArch !== undefined) {
    if (r.nodeImageArch === null || typeof r.nodeImageArch !== 'object' || Array.isArray(r.nodeImageArch)) fail(['nodeImageArch'], 'expected "nodeImageArch" to be a map of node name → amd64|arm64');
    for (const [node, arch] of Object.entries(r.nodeImageArch as Record<string, unknown>)) if (arch !== 'amd64' && arch !== 'arm64') fail(['nodeImageArch', node], `node ${node}: expected amd64 or arm64`);
    nodeImageArch = r.nodeImageArch as Record<string, Arch>;
  }
  const prices = r.prices === undefined ? undefined : checkPriceShape(r.prices, fail);
  return { version: 1, parameters, paths, ...(ec2 ? { ec2 } : {}), ...(nodeImages ? { nodeImages } : {}), ...(nodeImageArch ? { nodeImageArch } : {}), ...(prices ? { prices } : {}) };
}

function checkEc2Shape(raw: unknown, fail: (path: (string | number)[], why: string) => never): Ec2Lock {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(raw) || typeof raw.region !== 'string' || !isObj(raw.instanceTypes)) return fail(['ec2'], 'expected "ec2" to be { "region": …, "instanceTypes": { type → facts } }');
  onlyKeys(raw, ['ec2'], ['region', 'instanceTypes'], 'ec2', fail);
  const instanceTypes: Record<string, LockedInstanceType> = {};
  for (const [name, t] of Object.entries(raw.instanceTypes)) {
    if (!isObj(t) || typeof t.offered !== 'boolean') fail(['ec2', 'instanceTypes', name], `ec2 instance type ${name}: expected { "offered": true|false, … }`);
    const x = t as Record<string, unknown>;
    onlyKeys(x, ['ec2', 'instanceTypes', name], ['offered', 'arch', 'vcpu', 'memoryMiB', 'gpus', 'gpuModel'], `ec2 instance type ${name}`, fail);
    if (x.offered === true && (!['amd64', 'arm64'].includes(x.arch as string) || typeof x.vcpu !== 'number' || typeof x.memoryMiB !== 'number' || typeof x.gpus !== 'number'))
      fail(['ec2', 'instanceTypes', name], `ec2 instance type ${name}: an offered type needs arch (amd64|arm64), vcpu, memoryMiB and gpus`);
    instanceTypes[name] = x.offered === true
      ? { offered: true, arch: x.arch as 'amd64' | 'arm64', vcpu: x.vcpu as number, memoryMiB: x.memoryMiB as number, gpus: x.gpus as number, ...(typeof x.gpuModel === 'string' ? { gpuModel: x.gpuModel } : {}) }
      : { offered: false };
  }
  return { region: raw.region, instanceTypes };
}

/**
 * Read a lock. Anything wrong with it (JSON syntax, a name locked twice, a shape synth never
 * writes) is one error at the offending line of the lock; the lock then counts as empty and
 * `broken` is set, so that callers add no "not in the lock" errors on top.
 */
export function parseLock(file: string, text: string | undefined): { lock: SsmLock; diagnostics: Diagnostic[]; broken?: boolean } {
  if (text === undefined) return { lock: emptyLock(), diagnostics: [] };
  const env = /([^/]+)\.ssm\.lock\.json$/.exec(file)?.[1] ?? '<env>';
  const lineCounter = new LineCounter();
  const broken = (offset: number, path: DocPath, message: string) => {
    const { line, col } = lineCounter.linePos(offset);
    const d: Diagnostic = { severity: 'error', rule: 'ssm.lock', file, line, col, path, message: `unreadable SSM lock: ${message}`, hint: `run ${REFRESH_COMMAND(env)} to rewrite it` };
    return { lock: emptyLock(), diagnostics: [d], broken: true };
  };
  // JSON is YAML: the yaml parser gives positions, and refuses a key given twice (JSON.parse keeps the last).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, version: '1.2' });
  const first = doc.errors[0];
  if (first) {
    const duplicate = first.code === 'DUPLICATE_KEY';
    return broken(first.pos[0], [], duplicate ? 'a key appears twice in one map (a parameter locked twice?)' : first.message.split('\n')[0]!);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message);
    return broken(at ? Number(at[1]) : 0, [], (e as Error).message);
  }
  try {
    return { lock: checkLockShape(raw), diagnostics: [] };
  } catch (e) {
    if (!(e instanceof LockShapeError)) throw e;
    const node = e.path.length === 0 ? doc.contents : doc.getIn(e.path, true);
    return broken(isNode(node) ? (node.range?.[0] ?? 0) : 0, e.path, e.message);
  }
}

const sortedKeys = <T>(o: Record<string, T>): string[] => Object.keys(o).sort();

/** Stable text: parameters and paths sorted by name, two-space indent, final newline. */
export function serializeLock(lock: SsmLock): string {
  const parameters = Object.fromEntries(
    sortedKeys(lock.parameters).map((k) => {
      const p = lock.parameters[k]!;
      return [k, { value: p.value, type: p.type, version: p.version, lastModified: p.lastModified }];
    }),
  );
  const paths = Object.fromEntries(sortedKeys(lock.paths).map((k) => [k, [...lock.paths[k]!].sort()]));
  const ec2 = lock.ec2 && { region: lock.ec2.region, instanceTypes: Object.fromEntries(sortedKeys(lock.ec2.instanceTypes).map((k) => [k, lock.ec2!.instanceTypes[k]])) };
  const nodeImages = lock.nodeImages && Object.keys(lock.nodeImages).length > 0 ? Object.fromEntries(sortedKeys(lock.nodeImages).map((k) => [k, lock.nodeImages![k]])) : undefined;
  const nodeImageArch = lock.nodeImageArch && Object.keys(lock.nodeImageArch).length > 0 ? Object.fromEntries(sortedKeys(lock.nodeImageArch).map((k) => [k, lock.nodeImageArch![k]])) : undefined;
  return JSON.stringify({ version: 1, parameters, ...(Object.keys(paths).length > 0 ? { paths } : {}), ...(ec2 ? { ec2 } : {}), ...(nodeImages ? { nodeImages } : {}), ...(nodeImageArch ? { nodeImageArch } : {}), ...(lock.prices ? { prices: serializablePrices(lock.prices) } : {}) }, null, 2) + '\n';
}

export type SsmReference = { kind: 'name'; name: string; path: DocPath } | { kind: 'path'; name: string; path: DocPath };

const isMapWithOnly = (v: unknown, key: string): v is Record<string, string> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as Record<string, unknown>)[key] === 'string';

function refAt(v: unknown, path: DocPath): SsmReference | undefined {
  if (isMapWithOnly(v, 'ssm')) return { kind: 'name', name: v.ssm!, path };
  if (isMapWithOnly(v, 'ssmPath')) return { kind: 'path', name: v.ssmPath!, path };
  return undefined;
}

/** Every `{ ssm: … }` and `{ ssmPath: … }` in a document, with its path, in document order. */
export function findSsmReferences(data: unknown, path: (string | number)[] = []): SsmReference[] {
  const ref = refAt(data, path);
  if (ref) return [ref];
  if (Array.isArray(data)) return data.flatMap((v, i) => findSsmReferences(v, [...path, i]));
  if (data !== null && typeof data === 'object') return Object.entries(data).flatMap(([k, v]) => findSsmReferences(v, [...path, k]));
  return [];
}

/** Last segment of a parameter name: /odp/prod/portal/DB_HOST → DB_HOST. */
export const baseName = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

/** The map an `{ ssmPath }` stands for, from the lock: base name → value, sorted by name. */
export function pathValues(lock: SsmLock, prefix: string): Record<string, string> | undefined {
  const names = lock.paths[prefix];
  if (!names) return undefined;
  return Object.fromEntries([...names].sort().map((n) => [baseName(n), lock.parameters[n]!.value]));
}

function replaceRefs(data: unknown, fn: (ref: SsmReference) => unknown, path: (string | number)[] = []): unknown {
  const ref = refAt(data, path);
  if (ref) return fn(ref);
  if (Array.isArray(data)) return data.map((v, i) => replaceRefs(v, fn, [...path, i]));
  if (data !== null && typeof data === 'object') return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, replaceRefs(v, fn, [...path, k])]));
  return data;
}

export interface SsmResolution {
  data: Record<string, unknown>;
  diagnostics: Diagnostic[];
  /** Every reference, in document order. */
  references: SsmReference[];
  /** Names of the SSM parameters the environment uses (through `ssm` or `ssmPath`), sorted. */
  used: string[];
  /** The references whose locked value is a placeholder (new-env's, before the first refresh), and the parameters behind them. */
  placeholders: { ref: SsmReference; names: string[] }[];
  /** The references the lock does not hold (each an ssm.unlocked error): their values are unknown, not wrong. */
  unresolved: SsmReference[];
}

/**
 * Replace every reference with its locked value. A reference missing from the lock is an error at
 * the reference, telling the user to refresh the lock.
 */
export function resolveSsm(env: ResolvedEnvironment, lock: SsmLock, lockExists = true): SsmResolution {
  const diagnostics: Diagnostic[] = [];
  const references = findSsmReferences(env.data);
  const used = new Set<string>();
  const placeholders: SsmResolution['placeholders'] = [];
  const unresolved: SsmReference[] = [];
  for (const ref of references) {
    const names = ref.kind === 'name' ? (lock.parameters[ref.name] ? [ref.name] : undefined) : lock.paths[ref.name];
    if (names) {
      names.forEach((n) => used.add(n));
      const held = names.filter((n) => isPlaceholder(lock.parameters[n]!.value));
      if (held.length > 0) placeholders.push({ ref, names: held });
      continue;
    }
    unresolved.push(ref);
    const pos = locate(env, ref.path);
    const account = String((env.data.aws as { accountId?: unknown } | undefined)?.accountId ?? '?');
    // No lock at all: a file written by hand. new-env writes a lock of placeholders, so it renders offline before the account exists.
    const refresh = lockExists
      ? `run ${REFRESH_COMMAND(env.name)} (needs AWS credentials for account ${account}) and commit the lock`
      : `${lockFile(env.name)} does not exist: run ${REFRESH_COMMAND(env.name)} (needs AWS credentials for account ${account}), or start from npm run new-env, which writes a lock of placeholders so the environment renders offline`;
    // A typo of a name the lock holds: a few edits away (parameter names are long; the last segment matters).
    const close = didYouMean(ref.name, Object.keys(ref.kind === 'name' ? lock.parameters : lock.paths), Math.max(2, Math.floor(ref.name.length / 12)));
    diagnostics.push({
      severity: 'error',
      rule: 'ssm.unlocked',
      file: pos.file,
      line: pos.line,
      col: pos.col,
      path: ref.path,
      message: `SSM ${ref.kind === 'name' ? 'parameter' : 'path'} ${ref.name} is not in ${lockFile(env.name)}`,
      hint: close ? `did you mean ${close}? The lock has that one; if ${ref.name} is a new parameter, ${refresh}` : refresh,
    });
  }
  const data = replaceRefs(env.data, (ref) =>
    ref.kind === 'name' ? (lock.parameters[ref.name]?.value ?? `<unresolved ${ref.name}>`) : (pathValues(lock, ref.name) ?? {}),
  ) as Record<string, unknown>;
  return { data, diagnostics, references, used: [...used].sort(), placeholders, unresolved };
}

// ---------------------------------------------------------------------------------------------
// What a refresh changed, for the pull request.

export type LockChange =
  | { kind: 'added'; name: string; now: LockedParameter }
  | { kind: 'removed'; name: string; was: LockedParameter }
  | { kind: 'changed'; name: string; was: LockedParameter; now: LockedParameter };

/** Parameters added, removed or changed (value or type) between two locks, sorted by name. */
export function diffLocks(before: SsmLock, after: SsmLock): LockChange[] {
  const names = [...new Set([...Object.keys(before.parameters), ...Object.keys(after.parameters)])].sort();
  const out: LockChange[] = [];
  for (const name of names) {
    const was = before.parameters[name];
    const now = after.parameters[name];
    if (was && now) {
      if (was.value !== now.value || was.type !== now.type) out.push({ kind: 'changed', name, was, now });
    } else if (now) out.push({ kind: 'added', name, now });
    else if (was) out.push({ kind: 'removed', name, was });
  }
  return out;
}

const shown = (v: string): string => JSON.stringify(v);

export function formatLockChange(c: LockChange): string {
  switch (c.kind) {
    case 'added':
      return `  + ${c.name} = ${shown(c.now.value)} (v${c.now.version})`;
    case 'removed':
      return `  - ${c.name} (was ${shown(c.was.value)}, v${c.was.version}; no longer referenced)`;
    case 'changed':
      return `  ~ ${c.name}: ${shown(c.was.value)} → ${shown(c.now.value)} (v${c.was.version} → v${c.now.version}, modified ${c.now.lastModified})`;
  }
}
