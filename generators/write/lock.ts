/**
 * The run lock of rendered/: one command at a time writes the tree (synth) or reads it for a verdict
 * (check, validate, diff against the tree on disk), so no run sees another's half-swapped tree and
 * no run deletes another's staging trees (writer.recover removes every `.odp-tmp-*`).
 *
 * rendered/.odp-lock (git-ignored, like every rendered/.odp-* entry) holds who has it:
 * `{ pid, host, command, started }`. It is created whole (written aside, then hard-linked into
 * place: link fails when the lock exists), refreshed every HEARTBEAT_MS while held, and removed
 * when the run ends. A second run waits for it (bounded, saying for which pid), then refuses. A lock
 * is taken over when its run cannot be going on any more: on this host its pid is gone (a run
 * killed with SIGKILL, or a crash), or, on any host (a shared checkout), it was not refreshed for
 * STALE_AFTER_MS.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = '.odp-lock';
/** How often a holder refreshes its lock's modification time (while its event loop runs). */
export const HEARTBEAT_MS = 30_000;
/** A lock not refreshed for this long is stale whatever its pid (another host, or a reused pid). */
export const STALE_AFTER_MS = 10 * 60_000;
/** Default bound of the wait for another run, in seconds (commands' --wait). */
export const DEFAULT_WAIT_SECONDS = 300;

export interface LockHolder {
  pid: number;
  host: string;
  /** What holds it, e.g. `npm run synth`. */
  command: string;
  /** ISO time the lock was taken. */
  started: string;
}

/** Another run holds rendered/ beyond the wait: exit 3 (outside this run's control; try again). */
export class LockBusyError extends Error {
  readonly exitCode = 3;
  constructor(message: string) {
    super(message);
    this.name = 'LockBusyError';
  }
}

export interface AcquireOptions {
  /** Shown to a run that waits, e.g. `npm run synth`. */
  command: string;
  /** How long to wait for another run, in milliseconds (0: refuse at once). */
  waitMs: number;
  /** Called once when the run starts waiting. */
  onWait?: (holder: LockHolder | undefined, lockPath: string) => void;
  /** Poll interval (tests shorten it). */
  pollMs?: number;
}

export interface RenderedLock {
  path: string;
  holder: LockHolder;
  release(): void;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function readHolder(path: string): { holder?: LockHolder; text?: string; mtimeMs?: number } {
  try {
    const text = readFileSync(path, 'utf8');
    const mtimeMs = statSync(path).mtimeMs;
    try {
      const h = JSON.parse(text) as Partial<LockHolder>;
      if (typeof h.pid === 'number' && typeof h.host === 'string') return { holder: { pid: h.pid, host: h.host, command: String(h.command ?? '?'), started: String(h.started ?? '') }, text, mtimeMs };
    } catch {
      // unreadable content: judged by its age alone
    }
    return { text, mtimeMs };
  } catch {
    return {};
  }
}

/** Why a lock may be taken over, or undefined while its run may still be going on. */
export function staleReason(holder: LockHolder | undefined, mtimeMs: number, now = Date.now(), host = hostname()): string | undefined {
  if (now - mtimeMs > STALE_AFTER_MS) return `not refreshed for ${Math.round((now - mtimeMs) / 60_000)} min`;
  if (holder && holder.host === host && !isAlive(holder.pid)) return `pid ${holder.pid} is gone`;
  return undefined;
}

/** `npm run synth (pid 4242, started 3 s ago)`; the host when it is another. */
export function describeHolder(h: LockHolder | undefined, now = Date.now()): string {
  if (!h) return 'a run whose lock is unreadable';
  const t = Date.parse(h.started);
  const since = Number.isNaN(t) ? '' : `, started ${Math.max(0, Math.round((now - t) / 1000))} s ago`;
  return `${h.command} (pid ${h.pid}${h.host === hostname() ? '' : ` on ${h.host}`}${since})`;
}

/** Take the lock of `renderedRoot`, waiting for another run up to opts.waitMs. */
export async function acquireRenderedLock(renderedRoot: string, opts: AcquireOptions): Promise<RenderedLock> {
  mkdirSync(renderedRoot, { recursive: true });
  const path = join(renderedRoot, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, host: hostname(), command: opts.command, started: new Date().toISOString() };
  const text = JSON.stringify(holder) + '\n';
  const deadline = Date.now() + opts.waitMs;
  let waited = false;
  for (;;) {
    if (tryCreate(path, text)) break;
    const seen = readHolder(path);
    if (seen.text === undefined) continue; // released in between: try again at once
    const stale = staleReason(seen.holder, seen.mtimeMs!);
    if (stale !== undefined) {
      takeOver(path, seen.text);
      continue;
    }
    if (Date.now() >= deadline)
      throw new LockBusyError(
        `rendered/ is locked by ${describeHolder(seen.holder)}${opts.waitMs > 0 ? `; waited ${Math.round(opts.waitMs / 1000)} s` : ''}: let that run finish and try again (--wait SECONDS waits longer). If no such run is going on, delete ${path}.`,
      );
    if (!waited) {
      waited = true;
      opts.onWait?.(seen.holder, path);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
  const heartbeat = setInterval(() => {
    try {
      const t = new Date();
      utimesSync(path, t, t);
    } catch {
      // the lock was taken from us (judged stale): nothing to refresh
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    process.removeListener('exit', release);
    // Only our own lock: a run that judged ours stale may hold it now.
    if (readHolder(path).text === text) rmSync(path, { force: true });
  };
  process.once('exit', release);
  return { path, holder, release };
}

/** Create the lock whole: written aside, then linked into place (fails when a lock exists). */
function tryCreate(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Remove a stale lock, and only that one: it is moved aside first and checked to be the lock judged
 * stale; if another run replaced it in between, that run's lock is put back.
 */
function takeOver(path: string, staleText: string): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already (released, or taken over by another run)
  }
  let text: string | undefined;
  try {
    text = readFileSync(aside, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== staleText) {
    try {
      linkSync(aside, path);
    } catch {
      // a third run took the lock meanwhile: it holds it now
    }
  }
  rmSync(aside, { force: true });
}
