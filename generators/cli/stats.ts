/**
 * Figures of a run for `npm run bench`: when ODP_STATS_FILE is set, a command writes there, as JSON,
 * how many environments it rendered and skipped, its threads, the time per phase, the process's
 * peak resident memory and CPU time (user and system, every thread), and how long the process took
 * to reach the command (start-up and imports).
 * Nothing otherwise.
 */
import { writeFileSync } from 'node:fs';
import type { PhaseTimes } from '../lib/timing.js';

export interface RunStats {
  rendered: number;
  skipped: number;
  threads: number;
  times: PhaseTimes;
  /** performance.now() when the command's main began: the process's start-up and imports. */
  startupMs: number;
}

export function writeStats(stats: RunStats): void {
  const file = process.env.ODP_STATS_FILE;
  if (!file) return;
  const usage = process.resourceUsage();
  writeFileSync(file, JSON.stringify({ ...stats, peakRssBytes: usage.maxRSS * 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }) + '\n');
}
