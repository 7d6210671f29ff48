/**
 * `npm run synth -- --refresh-ssm`: read every SSM parameter the requested environments reference
 * from Parameter Store and build their new locks, in memory. All or nothing: every environment is
 * fetched before anything is returned, and any failure throws before the caller writes a byte.
 *
 * Secrets never enter the lock: requests never ask for decryption, SecureString values are
 * dropped by the client module on arrival, and a `{ ssm }` / `{ ssmPath }` that turns out to be a
 * SecureString is refused at its reference ("use { secret: … }").
 *
 * Then every SecureString the environment depends on (./secrets.ts) is checked to exist and to be
 * a SecureString, by name and type only (GetParameters without decryption): a missing `{ secret }`
 * is an error at its reference, a missing derived one (the distribution's node secrets, catalog defaults)
 * a warning with the step that creates it. Neither values nor versions of secrets enter the lock.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { locate, resolveEnvironment, type ResolvedEnvironment, type SourceFiles } from '../load/loader.js';
import { formatPath } from '../lib/paths.js';
import { ExternalError, formatDiagnostic, hasErrors, InputError, sortDiagnostics, type Diagnostic } from '../validate/diagnostics.js';
import { validateResolved } from '../validate/index.js';
import { prepareEnvironment } from '../pipeline.js';
import type { Arch, EnvironmentModel } from '../model/types.js';
import { awsPlan } from '../infra/aws/plan.js';
import { getParameters, getParametersByPath, SsmRequestError, type FetchedParameter } from './client.js';
import { Ec2RequestError, type Ec2Facts } from './ec2.js';
import type { PricingClient } from '@aws-sdk/client-pricing';
import { fetchPrices, PRICING_REGION, PricingRequestError } from './pricing.js';
import { formatPriceChanges, samePrices } from '../load/price-lock.js';
import { DEFAULTS } from '../model/defaults.js';
import { listSecretDependencies, putSecureStringCommand, type SecretDependency } from '../model/secrets.js';
import { diffLocks, emptyLock, type Ec2Lock, findSsmReferences, formatLockChange, lockFile, parseLock, REFRESH_COMMAND, serializeLock, type LockChange, type LockedParameter, type SsmLock, type SsmReference } from '../load/ssm-lock.js';

export interface RefreshOptions {
  /** The SSM client for a region (created once per region per run). */
  client: (region: string) => SSMClient;
  /**
   * Compare the account in the ARNs SSM returns with the environment's aws.accountId. On by default;
   * off against emulators (AWS_ENDPOINT_URL_SSM), whose ARNs carry their own account.
   */
  checkAccount?: boolean;
  /**
   * EC2 facts for a region (created once per region per run; loads @aws-sdk/client-ec2). When set,
   * the refresh also locks which of the environment's instance types EC2 offers in its region and
   * their sizes (the lock's `ec2` section); the offline rules check the pools against them.
   */
  ec2?: (region: string) => Promise<Ec2Facts>;
  /**
   * The Price List client (created once per run, at the first environment). When set, the refresh
   * also locks the on-demand prices of the environment's instance types and root volume type (the
   * lock's `prices` section: ./pricing.ts).
   */
  pricing?: () => PricingClient;
}

export interface EnvironmentRefresh {
  name: string;
  region: string;
  previous: SsmLock;
  lock: SsmLock;
  /** The lock file's new text. */
  text: string;
  /** Whether the file's text changes (also true when it does not exist yet). */
  fileChanged: boolean;
  changes: LockChange[];
  /** The SecureStrings checked; undefined when the environment does not build with the new lock (the render reports why). */
  secrets?: SecretCheck;
  /** The node classes' AMI parameters: how many were locked, and a warning per one that does not exist yet. */
  images?: { locked: number; missing: Diagnostic[] };
  /** The prices asked and not locked (one line each), when prices were refreshed. */
  pricesMissing?: string[];
}

export interface SecretCheck {
  /** Distinct SecureStrings that exist (checked by name and type; values not read). */
  verified: number;
  /** Distinct derived SecureStrings that do not exist yet. */
  pending: number;
  /** One per place naming a pending SecureString, with the step that creates it. */
  warnings: Diagnostic[];
}

const NOTHING_WRITTEN = 'Nothing was written: the SSM locks and rendered/ are unchanged.';

/** A refresh found references it cannot lock (missing, SecureString, another account): exit 3, or 2 when only the environment file must change. */
export class SsmRefreshError extends Error {
  readonly exitCode: number;
  constructor(readonly problems: Diagnostic[]) {
    super(`SSM refresh failed:\n${sortDiagnostics(problems).map(formatDiagnostic).join('\n')}\n${NOTHING_WRITTEN}`);
    this.name = 'SsmRefreshError';
    this.exitCode = problems.every((d) => d.rule === 'ssm.secure-string') ? 2 : 3;
  }
}

interface Target {
  env: ResolvedEnvironment;
  region: string;
  accountId: string;
  refs: SsmReference[];
}

/** Parse and schema-check every requested environment before any request is made. */
function targets(sources: SourceFiles, names: readonly string[]): Target[] {
  const out: Target[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const name of names) {
    const { env, diagnostics: ds } = resolveEnvironment(name, sources);
    diagnostics.push(...ds);
    if (!env || hasErrors(ds)) continue;
    const schema = validateResolved(env);
    diagnostics.push(...schema);
    if (schema.length > 0) continue;
    const aws = env.data.aws as { region: string; accountId: string };
    out.push({ env, region: aws.region, accountId: aws.accountId, refs: findSsmReferences(env.data) });
  }
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  return out;
}

function at(t: Target, ref: SsmReference, rule: string, message: string, hint: string): Diagnostic {
  const pos = locate(t.env, ref.path);
  return { severity: 'error', rule, file: pos.file, line: pos.line, col: pos.col, path: ref.path, message, hint };
}

/** A name a request asked about, where the environment names it, and what it is. */
interface Asked {
  name: string;
  path: SsmReference['path'];
  what: 'parameter' | 'path' | 'SecureString';
  /** Position at the key (a section standing for a default name). */
  atKey?: boolean;
}

const askedRefs = (refs: readonly SsmReference[]): Asked[] => refs.map((r) => ({ name: r.name, path: r.path, what: r.kind === 'name' ? 'parameter' : 'path' }));
const askedSecrets = (deps: readonly SecretDependency[]): Asked[] => deps.map((d) => ({ name: d.name, path: d.path, what: 'SecureString', atKey: d.defaultName }));

/** An SDK failure → one message: environment, region, what failed, and every reference the failed request was about. */
function requestFailure(t: Target, e: SsmRequestError, asked: readonly Asked[]): ExternalError {
  const f = e.failure;
  const about = f.parameter && asked.some((r) => r.name === f.parameter) ? [f.parameter] : e.names;
  const lines = asked
    .filter((r) => about.includes(r.name))
    .map((r) => {
      const pos = locate(t.env, r.path, r.atKey);
      return `  ${pos.file}:${pos.line}:${pos.col}  ${formatPath(r.path)}: ${r.what} ${r.name}`;
    });
  return new ExternalError(
    [
      `SSM refresh failed for environment ${t.env.name} (region ${t.region}, account ${t.accountId}): ${e.operation} ${f.summary}`,
      ...lines,
      `  hint: ${f.hint}`,
      NOTHING_WRITTEN,
    ].join('\n'),
  );
}

const locked = (p: FetchedParameter): LockedParameter => ({ value: p.value, type: p.type as LockedParameter['type'], version: p.version, lastModified: p.lastModified });

const accountOf = (arn: string | undefined): string | undefined => (arn ? /^arn:[^:]+:ssm:[^:]*:(\d{12}):/.exec(arn)?.[1] : undefined);

/**
 * Check every SecureString the environment depends on, by name and type only. Needs the model, so
 * it runs on the environment prepared with its new lock; undefined when that does not prepare.
 */
async function checkSecrets(
  t: Target,
  client: SSMClient,
  sources: SourceFiles,
  lock: SsmLock,
  asked: Asked[],
): Promise<{ check: SecretCheck; problems: Diagnostic[]; found: FetchedParameter[]; model: EnvironmentModel } | undefined> {
  const withLock = new Map(sources);
  withLock.set(lockFile(t.env.name), serializeLock(lock));
  const { prepared } = prepareEnvironment(t.env.name, withLock);
  if (!prepared) return undefined;
  // A parameter a runbook script writes itself is not asked for: it does not exist until the script runs.
  const deps = listSecretDependencies(prepared.resolved, prepared.model).filter((d) => d.writtenBy === undefined);
  asked.push(...askedSecrets(deps));
  const names = [...new Set(deps.map((d) => d.name))].sort();
  const { found } = names.length > 0 ? await getParameters(client, names) : { found: [] };
  const byName = new Map(found.map((p) => [p.name, p]));
  const where = `environment ${t.env.name}, account ${t.accountId}, region ${t.region}`;
  const problems: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  for (const d of deps) {
    const p = byName.get(d.name);
    const pos = locate(t.env, d.path, d.defaultName);
    const finding = (severity: Diagnostic['severity'], rule: string, message: string, hint: string): Diagnostic => ({ severity, rule, file: pos.file, line: pos.line, col: pos.col, path: d.path, message, hint });
    const named = d.defaultName ? ` (the default name${d.setting ? `; ${formatPath(d.setting)} names another` : ''})` : '';
    if (!p && d.origin === 'explicit') {
      problems.push(
        finding('error', 'ssm.secret-missing', `SSM SecureString ${d.name} does not exist (${where}): ${d.purpose} would fail at runtime`, `create it (${putSecureStringCommand(t.region, d.name)}), or fix the name; check that the credentials are for account ${t.accountId}`),
      );
    } else if (!p) {
      warnings.push(finding('warning', 'ssm.secret-not-created', `${d.purpose}: SSM SecureString ${d.name}${named} does not exist yet (${where})`, `create it before it is needed: ${d.create}`));
    } else if (p.type !== 'SecureString') {
      problems.push(
        finding(
          'error',
          'ssm.secret-not-secure',
          `SSM parameter ${d.name}${named} is a ${p.type}, not a SecureString (${where}): ${d.purpose} is stored in plaintext at rest`,
          `re-create it as a SecureString (SSM cannot change the type of an existing parameter): aws ssm delete-parameter --region ${t.region} --name ${d.name}, then ${putSecureStringCommand(t.region, d.name)}; rotate the value, it was readable without kms:Decrypt`,
        ),
      );
    }
  }
  const verified = names.filter((n) => byName.get(n)?.type === 'SecureString').length;
  const pending = new Set(deps.filter((d) => d.origin === 'derived' && !byName.has(d.name)).map((d) => d.name)).size;
  return { check: { verified, pending, warnings: sortDiagnostics(warnings) }, problems, found, model: prepared.model };
}

/**
 * Lock the AMI ids of the environment's node classes: SSM String parameters the AWS layer names (a
 * vendor's public parameter, or the one an image registration script writes). One that does not
 * exist yet is a warning at the first pool of its class, with the step that creates it.
 */
async function refreshImages(t: Target, client: SSMClient, m: EnvironmentModel, lock: SsmLock, previous: SsmLock): Promise<{ locked: number; missing: Diagnostic[]; found: FetchedParameter[] }> {
  const plan = awsPlan(m);
  const names = [...new Set(plan.images.map((i) => i.parameter))].sort();
  if (names.length === 0) return { locked: 0, missing: [], found: [] };
  const { found } = await getParameters(client, names);
  const byName = new Map(found.map((p) => [p.name, p]));
  const missing: Diagnostic[] = [];
  let count = 0;
  for (const img of plan.images) {
    const p = byName.get(img.parameter);
    if (p && p.type === 'String') {
      lock.parameters[p.name] = locked(p);
      count++;
      continue;
    }
    const i = ((t.env.data.nodePools ?? []) as { name?: unknown }[]).findIndex((x) => x.name === plan.pools.find((q) => q.image.cls.name === img.cls.name)?.pool.name);
    const path = ['nodePools', Math.max(i, 0), 'arch'];
    const pos = locate(t.env, path);
    const how = img.registration ? `register it first: sh ${m.renderedDir}/aws/images/${img.cls.name}.sh (after the base stack exists)` : `check the region ${t.region} offers it`;
    missing.push({ severity: 'warning', rule: 'ssm.image-missing', file: pos.file, line: pos.line, col: pos.col, path, message: `no AMI for node class ${img.cls.name}: SSM parameter ${img.parameter} ${p ? `is a ${p.type}` : 'does not exist'} (account ${t.accountId}, region ${t.region})`, hint: how });
  }
  // Fixed nodes keep the AMI they were created with; a node without one gets its class's current image.
  // With each pin its architecture, when known: the class's a new pin takes, the one recorded with an old pin, or the
  // class's whose image the old pin still is (a pin of a lock written before architectures were recorded).
  const pins: Record<string, string> = {};
  const archs: Record<string, Arch> = {};
  for (const pp of plan.pools)
    for (const n of pp.pool.nodes) {
      const kept = previous.nodeImages?.[n.name];
      const pin = kept ?? lock.parameters[pp.image.parameter]?.value;
      if (!pin) continue;
      pins[n.name] = pin;
      const arch = kept === undefined ? pp.image.cls.arch : (previous.nodeImageArch?.[n.name] ?? (previous.parameters[pp.image.parameter]?.value === kept ? pp.image.cls.arch : undefined));
      if (arch) archs[n.name] = arch;
    }
  if (Object.keys(pins).length > 0) lock.nodeImages = pins;
  if (Object.keys(archs).length > 0) lock.nodeImageArch = archs;
  return { locked: count, missing, found };
}

async function refreshOne(t: Target, client: SSMClient, checkAccount: boolean, sources: SourceFiles): Promise<{ lock: SsmLock; problems: Diagnostic[]; secrets?: SecretCheck; images?: EnvironmentRefresh['images'] }> {
  const lock = emptyLock();
  const problems: Diagnostic[] = [];
  const where = `account ${t.accountId}, region ${t.region}`;
  const nameRefs = t.refs.filter((r) => r.kind === 'name');
  const pathRefs = t.refs.filter((r) => r.kind === 'path');
  const names = [...new Set(nameRefs.map((r) => r.name))].sort();
  const prefixes = [...new Set(pathRefs.map((r) => r.name))].sort();
  const seen: FetchedParameter[] = [];
  const asked = askedRefs(t.refs);
  let secrets: SecretCheck | undefined;
  let images: EnvironmentRefresh['images'];
  try {
    const { found, missing } = await getParameters(client, names);
    seen.push(...found);
    const byName = new Map(found.map((p) => [p.name, p]));
    for (const ref of nameRefs) {
      const p = byName.get(ref.name);
      if (missing.includes(ref.name) || !p) {
        problems.push(at(t, ref, 'ssm.missing', `SSM parameter ${ref.name} does not exist (${where})`, `create it (aws ssm put-parameter --type String --name ${ref.name} --value …), or fix the name; check that the credentials are for account ${t.accountId}`));
      } else if (p.type === 'SecureString') {
        problems.push(at(t, ref, 'ssm.secure-string', `SSM parameter ${ref.name} is a SecureString: its value may not enter the lock or rendered/`, `use { secret: ${ref.name} } here (rendered as an ExternalSecret or resolved at apply time), or store the value as a String parameter if it is not secret`));
      } else {
        lock.parameters[p.name] = locked(p);
      }
    }
    for (const prefix of prefixes) {
      const params = await getParametersByPath(client, prefix, { recursive: false });
      seen.push(...params);
      const refs = pathRefs.filter((r) => r.name === prefix);
      const secure = params.filter((p) => p.type === 'SecureString').map((p) => p.name).sort();
      const plain = params.filter((p) => p.type !== 'SecureString').sort((a, b) => a.name.localeCompare(b.name));
      for (const ref of refs) {
        if (secure.length > 0)
          problems.push(at(t, ref, 'ssm.secure-string', `SSM path ${prefix} holds SecureString${secure.length > 1 ? 's' : ''} ${secure.join(', ')}: secret values may not enter the lock or rendered/`, `move them out of ${prefix}, and reference each with env: { NAME: { secret: /… } } (an ExternalSecret)`));
        else if (plain.length === 0)
          problems.push(at(t, ref, 'ssm.missing', `SSM path ${prefix} has no parameters directly below it (${where})`, `create String parameters named ${prefix}<NAME>, or fix the prefix; check that the credentials are for account ${t.accountId}`));
      }
      if (secure.length === 0 && plain.length > 0) {
        for (const p of plain) lock.parameters[p.name] = locked(p);
        lock.paths[prefix] = plain.map((p) => p.name);
      }
    }
    if (problems.length === 0) {
      const s = await checkSecrets(t, client, sources, lock, asked);
      if (s) {
        seen.push(...s.found);
        problems.push(...s.problems);
        secrets = s.check;
        const img = await refreshImages(t, client, s.model, lock, parseLock(lockFile(t.env.name), sources.get(lockFile(t.env.name))).lock);
        images = { locked: img.locked, missing: img.missing };
      }
    }
  } catch (e) {
    if (e instanceof SsmRequestError) throw requestFailure(t, e, asked);
    throw e;
  }
  if (checkAccount) {
    const other = [...new Set(seen.map((p) => accountOf(p.arn)).filter((a): a is string => a !== undefined && a !== t.accountId))];
    if (other.length > 0)
      problems.push({
        severity: 'error',
        rule: 'ssm.account',
        ...locate(t.env, ['aws', 'accountId']),
        path: ['aws', 'accountId'],
        message: `the AWS credentials read SSM in account ${other.join(', ')}, but environment ${t.env.name} is in account ${t.accountId}`,
        hint: `use credentials for account ${t.accountId} (e.g. AWS_PROFILE=<its profile> ${REFRESH_COMMAND(t.env.name)})`,
      });
  }
  return { lock, problems, ...(secrets ? { secrets } : {}), ...(images ? { images } : {}) };
}

/** The EC2 facts of the environment's instance types, in its region; a failed request is an ExternalError naming the pools. */
async function refreshInstanceTypes(t: Target, ec2: Ec2Facts): Promise<Ec2Lock> {
  const pools = ((t.env.data.nodePools ?? []) as { instanceType?: unknown }[]).map((p, i) => ({ type: String(p.instanceType), path: ['nodePools', i, 'instanceType'] as SsmReference['path'] }));
  try {
    return { region: t.region, instanceTypes: await ec2.describe(pools.map((p) => p.type)) };
  } catch (e) {
    if (!(e instanceof Ec2RequestError)) throw e;
    const lines = pools.map((p) => {
      const pos = locate(t.env, p.path);
      return `  ${pos.file}:${pos.line}:${pos.col}  ${formatPath(p.path)}: ${p.type}`;
    });
    throw new ExternalError(
      [
        `EC2 refresh failed for environment ${t.env.name} (region ${t.region}, account ${t.accountId}): ${e.message}`,
        ...lines,
        `  hint: the credentials need ec2:DescribeInstanceTypeOfferings and ec2:DescribeInstanceTypes (read-only) in ${t.region}`,
        NOTHING_WRITTEN,
      ].join('\n'),
    );
  }
}

/** The on-demand prices of the environment's instance types and root volume type; the previous date is kept while no price changed. */
async function refreshPrices(t: Target, client: PricingClient, previous: SsmLock): Promise<{ prices: NonNullable<SsmLock['prices']>; missing: string[] }> {
  const types = ((t.env.data.nodePools ?? []) as { instanceType?: unknown }[]).flatMap((p) => (typeof p.instanceType === 'string' ? [p.instanceType] : []));
  try {
    const r = await fetchPrices(client, t.region, types, [DEFAULTS.rootVolumeType]);
    return { prices: samePrices(previous.prices, r.prices) ? previous.prices! : r.prices, missing: r.missing };
  } catch (e) {
    if (!(e instanceof PricingRequestError)) throw e;
    throw new ExternalError(
      [
        `Price List refresh failed for environment ${t.env.name} (prices for region ${t.region}, asked at the Price List endpoint in ${PRICING_REGION}): ${e.message}`,
        `  hint: the credentials need pricing:GetProducts (read-only, no resource); AWS_ENDPOINT_URL_PRICING points the client elsewhere`,
        NOTHING_WRITTEN,
      ].join('\n'),
    );
  }
}

/**
 * Fetch every referenced parameter of the named environments and return their new locks. Throws
 * InputError (environment invalid), ExternalError (an SSM request failed) or SsmRefreshError
 * (references that cannot be locked) — always before the caller has written anything.
 */
export async function refreshLocks(sources: SourceFiles, names: readonly string[], opts: RefreshOptions): Promise<EnvironmentRefresh[]> {
  const clients = new Map<string, SSMClient>();
  const clientFor = (region: string): SSMClient => {
    let c = clients.get(region);
    if (!c) clients.set(region, (c = opts.client(region)));
    return c;
  };
  const ec2Clients = new Map<string, Ec2Facts>();
  const ec2For = async (region: string): Promise<Ec2Facts> => {
    let c = ec2Clients.get(region);
    if (!c) ec2Clients.set(region, (c = await opts.ec2!(region)));
    return c;
  };
  let pricing: PricingClient | undefined;
  const out: EnvironmentRefresh[] = [];
  const problems: Diagnostic[] = [];
  try {
    for (const t of targets(sources, names)) {
      const r = await refreshOne(t, clientFor(t.region), opts.checkAccount ?? true, sources);
      problems.push(...r.problems);
      if (opts.ec2) r.lock.ec2 = await refreshInstanceTypes(t, await ec2For(t.region));
      const file = lockFile(t.env.name);
      const before = sources.get(file);
      const previous = parseLock(file, before).lock;
      let pricesMissing: string[] | undefined;
      if (opts.pricing) {
        const p = await refreshPrices(t, (pricing ??= opts.pricing()), previous);
        r.lock.prices = p.prices;
        pricesMissing = p.missing;
      }
      const text = serializeLock(r.lock);
      out.push({ name: t.env.name, region: t.region, previous, lock: r.lock, text, fileChanged: before !== text, changes: diffLocks(previous, r.lock), ...(r.secrets ? { secrets: r.secrets } : {}), ...(r.images ? { images: r.images } : {}), ...(pricesMissing ? { pricesMissing } : {}) });
    }
  } finally {
    for (const c of clients.values()) c.destroy();
    for (const c of ec2Clients.values()) c.destroy();
    pricing?.destroy();
  }
  if (problems.length > 0) throw new SsmRefreshError(problems);
  return out;
}

/** What the refresh changed, per environment, old → new: for the terminal and the pull request. */
export function formatRefreshReport(results: readonly EnvironmentRefresh[]): string {
  const lines: string[] = [];
  for (const r of results) {
    const count = Object.keys(r.lock.parameters).length;
    const head = `${lockFile(r.name)} (${r.region}): ${count} parameter${count === 1 ? '' : 's'}`;
    if (r.changes.length === 0) lines.push(`${head}, no value changed${r.fileChanged ? ' (versions or dates updated)' : ''}`);
    else lines.push(`${head}, ${r.changes.length} change${r.changes.length === 1 ? '' : 's'}:`, ...r.changes.map(formatLockChange));
    if (r.secrets) lines.push(...formatSecretCheck(r.name, r.secrets));
    else lines.push(`${r.name}: SecureStrings and node images not checked: the environment does not build with the refreshed lock (npm run synth -- --env ${r.name} says why)`);
    if (r.images) lines.push(...r.images.missing.map(formatDiagnostic), `${r.name}: ${r.images.locked} node image${r.images.locked === 1 ? '' : 's'} locked${r.images.missing.length > 0 ? `, ${r.images.missing.length} missing (warning${r.images.missing.length === 1 ? '' : 's'} above)` : ''}`);
    if (r.lock.ec2) {
      const types = Object.entries(r.lock.ec2.instanceTypes);
      const missing = types.filter(([, x]) => !x.offered).map(([n]) => n);
      lines.push(`${r.name}: ${types.length} instance type${types.length === 1 ? '' : 's'} locked from EC2 (${r.lock.ec2.region})${missing.length ? `; not offered there: ${missing.join(', ')}` : ''}`);
    }
    if (r.lock.prices && r.pricesMissing) {
      const p = r.lock.prices;
      const count = Object.keys(p.instances).length + Object.keys(p.volumes).length;
      const published = [...new Set([...Object.values(p.instances), ...Object.values(p.volumes)].map((x) => x.publicationDate.slice(0, 10)))].sort();
      lines.push(`${r.name}: ${count} on-demand price${count === 1 ? '' : 's'} locked from the AWS Price List (${p.region}, USD${published.length ? `, published ${published.join(', ')}` : ''}, fetched ${p.fetchedAt})`);
      lines.push(...formatPriceChanges(r.previous.prices, p), ...r.pricesMissing.map((m) => `  warning: no price locked for ${m}`));
    }
  }
  return lines.join('\n') + '\n';
}

/** The derived SecureStrings not created yet (warnings), then `dev: 5 secret references verified (…)`. */
function formatSecretCheck(env: string, s: SecretCheck): string[] {
  const n = s.verified;
  const pending = s.pending;
  const head = `${env}: ${n} secret reference${n === 1 ? '' : 's'} verified (SecureString, values not read)`;
  return [...s.warnings.map(formatDiagnostic), pending > 0 ? `${head}, ${pending} not created yet (warning${pending === 1 ? '' : 's'} above)` : head];
}

/** Write the refreshed locks whose text changed (each through a temporary file and a rename). */
export function writeLocks(root: string, results: readonly EnvironmentRefresh[]): string[] {
  const written: string[] = [];
  for (const r of results) {
    if (!r.fileChanged) continue;
    const abs = join(root, lockFile(r.name));
    const tmp = `${abs}.tmp-${process.pid}`;
    writeFileSync(tmp, r.text);
    renameSync(tmp, abs);
    written.push(lockFile(r.name));
  }
  return written;
}

/** The environment sources with the refreshed locks in place of the committed ones. */
export function withLocks(sources: SourceFiles, results: readonly EnvironmentRefresh[]): Map<string, string> {
  const out = new Map(sources);
  for (const r of results) out.set(lockFile(r.name), r.text);
  return out;
}
