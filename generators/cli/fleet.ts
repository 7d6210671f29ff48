/**
 * The fleet matrix of a synth or check run (rendered/README.md, generators/fleet/matrix.ts): every environment's row,
 * from this run's outcomes, else the incremental state's for an environment this run verified against its tree
 * (RunPlan.skipped), else, while the environment's sources are unchanged, the state's row with its dates taken again
 * from its tree's manifest (one read: the state may be from before a pull that brought a tree dated otherwise, as
 * synth --env leaves the others unverified), else prepared here (a state from before rows were kept, or sources
 * changed and not rendered by a run with --env) with the dates its tree's manifest records carried forward, as a
 * render would (write/since.ts).
 */
import type { SourceFiles } from '../load/loader.js';
import { listEnvironmentNames } from '../load/loader.js';
import type { RunPlan } from './incremental.js';
import { recordOf } from './running.js';
import { dirname } from 'node:path';
import { prepareEnvironment } from '../pipeline.js';
import { renderFleetMatrix } from '../fleet/matrix.js';
import { preparedRow, redatedRow } from '../fleet/prepared.js';
import type { FleetRow } from '../fleet/row.js';
import { timed } from '../lib/timing.js';
import { sameSources } from '../write/state.js';
import type { EnvOutcome } from './work.js';

export function fleetMatrix(sources: SourceFiles, outcomes: readonly EnvOutcome[], plan: Pick<RunPlan, 'state' | 'skipped' | 'fleet' | 'renderedRoot' | 'today'>): string {
  const { state, fleet } = plan;
  return timed('render', () => {
    const fresh = new Map(outcomes.flatMap((o) => (o.row ? [[o.env, o.row] as const] : [])));
    const rows: FleetRow[] = [];
    for (const name of listEnvironmentNames(sources)) {
      let row = fresh.get(name) ?? plan.skipped.get(name)?.row;
      if (!row) {
        const kept = state.environments[name];
        const { dates } = recordOf(dirname(plan.renderedRoot), name, undefined);
        if (kept?.row && sameSources(sources, kept.sources)) row = redatedRow(kept.row, dates, plan.today);
        else {
          const r = prepareEnvironment(name, sources, { ...(fleet.size > 0 ? { fleet } : {}), dates: { ...(dates ? { committed: dates } : {}), today: plan.today } });
          if (r.prepared) row = preparedRow(r.prepared);
        }
      }
      if (row) rows.push(row);
    }
    return renderFleetMatrix(rows);
  });
}
