/**
 * Freeze windows (`promotion.freeze`) as Argo CD sync windows on the environment's AppProjects:
 * `kind: deny` over exactly the project's Applications (no wildcard), in UTC. A deny window stops
 * automated syncs while it is active; `manualSync: true` still lets an operator sync by hand (an
 * incident fix during a freeze). Argo CD's windows are a cron schedule and a Go duration only
 * (argo-cd pkg/apis/application/v1alpha1/types.go SyncWindow: kind, schedule, duration,
 * applications, namespaces, clusters, manualSync, timeZone, andOperator, description): a date range
 * becomes the schedule of its start (minute, hour, day, month) with the range's length, so it
 * repeats every year on those dates (the docs say so). No `description`: the AppProject schema the
 * rendered tree is validated against does not have it yet (the reason stays in the environment file).
 */
import type { FreezeWindowInput } from '../../model/input.js';

const UNIT_MINUTES: Record<string, number> = { m: 1, h: 60, d: 1440 };

/** 64h, 3d → a Go duration (hours and minutes: Go has no day unit). */
function goDuration(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h ? `${h}h` : ''}${m || !h ? `${m}m` : ''}`;
}

const moment = (s: string): Date => new Date(s.length === 10 ? `${s}T00:00:00Z` : s.replace(/Z$/, ':00Z'));

export interface ArgoSyncWindow {
  kind: 'deny';
  schedule: string;
  duration: string;
  applications: string[];
  manualSync: boolean;
  timeZone: string;
}

export function syncWindows(freeze: readonly FreezeWindowInput[], applications: readonly string[]): ArgoSyncWindow[] {
  return freeze.map((w) => {
    const base = { kind: 'deny' as const, applications: [...applications], manualSync: true, timeZone: 'UTC' };
    if (w.schedule !== undefined && w.duration !== undefined) {
      const [, n, unit] = /^([0-9]+)(m|h|d)$/.exec(w.duration)!;
      return { ...base, schedule: w.schedule, duration: goDuration(Number(n) * UNIT_MINUTES[unit!]!) };
    }
    const start = moment(w.start!);
    const minutes = Math.round((moment(w.end!).getTime() - start.getTime()) / 60_000);
    const schedule = `${start.getUTCMinutes()} ${start.getUTCHours()} ${start.getUTCDate()} ${start.getUTCMonth() + 1} *`;
    return { ...base, schedule, duration: goDuration(minutes) };
  });
}
