import { join } from 'node:path';
import { readEnvironmentSources } from '../load/loader.js';
import { addPhaseTimes, phaseTimes, phaseTimesSince, timed } from '../lib/timing.js';
import { FindingsError, hasErrors, InputError } from '../validate/diagnostics.js';
import { PROVENANCE_FILE } from '../write/provenance.js';
import { listFiles, listRenderedEnvironments, RENDERED_DIR } from '../write/writer.js';
import { parseCommand, plural, run, splitList, summary } from './common.js';
import { planRun } from './incremental.js';
import { parseJobs, processEnvironments } from './jobs.js';
import { selectOrFail } from './prepare.js';
import { writeStats } from './stats.js';

const HELP = `Usage: npm run check [-- --env a,b]

Render the environments in memory and compare with rendered/ (the CI gate). Exit 1 listing stale,
missing and extra files, each stale file with why (from rendered/<env>/${PROVENANCE_FILE}: which
inputs changed, or none: then the generator changed or the file was edited), and every way a
committed provenance manifest disagrees with the tree it describes. Then run npm run synth and
commit. Writes nothing.

An environment whose inputs, SSM lock and generator are unchanged since the last npm run synth on
this machine (rendered/.odp-state.json, git-ignored) is not rendered again: its tree is verified
file by file against the hashes in its manifest. A clean clone (CI) has no state: everything renders.

Options:
  --env a,b    only these environments (default: all, and then trees of deleted environments
               are reported too)
  --force      render every environment
  --jobs N     render in N worker threads (default: the cores, from 40 environments to render)`;

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const phasesAtStart = phaseTimes();
  const { values, common } = parseCommand(argv, { env: { type: 'string' }, force: { type: 'boolean' }, jobs: { type: 'string' } }, HELP);
  const jobs = parseJobs(values.jobs);
  const requested = splitList(values.env);
  const sources = timed('load', () => readEnvironmentSources(common.root));
  const names = selectOrFail(sources, requested);
  const plan = planRun(common.root, sources, names, Boolean(values.force));
  const { renderedRoot } = plan;
  const work = await processEnvironments(plan.render, { root: common.root, sources, fleet: plan.fleet, fleetPending: plan.fleetPending, generator: plan.generator, mode: 'check' }, jobs);
  const diagnostics = work.outcomes.flatMap((o) => o.diagnostics);
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  const lines = work.outcomes.flatMap((o) => o.findings ?? []);
  let total = work.outcomes.reduce((n, o) => n + (o.files ?? 0), 0);
  for (const e of plan.skipped.values()) total += e.files;
  if (!requested)
    for (const orphan of listRenderedEnvironments(renderedRoot).filter((e) => !names.includes(e)))
      for (const f of listFiles(join(renderedRoot, orphan))) lines.push(`extra    ${RENDERED_DIR}/${orphan}/${f}  (no environments/${orphan}.yaml)`);
  const skipped = plan.skipped.size > 0 ? ` (${plan.skipped.size} of ${names.length} verified against the last synth's manifests, not rendered; --force renders them)` : '';
  const what = `${plural(names.length, 'environment')}, ${plural(total, 'file')}`;
  writeStats({ rendered: plan.render.length, skipped: plan.skipped.size, threads: work.threads, times: addPhaseTimes(phaseTimesSince(phasesAtStart), work.workerTimes), startupMs: started });
  if (lines.length > 0) {
    process.stderr.write(`${lines.join('\n')}\n\nrendered/ is out of date: run npm run synth and commit the result.\n`);
    summary('check', `${what}: ${plural(lines.length, 'finding')}${skipped}`, started);
    throw new FindingsError('');
  }
  summary('check', `${what}: rendered/ is up to date${skipped}`, started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
