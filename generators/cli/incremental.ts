/**
 * Which environments a synth or check run must render, and which it may skip: an environment is
 * skipped when the incremental state (rendered/.odp-state.json, see write/state.ts) recorded a
 * render under the same generator, from source files with the same contents, the same fleet
 * relations, the same running versions (the version-skew rules' diagnostics depend on them; `base` as in
 * running.ts) and the same dates in its manifest (write/since.ts: what the render carries forward; today's day only
 * dates a version the manifest does not, and every version a render wrote is dated), and its tree still matches the
 * manifest of that render file by file. `--force`
 * renders everything. Also reads the fleet, reusing the state's entries for unchanged files, so a
 * run that renders one environment of a hundred parses one (a run that renders them all leaves it
 * to processEnvironments, which reads it in its threads).
 */
import type { SourceFiles } from '../load/loader.js';
import { listEnvironmentNames } from '../load/loader.js';
import { fleetIndex, fleetRelations, type FleetIndex } from '../model/fleet.js';
import { timed } from '../lib/timing.js';
import { join } from 'node:path';
import { generatorFingerprint } from '../lib/fingerprint.js';
import { PROJECT_ROOT } from '../lib/project-root.js';
import { emptyState, environmentKey, ownRunningKey, readState, runningKey, sameSources, treeMatches, type EnvironmentState, type IncrementalState } from '../write/state.js';
import { RENDERED_DIR } from '../write/writer.js';
import { recordOf, runningOf } from './running.js';
import { today } from '../lib/source-date.js';
import type { VersionDates } from '../write/since.js';

export interface RunPlan {
  renderedRoot: string;
  /** The generator's fingerprint the state is read and written under. */
  generator: string;
  /** The state read (empty with --force). */
  state: IncrementalState;
  /** The fleet, but for the entries of `fleetPending`. */
  fleet: FleetIndex;
  /**
   * Environments whose fleet entries are still to be read: all of them when nothing can be skipped
   * (--force, or no state to trust), which processEnvironments reads in its worker threads, each
   * parse then reused to render; none otherwise.
   */
  fleetPending: string[];
  /** Environments to render, in order. */
  render: string[];
  /** Environments skipped, with the state entry that vouches for their tree. */
  skipped: Map<string, EnvironmentState>;
  /** Today's UTC day (lib/source-date.ts: SOURCE_DATE_EPOCH, else the clock), read once for the run. */
  today: string;
}

export function planRun(root: string, sources: SourceFiles, names: readonly string[], force: boolean, base?: string): RunPlan {
  // Read before anything: a malformed SOURCE_DATE_EPOCH is refused with nothing rendered.
  const day = today();
  return timed('load', () => {
    const renderedRoot = join(root, RENDERED_DIR);
    const generator = generatorFingerprint(PROJECT_ROOT);
    const state = force ? emptyState(generator) : readState(renderedRoot, generator);
    const unchanged = new Map<string, EnvironmentState>();
    if (!force) for (const name of listEnvironmentNames(sources)) {
      const entry = state.environments[name];
      if (entry && sameSources(sources, entry.sources)) unchanged.set(name, entry);
    }
    const render: string[] = [];
    const skipped = new Map<string, EnvironmentState>();
    // Nothing to skip: no decision here needs the fleet, so its reading is left to the run.
    if (unchanged.size === 0) return { renderedRoot, generator, state, fleet: new Map(), fleetPending: listEnvironmentNames(sources), render: [...names], skipped, today: day };
    const fleet = fleetIndex(sources, (name) => (unchanged.has(name) ? unchanged.get(name)!.fleet : undefined));
    for (const name of names) {
      const entry = unchanged.get(name);
      // Without --base, the running versions and the dates come from the tree's own manifest. The state records what
      // they give (entry.running, entry.dates) for the manifest it records: used here, then the tree checked. If the
      // tree is still the recorded one, so is its manifest and the key is the one reading it gives; if not, the
      // environment renders either way. (Reading and parsing 99 manifests to learn the same was about a sixth of the
      // checks of a 1-changed-of-100 run, issue 23 ninth pass.)
      const recorded = entry && base === undefined && entry.running !== undefined && entry.dates !== undefined;
      const own = entry && (recorded ? { running: entry.running, dates: entry.dates ?? undefined } : keyParts(root, name, base));
      const tree = entry && own && entry.key === environmentKey(generator, entry.sources, fleetRelations(fleet, name), own.running, own.dates) ? treeMatches(renderedRoot, name, entry) : undefined;
      // (A state without them gains them here: they were read from the manifest the tree holds.)
      if (entry && own && tree) skipped.set(name, { ...entry, ...tree, ...(base === undefined ? { running: own.running, dates: own.dates ?? null } : {}) });
      else render.push(name);
    }
    return { renderedRoot, generator, state, fleet, fleetPending: [], render, skipped, today: day };
  });
}

/**
 * The key's parts of a tree rendered at the versions and with the dates its working-tree manifest records (one read of
 * it): the running versions as runningKey holds them, the dates as they are.
 */
function keyParts(root: string, name: string, base: string | undefined): { running: unknown; dates: VersionDates | undefined } {
  const own = recordOf(root, name, undefined);
  return { running: base === undefined ? ownRunningKey(own.running) : runningKey(runningOf(root, name, base), own.running.kind === 'known' ? own.running.versions : undefined), dates: own.dates };
}

/**
 * The state after a successful synth (its trees swapped in): rendered entries replaced, each with
 * the metadata signature the writer took when it knew the tree's contents (StagedEnvironment.signature,
 * with `files`, the files it wrote, as the layout), or, without one, the tree's signature now once
 * every file is known to match the manifest written; skipped ones with the signature they were
 * verified by; unrequested ones kept; deleted environments dropped.
 */
export function nextState(sources: SourceFiles, plan: RunPlan, rendered: ReadonlyMap<string, EnvironmentState>, files: ReadonlyMap<string, readonly string[]> = new Map()): IncrementalState {
  const { renderedRoot, state } = plan;
  const existing = new Set(listEnvironmentNames(sources));
  const environments: Record<string, EnvironmentState> = {};
  for (const [name, entry] of Object.entries(state.environments)) if (existing.has(name)) environments[name] = entry;
  for (const [name, entry] of plan.skipped) environments[name] = entry;
  for (const [name, entry] of rendered) {
    const { stat: _, layout: _l, ...rest } = entry;
    const written = files.get(name);
    // The writer's signature is recorded as it is, not re-taken here (an lstat of every file of every
    // tree, in this thread after all the others finished: 0.15 s of 100 environments' 4 s, issue 23).
    // Nothing is lost: a tree touched between the writer's signature and now no longer matches it at
    // the next run, which then hashes the files against the manifest (treeMatches) and renders the
    // environment again if any differs. Without a signature (hard-linked files) the tree is signed now.
    if (entry.stat !== undefined && written) {
      environments[name] = { ...rest, stat: entry.stat, layout: [...written] };
      continue;
    }
    const tree = treeMatches(renderedRoot, name, written ? { ...entry, layout: [...written] } : entry);
    environments[name] = tree ? { ...rest, ...tree } : rest;
  }
  return { ...state, environments };
}
