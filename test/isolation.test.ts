/**
 * The tool's tests never read the team's environments/ or rendered/: they run on the frozen copies
 * in test/fixtures/examples (and the other fixtures), so a new or changed environment in the
 * repository cannot break `npm test`. Two checks: a static scan of every test file, and a scratch
 * repository with one more valid environment that warns, on which the commands the suite runs
 * still pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, exampleRoot, FIXTURES } from './helpers.js';

const TEST_DIR = import.meta.dirname;
const DIRS = ['environments', 'rendered'].join('|');

/** What reading the repository's own environments/ or rendered/ looks like in a test file. */
const FORBIDDEN: readonly { what: string; re: RegExp }[] = [
  { what: 'a path below the checkout', re: new RegExp(`\\bROOT\\s*,\\s*['"\`](${DIRS})\\b`) },
  { what: 'a path below the checkout', re: new RegExp(`['"]\\.\\.(/|['"]\\s*,\\s*['"])(${DIRS})\\b`) },
  { what: 'the checkout as a command root', re: /['"]--root['"]\s*,\s*ROOT\b/ },
  { what: 'the checkout as a command root', re: /\bcli\(\s*['"][\w-]+['"]\s*,\s*ROOT\b/ },
  { what: 'the checkout read as a repository', re: /\b(readEnvironmentSources|readRenderedDir|readRenderedAtRef|renderWorkingTree|prepareAll|runBench|listFiles|defaultBase)\(\s*(ROOT|PROJECT_ROOT|process\.cwd\(\))(?!\w)/ },
  { what: 'the default root of the commands (the checkout)', re: /\bPROJECT_ROOT\b/ },
  { what: 'a path relative to the working directory', re: new RegExp(`\\b(readFileSync|readdirSync|existsSync|statSync|cpSync|listFiles|readRenderedDir|readEnvironmentSources)\\(\\s*['"\`](\\./)?(${DIRS})(/|['"\`])`) },
  { what: 'a command run in-process without --root (it would default to the checkout)', re: /\b(talosCli|main)\(\[(?![^\]]*['"]--root['"])[^\]]*\]/ },
];

export function forbiddenUses(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const f of FORBIDDEN) if (f.re.test(line)) out.push(`${i + 1}: ${f.what}: ${line.trim()}`);
  });
  return out;
}

const testFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'fixtures' ? [] : testFiles(join(dir, e.name))) : e.name.endsWith('.ts') && e.name !== 'isolation.test.ts' ? [join(dir, e.name)] : [],
  );

describe('no test reads the repository environments/ or rendered/', () => {
  it('the scan recognises the ways a test could', () => {
    const bad = [
      "cpSync(join(ROOT, 'environments'), dir)",
      "readFileSync(join(ROOT, 'rendered', env, f.path))",
      "join(import.meta.dirname, '..', 'environments')",
      "readFileSync('../rendered/dev/README.md')",
      "cli('check', ROOT)",
      "talosCli(['config', '--env', 'prod', '--root', ROOT])",
      "readRenderedDir(ROOT)",
      "readEnvironmentSources(process.cwd())",
      "readdirSync('environments')",
      "existsSync('rendered/dev')",
      "await main(['--env', 'dev'])",
      'const r = PROJECT_ROOT;',
    ];
    for (const b of bad) expect(forbiddenUses(b), b).toHaveLength(1);
    const fine = ["join(ROOT, 'schemas', 'charts')", "cli('check', renderedExamples())", "sources.set('environments/x.yaml', text)", "talosCli(['commands', '--root', renderedExamples()])", "join(ROOT, 'node_modules', '.bin', 'tsx')"];
    for (const f of fine) expect(forbiddenUses(f), f).toStrictEqual([]);
  });

  it('no test file does', () => {
    const files = testFiles(TEST_DIR);
    expect(files.length).toBeGreaterThan(20);
    const found = files.flatMap((f) => forbiddenUses(readFileSync(f, 'utf8')).map((u) => `${f.slice(TEST_DIR.length + 1)}:${u}`));
    expect(found).toStrictEqual([]);
  });
});

describe('a new environment in the repository does not concern the suite', () => {
  it('one more valid environment that warns: synth, check and validate pass, the warning names its rule', () => {
    const fixture = (f: string) => readFileSync(join(FIXTURES, f), 'utf8');
    const root = exampleRoot({
      extra: {
        '_fixture.yaml': fixture('_fixture.yaml'),
        'team-new.ssm.lock.json': fixture('_fixture.ssm.lock.json'),
        'team-new.yaml': `${fixture('valid/cilium-thirdparty.yaml').replace('name: cilium-thirdparty', 'name: team-new')}`,
      },
    });
    const synth = cli('synth', root);
    expect(synth.code, synth.stdout + synth.stderr).toBe(0);
    expect(synth.stderr).toMatch(/^environments\/team-new\.yaml:\d+:\d+  addons\.reloader\.values: warning: values of chart reloader 2\.2\.7 are not checked.*\[addon-values-unchecked\]$/m);
    expect(synth.stdout).toMatch(/^synth: 6 environments, \d+ files: \d+ written, 0 unchanged, 0 removed \(\d+\.\d s\)$/m);
    const check = cli('check', root);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^check: 6 environments, \d+ files: rendered\/ is up to date/m);
    const validate = cli('validate', root);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/^validate: 6 environments, \d+ rendered files: 0 errors, [1-9]\d* warnings?(?: \(\d+ acknowledged\))? \(\d+\.\d s\)$/m);
  }, 300_000);
});
