/**
 * What the commands share before rendering: choosing environments and preparing them (load, validate, model).
 */
import { readEnvironmentSources, type SourceFiles } from '../load/loader.js';
import { prepareEnvironment, selectEnvironments, type PreparedEnvironment } from '../pipeline.js';
import { hintFor } from '../lib/suggest.js';
import { UsageError, type Diagnostic } from '../validate/diagnostics.js';

/** Environments named on the command line (all by default); an unknown name is a usage error. */
export function selectOrFail(sources: SourceFiles, requested: string[] | undefined): string[] {
  const { names, unknown } = selectEnvironments(sources, requested);
  if (unknown.length > 0) {
    const have = selectEnvironments(sources, undefined).names;
    const each = unknown.map((u) => {
      const hint = hintFor(u, have);
      return hint ? `${u} (${hint})` : u;
    });
    throw new UsageError(`no such environment: ${each.join(', ')}; have: ${have.join(', ')}`);
  }
  return names;
}

/**
 * Read the environment files below `root` (or take `sources`, e.g. with refreshed SSM locks) and
 * prepare the requested ones (all by default).
 */
export function prepareAll(
  root: string,
  requested: string[] | undefined,
  sources: SourceFiles = readEnvironmentSources(root),
): { prepared: PreparedEnvironment[]; diagnostics: Diagnostic[]; names: string[]; acknowledged: number } {
  const names = selectOrFail(sources, requested);
  const prepared: PreparedEnvironment[] = [];
  const diagnostics: Diagnostic[] = [];
  let acknowledged = 0;
  for (const name of names) {
    const r = prepareEnvironment(name, sources);
    diagnostics.push(...r.diagnostics);
    acknowledged += r.acknowledged ?? 0;
    if (r.prepared) prepared.push(r.prepared);
  }
  return { prepared, diagnostics, names, acknowledged };
}

