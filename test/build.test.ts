/**
 * The build (generators/build/): `npm ci` runs `prepare`, which bundles every command into dist/;
 * the npm scripts run the bundles through the launcher, which rebuilds first whenever a source
 * changed, so an edit always takes effect. Run in a scratch copy of the generator. And the
 * environment schema's validator compiled to standalone code reports exactly what the validator
 * compiled at run time reports.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveEnvironment } from '../generators/load/loader.js';
import { compileEnvironmentValidator, ENVIRONMENT_SCHEMA_PATH, environmentValidatorCode, loadPrecompiledValidator, precompiledName, validateSchema } from '../generators/validate/schema.js';
import { findProjectRoot } from '../generators/lib/project-root.js';
import { environmentSchemaText } from '../generators/schema/compose.js';
import { exampleRoot, FIXTURES, fixtureSources, ROOT } from './helpers.js';
import { VENDOR_BUNDLES } from '../generators/build/build.mjs';
import { compileCacheDir } from '../generators/build/compile-cache.mjs';
import module from 'node:module';

const COMMANDS = ['synth', 'check', 'validate', 'diff', 'talos', 'bench', 'new-env'];

/** A copy of what the build reads (generators/, schemas/, the package files), with the project's node_modules. */
function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'odp-build-'));
  for (const p of ['generators', 'schemas', 'package.json', 'package-lock.json', 'tsconfig.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const node = (dir: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const launch = (dir: string, ...args: string[]) => node(dir, 'generators/build/launch.mjs', ...args);

describe('build and launcher', () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchProject();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the npm scripts: prepare (run by npm ci) builds, every command runs through the launcher', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.scripts.prepare).toBe('node generators/build/build.mjs');
    for (const c of COMMANDS) expect(pkg.scripts[c], c).toBe(`node generators/build/launch.mjs ${c}`);
    expect(pkg.dependencies.esbuild).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('prepare writes one bundle per command (generators/cli/*.ts and the distributions\' and engines\' commands/*.ts), the precompiled validator and the stamp', () => {
    const r = spawnSync('npm', ['run', '--silent', 'prepare'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const sources = [
      ...readdirSync(join(dir, 'generators', 'cli')).filter((f) => f.endsWith('.ts')),
      ...['distributions', 'engines'].flatMap((kind) =>
        readdirSync(join(dir, 'generators', kind), { withFileTypes: true })
          .filter((e) => e.isDirectory() && existsSync(join(dir, 'generators', kind, e.name, 'commands')))
          .flatMap((e) => readdirSync(join(dir, 'generators', kind, e.name, 'commands')).filter((f) => f.endsWith('.ts'))),
      ),
    ];
    const entries = sources.map((f) => f.replace(/\.ts$/, '.js'));
    expect(entries).toEqual(expect.arrayContaining(COMMANDS.map((c) => `${c}.js`)));
    for (const e of entries) expect(existsSync(join(dir, 'dist', e)), e).toBe(true);
    const schemaText = readFileSync(join(dir, 'schemas', 'environment.schema.json'), 'utf8');
    expect(readdirSync(join(dir, 'dist', 'ajv'))).toStrictEqual([precompiledName(schemaText)]);
    expect(existsSync(join(dir, 'dist', '.stamp'))).toBe(true);
    expect(readdirSync(join(dir, 'dist', 'vendor')).sort()).toStrictEqual(Object.keys(VENDOR_BUNDLES).map((v) => `${v}.cjs`).sort());
    // ASCII only (build.mjs asciiSource): a source with one non-ASCII character is decoded and scanned as two-byte text.
    for (const sub of ['', 'vendor', 'ajv'])
      for (const f of readdirSync(join(dir, 'dist', sub)).filter((x) => /\.c?js$/.test(x))) expect(/[^\x00-\x7f]/.test(readFileSync(join(dir, 'dist', sub, f), 'utf8')), `dist/${sub}/${f}`).toBe(false);
  });

  it('the built commands render what the sources render, loading cdk8s, cdk8s-plus, handlebars and yaml from the vendored bundles, not node_modules', () => {
    // A run from the sources (in process) against a run of the bundle, on the examples.
    const fromSources = exampleRoot({ rendered: true });
    const fromBundle = exampleRoot();
    // Every module CommonJS loads from node_modules, written out by a preload hook.
    const loaded = join(fromBundle, 'loaded.txt');
    const hook = join(fromBundle, 'hook.cjs');
    writeFileSync(hook, `const M = require('node:module'); const fs = require('node:fs'); const orig = M._load;
M._load = function (request, parent, isMain) { const r = orig.apply(this, arguments); try { const f = M._resolveFilename(request, parent, isMain); if (f.includes('/node_modules/') || f.includes('/dist/vendor/')) fs.appendFileSync(${JSON.stringify(loaded)}, f + '\\n'); } catch {} return r; };\n`);
    const r = node(dir, '--require', hook, join(dir, 'dist', 'synth.js'), '--root', fromBundle, '--jobs', '2');
    expect(r.code, r.stderr).toBe(0);
    const files = (root: string): string[] => readdirSync(join(root, 'rendered'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name !== '.odp-state.json').map((e) => join(e.parentPath, e.name).slice(root.length)).sort();
    expect(files(fromBundle)).toStrictEqual(files(fromSources));
    for (const f of files(fromSources)) expect(readFileSync(join(fromBundle, f), 'utf8'), f).toBe(readFileSync(join(fromSources, f), 'utf8'));
    const fromNodeModules = existsSync(loaded) ? readFileSync(loaded, 'utf8') : '';
    for (const pkg of ['cdk8s', 'cdk8s-plus-28', 'constructs', 'handlebars', 'yaml']) expect(fromNodeModules, pkg).not.toMatch(new RegExp(`/node_modules/${pkg}/`));
    // Every template of every example is precompiled by the build: Handlebars' compiler is never loaded, its runtime is.
    expect(fromNodeModules).toMatch(/\/dist\/vendor\/handlebars-runtime\.cjs$/m);
    expect(fromNodeModules).not.toMatch(/\/dist\/vendor\/handlebars\.cjs$/m);
    // Without the vendored bundles the commands still run, from the packages (what a test run of the sources does).
    rmSync(join(dir, 'dist', 'vendor', 'cdk8s.cjs'));
    rmSync(loaded, { force: true });
    const again = node(dir, '--require', hook, join(dir, 'dist', 'synth.js'), '--root', fromBundle, '--force');
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(loaded, 'utf8')).toMatch(/\/node_modules\/cdk8s-plus-28\//);
    // The launcher rebuilds a missing vendored bundle.
    expect(launch(dir, 'synth', '--help').stderr).toContain('build: dist/vendor/cdk8s.cjs is missing; rebuilding');
    expect(existsSync(join(dir, 'dist', 'vendor', 'cdk8s.cjs'))).toBe(true);
    rmSync(fromSources, { recursive: true, force: true });
    rmSync(fromBundle, { recursive: true, force: true });
  });

  it('runs the bundle without rebuilding when nothing changed, rebuilds when a source changed, so an edit takes effect', () => {
    const first = launch(dir, 'synth', '--help');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Usage: npm run synth/);
    expect(first.stderr).toBe('');

    const file = join(dir, 'generators', 'cli', 'synth.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Usage: npm run synth', 'Usage: EDITED synth'));
    const edited = launch(dir, 'synth', '--help');
    expect(edited.code).toBe(0);
    expect(edited.stdout).toMatch(/^Usage: EDITED synth/);
    expect(edited.stderr).toContain('build: generators/, schemas/ or the package files changed since the last build; rebuilding');

    expect(launch(dir, 'synth', '--help').stderr).toBe('');

    rmSync(join(dir, 'dist', 'check.js'));
    const missing = launch(dir, 'check', '--help');
    expect(missing.stderr).toContain('build: dist/check.js is missing; rebuilding');
    expect(missing.stdout).toMatch(/^Usage: npm run check/);
  });

  it('a changed schema gets a new precompiled validator, the old one goes', () => {
    // The schema is composed (generators/schema/): a changed description in the core is a new schema.
    const core = join(dir, 'generators', 'schema', 'core.ts');
    const before = 'Where the GitOps engine reads this repository.';
    writeFileSync(core, readFileSync(core, 'utf8').replace(before, 'Where the GitOps engine reads this repository (edited).'));
    expect(launch(dir, 'synth', '--help').stderr).toContain('rebuilding');
    const text = environmentSchemaText().replace(before, 'Where the GitOps engine reads this repository (edited).');
    expect(readdirSync(join(dir, 'dist', 'ajv'))).toStrictEqual([precompiledName(text)]);
  });

  it('refuses a bundle holding two commands (both would run, the bundle is process.argv[1] for each)', () => {
    writeFileSync(join(dir, 'generators', 'cli', 'twice.ts'), "import { main } from './synth.js';\nexport const again = main;\n");
    const r = launch(dir, 'synth', '--help');
    expect(r.code).toBe(70);
    expect(r.stderr).toContain('build failed: dist/twice.js bundles generators/cli/synth.ts');
    rmSync(join(dir, 'generators', 'cli', 'twice.ts'));
    expect(launch(dir, 'synth', '--help').code).toBe(0);
  });

  it('an unknown command is refused with the list', () => {
    const r = launch(dir, 'synht');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^usage: node generators\/build\/launch\.mjs <command> \[args\]; commands: .*\bsynth\b/);
  });
});

describe('the project root, from the sources and from a bundle', () => {
  it('is the nearest directory above with package.json and generators/', () => {
    expect(findProjectRoot(join(ROOT, 'generators', 'lib'))).toBe(ROOT);
    expect(findProjectRoot(join(ROOT, 'dist'))).toBe(ROOT);
    const outside = mkdtempSync(join(tmpdir(), 'odp-noroot-'));
    expect(() => findProjectRoot(outside)).toThrow(/^no project root \(a directory with package\.json and generators\/\) at or above /);
    rmSync(outside, { recursive: true, force: true });
  });
});

describe('the precompiled environment validator', () => {
  it('is named by the schema text (another schema, another file)', () => {
    const text = readFileSync(ENVIRONMENT_SCHEMA_PATH, 'utf8');
    expect(precompiledName(text)).toMatch(/^environment-[0-9a-f]{16}\.cjs$/);
    expect(precompiledName(text)).toBe(precompiledName(text));
    expect(precompiledName(text + ' ')).not.toBe(precompiledName(text));
  });

  it('gives the same diagnostics as the validator compiled at run time, on every invalid fixture', () => {
    const text = readFileSync(ENVIRONMENT_SCHEMA_PATH, 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'odp-ajv-'));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const file = join(dir, precompiledName(text));
    writeFileSync(file, environmentValidatorCode(text));
    const standalone = loadPrecompiledValidator(file);
    const runtime = compileEnvironmentValidator(text).validate;
    // Every invalid fixture, and the fixture base with schema mistakes of each kind the messages treat apart.
    const base = readFileSync(join(FIXTURES, '_fixture.yaml'), 'utf8');
    const mistakes: [string, string][] = [
      ['region: eu-west-1', 'region: 42'],
      ['distribution: talos', 'distribution: talso'],
      ['podCIDR: 10.244.0.0/16', 'podCIDR: 10.244.0.0/33'],
      ['role: worker', 'role: wroker\n    extra: 1'],
      ['  name: fixture\n', ''],
      ['git: {', 'nodepools: []\ngit: {'],
    ];
    const cases = [
      ...readdirSync(join(FIXTURES, 'invalid')).filter((x) => x.endsWith('.yaml')).map((f) => ({ what: f, ...fixtureSources('invalid', f) })),
      ...[...mistakes.map((m) => [m]), mistakes].map((edits, i) => {
        const { sources } = fixtureSources('valid', readdirSync(join(FIXTURES, 'valid')).find((f) => f.endsWith('.yaml'))!);
        sources.set('environments/schema-case.yaml', edits.reduce((t, [a, b]) => t.replace(a, b), base));
        sources.set('environments/schema-case.ssm.lock.json', sources.get('environments/_fixture.ssm.lock.json')!);
        return { what: `schema mistake ${i}`, name: 'schema-case', sources };
      }),
    ];
    let withErrors = 0;
    for (const c of cases) {
      const { env } = resolveEnvironment(c.name, c.sources);
      if (!env) continue;
      const expected = validateSchema(env, runtime);
      expect(validateSchema(env, standalone), c.what).toStrictEqual(expected);
      if (expected.length > 0) withErrors++;
      if (c.name === 'schema-case') expect(expected.length, c.what).toBeGreaterThan(0);
    }
    expect(withErrors).toBeGreaterThanOrEqual(mistakes.length + 1 + 2);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("V8's compile cache (generators/build/compile-cache.mjs)", () => {
  const withCache = { enableCompileCache: () => undefined };
  it('goes to node_modules/.cache/odp-gitops/v8 where Node has it (>= 22.8), else to the folder the user set', () => {
    expect(compileCacheDir('/p', {}, withCache)).toBe(join('/p', 'node_modules', '.cache', 'odp-gitops', 'v8'));
    expect(compileCacheDir('/p', { NODE_COMPILE_CACHE: '/elsewhere' }, withCache)).toBe('/elsewhere');
  });
  it('is off on a Node without it (20) and when the user turned it off', () => {
    expect(compileCacheDir('/p', {}, {})).toBeUndefined();
    expect(compileCacheDir('/p', { NODE_DISABLE_COMPILE_CACHE: '1' }, withCache)).toBeUndefined();
  });
  it('the launcher turns it on for its thread and the worker threads it starts (Node >= 22.8), and leaves Node 20 as it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'odp-ccache-'));
    try {
      // What the launcher does, then a worker thread reporting its own cache folder.
      const script = `
        import module from 'node:module';
        import { Worker } from 'node:worker_threads';
        import { enableCompileCache } from ${JSON.stringify(join(ROOT, 'generators/build/compile-cache.mjs'))};
        const set = enableCompileCache(${JSON.stringify(dir)});
        const main = module.getCompileCacheDir?.();
        const w = new Worker("Promise.all([import('node:module'), import('node:worker_threads')]).then(([m, t]) => t.parentPort.postMessage(m.default.getCompileCacheDir?.() ?? null));", { eval: true });
        w.on('message', (worker) => { process.stdout.write(JSON.stringify({ set: set ?? null, main: main ?? null, worker })); w.terminate(); });
      `;
      const env = { ...process.env };
      delete env.NODE_COMPILE_CACHE;
      delete env.NODE_DISABLE_COMPILE_CACHE;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
      expect(r.stderr).toBe('');
      const seen = JSON.parse(r.stdout) as { set: string | null; main: string | null; worker: string | null };
      const expected = join(dir, 'node_modules', '.cache', 'odp-gitops', 'v8');
      if (typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function') {
        expect(seen.set).toBe(expected);
        expect(seen.main?.startsWith(expected)).toBe(true);
        expect(seen.worker?.startsWith(expected)).toBe(true);
      } else {
        expect(seen).toEqual({ set: null, main: null, worker: null });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
