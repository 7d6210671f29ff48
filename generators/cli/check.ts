/**
 * `npm run check`: render in memory and compare with rendered/ (the CI gate); writes nothing.
 */
import { join, resolve } from 'node:path';
import { checkReference, REFERENCE_DIR } from '../docs/index.js';
import { PROJECT_ROOT } from '../lib/project-root.js';
import { readEnvironmentSources } from '../load/loader.js';
import { addPhaseTimes, phaseTimes, phaseTimesSince, timed } from '../lib/timing.js';
import { FindingsError, hasErrors, InputError } from '../validate/diagnostics.js';
import { DEFAULT_WAIT_SECONDS } from '../write/lock.js';
import { PROVENANCE_FILE } from '../write/provenance.js';
import { FLEET_README, listFiles, listRenderedEnvironments, listStrayFiles, readFleetReadme, RENDERED_DIR } from '../write/writer.js';
import { fleetMatrix } from './fleet.js';
import { parseCommand, parseWait, plural, progressReporter, run, splitList, summary, WAIT_OPTION, withRenderedLock, PROGRESS_HELP } from './common.js';
import { outcomeProgress } from './work.js';
import { planRun } from './incremental.js';
import { baseOption } from './running.js';
import { parseJobs, processEnvironments } from './jobs.js';
import { selectOrFail } from './prepare.js';
import { writeStats } from './stats.js';

const HELP = `Usage: npm run check [-- --env a,b] [--base REF]

Render the environments in memory and compare with rendered/ (the CI gate). Exit 1 listing stale,
missing and extra files (with all environments: also trees of deleted environments, files directly
under rendered/ that belong to no environment, and the fleet matrix rendered/README.md), each
stale file with why (from rendered/<env>/${PROVENANCE_FILE}: which
inputs changed, or none: then the generator changed or the file was edited), and every way a
committed provenance manifest disagrees with the tree it describes. Then run npm run synth and
commit. Writes nothing.

In the generator's own repository (no --root elsewhere, no --env) it also renders the reference
pages of docs/reference/ in memory and reports each one that is stale, missing or no longer
generated (then run npm run docs and commit). They are rendered again only when the generator, the
test fixtures they are made from or the pages changed since the last check that found them current
(dist/.docs-state.json).

An environment whose inputs, SSM lock and generator are unchanged since the last npm run synth on
this machine (rendered/.odp-state.json, git-ignored) is not rendered again: its tree is verified
file by file against the hashes in its manifest. A clean clone (CI) has no state: everything renders.

The dates in each manifest (since when the tree carries each version; the fleet matrix's "since")
are carried forward, so they never make a tree stale; a version the manifest does not date gets
today's UTC day: SOURCE_DATE_EPOCH when set (seconds since 1970-01-01 UTC, as date +%s prints them;
a malformed value exits 2), else the clock.

Options:
  --env a,b    only these environments (default: all, and then trees of deleted environments
               are reported too)
  --force      render every environment
  --base REF   read the versions each cluster runs from rendered/<env>/.provenance.json at git
               revision REF (CI: the pull request's base) instead of the working tree, so the
               version-skew rules compare the change with what REF rolled out (an empty REF, or one
               git does not know here: exit 2; without git at all: the working tree, with a note)
  --jobs N     render in N threads, this one and N-1 workers (default: the cores, from 40
               environments to render)
  --wait S     wait at most S seconds for another run that holds rendered/ (its lock,
               rendered/.odp-lock; default ${DEFAULT_WAIT_SECONDS}; 0: refuse at once)

${PROGRESS_HELP}

check holds rendered/.odp-lock while it compares, like synth: it never sees a tree a running synth
is swapping in (it waits for that run, then compares the tree as it left it; exit 3 when the
other run still holds it after --wait).`;

const DOCS_WHY = {
  stale: 'generated from the sources, which changed since: npm run docs rewrites it',
  missing: 'generated from the sources: npm run docs writes it',
  extra: 'no longer generated: npm run docs removes it',
} as const;

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const phasesAtStart = phaseTimes();
  const { values, common } = parseCommand(argv, { env: { type: 'string' }, base: { type: 'string' }, force: { type: 'boolean' }, jobs: { type: 'string' }, ...WAIT_OPTION }, HELP);
  const jobs = parseJobs(values.jobs);
  const wait = parseWait(values.wait);
  // An empty or unknown --base (in a git work tree) is a usage error before the lock.
  const base = baseOption(common.root, values.base);
  return withRenderedLock(common.root, 'check', wait, () => compare(common.root, values, base, jobs, started, phasesAtStart), { readOnly: true });
}

async function compare(root: string, values: Record<string, unknown>, base: string | undefined, jobs: number | undefined, started: number, phasesAtStart: ReturnType<typeof phaseTimes>): Promise<number> {
  const common = { root };
  const requested = splitList(values.env);
  const sources = timed('load', () => readEnvironmentSources(common.root));
  const names = selectOrFail(sources, requested);
  const plan = planRun(common.root, sources, names, Boolean(values.force), base);
  const { renderedRoot } = plan;
  const report = progressReporter(plan.render);
  const work = await processEnvironments(plan.render, { root: common.root, sources, fleet: plan.fleet, fleetPending: plan.fleetPending, generator: plan.generator, mode: 'check', today: plan.today, ...(base !== undefined ? { base } : {}) }, jobs, report ? { onOutcome: (o) => report(outcomeProgress(o)) } : {});
  const diagnostics = work.outcomes.flatMap((o) => o.diagnostics);
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  const lines = work.outcomes.flatMap((o) => o.findings ?? []);
  let total = work.outcomes.reduce((n, o) => n + (o.files ?? 0), 0);
  for (const e of plan.skipped.values()) total += e.files;
  const strays = requested ? [] : listStrayFiles(renderedRoot);
  if (!requested) {
    for (const orphan of listRenderedEnvironments(renderedRoot).filter((e) => !names.includes(e)))
      for (const f of listFiles(join(renderedRoot, orphan))) lines.push(`extra    ${RENDERED_DIR}/${orphan}/${f}  (no environments/${orphan}.yaml)`);
    const matrix = readFleetReadme(renderedRoot);
    const expected = fleetMatrix(sources, work.outcomes, plan);
    total += 1;
    if (matrix === undefined) lines.push(`missing  ${RENDERED_DIR}/${FLEET_README}  (the fleet matrix)`);
    else if (matrix !== expected) lines.push(`stale    ${RENDERED_DIR}/${FLEET_README}  (the fleet matrix: an environment's versions, cost or promotion changed, or the file was edited)`);
    for (const f of strays) lines.push(`extra    ${RENDERED_DIR}/${f}  (outside every environment's tree: synth writes only ${RENDERED_DIR}/<env>/)`);
  }
  // The generated reference describes this generator: checked when the repository checked is the generator's own.
  const docs = !requested && resolve(common.root) === resolve(PROJECT_ROOT) ? await checkReference(common.root) : undefined;
  for (const f of docs?.findings ?? []) lines.push(`${f.status.padEnd(8)} ${f.path}  (${DOCS_WHY[f.status]})`);
  const skipped = plan.skipped.size > 0 ? ` (${plan.skipped.size} of ${names.length} verified against the last synth's manifests, not rendered; --force renders them)` : '';
  const what = `${plural(names.length, 'environment')}, ${plural(total, 'file')}`;
  writeStats({ rendered: plan.render.length, skipped: plan.skipped.size, threads: work.threads, times: addPhaseTimes(phaseTimesSince(phasesAtStart), work.workerTimes), startupMs: started });
  if (lines.length > 0) {
    const docsFindings = docs?.findings.length ?? 0;
    const advice = lines.length > strays.length + docsFindings ? ['rendered/ is out of date: run npm run synth and commit the result.'] : [];
    if (docsFindings > 0) advice.push(`${REFERENCE_DIR}/ is out of date: run npm run docs and commit the result.`);
    if (strays.length > 0) advice.push(`Delete ${strays.length === 1 ? 'the file' : 'the files'} outside every environment's tree, or move ${strays.length === 1 ? 'it' : 'them'} out of rendered/ (synth never touches ${strays.length === 1 ? 'it' : 'them'}).`);
    process.stderr.write(`${lines.join('\n')}\n\n${advice.join('\n')}\n`);
    summary('check', `${what}: ${plural(lines.length, 'finding')}${skipped}`, started);
    throw new FindingsError('');
  }
  summary('check', `${what}: rendered/${docs ? ` and ${REFERENCE_DIR}/ are` : ' is'} up to date${skipped}`, started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'check');
