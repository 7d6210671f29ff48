/**
 * The promotion gates of a target environment's `promotion:` block. Freeze: a window (a cron schedule
 * with a duration, or a date range) open now refuses with its reason and when it closes. Soak: every
 * version moved must have run in the source for `soak`, measured from Git history — the oldest commit
 * of the unbroken run of commits, back from the newest, in which the source's rendered tree (its
 * provenance manifest, rendered/<env>/.provenance.json, and the environment files it names) carried
 * that version. Pure: the history is read through `SourceHistory` (cli/promote.ts reads it with git).
 */
import { cronMatches } from '../lib/cron.js';
import type { FreezeWindowInput } from '../model/input.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `72h` → milliseconds (the schema's pattern: a number and m, h or d). */
export function parseDuration(text: string): number {
  const m = /^([1-9][0-9]*)(m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text} (a number and m, h or d, e.g. 72h)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** 71h 55m, 5m, 72h (in the unit soak windows are usually written in). */
export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.ceil(ms / 60_000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return [h ? `${h}h` : '', m || !h ? `${m}m` : ''].filter(Boolean).join(' ');
}

const parseMoment = (s: string): Date => new Date(s.length === 10 ? `${s}T00:00:00Z` : s.replace(/Z$/, ':00Z'));

export const iso = (d: Date): string => d.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');

export interface OpenFreeze {
  window: FreezeWindowInput;
  opened: Date;
  closes: Date;
}

/** The freeze window open at `now` that closes last, if any. */
export function openFreeze(windows: readonly FreezeWindowInput[], now: Date): OpenFreeze | undefined {
  let found: OpenFreeze | undefined;
  for (const w of windows) {
    let open: OpenFreeze | undefined;
    if (w.start !== undefined && w.end !== undefined) {
      const start = parseMoment(w.start);
      const end = parseMoment(w.end);
      if (start <= now && now < end) open = { window: w, opened: start, closes: end };
    } else if (w.schedule !== undefined && w.duration !== undefined) {
      // The latest start within `duration` before now (minute by minute, as cron fires).
      const duration = parseDuration(w.duration);
      const minute = Math.floor(now.getTime() / 60_000) * 60_000;
      for (let t = minute; t > now.getTime() - duration; t -= 60_000) {
        if (cronMatches(w.schedule, new Date(t))) {
          open = { window: w, opened: new Date(t), closes: new Date(t + duration) };
          break;
        }
      }
    }
    if (open && (!found || open.closes > found.closes)) found = open;
  }
  return found;
}

export interface HistoryCommit {
  sha: string;
  /** Committer time, seconds since the epoch. */
  time: number;
}

export interface SourceHistory {
  /** Commits that changed the source's provenance manifest, newest first. */
  commits(): HistoryCommit[];
  /** The version of item `id` the source's rendered tree carried at that commit (undefined: none or unreadable). */
  valueAt(commit: HistoryCommit, id: string): string | undefined;
}

/** The commit from which the source has carried `value` for `id` without a break (undefined: its newest commit does not). */
export function carriedSince(history: SourceHistory, id: string, value: string | undefined): HistoryCommit | undefined {
  let since: HistoryCommit | undefined;
  for (const c of history.commits()) {
    if (history.valueAt(c, id) !== value) break;
    since = c;
  }
  return since;
}
