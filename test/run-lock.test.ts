/**
 * The run lock of rendered/ (generators/write/lock.ts): one command at a time, a second one waits
 * and says for which pid, a lock left by a killed run is taken over; two synth processes started
 * together both succeed and leave the tree current.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { acquireRenderedLock, LOCK_FILE, LockBusyError, STALE_AFTER_MS, type LockHolder } from '../generators/write/lock.js';
import { cli, exampleRoot, ROOT, TSX } from './helpers.js';

vi.setConfig({ testTimeout: 300_000 });

const scratchRendered = (): string => {
  const dir = join(mkdtempSync(join(tmpdir(), 'odp-lock-')), 'rendered');
  mkdirSync(dir);
  return dir;
};
const writeLock = (dir: string, h: Partial<LockHolder>): string => {
  const path = join(dir, LOCK_FILE);
  writeFileSync(path, JSON.stringify({ host: hostname(), command: 'npm run synth', started: new Date().toISOString(), ...h }) + '\n');
  return path;
};
/** The pid of a process that has exited (a run killed with SIGKILL leaves such a pid behind). */
const deadPid = (): number => spawnSync('sh', ['-c', 'exit 0']).pid!;

describe('acquireRenderedLock', () => {
  it('one holder at a time: a second run refuses after its wait, naming the holder; after release it gets the lock', async () => {
    const dir = scratchRendered();
    const first = await acquireRenderedLock(dir, { command: 'npm run synth', waitMs: 0 });
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), command: 'npm run synth' });
    const waits: (LockHolder | undefined)[] = [];
    const second = acquireRenderedLock(dir, { command: 'npm run check', waitMs: 300, pollMs: 20, onWait: (h) => waits.push(h) });
    await expect(second).rejects.toThrow(LockBusyError);
    await expect(acquireRenderedLock(dir, { command: 'npm run check', waitMs: 0 })).rejects.toThrow(new RegExp(`^rendered/ is locked by npm run synth \\(pid ${process.pid}, started \\d+ s ago\\): let that run finish and try again \\(--wait SECONDS waits longer\\)\\. If no such run is going on, delete ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.odp-lock\\.$`));
    expect(waits.map((h) => h?.pid)).toStrictEqual([process.pid]);
    first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await acquireRenderedLock(dir, { command: 'npm run check', waitMs: 0 });
    again.release();
  });

  it('a waiting run gets the lock as soon as the holder releases it', async () => {
    const dir = scratchRendered();
    const first = await acquireRenderedLock(dir, { command: 'npm run synth', waitMs: 0 });
    setTimeout(() => first.release(), 100);
    const second = await acquireRenderedLock(dir, { command: 'npm run synth', waitMs: 5000, pollMs: 20 });
    expect(second.holder.command).toBe('npm run synth');
    second.release();
  });

  it('takes over the lock of a run that is gone (its pid is dead on this host)', async () => {
    const dir = scratchRendered();
    writeLock(dir, { pid: deadPid() });
    const lock = await acquireRenderedLock(dir, { command: 'npm run synth', waitMs: 0 });
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('another host: waits while its lock is refreshed, takes it over once it is stale by age', async () => {
    const dir = scratchRendered();
    const path = writeLock(dir, { pid: 1, host: 'build-agent-7' });
    await expect(acquireRenderedLock(dir, { command: 'npm run synth', waitMs: 0 })).rejects.toThrow('rendered/ is locked by npm run synth (pid 1 on build-agent-7, started');
    const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
    utimesSync(path, old, old);
    const lock = await acquireRenderedLock(dir, { command: 'npm run synth', waitMs: 0 });
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).host).toBe(hostname());
    lock.release();
  });

  it('release removes only its own lock (not one that replaced it)', async () => {
    const dir = scratchRendered();
    const lock = await acquireRenderedLock(dir, { command: 'npm run synth', waitMs: 0 });
    const other = writeLock(dir, { pid: process.pid + 1, command: 'npm run check' });
    lock.release();
    expect(JSON.parse(readFileSync(other, 'utf8')).command).toBe('npm run check');
  });
});

/** Start a command as a process; resolves with its exit code and output. */
function start(command: string, root: string, ...args: string[]): { child: ChildProcess; stderr: () => string; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(TSX, [join(ROOT, 'generators', 'cli', `${command}.ts`), '--root', root, ...args], { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += String(d)));
  child.stderr!.on('data', (d) => (stderr += String(d)));
  return { child, stderr: () => stderr, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

describe('two runs at once (processes)', () => {
  it('two synth runs started together both succeed, without an internal error, and the tree is current afterwards', async () => {
    const root = exampleRoot({ rendered: true });
    const dev = join(root, 'environments', 'dev.yaml');
    writeFileSync(dev, readFileSync(dev, 'utf8').replace('plannedPods: ', 'plannedPods: 1'));
    const [a, b] = await Promise.all([start('synth', root, '--force').done, start('synth', root, '--force').done]);
    for (const r of [a, b]) {
      expect(r.stderr).not.toContain('internal error');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^synth: 5 environments, /m);
    }
    expect(existsSync(join(root, 'rendered', LOCK_FILE))).toBe(false);
    expect(cli('check', root, '--force')).toMatchObject({ code: 0 });
  });

  it('a synth waits for a live holder, saying for which pid, and takes the lock over when that run dies', async () => {
    const root = exampleRoot({ rendered: true });
    const holder = spawn('sleep', ['120']);
    writeLock(join(root, 'rendered'), { pid: holder.pid! });
    // --wait 0: refused at once, exit 3, nothing written.
    const refused = cli('synth', root, '--wait', '0');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`rendered/ is locked by npm run synth (pid ${holder.pid}, started`);
    // Default wait: it says whom it waits for; the holder is killed (SIGKILL: it cannot clean up).
    const waiting = start('synth', root);
    const message = `synth: waiting for npm run synth (pid ${holder.pid}, started`;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (waiting.stderr().includes(message)) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    holder.kill('SIGKILL');
    const r = await waiting.done;
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(root, 'rendered', LOCK_FILE))).toBe(false);
  });
});
