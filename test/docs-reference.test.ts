/**
 * The generated reference (docs/reference/, generators/docs/): its pieces on small inputs, and the
 * whole flow in a scratch copy of the generator: `npm run check` passes on the committed pages,
 * fails naming the stale page after the schema changes, and passes again after `npm run docs`.
 * The generator reads the test fixtures (examples and valid environments), never environments/.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPage } from '../generators/docs/cli.js';
import { defaultOf, environmentPage, exampleAt, type SchemaNode } from '../generators/docs/environment.js';
import { layoutPage, LayoutDescriptionError, readLayoutDescriptions, renderExamples, type LayoutDescription } from '../generators/docs/layout.js';
import { code, fence, hardWrap, wrap } from '../generators/docs/markdown.js';
import { extractRules, rulesPage } from '../generators/docs/rules.js';
import type { SourceFile } from '../generators/docs/source-index.js';
import { listEnvironmentNames, readEnvironmentSources } from '../generators/load/loader.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { RENDERED_DIR, writeEnvironment, writeFleetReadme } from '../generators/write/writer.js';
import { preparedRow } from '../generators/fleet/prepared.js';
import { renderFleetMatrix } from '../generators/fleet/matrix.js';
import { EXAMPLES, ROOT, synthDates } from './helpers.js';

const source = (path: string, text: string): SourceFile => ({ path, sf: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS) });

describe('rule ids read off the code', () => {
  it('a report call: the id, its message (run-time parts as placeholders) and its hint; one entry per call', () => {
    const uses = extractRules([
      source(
        'generators/validate/a.ts',
        `type Reporter = (rule: string, path: string[], message: string, opts?: { hint?: string; severity?: 'error' | 'warning' }) => void;
         type Rule = (ctx: { input: { name: string } }, report: Reporter) => void;
         const first: Rule = ({ input }, report) => { report('name-long', ['name'], \`name '\${input.name}' is too long\`, { hint: 'shorten it' }); };
         const second: Rule = (ctx, report) => { const hint = 'write it in lower case'; report('name-long', ['name'], 'upper case', { hint, severity: 'warning' }); };`,
      ),
    ]);
    expect(uses).toStrictEqual([
      { id: 'name-long', file: 'generators/validate/a.ts', severity: 'error', messages: ["name '‹name›' is too long"], hints: ['shorten it'] },
      { id: 'name-long', file: 'generators/validate/a.ts', severity: 'warning', messages: ['upper case'], hints: ['write it in lower case'] },
    ]);
  });

  it('wrappers: a prefix built from the rule parameter, a typed object’s field, a switch case, a Diagnostic object', () => {
    const uses = extractRules([
      source(
        'generators/x/checks.ts',
        `interface Spec { rule: string; product: string }
         const SPEC_A: Spec = { rule: 'alpha', product: 'Alpha' };
         const SPEC_B: Spec = { rule: 'beta', product: 'Beta' };
         export function checkConfig(spec: Spec, out: unknown[]) {
           const rendered = \`\${spec.rule}-rendered\`;
           out.push({ severity: 'error', rule: rendered, message: \`a \${spec.product} config must be a map\` });
         }
         export function checkDocs(out: unknown[]) {
           const report = (rule: string, message: string, hint?: string) => out.push({ severity: 'error', rule: \`docs.\${rule}\`, message, hint });
           report('persist', 'persist must not be false', 'remove it');
         }
         export function schemaError(e: { keyword: string }) {
           const base = { severity: 'error' as const, rule: \`schema.\${e.keyword}\` };
           switch (e.keyword) {
             case 'type': return { ...base, message: 'expected a string' };
             default: return { ...base, message: 'is invalid' };
           }
         }`,
      ),
    ]);
    const ids = uses.map((u) => u.id);
    expect(ids).toStrictEqual(['alpha-rendered', 'beta-rendered', 'docs.persist', 'schema.type', 'schema.‹keyword›']);
    expect(uses.find((u) => u.id === 'alpha-rendered')!.messages).toStrictEqual(['a ‹product› config must be a map']);
    expect(uses.find((u) => u.id === 'docs.persist')!.hints).toStrictEqual(['remove it']);
  });

  it('finds the rules of the generator itself, wherever they live', () => {
    const files = ['generators/validate/rules-workloads.ts', 'generators/distributions/talos/checks.ts', 'generators/validate/rendered/policies.ts', 'generators/validate/rendered/tree.ts', 'generators/validate/rules.ts'];
    const uses = extractRules(files.map((f) => source(f, readFileSync(join(ROOT, f), 'utf8'))));
    const ids = new Set(uses.map((u) => u.id));
    for (const id of ['workload-image-pinned', 'workload-requests', 'talos.persist', 'policy.pinned-images']) expect(ids, id).toContain(id);
    const page = rulesPage(uses).content;
    expect(page).toContain('### `workload-image-pinned`');
    expect(page).toMatch(/^## Contents$/m);
  });
});

describe('environment fields from the schema', () => {
  const schema: SchemaNode = {
    description: 'An environment.',
    type: 'object',
    properties: {
      name: { $ref: '#/$defs/dnsLabel', description: 'Environment name.' },
      cluster: {
        type: 'object',
        required: ['kind'],
        properties: {
          kind: { enum: ['a', 'b'], description: 'a (default) or b.' },
          size: { type: 'integer', minimum: 1, description: 'Nodes (default 3).' },
        },
      },
      pools: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, count: { type: 'integer' } } } },
    },
    $defs: { dnsLabel: { type: 'string', pattern: '^[a-z]+$', description: 'A DNS label.' } },
  };

  it('every field with its type, whether required, allowed values, default, example and description', () => {
    const page = environmentPage(schema, [{ file: 'test/fixtures/x.yaml', data: { name: 'dev', cluster: { kind: 'b', size: 5 }, pools: [{ name: 'p', count: 2 }] } }]).content;
    for (const heading of ['## name', '## cluster', '### `cluster.kind`', '### `cluster.size`', '## pools', '### `pools[].count`', '## Value types', '### dnsLabel'])
      expect(page, heading).toContain(`\n${heading}\n`);
    expect(page).toContain('- Type: string, required\n- Allowed: one of `a`, `b`\n- Default: `a`\n- Example: `b` (`test/fixtures/x.yaml`)');
    expect(page).toContain('- Type: integer\n- Allowed: at least 1\n- Default: 3\n- Example: `5`');
    expect(page).toContain('- Type: [dnsLabel](#dnslabel)');
  });

  it('a single-key map value type says how it is written, its key\'s rule and its key\'s text (audit15: the page never said { secret: /name })', () => {
    const refs: SchemaNode = {
      type: 'object',
      properties: { password: { $ref: '#/$defs/secretRef' } },
      $defs: { secretRef: { type: 'object', additionalProperties: false, required: ['secret'], properties: { secret: { type: 'string', pattern: '^/[a-z/]+$', description: 'Name of an SSM SecureString.' } } } },
    };
    const page = environmentPage(refs, []).content;
    expect(page).toContain('### secretRef\n\n- Type: map\n- Allowed: no other keys\n- Written: `{ secret: … }`\n- Allowed: `secret` matching `^/[a-z/]+$`\n\nName of an SSM SecureString.\n');
  });

  it('defaults as the descriptions state them, examples from list items and map entries', () => {
    expect(defaultOf({ description: 'Pods (default 2). With autoscaling …' })).toBe('2');
    expect(defaultOf({ description: 'Limits default to: memory = the request' })).toBeUndefined();
    expect(defaultOf({ enum: ['internal', 'internet-facing'], description: 'internal (default) or internet-facing.' })).toBe('`internal`');
    expect(exampleAt([{ file: 'f', data: { addons: { x: {}, y: { chart: { version: '1.2.3' } } } } }], 'addons.<name>.chart.version')).toStrictEqual({ file: 'f', value: '1.2.3' });
  });
});

describe('the rendered layout from a render of the examples', () => {
  let examples: ReturnType<typeof renderExamples>;
  let descriptions: Map<string, LayoutDescription>;
  beforeAll(() => {
    examples = renderExamples(ROOT);
    descriptions = readLayoutDescriptions(ROOT);
  });

  it('every path pattern the examples produce has a description, and every description a pattern', () => {
    const page = layoutPage(examples, descriptions).content;
    expect(page).toContain('`rendered/<env>/values/<unit>.yaml` (every environment)');
    expect(page).toContain('`rendered/<env>/talos/<node-or-pool>.yaml` (when `cluster.distribution` is `talos`)');
    expect(page).toContain('`rendered/<env>/flux/flux-instance.yaml` (when `gitops` is `flux`)');
  });

  it('refuses a pattern without a description, and a description without a pattern', () => {
    const missing = new Map(descriptions);
    missing.delete('values/<unit>.yaml');
    expect(() => layoutPage(examples, missing)).toThrow(/no description for values\/<unit>\.yaml/);
    const extra = new Map(descriptions).set('nothing/<here>.yaml', { text: 'a path no render produces' });
    expect(() => layoutPage(examples, extra)).toThrow(LayoutDescriptionError);
    expect(() => layoutPage(examples, extra)).toThrow(/no rendered path matches nothing\/<here>\.yaml/);
  });

  it('a declared condition is printed, and refused when it does not hold exactly in the examples having the pattern', () => {
    // Inferred, replace-server.sh once read "when cluster.kubernetesVersion is 1.35.7" (the only RKE2 etcd example's version).
    const page = layoutPage(examples, descriptions).content;
    expect(page).toContain('`rendered/<env>/rke2/replace-server.sh` (when `cluster.distribution` is `rke2` and `cluster.datastore.type` is\n  `etcd`)');
    const declared = descriptions.get('rke2/replace-server.sh')!;
    expect(declared.when).toStrictEqual({ 'cluster.distribution': 'rke2', 'cluster.datastore.type': 'etcd' });
    const stale = new Map(descriptions).set('rke2/replace-server.sh', { ...declared, when: { 'cluster.distribution': 'rke2' } });
    expect(() => layoutPage(examples, stale)).toThrow(LayoutDescriptionError);
    expect(() => layoutPage(examples, stale)).toThrow(/rke2\/replace-server\.sh: its declared condition is not when it is rendered: .*\(has not, the condition holds\)/);
  });
});

describe('markdown helpers and the CLI page', () => {
  it('wrap keeps code spans whole; fence wraps long lines with ↪; code spans hold backticks', () => {
    expect(wrap('aaa `b c d` e', '', '', 8)).toStrictEqual(['aaa', '`b c d`', 'e']);
    expect(hardWrap('x'.repeat(130))).toStrictEqual(['x'.repeat(120), `↪ ${'x'.repeat(10)}`]);
    expect(fence('', '```\n')).toStrictEqual(['````', '```', '````']);
    expect(code('a`b')).toBe('``a`b``');
  });

  it('the CLI page: each command’s --help, then the other scripts', () => {
    const page = cliPage(
      [
        { name: 'synth', command: 'node generators/build/launch.mjs synth', entry: 'synth' },
        { name: 'test', command: 'vitest run' },
      ],
      new Map([['synth', 'Usage: npm run synth\n']]),
    ).content;
    expect(page).toContain('## npm run synth\n\n```text\nUsage: npm run synth\n```');
    expect(page).toContain('- `npm run test`: `vitest run`');
  });
});

describe('the reference generator names no distribution or engine', () => {
  it('generators/docs/ is core code', () => {
    const dir = join(ROOT, 'generators', 'docs');
    const found = readdirSync(dir).flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .flatMap((l, i) => (/talos|k3s|rke2|flux|argo/i.test(l) ? [`${f}:${i + 1}: ${l.trim()}`] : [])),
    );
    expect(found).toStrictEqual([]);
  });
});

/** A copy of the generator with its docs and the fixtures the reference is made from, and the examples as its environments, rendered. */
function scratchRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'odp-docs-'));
  for (const p of ['generators', 'schemas', 'docs', 'package.json', 'package-lock.json', 'tsconfig.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  mkdirSync(join(dir, 'test', 'fixtures'), { recursive: true });
  for (const f of readdirSync(join(ROOT, 'test', 'fixtures'))) if (['examples', 'valid'].includes(f) || f.startsWith('_')) cpSync(join(ROOT, 'test', 'fixtures', f), join(dir, 'test', 'fixtures', f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  cpSync(join(EXAMPLES, 'environments'), join(dir, 'environments'), { recursive: true });
  const sources = readEnvironmentSources(dir);
  const rows = [];
  for (const name of listEnvironmentNames(sources)) {
    const r = prepareEnvironment(name, sources, { dates: synthDates(dir, name) });
    if (!r.prepared) throw new Error(`${name} does not render`);
    writeEnvironment(join(dir, RENDERED_DIR), name, renderEnvironment(r.prepared));
    rows.push(preparedRow(r.prepared));
  }
  writeFleetReadme(join(dir, RENDERED_DIR), renderFleetMatrix(rows)); // the fleet matrix, as synth writes it
  return dir;
}

describe('npm run check in a scratch copy of the generator', () => {
  let dir: string;
  const launch = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['generators/build/launch.mjs', ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  beforeAll(() => {
    dir = scratchRepository();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on the committed pages, fails naming the stale page after a schema change, passes after npm run docs', () => {
    const current = launch('check');
    expect(current.out).toContain('rendered/ and docs/reference/ are up to date');
    expect(current.code).toBe(0);

    const schemaFile = join(dir, 'schemas', 'environment.schema.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { properties: { description: { description?: string } } };
    schema.properties.description.description = 'What this environment is for, in one sentence.';
    writeFileSync(schemaFile, JSON.stringify(schema, null, 2) + '\n');
    const stale = launch('check');
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(/^stale +docs\/reference\/environment\.md +\(generated from the sources/m);
    expect(stale.out).toContain('docs/reference/ is out of date: run npm run docs and commit the result.');
    expect(stale.out).not.toMatch(/^stale +docs\/reference\/(rules|cli|diff-format)\.md/m);

    const docs = launch('docs');
    expect(docs.code).toBe(0);
    expect(docs.out).toContain('wrote    docs/reference/environment.md');
    expect(readFileSync(join(dir, 'docs', 'reference', 'environment.md'), 'utf8')).toContain('What this environment is for, in one sentence.');
    expect(launch('check').code).toBe(0);
  }, 300_000);
});
