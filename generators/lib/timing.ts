/**
 * Where a run's time goes, by phase (load, validate, model, render, serialize, write): each phase
 * counts its own time only, a nested phase's time is taken out of the one around it. A few
 * performance.now() calls per phase; `npm run bench` prints the split.
 */
export const PHASES = ['load', 'validate', 'model', 'render', 'serialize', 'write'] as const;
export type Phase = (typeof PHASES)[number];
export type PhaseTimes = Record<Phase, number>;

const totals: PhaseTimes = { load: 0, validate: 0, model: 0, render: 0, serialize: 0, write: 0 };
const stack: { phase: Phase; nested: number }[] = [];

export function timed<T>(phase: Phase, fn: () => T): T {
  const start = performance.now();
  stack.push({ phase, nested: 0 });
  try {
    return fn();
  } finally {
    const frame = stack.pop()!;
    const elapsed = performance.now() - start;
    totals[phase] += elapsed - frame.nested;
    const parent = stack[stack.length - 1];
    if (parent) parent.nested += elapsed;
  }
}

/** Milliseconds per phase so far in this thread. */
export function phaseTimes(): PhaseTimes {
  return { ...totals };
}

export function addPhaseTimes(into: PhaseTimes, more: Partial<PhaseTimes>): PhaseTimes {
  for (const p of PHASES) into[p] += more[p] ?? 0;
  return into;
}

/** Phase times since `since` (an earlier phaseTimes()) in this thread. */
export function phaseTimesSince(since: PhaseTimes): PhaseTimes {
  const now = phaseTimes();
  const out = zeroPhaseTimes();
  for (const p of PHASES) out[p] = now[p] - since[p];
  return out;
}

export const zeroPhaseTimes = (): PhaseTimes => ({ load: 0, validate: 0, model: 0, render: 0, serialize: 0, write: 0 });
