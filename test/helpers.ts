import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listEnvironmentNames, readEnvironmentSources } from '../generators/load/loader.js';
import { prepareEnvironment, renderEnvironment, type PrepareOptions, type PrepareResult } from '../generators/pipeline.js';
import { runningVersionsOf, treeRecord } from '../generators/write/provenance.js';
import type { DatesInput } from '../generators/write/since.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { RENDERED_DIR, writeEnvironment, writeFleetReadme } from '../generators/write/writer.js';
import { preparedRow } from '../generators/fleet/prepared.js';
import type { EnvironmentModel } from '../generators/model/types.js';
import { renderFleetMatrix } from '../generators/fleet/matrix.js';
import { commandFiles } from '../generators/build/build.mjs';

/**
 * The generator's own checkout: for its code, schemas, node_modules and CI files only. Its
 * environments/ and rendered/ are the team's and no test reads them (test/isolation.test.ts).
 */
export const ROOT = join(import.meta.dirname, '..');
export const FIXTURES = join(import.meta.dirname, 'fixtures');
/**
 * Optional upstream data (../shared beside the checkout; ODP_SHARED_DIR overrides it, and .ci/run
 * points it at a missing folder once to prove the suite passes without it). A test that uses it
 * asks `sharedPath(...)` for the exact file or folder it reads and skips when that is undefined;
 * nothing may read it while vitest collects (a describe body runs even when skipped).
 */
export const SHARED = process.env.ODP_SHARED_DIR ? resolve(process.env.ODP_SHARED_DIR) : join(ROOT, '..', 'shared');
/** The path under the optional upstream data, or undefined when it is absent. */
export function sharedPath(...parts: string[]): string | undefined {
  const p = join(SHARED, ...parts);
  return existsSync(p) ? p : undefined;
}
/** Frozen copies of the example environments: a repository-shaped folder (environments/ only). */
export const EXAMPLES = join(FIXTURES, 'examples');
export const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** The example environments (with bases and locks), keyed environments/<file> as in a repository. */
export const exampleSources = (): Map<string, string> => readEnvironmentSources(EXAMPLES);

/**
 * The day synth stamps in tests (write/since.ts). vitest.config.ts sets SOURCE_DATE_EPOCH to its noon, so a synth or
 * check run in a test (in this process or as a child) reads it too.
 */
export const SYNTH_DAY = '2026-12-08';

/** The dates a synth of `name` in `root` carries forward (its tree's manifest's), today being SYNTH_DAY. */
export function synthDates(root: string, name: string, today = SYNTH_DAY): DatesInput {
  const { dates } = treeRecord(join(root, RENDERED_DIR), RENDERED_DIR, name);
  return { ...(dates ? { committed: dates } : {}), today };
}

/**
 * A scratch repository in a temporary directory: the example environments and, with `rendered`,
 * their rendered tree as `npm run synth` writes it. `extra` adds or replaces environment files.
 */
export function exampleRoot(opts: { rendered?: boolean; extra?: Record<string, string> } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'odp-example-'));
  cpSync(join(EXAMPLES, 'environments'), join(dir, 'environments'), { recursive: true });
  for (const [file, text] of Object.entries(opts.extra ?? {})) writeFileSync(join(dir, 'environments', file), text);
  if (opts.rendered) {
    const sources = readEnvironmentSources(dir);
    const rows = [];
    for (const name of listEnvironmentNames(sources)) {
      const r = prepareEnvironment(name, sources, { dates: synthDates(dir, name) });
      if (!r.prepared) throw new Error(formatted(r).join('\n'));
      writeEnvironment(join(dir, RENDERED_DIR), name, renderEnvironment(r.prepared));
      rows.push(preparedRow(r.prepared));
    }
    // The fleet matrix, as synth writes it.
    writeFleetReadme(join(dir, RENDERED_DIR), renderFleetMatrix(rows));
  }
  return dir;
}

/** Run a command (generators/cli/<command>.ts, or a distribution's or engine's: build.mjs commandFiles) as a process on the repository `root`. */
export function cli(command: string, root: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const file = commandFiles(ROOT).get(command);
  if (!file) throw new Error(`no command ${command}`);
  const r = spawnSync(TSX, [join(ROOT, file), '--root', root, ...args], {
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let shared: string | undefined;
/** One rendered scratch repository per test worker, for tests that only read it. */
export function renderedExamples(): string {
  shared ??= exampleRoot({ rendered: true });
  return shared;
}

/**
 * Sources for a fixture environment: the fixture file as environments/<stem>.yaml, next to the
 * fixtures' own _base.yaml and lock files.
 */
export function fixtureSources(dir: 'valid' | 'invalid', file: string): { name: string; sources: Map<string, string> } {
  const name = file.replace(/\.yaml$/, '');
  const sources = new Map<string, string>();
  for (const f of readdirSync(FIXTURES)) {
    if (f.endsWith('.yaml') || f.endsWith('.json')) sources.set(`environments/${f}`, readFileSync(join(FIXTURES, f), 'utf8'));
  }
  const text = readFileSync(join(FIXTURES, dir, file), 'utf8');
  sources.set(`environments/${name}.yaml`, text);
  // A fixture may bring its own lock (<name>.ssm.lock.json next to it); otherwise it gets the fixtures' lock.
  const own = join(FIXTURES, dir, `${name}.ssm.lock.json`);
  const lock = existsSync(own) ? readFileSync(own, 'utf8') : sources.get('environments/_fixture.ssm.lock.json');
  if (lock) sources.set(`environments/${name}.ssm.lock.json`, lock);
  // A fixture may bring other environments (hub mode): <dir>/<name>.fleet/<env>.yaml, with the fixtures' lock.
  const fleet = join(FIXTURES, dir, `${name}.fleet`);
  if (existsSync(fleet)) {
    for (const f of readdirSync(fleet).filter((x) => x.endsWith('.yaml')).sort()) {
      sources.set(`environments/${f}`, readFileSync(join(fleet, f), 'utf8'));
      const base = sources.get('environments/_fixture.ssm.lock.json');
      if (base) sources.set(`environments/${f.replace(/\.yaml$/, '.ssm.lock.json')}`, base);
    }
  }
  return { name, sources };
}

/**
 * What a fixture's committed rendered tree records, when it brings one (<dir>/<name>.provenance.json next to it, a
 * provenance manifest with `versions`): the options that give it to prepareEnvironment (the version-skew rules).
 */
export function fixtureOptions(dir: 'valid' | 'invalid', file: string): PrepareOptions {
  const name = file.replace(/\.yaml$/, '');
  const manifest = join(FIXTURES, dir, `${name}.provenance.json`);
  return existsSync(manifest) ? { running: runningVersionsOf(readFileSync(manifest, 'utf8'), `rendered/${name}/.provenance.json`) } : {};
}

/** The rendered files of a valid fixture whose environment file's text is edited first; an error of the text throws. */
export function renderEditedFixture(file: string, edit: (text: string) => string, env = file.replace(/\.yaml$/, '')): ReturnType<typeof renderEnvironment> {
  const { sources } = fixtureSources('valid', file);
  sources.set(`environments/${env}.yaml`, edit(sources.get(`environments/${env}.yaml`)!));
  const r = prepareEnvironment(env, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
}

/**
 * A valid fixture with its environment file's text replaced, and the rendered tree of such a text (paths
 * `<env>/…`, as the plan and the review read rendered/ at a revision); an error of the text throws.
 */
export function fixtureVariant(env: string): { sourcesOf: (text: string) => Map<string, string>; tree: (text: string) => Map<string, string> } {
  const sourcesOf = (text: string) => {
    const { sources } = fixtureSources('valid', `${env}.yaml`);
    sources.set(`environments/${env}.yaml`, text);
    return sources;
  };
  const tree = (text: string) => {
    const r = prepareEnvironment(env, sourcesOf(text));
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    if (!r.prepared || errors.length > 0) throw new Error(errors.map((d) => formatDiagnostic(d)).join('\n'));
    return new Map(renderEnvironment(r.prepared).map((f) => [`${env}/${f.path}`, f.content]));
  };
  return { sourcesOf, tree };
}

/** `# expect: …` lines at the top of an invalid fixture. */
export function expectations(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => l.slice('# expect: '.length).trim());
}

export function formatted(r: PrepareResult): string[] {
  return r.diagnostics.map(formatDiagnostic);
}

export function prepareExample(name: string): PrepareResult {
  return prepareEnvironment(name, exampleSources());
}

export function renderExample(name: string) {
  const r = prepareExample(name);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
}

/** A valid fixture rendered (path → content), its model changed first by `change` (a setting changed after validation). */
export function renderValidFixture(file: string, change?: (m: EnvironmentModel) => void): Map<string, string> {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  change?.(r.prepared.model);
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

/** Append `value` to the list argument `key` of a K3s/RKE2 extraArgs holder (cluster.<name>, nodePools[].<name>). */
export function addExtraArg(holder: unknown, key: string, value: string): void {
  const o = holder as { extraArgs?: Record<string, unknown> };
  o.extraArgs = { ...(o.extraArgs ?? {}), [key]: [...((o.extraArgs?.[key] as string[] | undefined) ?? []), value] };
}
