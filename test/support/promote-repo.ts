/**
 * A scratch Git repository for npm run promote (test/promote*.test.ts), built from the example fixtures (never
 * environments/): staging and prod level, committed 100 h before NOW; then cert-manager bumped in staging and
 * committed 1 h before NOW. Real commits with fixed dates: the soak and health gates read this history.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvironmentSources } from '../../generators/load/loader.js';
import { prepareEnvironment, renderEnvironment } from '../../generators/pipeline.js';
import { RENDERED_DIR, writeEnvironment } from '../../generators/write/writer.js';
import { EXAMPLES, formatted, synthDates } from '../helpers.js';

export const H = 3_600_000;
export const NOW = Date.UTC(2026, 11, 9, 12, 0); // a Wednesday
export const isoMinute = (ms: number): string => new Date(ms).toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');

export function git(root: string, args: string[], at?: number): string {
  const date = at === undefined ? {} : { GIT_AUTHOR_DATE: new Date(at).toISOString(), GIT_COMMITTER_DATE: new Date(at).toISOString() };
  const r = spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ...date } });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

export function render(root: string, names: string[]): void {
  const sources = readEnvironmentSources(root);
  for (const name of names) {
    const r = prepareEnvironment(name, sources, { dates: synthDates(root, name) });
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    writeEnvironment(join(root, RENDERED_DIR), name, renderEnvironment(r.prepared));
  }
}

const PIN = (v: string): string => `addons:\n  cert-manager:\n    # the chart version this environment runs\n    chart: { version: ${v} }\n`;

export interface ScratchRepo {
  root: string;
  /** The commit bumping cert-manager in staging (12 hex digits, as promote prints it) and in full. */
  bump: string;
  bumpSha: string;
  /** The commit before it (both environments level). */
  levelSha: string;
}

/** `prodPromotion`: prod's promotion block (default: from staging, soak 72h); `staging`: a change to staging's file (e.g. another engine). */
export function scratch(prodPromotion = 'promotion:\n  from: staging\n  soak: 72h\n', staging: (text: string) => string = (t) => t): ScratchRepo {
  const root = mkdtempSync(join(tmpdir(), 'odp-promote-'));
  const env = join(root, 'environments');
  mkdirSync(env, { recursive: true });
  for (const f of ['_base.yaml', 'staging.yaml', 'staging.ssm.lock.json']) copyFileSync(join(EXAMPLES, 'environments', f), join(env, f));
  copyFileSync(join(EXAMPLES, 'environments', 'staging.ssm.lock.json'), join(env, 'prod.ssm.lock.json'));
  const base = readFileSync(join(env, 'staging.yaml'), 'utf8');
  writeFileSync(join(env, 'staging.yaml'), `${staging(base).trimEnd()}\n${PIN('v1.20.2')}`);
  const prod = base
    .replace('name: staging', 'name: prod')
    .replace('name: odp-staging', '# prod keeps its own name\n  name: odp-prod')
    .replace('LOG_LEVEL: info', 'LOG_LEVEL: warn # prod logs less');
  writeFileSync(join(env, 'prod.yaml'), `${prod.trimEnd()}\n${prodPromotion}${PIN('v1.20.2')}`);
  render(root, ['staging', 'prod']);
  git(root, ['init', '-q', '-b', 'main']);
  git(root, ['add', '-A']);
  git(root, ['commit', '-qm', 'level'], NOW - 100 * H);
  const levelSha = git(root, ['rev-parse', 'HEAD']);
  writeFileSync(join(env, 'staging.yaml'), readFileSync(join(env, 'staging.yaml'), 'utf8').replace('version: v1.20.2', 'version: v1.21.2'));
  render(root, ['staging']);
  git(root, ['add', '-A']);
  git(root, ['commit', '-qm', 'staging: cert-manager v1.21.2'], NOW - 1 * H);
  const bumpSha = git(root, ['rev-parse', 'HEAD']);
  return { root, bump: bumpSha.slice(0, 12), bumpSha, levelSha };
}
