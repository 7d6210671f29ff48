/**
 * The build: every command (generators/cli/*.ts and the commands of the distributions and engines,
 * generators/{distributions,engines}/<name>/commands/*.ts) bundled by esbuild into dist/<command>.js
 * (one output per entry, same base name; npm packages stay external but BUNDLED_PACKAGES), the environment schema's ajv
 * validator compiled to standalone code in dist/ajv/, the vendored bundles in dist/vendor/
 * (VENDOR_BUNDLES), and dist/.stamp: a hash of everything the
 * output depends on. `npm ci` runs it (the `prepare` script); the launcher (launch.mjs) runs it
 * again whenever the stamp no longer matches, so the compiled commands never run stale code.
 *
 * Plain JavaScript on purpose: it has to run before anything is compiled. Keep it small.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { templatesPlugin } from './templates.mjs';

/** The build directory below the project root (gitignored; generators/lib/project-root.ts names it too). */
export const BUILD_DIR = 'dist';
const STAMP = '.stamp';
/** How the build writes what it keeps across builds (vendored bundles, the validator): a change rebuilds them. 2: ASCII only (asciiSource). */
const OUTPUT_FORMAT = 'output 2';

/** The repository this file belongs to. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What the output depends on: every file below these directories, and these files. */
const INPUT_DIRS = ['generators', 'schemas'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json'];

function listFiles(root, dir) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? listFiles(root, join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
}

/**
 * A hash of the inputs' paths and contents (contents, not times: a checkout, a restore or an
 * editor keeping mtimes cannot fool it). About 15 ms for the whole generator.
 */
export function inputsHash(root = ROOT) {
  return hashFiles(root, [...INPUT_DIRS.flatMap((d) => listFiles(root, d)), ...INPUT_FILES]);
}

/**
 * What the standalone validator is generated from: the schema's composition (generators/schema/) and
 * the fragments and registry entries of the distributions and engines, the committed composition, the
 * options and ajv. Its file name is a hash of the composed schema, the options and ajv's version
 * (generators/validate/schema.ts), checked at run time, so skipping the step when these did not change
 * can at worst cost a compilation at run time, never a wrong validator.
 */
const ajvInputs = (root) => [
  'schemas/environment.schema.json',
  ...listFiles(root, 'generators/schema'),
  ...['distributions', 'engines'].flatMap((kind) => listFiles(root, join('generators', kind)).filter((f) => /(^|\/)(schema|index|registry)\.ts$/.test(f))),
  'generators/validate/schema.ts',
  'generators/build/precompile.ts',
  'package-lock.json',
];

/**
 * Packages bundled, with their dependencies, into one CommonJS file each, dist/vendor/<name>.cjs,
 * which the commands load on first use instead of the packages (generators/lib/lazy.ts,
 * vendoredModules, with the same map): the file exports `{ <key>: require(<package>) }`. cdk8s-plus-28
 * with cdk8s, constructs and their dependencies is ~100 CommonJS files and a 2.7 MB generated k8s.js
 * that is mostly doc comments: as one file it loads in about half the time (one compile, no module
 * resolution per file; the bundle drops the comments), paid once per thread that renders a workload.
 * Not minified (names and stack traces stay readable). cdk8s' Yaml.load of a URL (a helper script
 * found through __dirname) would not work from the bundle; nothing here calls it.
 */
export const VENDOR_BUNDLES = {
  cdk8s: { cdk8s: 'cdk8s', kplus: 'cdk8s-plus-28' },
  // The compiler, for a template build/templates.mjs would not recognise (none today: a test keeps it
  // so), and the runtime alone for the precompiled ones: ~30 files and source-map's ~10 as one file each.
  handlebars: { handlebars: 'handlebars' },
  'handlebars-runtime': { runtime: 'handlebars/runtime' },
};

/**
 * Packages bundled into every command's bundle instead of staying external: `yaml` is read by every
 * command at start-up and by every worker thread, and its ~60 CommonJS files cost 60–90 ms to resolve
 * and load against 15–20 ms bundled (Node 20, this machine). Everything else stays external (loaded
 * from node_modules, or from dist/vendor/ on first use).
 */
export const BUNDLED_PACKAGES = ['yaml'];

/** esbuild plugin: every bare import external except BUNDLED_PACKAGES (what `packages: 'external'` does, with exceptions). */
const externalPackagesExcept = (bundled) => ({
  name: 'external-packages-except',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      if (bundled.includes(name) || args.importer.includes('/node_modules/')) return undefined;
      return { path: args.path, external: true };
    });
  },
});

/** What the vendored bundles are built from: the locked package versions and the map itself. */
const vendorHash = (root) => createHash('sha256').update(hashFiles(root, ['package-lock.json'])).update(JSON.stringify(VENDOR_BUNDLES)).update(OUTPUT_FORMAT).digest('hex');

/** The source of vendored bundle `name`: an object of the packages' exports. */
export const vendorSource = (name) =>
  `module.exports = {\n${Object.entries(VENDOR_BUNDLES[name]).map(([k, spec]) => `  ${JSON.stringify(k)}: require(${JSON.stringify(spec)}),`).join('\n')}\n};\n`;

/** Bundle vendored bundle `name` into `outfile`. */
export async function buildVendor(esbuild, root, name, outfile) {
  await esbuild.build({
    absWorkingDir: root,
    stdin: { contents: vendorSource(name), resolveDir: root, sourcefile: `vendor-${name}.cjs`, loader: 'js' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    legalComments: 'none',
    logLevel: 'silent',
  });
}

/**
 * `text` with every character outside ASCII written as a `\uXXXX` escape. Node hands V8 a source
 * with any non-ASCII character (here only in comments and two regular expressions: `…`, `→`, `‹`)
 * through its full UTF-8 decoder and V8 then scans it as a two-byte string: the 1.8 MB command
 * bundles, the vendored cdk8s and the standalone validator cost ~3 % more instructions per run to
 * load that way (issue 23, sixth pass). The escape reads the same in a string, a template or a
 * regular expression literal and is inert in a comment; only a tagged template's raw strings would
 * see it, and no bundled code has one with such a character.
 */
export const asciiSource = (text) => text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Rewrite file `path` in place as asciiSource (it is not in use yet: a scratch file, or the validator just written). */
function asciiFile(path) {
  const text = readFileSync(path, 'utf8');
  const ascii = asciiSource(text);
  if (ascii === text) return;
  writeFileSync(`${path}.${process.pid}`, ascii);
  renameSync(`${path}.${process.pid}`, path);
}

function hashFiles(root, files) {
  const h = createHash('sha256');
  for (const f of files.filter((x) => existsSync(join(root, x)))) {
    const content = readFileSync(join(root, f));
    h.update(`${f}\0${content.length}\0`).update(content);
  }
  return h.digest('hex');
}

const tsFiles = (dir) => (existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')).map((e) => e.name) : []);

/**
 * The commands, name → source file (repo-relative): generators/cli/*.ts (shared modules such as
 * common.ts are bundled too; harmless), and the commands a distribution or an engine contributes,
 * generators/{distributions,engines}/<name>/commands/*.ts (their helpers live in subfolders of
 * commands/). A name is one command: two files of one name are refused.
 */
export function commandFiles(root = ROOT) {
  const out = new Map();
  const add = (dir) => {
    for (const f of tsFiles(join(root, dir))) {
      const name = f.slice(0, -3);
      if (out.has(name)) throw new Error(`two commands named ${name}: ${out.get(name)} and ${dir}/${f}`);
      out.set(name, `${dir}/${f}`);
    }
  };
  add('generators/cli');
  for (const kind of ['distributions', 'engines']) {
    const base = join(root, 'generators', kind);
    if (!existsSync(base)) continue;
    for (const e of readdirSync(base, { withFileTypes: true }).filter((x) => x.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) add(`generators/${kind}/${e.name}/commands`);
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The command names (see commandFiles). */
export function entries(root = ROOT) {
  return [...commandFiles(root).keys()];
}

function readStamp(out) {
  try {
    return JSON.parse(readFileSync(join(out, STAMP), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why the build in `root` must be redone before running, or undefined when it is current. */
export function staleReason(root = ROOT) {
  const out = join(root, BUILD_DIR);
  const stamp = readStamp(out);
  if (!stamp) return `no build in ${BUILD_DIR}/`;
  if (stamp.inputs !== inputsHash(root)) return 'generators/, schemas/ or the package files changed since the last build';
  const missing = entries(root).find((e) => !existsSync(join(out, `${e}.js`)));
  if (missing) return `${BUILD_DIR}/${missing}.js is missing`;
  const vendor = Object.keys(VENDOR_BUNDLES).find((v) => !existsSync(join(out, 'vendor', `${v}.cjs`)));
  if (vendor) return `${BUILD_DIR}/vendor/${vendor}.cjs is missing`;
  return undefined;
}

/**
 * A command's code is bundled with everything it imports, so `import.meta.url` is the bundle's for
 * all of it: a second module with its own "am I the main module?" test (`process.argv[1]`) in the
 * same bundle would run too. Refuse such a bundle.
 */
export function mainGuardConflicts(metafile, root = ROOT) {
  const out = [];
  for (const [file, o] of Object.entries(metafile.outputs)) {
    if (!o.entryPoint) continue;
    const guarded = Object.keys(o.inputs).filter((i) => !i.includes('node_modules') && i !== o.entryPoint && /process\.argv\[1\]/.test(readFileSync(join(root, i), 'utf8')));
    if (guarded.length > 0) out.push(`${BUILD_DIR}/${basename(file)} bundles ${guarded.join(', ')}, which would run too (its main-module test sees the bundle as process.argv[1]); move the shared code into a module without one`);
  }
  return out;
}

/** Build into a scratch directory, then move each file into place (a concurrent run sees old or new files, never half of one); the stamp last. */
export async function build(root = ROOT, { log = (line) => process.stderr.write(line + '\n') } = {}) {
  const started = performance.now();
  const inputs = inputsHash(root);
  const ajvHash = `${hashFiles(root, ajvInputs(root))}:${OUTPUT_FORMAT}`;
  const out = join(root, BUILD_DIR);
  const ajvDir = join(out, 'ajv');
  const previous = readStamp(out);
  const precompile = previous?.ajvInputs !== ajvHash || !existsSync(ajvDir) || !readdirSync(ajvDir).some((f) => f.endsWith('.cjs'));
  const vendorInputs = vendorHash(root);
  const vendorDir = join(out, 'vendor');
  const vendors = Object.keys(VENDOR_BUNDLES).filter((v) => previous?.vendorInputs !== vendorInputs || !existsSync(join(vendorDir, `${v}.cjs`)));
  const scratch = join(out, `.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  try {
    const esbuild = await import('esbuild');
    const commands = commandFiles(root);
    const names = [...commands.keys()];
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [
        ...names.map((n) => ({ in: commands.get(n), out: n })),
        ...(precompile ? [{ in: 'generators/build/precompile.ts', out: '.tools/precompile' }] : []),
      ],
      outdir: scratch,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',

      // No source maps: they doubled the build time; a stack trace (--debug) names dist/<command>.js,
      // whose `// generators/…` comments say which source each part comes from.
      metafile: true,
      logLevel: 'silent',
      // The Handlebars templates precompiled into the bundles (templates.mjs).
      plugins: [externalPackagesExcept(BUNDLED_PACKAGES), templatesPlugin()],
      // A CommonJS package bundled into an ES module still calls `require` for Node's built-ins
      // (yaml: `require('process')`); esbuild's shim uses a `require` in scope when there is one.
      banner: { js: "import { createRequire as __odpCreateRequire } from 'node:module';\nconst require = __odpCreateRequire(import.meta.url);" },
    });
    for (const v of vendors) await buildVendor(esbuild, root, v, join(scratch, '.vendor', `${v}.cjs`));
    for (const f of readdirSync(scratch)) if (f.endsWith('.js')) asciiFile(join(scratch, f));
    for (const v of vendors) asciiFile(join(scratch, '.vendor', `${v}.cjs`));
    const conflicts = mainGuardConflicts(result.metafile, root);
    if (conflicts.length > 0) throw new Error(conflicts.join('\n'));
    // The environment schema's validator as standalone code, named by the hash of what it is compiled from.
    if (precompile) {
      const { writePrecompiled } = await import(pathToFileURL(join(scratch, '.tools', 'precompile.js')).href);
      asciiFile(writePrecompiled(ajvDir));
    }
    const produced = new Set();
    if (vendors.length > 0) mkdirSync(vendorDir, { recursive: true });
    for (const v of vendors) renameSync(join(scratch, '.vendor', `${v}.cjs`), join(vendorDir, `${v}.cjs`));
    if (existsSync(vendorDir)) for (const f of readdirSync(vendorDir)) if (!Object.hasOwn(VENDOR_BUNDLES, f.replace(/\.cjs$/, ''))) rmSync(join(vendorDir, f), { force: true });
    for (const f of readdirSync(scratch)) {
      if (f === '.tools' || f === '.vendor') continue;
      renameSync(join(scratch, f), join(out, f));
      produced.add(f);
    }
    // Bundles of commands that no longer exist go.
    for (const f of readdirSync(out)) if (/\.js(\.map)?$/.test(f) && !produced.has(f)) rmSync(join(out, f), { force: true });
    writeFileSync(join(out, `${STAMP}.${process.pid}`), JSON.stringify({ inputs, ajvInputs: ajvHash, vendorInputs, esbuild: esbuild.version }) + '\n');
    renameSync(join(out, `${STAMP}.${process.pid}`), join(out, STAMP));
    log(`build: ${names.length} commands bundled into ${BUILD_DIR}/${vendors.length > 0 ? `, vendored ${vendors.join(', ')}` : ''} (${((performance.now() - started) / 1000).toFixed(2)} s)`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The bundle of `command`, rebuilt first when it is stale (or missing). */
export async function ensureBuilt(command, root = ROOT, options = {}) {
  const reason = staleReason(root);
  if (reason) {
    (options.log ?? ((line) => process.stderr.write(line + '\n')))(`build: ${reason}; rebuilding`);
    await build(root, options);
  }
  return join(root, BUILD_DIR, `${command}.js`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await build(ROOT);
  } catch (e) {
    process.stderr.write(`build failed: ${e.message}\n`);
    process.exitCode = 1;
  }
}
