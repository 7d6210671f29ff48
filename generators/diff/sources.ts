/**
 * Where the two trees of a diff come from: a fresh in-memory render of the working tree's
 * environments, the rendered/ directory on disk, or rendered/ at a git revision. The only module of
 * the diff that touches git or the file system.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasErrors, InputError, UsageError, type Diagnostic } from '../validate/diagnostics.js';
import { selectOrFail } from '../cli/prepare.js';
import { commitOrFail } from '../cli/git.js';
import { readEnvironmentSources } from '../load/loader.js';
import { phaseTimes, phaseTimesSince, type PhaseTimes } from '../lib/timing.js';
import { prepareEnvironment, renderEnvironment } from '../pipeline.js';
import { listFiles, RENDERED_DIR } from '../write/writer.js';
import type { EnvironmentModel } from '../model/types.js';
import { distributionOf, distributions } from '../distributions/registry.js';
import type { DiffContext, EnvContext } from './diff.js';

/** Base name meaning "rendered/ as it is on disk" rather than a git revision. */
export const WORKTREE = 'WORKTREE';

function git(root: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

function gitOk(root: string, args: string[]): string | undefined {
  try {
    return git(root, args).trim();
  } catch {
    return undefined;
  }
}

/** The default base: the merge base with main, else with origin/main, else HEAD. */
export function defaultBase(root: string): string {
  for (const main of ['main', 'origin/main']) {
    const mb = gitOk(root, ['merge-base', 'HEAD', main]);
    if (mb) return mb;
  }
  const head = gitOk(root, ['rev-parse', 'HEAD']);
  if (!head) throw new UsageError(`no git revision to compare with in ${root}: pass --base ${WORKTREE} to compare with rendered/ on disk`);
  return head;
}

/** rendered/ at a git revision, read with one ls-tree and one cat-file --batch. */
export function readRenderedAtRef(root: string, ref: string): Map<string, string> {
  const commit = commitOrFail(root, ref);
  const listing = git(root, ['ls-tree', '-r', '-z', commit, '--', `${RENDERED_DIR}/`]);
  const entries = listing
    .split('\0')
    .filter((l) => l !== '')
    .map((l) => {
      const [meta, path] = l.split('\t') as [string, string];
      const [, type, sha] = meta.split(' ') as [string, string, string];
      return { type, sha, path };
    })
    .filter((e) => e.type === 'blob');
  const out = new Map<string, string>();
  if (entries.length === 0) return out;
  const buf = execFileSync('git', ['cat-file', '--batch'], { cwd: root, input: entries.map((e) => e.sha).join('\n') + '\n', maxBuffer: 1 << 30 });
  let pos = 0;
  for (const e of entries) {
    const nl = buf.indexOf(0x0a, pos);
    const header = buf.subarray(pos, nl).toString('utf8');
    const size = Number(header.split(' ')[2]);
    out.set(e.path.slice(RENDERED_DIR.length + 1), buf.subarray(nl + 1, nl + 1 + size).toString('utf8'));
    pos = nl + 1 + size + 1;
  }
  return out;
}

/** rendered/ on disk. */
export function readRenderedDir(root: string): Map<string, string> {
  const dir = join(root, RENDERED_DIR);
  const out = new Map<string, string>();
  for (const f of listFiles(dir)) if (!f.startsWith('.odp-')) out.set(f, readFileSync(join(dir, f), 'utf8'));
  return out;
}

/** What each distribution's impact needs to know about an environment (e.g. its config targets: pools and node IPs). */
export function envContext(model: EnvironmentModel): EnvContext {
  const down = distributionOf(model).diff.controlPlanesDown?.(model);
  const userData = distributionOf(model).diff.fixedUserData?.(model);
  return { distributions: Object.fromEntries(distributions().flatMap((d) => (d.diff.context ? [[d.name, d.diff.context(model)]] : []))), ...(down ? { controlPlanesDown: down } : {}), ...(userData ? { fixedUserData: userData } : {}) };
}

/**
 * Every environment of the working tree rendered in memory, one after the other (`onEnvironment`
 * hears of each as it finishes: its files, time and time per phase); invalid input is an InputError.
 */
export function renderWorkingTree(
  root: string,
  envs?: string[],
  onEnvironment?: (e: { env: string; files: number; ms: number; phases: PhaseTimes }) => void,
): { files: Map<string, string>; context: DiffContext; warnings: Diagnostic[]; models: EnvironmentModel[] } {
  const sources = readEnvironmentSources(root);
  const names = selectOrFail(sources, envs);
  const diagnostics: Diagnostic[] = [];
  const files = new Map<string, string>();
  const context = new Map<string, EnvContext>();
  const models: EnvironmentModel[] = [];
  for (const name of names) {
    const t0 = performance.now();
    const before = phaseTimes();
    const r = prepareEnvironment(name, sources);
    diagnostics.push(...r.diagnostics);
    const p = r.prepared;
    if (!p || hasErrors(diagnostics)) continue;
    const rendered = renderEnvironment(p);
    for (const f of rendered) files.set(`${p.name}/${f.path}`, f.content);
    context.set(p.name, envContext(p.model));
    models.push(p.model);
    onEnvironment?.({ env: name, files: rendered.length, ms: performance.now() - t0, phases: phaseTimesSince(before) });
  }
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  return { files, context, warnings: diagnostics, models };
}

/** Keep only the given environments' files. */
export function onlyEnvironments(files: Map<string, string>, envs: string[] | undefined): Map<string, string> {
  if (!envs) return files;
  return new Map([...files].filter(([p]) => envs.includes(p.slice(0, p.indexOf('/')))));
}
