import { readEnvironmentSources } from '../load/loader.js';
import { prepareEnvironment, selectEnvironments, type PreparedEnvironment } from '../pipeline.js';
import { UsageError, type Diagnostic } from '../validate/diagnostics.js';

/** Read the environment files below `root` and prepare the requested ones (all by default). */
export function prepareAll(root: string, requested: string[] | undefined): { prepared: PreparedEnvironment[]; diagnostics: Diagnostic[]; names: string[] } {
  const sources = readEnvironmentSources(root);
  const { names, unknown } = selectEnvironments(sources, requested);
  if (unknown.length > 0) throw new UsageError(`no such environment: ${unknown.join(', ')} (have: ${selectEnvironments(sources, undefined).names.join(', ')})`);
  const prepared: PreparedEnvironment[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const name of names) {
    const r = prepareEnvironment(name, sources);
    diagnostics.push(...r.diagnostics);
    if (r.prepared) prepared.push(r.prepared);
  }
  return { prepared, diagnostics, names };
}

