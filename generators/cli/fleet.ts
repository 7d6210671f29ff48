/**
 * The fleet matrix of a synth or check run (rendered/README.md, generators/fleet/matrix.ts): every
 * environment's row, from this run's outcomes, else from the incremental state while the
 * environment's sources are unchanged, else prepared here (a run with --env, or a state from before
 * rows were kept).
 */
import type { SourceFiles } from '../load/loader.js';
import { listEnvironmentNames } from '../load/loader.js';
import type { FleetIndex } from '../model/fleet.js';
import { prepareEnvironment } from '../pipeline.js';
import { renderFleetMatrix } from '../fleet/matrix.js';
import { preparedRow } from '../fleet/prepared.js';
import type { FleetRow } from '../fleet/row.js';
import { timed } from '../lib/timing.js';
import { sameSources, type IncrementalState } from '../write/state.js';
import type { EnvOutcome } from './work.js';

export function fleetMatrix(sources: SourceFiles, outcomes: readonly EnvOutcome[], state: IncrementalState, fleet?: FleetIndex): string {
  return timed('render', () => {
    const fresh = new Map(outcomes.flatMap((o) => (o.row ? [[o.env, o.row] as const] : [])));
    const rows: FleetRow[] = [];
    for (const name of listEnvironmentNames(sources)) {
      const kept = state.environments[name];
      let row = fresh.get(name) ?? (kept?.row && sameSources(sources, kept.sources) ? kept.row : undefined);
      if (!row) {
        const r = prepareEnvironment(name, sources, fleet && fleet.size > 0 ? { fleet } : {});
        if (r.prepared) row = preparedRow(r.prepared);
      }
      if (row) rows.push(row);
    }
    return renderFleetMatrix(rows);
  });
}
