/**
 * Rules of the `promotion:` block (npm run promote reads it; generators/promote/): `from` names
 * another existing environment and leads to no cycle, a freeze window's schedule is one Kubernetes' cron parser accepts,
 * a date range ends after it starts.
 */
import { cronProblem } from '../lib/cron.js';
import { promotionChain } from '../model/fleet.js';
import type { Rule } from './rules.js';

const moment = (s: string): number => new Date(s.length === 10 ? `${s}T00:00:00Z` : s.replace(/Z$/, ':00Z')).getTime();

const promotion: Rule = ({ input, fleet }, report) => {
  const p = input.promotion;
  if (!p) return;
  if (p.from === input.name) report('promotion-from', ['promotion', 'from'], `${p.from} is this environment: versions come from another one`, { hint: 'name the environment before this one, e.g. staging for prod' });
  else if (fleet && fleet.size > 0 && !fleet.has(p.from)) report('promotion-from', ['promotion', 'from'], `no environment ${p.from}`, { hint: `one of ${[...fleet.keys()].filter((n) => n !== input.name).join(', ')}` });
  else if (fleet) {
    // A cycle has no first stage: promote's source gate always finds a source, and a hub's RollingSync stages
    // (model/fleet.ts promotionStages) would depend on the order of the hub's list of managed environments.
    const chain = promotionChain(fleet, input.name);
    if (chain.at(-1) === input.name)
      report('promotion-cycle', ['promotion', 'from'], `promotion.from goes round in a cycle: ${[input.name, ...chain].join(' ← ')}`, {
        hint: 'the first environment of a chain (e.g. dev) has no promotion.from: remove it from one of them',
      });
  }
  (p.freeze ?? []).forEach((w, i) => {
    const problem = w.schedule !== undefined ? cronProblem(w.schedule) : undefined;
    if (problem) report('promotion-freeze', ['promotion', 'freeze', i, 'schedule'], `schedule '${w.schedule}': ${problem.message}`, { hint: problem.hint ?? 'five fields (minute hour day-of-month month day-of-week), or a date range start/end in ISO 8601' });
    if (w.start !== undefined && w.end !== undefined && moment(w.end) <= moment(w.start)) report('promotion-freeze', ['promotion', 'freeze', i, 'end'], `the window ends (${w.end}) before it starts (${w.start})`, { hint: 'end is exclusive and after start' });
  });
};

export const PROMOTION_RULES: readonly Rule[] = [promotion];
