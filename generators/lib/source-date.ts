/**
 * "Today", the UTC day (YYYY-MM-DD) synth stamps on a version an environment's rendered tree carries for the first
 * time (write/since.ts): the day of SOURCE_DATE_EPOCH when it is set, else of the clock. The one place the generator
 * reads the clock (cli/incremental.ts planRun calls it once per synth or check run; render stays pure).
 *
 * SOURCE_DATE_EPOCH is the reproducible-builds convention (https://reproducible-builds.org/specs/source-date-epoch/,
 * revision 1.1): the number of seconds since 1970-01-01 00:00:00 UTC, "an ASCII representation of an integer with no
 * fractional component, identical to the output format of `date +%s`"; a build that finds it malformed "SHOULD exit
 * with a non-zero error code"; missing or empty, the build chooses (here: the clock). A value before 1970 is refused
 * too: no rendered tree predates the generator.
 */
import { UsageError } from '../validate/diagnostics.js';

export const SOURCE_DATE_EPOCH_SPEC = 'https://reproducible-builds.org/specs/source-date-epoch/';

/** The largest time a JavaScript Date holds (ECMA-262 §21.4.1.1: ±8.64e15 ms), in seconds. */
const MAX_SECONDS = 8.64e12;

/** The UTC day of a time in milliseconds since the epoch. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The UTC day of a SOURCE_DATE_EPOCH value; a malformed one is refused (exit code 2), naming the value. */
export function parseSourceDateEpoch(value: string): string {
  if (!/^[0-9]+$/.test(value) || Number(value) > MAX_SECONDS) {
    throw new UsageError(`SOURCE_DATE_EPOCH=${JSON.stringify(value)} is not a time synth can read: expected the seconds since 1970-01-01 00:00:00 UTC as a whole number, as \`date +%s\` prints it (${SOURCE_DATE_EPOCH_SPEC})\n  hint: unset it to use the clock, or set it to e.g. $(date -u -d 2026-12-08 +%s)`);
  }
  return utcDay(Number(value) * 1000);
}

/** Today's UTC day: SOURCE_DATE_EPOCH's when set and not empty, else the clock's. */
export function today(env: Readonly<Record<string, string | undefined>> = process.env, now: () => number = Date.now): string {
  const v = env.SOURCE_DATE_EPOCH;
  return v === undefined || v === '' ? utcDay(now()) : parseSourceDateEpoch(v);
}
