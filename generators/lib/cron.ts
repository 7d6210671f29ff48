/**
 * Cron schedules as Kubernetes CronJobs accept them: the controller and the API server parse
 * `spec.schedule` with robfig/cron's standard parser (`cron.ParseStandard`), five fields —
 * minute, hour, day of month, month, day of week — or a descriptor. This is that grammar:
 * per field a comma-separated list of `*`, `?`, `N`, `N-M`, each optionally `/step` (`N/step`
 * means N to the field's maximum), month and weekday names case-insensitive (JAN–DEC, SUN–SAT).
 * Weekdays are 0–6 (robfig refuses 7). `TZ=`/`CRON_TZ=` prefixes are refused by the API server
 * (the time zone belongs in `spec.timeZone`). `@every` is accepted by robfig but has no five-field
 * form, which the renderer writes: refused here.
 */

export interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

export const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 6, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

/** robfig/cron descriptors and the five fields each stands for. */
export const CRON_DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface CronProblem {
  message: string;
  hint?: string;
}

const FIVE = 'five fields: minute hour day-of-month month day-of-week, e.g. "30 2 * * *"';

function parseValue(text: string, f: CronField): number | CronProblem {
  const named = f.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + f.min;
  if (!/^\+?[0-9]+$/.test(text)) {
    if (/^-[0-9]+$/.test(text)) return { message: `negative number ${text} in the ${f.name} field` };
    return { message: `'${text}' is not a number${f.names ? ` or a ${f.name} name` : ''} in the ${f.name} field`, hint: f.names ? `${f.min}–${f.max} or ${f.names.map((n) => n.toUpperCase()).join(', ')}` : `${f.min}–${f.max}` };
  }
  return Number(text);
}

function checkRange(expr: string, f: CronField): CronProblem | undefined {
  const slash = expr.split('/');
  if (slash.length > 2) return { message: `too many slashes in '${expr}' (${f.name} field)` };
  const [range, stepText] = slash as [string, string | undefined];
  const dash = range.split('-');
  let start: number;
  let end: number;
  if (dash[0] === '*' || dash[0] === '?') {
    if (dash.length > 1) return { message: `'${expr}' in the ${f.name} field: a range after '*'`, hint: `use '*' or a range such as ${f.min}-${f.max}` };
    start = f.min;
    end = f.max;
  } else {
    if (dash.length > 2) return { message: `too many hyphens in '${expr}' (${f.name} field)` };
    const s = parseValue(dash[0]!, f);
    if (typeof s !== 'number') return s;
    start = s;
    end = start;
    if (dash.length === 2) {
      const e = parseValue(dash[1]!, f);
      if (typeof e !== 'number') return e;
      end = e;
    }
  }
  if (stepText !== undefined) {
    if (!/^\+?[0-9]+$/.test(stepText)) return { message: `step '${stepText}' in '${expr}' is not a positive number (${f.name} field)` };
    if (Number(stepText) === 0) return { message: `step 0 in '${expr}' (${f.name} field): a step must be positive` };
    if (dash.length === 1 && dash[0] !== '*' && dash[0] !== '?') end = f.max;
  }
  const allowed = `the ${f.name} field takes ${f.min}–${f.max}`;
  const inExpr = expr === String(start) || expr === String(end) ? '' : ` in '${expr}'`;
  if (start < f.min) return { message: `${f.name} ${start} is below ${f.min}${inExpr}`, hint: allowed };
  if (end > f.max) {
    const hint = f.name === 'day of week' && end === 7 ? `${allowed}; Sunday is 0 (Kubernetes refuses 7)` : allowed;
    return { message: `${f.name} ${end} is above ${f.max}${inExpr}`, hint };
  }
  if (start > end) return { message: `range '${expr}' runs backwards (${start} > ${end}) in the ${f.name} field` };
  return undefined;
}

/** The problem Kubernetes would report for this schedule, or undefined when it accepts it. */
export function cronProblem(schedule: string): CronProblem | undefined {
  const s = schedule.trim();
  if (/^(CRON_)?TZ=/.test(s)) return { message: 'a time zone in the schedule is refused by Kubernetes', hint: 'CronJobs here run in Etc/UTC (spec.timeZone); write the schedule in UTC' };
  if (s.startsWith('@')) {
    if (CRON_DESCRIPTORS[s] !== undefined) return undefined;
    if (s.startsWith('@every')) return { message: `'${s}' has no five-field form`, hint: 'use five fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *" for every five minutes' };
    return { message: `unknown descriptor '${s}'`, hint: `one of ${Object.keys(CRON_DESCRIPTORS).join(', ')}` };
  }
  const fields = s.split(/\s+/).filter((x) => x !== '');
  if (fields.length !== 5) {
    const hint = fields.length === 6 ? `Kubernetes CronJobs have no seconds field; ${FIVE}` : FIVE;
    return { message: `${fields.length} field${fields.length === 1 ? '' : 's'}, expected 5`, hint };
  }
  for (let i = 0; i < 5; i++) {
    for (const part of fields[i]!.split(',')) {
      if (part === '') return { message: `empty list element in the ${CRON_FIELDS[i]!.name} field '${fields[i]}'` };
      const p = checkRange(part, CRON_FIELDS[i]!);
      if (p) return p;
    }
  }
  return undefined;
}

/** The values one field of an accepted schedule selects. */
function expand(field: string, f: CronField): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const [a, b] = range.split('-') as [string, string | undefined];
    const value = (t: string): number => (f.names?.includes(t.toLowerCase()) ? f.names.indexOf(t.toLowerCase()) + f.min : Number(t));
    const star = a === '*' || a === '?';
    const start = star ? f.min : value(a);
    const end = star ? f.max : b !== undefined ? value(b) : stepText !== undefined ? f.max : start;
    for (let v = start; v <= end; v += stepText === undefined ? 1 : Number(stepText)) out.add(v);
  }
  return out;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether an accepted schedule never fires: a day of month that none of its months has (`0 0 31 2 *`)
 * and no day of week to fall back on (robfig fires when either restricted day field matches).
 */
export function cronNeverRuns(schedule: string): boolean {
  const [, , dom, month, dow] = cronFields(schedule);
  if (dow !== '*' && dow !== '?') return false;
  const days = expand(dom, CRON_FIELDS[2]!);
  return ![...expand(month, CRON_FIELDS[3]!)].some((m) => [...days].some((d) => d <= DAYS_IN_MONTH[m - 1]!));
}

/** The five fields of an accepted schedule (descriptors expanded). */
export function cronFields(schedule: string): [string, string, string, string, string] {
  const f = (CRON_DESCRIPTORS[schedule.trim()] ?? schedule).trim().split(/\s+/);
  return [f[0] ?? '*', f[1] ?? '*', f[2] ?? '*', f[3] ?? '*', f[4] ?? '*'];
}

/**
 * Whether an accepted schedule fires at the minute of `at` (UTC), as robfig/cron decides: every field
 * matches, except that when both day of month and day of week are restricted, either of them matching
 * is enough.
 */
export function cronMatches(schedule: string, at: Date): boolean {
  const [min, hour, dom, month, dow] = cronFields(schedule);
  const has = (field: string, i: number, v: number): boolean => expand(field, CRON_FIELDS[i]!).has(v);
  if (!has(min, 0, at.getUTCMinutes()) || !has(hour, 1, at.getUTCHours()) || !has(month, 3, at.getUTCMonth() + 1)) return false;
  const star = (f: string): boolean => f.startsWith('*') || f.startsWith('?');
  const domOk = has(dom, 2, at.getUTCDate());
  const dowOk = has(dow, 4, at.getUTCDay());
  return star(dom) || star(dow) ? domOk && dowOk : domOk || dowOk;
}
