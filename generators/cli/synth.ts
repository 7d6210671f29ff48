/**
 * `npm run synth`: render environments into rendered/, optionally refreshing the SSM locks first.
 */
import { join } from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { envFile, readEnvironmentSources } from '../load/loader.js';
import { prepareAll, selectOrFail } from './prepare.js';
import { renderEnvironment, type PreparedEnvironment } from '../pipeline.js';
import type { FinalFile } from '../render/header.js';
import { toYaml } from '../lib/yaml.js';
import { createSsmClient, ssmEndpointOverride } from '../ssm/client.js';
import { createEc2Facts, type Ec2Facts } from '../ssm/ec2.js';
import type { PricingClient } from '@aws-sdk/client-pricing';
import { createPricingClient } from '../ssm/pricing.js';
import { formatRefreshReport, refreshLocks, withLocks, writeLocks, type EnvironmentRefresh } from '../ssm/refresh.js';
import { hasErrors, InputError, UsageError } from '../validate/diagnostics.js';
import { commitStaged, discardStaged, FLEET_README, listRenderedEnvironments, prepareStaging, recover, writeFleetReadme, type WriterIo } from '../write/writer.js';
import { fleetMatrix } from './fleet.js';
import { writeState } from '../write/state.js';
import { addPhaseTimes, phaseTimes, phaseTimesSince, timed } from '../lib/timing.js';
import { nextState, planRun } from './incremental.js';
import { baseOption } from './running.js';
import { parseJobs, processEnvironments } from './jobs.js';
import { outcomeProgress, type EnvOutcome } from './work.js';
import { writeStats } from './stats.js';
import { parseCommand, parseWait, plural, printDiagnostics, progress, progressReporter, run, splitList, summary, waitHelp, WAIT_OPTION, withRenderedLock, PROGRESS_HELP } from './common.js';

const HELP = `Usage: npm run synth [-- options]

Render environments/<env>.yaml into rendered/<env>/, and the fleet matrix rendered/README.md (one
row per environment: versions, engine, cost, promotion state). Offline and deterministic: SSM
parameters come from the committed environments/<env>.ssm.lock.json.

A version change upstream forbids against what rendered/<env>/.provenance.json records (Kubernetes
two minors at once, an older minor, a release and Kubernetes change no order supports) is refused
before anything is written, naming the version to go through (rules version-skew, version-downgrade,
version-order; a cluster rebuilt from scratch acknowledges it: docs/how-to/upgrade.md). With
--base REF, what rendered/<env>/.provenance.json records at git revision REF instead (e.g. --base
main: the pull request's base, as CI's check compares).

Each rendered/<env>/.provenance.json dates every version the tree carries (release, Kubernetes,
charts, workload images): the date the manifest records while the value is the same, else today's
UTC day, SOURCE_DATE_EPOCH when set (seconds since 1970-01-01 UTC, as date +%s prints them; a
malformed value exits 2; https://reproducible-builds.org/specs/source-date-epoch/), else the clock.
The fleet matrix says since when the source carried a version an environment is behind by.

Options:
  --env a,b                render only these environments (default: all; trees of deleted
                           environments are removed only when rendering all)
  --refresh-ssm            first read every { ssm: … } and { ssmPath: … } the environments reference
                           from SSM Parameter Store (region: each environment's aws.region; standard
                           AWS credential chain, e.g. AWS_PROFILE; AWS_ENDPOINT_URL_SSM for another
                           endpoint), rewrite their locks, print what changed (old → new), then
                           render. Also checks that every SecureString the environments depend on
                           ({ secret: … }, the distribution's node secrets, add-on defaults) exists as a
                           SecureString, by name and type only (never decrypted, never locked).
                           And asks EC2 which of the pools' instance types are offered in the region
                           and their sizes (DescribeInstanceTypeOfferings, DescribeInstanceTypes;
                           AWS_ENDPOINT_URL_EC2 for another endpoint), locked in the same file.
                           And locks the on-demand prices of those instance types and of the root
                           volumes' EBS type in the region, dated, from the AWS Price List
                           (GetProducts at its us-east-1 endpoint; AWS_ENDPOINT_URL_PRICING for
                           another): the cost in rendered/<env>/README.md, the fleet matrix and
                           npm run diff comes from them.
                           Nothing is written (locks or rendered/) unless every fetch, every
                           render and every write of every environment succeeds.
                           Refresh environments of different accounts one at a time with --env.
  --base REF               read the versions each cluster runs from rendered/ at git revision REF
                           (an empty REF, or one git does not know here: exit 2; without git at
                           all: the working tree, with a note)
  --force                  render every environment, even those whose inputs, SSM lock and generator
                           are unchanged since the last synth (by default those are not rendered
                           again: their trees are verified, file by file, against the hashes in
                           rendered/<env>/.provenance.json; the record of what the last synth
                           rendered is rendered/.odp-state.json, git-ignored)
  --jobs N                 render in N threads, this one and N-1 workers (default: the machine's
                           cores, when there are at least 40 environments to render; --jobs 1: in
                           this thread only)
${waitHelp(27)}
  --print-resolved <env>   print the environment merged with its bases, and exit
  --root DIR               the repository to work on (default: this one)
  --debug                  stack traces for internal errors
  -h, --help               this help

${PROGRESS_HELP}

One run at a time: synth holds rendered/.odp-lock while it runs; a second run (an editor's
run-on-save and a terminal) waits for it, then renders what is still out of date. A lock left by a
killed run is taken over.

Exit codes: 0 ok, 2 invalid environment or usage, 3 AWS failure (missing parameter or { secret },
a secret stored as String, access denied, throttling, credentials, network, timeout), or another
run still holding rendered/ after --wait.`;

/** What the command needs from the outside world (tests pass their own). */
export interface SynthDeps {
  ssmClient: (region: string) => SSMClient;
  /** Whether to compare the account of the parameters SSM returns with the environment's. */
  checkAccount: boolean;
  stdout: (text: string) => void;
  /** Renders one prepared environment (tests inject failures). */
  render?: (p: PreparedEnvironment) => FinalFile[];
  /** The writer's file-system calls (tests inject failures). */
  writerIo?: WriterIo;
  /** EC2 facts per region for the refresh (instance type offerings and sizes); without it the lock gets no ec2 section. */
  ec2?: (region: string) => Promise<Ec2Facts>;
  /** The Price List client for the refresh (on-demand prices into the lock); without it the lock gets no prices section. */
  pricing?: () => PricingClient;
}

const defaultDeps = (): SynthDeps => ({
  ssmClient: (region) => createSsmClient(region),
  checkAccount: ssmEndpointOverride() === undefined,
  stdout: (text) => process.stdout.write(text),
  render: renderEnvironment,
  ec2: (region) => createEc2Facts(region),
  pricing: () => createPricingClient(),
});

export async function main(argv: string[], deps: SynthDeps = defaultDeps()): Promise<number> {
  const started = performance.now();
  const phasesAtStart = phaseTimes();
  const { values, common } = parseCommand(argv, { env: { type: 'string' }, 'print-resolved': { type: 'string' }, 'refresh-ssm': { type: 'boolean' }, base: { type: 'string' }, force: { type: 'boolean' }, jobs: { type: 'string' }, ...WAIT_OPTION }, HELP);
  const jobs = parseJobs(values.jobs);
  const wait = parseWait(values.wait);
  const root = common.root;
  if (typeof values['print-resolved'] === 'string') {
    if (values['refresh-ssm']) throw new UsageError(`--print-resolved and --refresh-ssm do not go together\n\n${HELP}`);
    const name = values['print-resolved'];
    const { prepared, diagnostics } = prepareAll(root, [name]);
    if (hasErrors(diagnostics) || !prepared[0]) throw new InputError(diagnostics);
    deps.stdout(`# ${envFile(name)} merged with its bases (${prepared[0].resolved.files.join(' ← ')})\n`);
    deps.stdout(toYaml(prepared[0].resolved.data));
    summary('synth', `printed the resolved ${name}, wrote nothing`, started, process.stderr);
    return 0;
  }
  // An unknown --env is a usage error before anything (rendered/ and its lock included) is touched.
  if (values.env !== undefined) selectOrFail(readEnvironmentSources(root), splitList(values.env));
  // So is an empty or unknown --base (in a git work tree), before the lock and any SSM refresh.
  const base = baseOption(root, values.base);
  return withRenderedLock(root, 'synth', wait, () => render(root, values, base, jobs, deps, started, phasesAtStart));
}

async function render(root: string, values: Record<string, unknown>, base: string | undefined, jobs: number | undefined, deps: SynthDeps, started: number, phasesAtStart: ReturnType<typeof phaseTimes>): Promise<number> {
  const requested = splitList(values.env);
  let sources: ReadonlyMap<string, string> = timed('load', () => readEnvironmentSources(root));
  let refreshed: EnvironmentRefresh[] = [];
  if (values['refresh-ssm']) {
    // 1. Fetch everything for every requested environment (throws before anything is written).
    refreshed = await refreshLocks(sources, selectOrFail(sources, requested), { client: deps.ssmClient, checkAccount: deps.checkAccount, ...(deps.ec2 ? { ec2: deps.ec2 } : {}), ...(deps.pricing ? { pricing: deps.pricing } : {}) });
    sources = withLocks(sources, refreshed);
  }
  // 2. Render and stage each environment that changed (verify the others against their manifests):
  //    nothing is swapped in unless every environment renders.
  const names = selectOrFail(sources, requested);
  const plan = planRun(root, sources, names, Boolean(values.force), base);
  const { renderedRoot, generator } = plan;
  prepareStaging(renderedRoot);
  const injected = deps.render && deps.render !== renderEnvironment ? { render: deps.render } : {};
  // On a terminal: one line per environment as it is rendered and staged (from worker threads too).
  const report = progressReporter(plan.render);
  if (report && plan.skipped.size > 0) progress(`${plural(plan.skipped.size, 'environment')} unchanged since the last synth (trees verified), rendering ${plan.render.length}`);
  const onOutcome = report && ((o: EnvOutcome): void => report(outcomeProgress(o)));
  const work = await processEnvironments(plan.render, { root, sources, fleet: plan.fleet, fleetPending: plan.fleetPending, generator, mode: 'synth', today: plan.today, ...(base !== undefined ? { base } : {}), ...injected, ...(deps.writerIo ? { io: deps.writerIo } : {}) }, jobs, onOutcome ? { onOutcome } : {}).catch((err: unknown) => {
    recover(renderedRoot);
    throw err;
  });
  const staged = work.outcomes.flatMap((o) => (o.staged ? [o.staged] : []));
  const diagnostics = [...[...plan.skipped.values()].flatMap((e) => e.warnings), ...work.outcomes.flatMap((o) => o.diagnostics)];
  if (hasErrors(diagnostics)) {
    discardStaged(renderedRoot, staged);
    if (refreshed.length > 0) progress('the SSM locks were not written either');
    throw new InputError(diagnostics);
  }
  printDiagnostics(diagnostics); // warnings
  // 3. Then the locks, then the swaps: a failure anywhere leaves rendered/ and the locks as they
  //    were (a run killed between locks and swaps leaves rendered/ stale, which check reports and
  //    synth repairs offline).
  const orphans = requested ? [] : listRenderedEnvironments(renderedRoot).filter((e) => !names.includes(e));
  const out = commitStaged(renderedRoot, staged, {
    remove: orphans,
    io: deps.writerIo,
    beforeSwap: () => {
      for (const file of writeLocks(root, refreshed)) progress(`${file} written`);
    },
  });
  // The fleet matrix (rendered/README.md), from every environment's row.
  const matrixWritten = timed('write', () => writeFleetReadme(renderedRoot, fleetMatrix(sources, work.outcomes, plan)));
  if (matrixWritten) progress(`rendered/${FLEET_README} (fleet matrix) written`);
  const written = new Map(work.outcomes.flatMap((o) => (o.staged ? [[o.env, [...o.staged.result.written, ...o.staged.result.unchanged].sort()] as const] : [])));
  timed('write', () => writeState(renderedRoot, nextState(sources, plan, new Map(work.outcomes.flatMap((o) => (o.state ? [[o.env, o.state] as const] : []))), written)));
  if (refreshed.length > 0) deps.stdout(formatRefreshReport(refreshed));
  const count = matrixWritten ? { written: 1, unchanged: 0, removed: 0 } : { written: 0, unchanged: 1, removed: 0 };
  for (const r of out.results) {
    count.written += r.written.length;
    count.unchanged += r.unchanged.length;
    count.removed += r.removed.length;
  }
  for (const e of plan.skipped.values()) count.unchanged += e.files;
  for (const r of out.removed) {
    count.removed += r.files.length;
    progress(`${r.env}: environment file gone, rendered tree removed`);
  }
  const files = count.written + count.unchanged;
  const removedTrees = out.removed.length > 0 ? ` (trees of ${out.removed.map((r) => r.env).join(', ')} removed)` : '';
  const skipped = plan.skipped.size > 0 ? `; ${plan.skipped.size} of ${names.length} not rendered: inputs, lock and generator unchanged, tree verified (--force renders them)` : '';
  const threads = work.threads > 1 ? `; ${work.threads} threads` : '';
  writeStats({ rendered: plan.render.length, skipped: plan.skipped.size, threads: work.threads, times: addPhaseTimes(phaseTimesSince(phasesAtStart), work.workerTimes), startupMs: started });
  summary('synth', `${plural(names.length, 'environment')}, ${plural(files, 'file')}: ${count.written} written, ${count.unchanged} unchanged, ${count.removed} removed${removedTrees}${skipped}${threads}`, started, deps.stdout);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run((argv) => main(argv), 'synth');

