/**
 * The build precompiles the Handlebars templates into the bundles (generators/build/templates.mjs):
 * what it rewrites, what it leaves alone, and that a precompiled template writes what the same
 * template compiled at run time writes (helpers, strict mode and no HTML escaping included).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { precompileTemplates } from '../generators/build/templates.mjs';
import { compileTemplate } from '../generators/lib/templates.js';

const ROOT = join(import.meta.dirname, '..');

/** The spec the build passes for the first compileTemplate call of `text` (a file at `path`). */
function specOf(text: string, path?: string): unknown {
  const out = precompileTemplates(text, undefined, path).text;
  const call = out.indexOf('compileTemplate(`');
  const specStart = out.indexOf('`, {"', call) + 3;
  return new Function(`return (${out.slice(specStart, out.lastIndexOf(')'))});`)();
}

const SOURCES = [
  'plain {{a}} & <b> "{{b}}"',
  '{{#if ok}}yes {{yaml v}}{{else}}no{{/if}} {{#each items}}[{{this}}]{{/each}} {{code c}} {{join items "/"}} {{#if (eq a "x")}}eq{{/if}}',
  'escaped \\`backticks\\` and a \\\\ backslash {{a}}',
];

describe('templates precompiled by the build', () => {
  it('write what the run-time compilation writes', () => {
    const context = { a: 'x', b: '<i>', ok: true, v: { k: 'on' }, items: ['p', 'q'], c: 'a`b' };
    for (const source of SOURCES) {
      const module = `const t = compileTemplate(\`${source}\`);`;
      const literal = new Function(`return \`${source}\`;`)() as string;
      const precompiled = compileTemplate(literal, specOf(module) as TemplateSpecification);
      expect(precompiled(context)).toBe(compileTemplate(literal)(context));
    }
  });

  it('stay strict: a missing value is an error, as when compiled at run time', () => {
    const literal = 'needs {{missing}}';
    const precompiled = compileTemplate(literal, specOf(`compileTemplate(\`${literal}\`)`) as TemplateSpecification);
    expect(() => precompiled({})).toThrow(/"missing" not defined/);
    expect(() => compileTemplate(literal)({})).toThrow(/"missing" not defined/);
  });

  it('leave alone a literal with substitutions, the definition and other calls', () => {
    const text = [
      'export function compileTemplate(source: string) {}',
      'const a = compileTemplate(`x ${y} {{z}}`);',
      'const b = other.compileTemplate(`{{z}}`);',
      'const c = compileTemplate(`{{z}}`, extra);',
      'const d = compileTemplate(`{{z}}`);',
    ].join('\n');
    const r = precompileTemplates(text);
    expect(r.count).toBe(1);
    expect(r.text.split('\n').slice(0, 4)).toEqual(text.split('\n').slice(0, 4));
    expect(r.text.split('\n')[4]).toMatch(/^const d = compileTemplate\(`\{\{z\}\}`, \{"compiler":/);
  });

  it('evaluate substitutions of constants: the file\'s own and those imported from a relative module, expressions on them included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'odp-templates-'));
    try {
      writeFileSync(join(dir, 'prelude.ts'), 'export const PRELUDE = `set -eu\nROOT={{root}}\n{{#each steps}}step {{this}}\n{{/each}}`;\n');
      const text = [
        "import { PRELUDE } from './prelude.js';",
        'const EXTRA = `extra {{who}}`;',
        'const t = compileTemplate(`#!/bin/sh\n${PRELUDE.replace(/^(ROOT=.*\\n)/m, (root) => `${root}${EXTRA}\\n`)}\nend {{who}}\n`);',
      ].join('\n');
      writeFileSync(join(dir, 'user.ts'), text);
      const r = precompileTemplates(text, undefined, join(dir, 'user.ts'));
      expect(r.count).toBe(1);
      const source = '#!/bin/sh\nset -eu\nROOT={{root}}\nextra {{who}}\n{{#each steps}}step {{this}}\n{{/each}}\nend {{who}}\n';
      const context = { root: '/r', who: 'me', steps: ['a', 'b'] };
      const precompiled = compileTemplate(source, specOf(text, join(dir, 'user.ts')) as TemplateSpecification);
      expect(precompiled(context)).toBe(compileTemplate(source)(context));
      expect(precompiled(context)).toBe('#!/bin/sh\nset -eu\nROOT=/r\nextra me\nstep a\nstep b\nend me\n');
      // Without the file's path the imported constant is unknown: left to compile at run time.
      expect(precompileTemplates(text).count).toBe(0);
      // A name some function could shadow (a parameter, a local of the same name), or not in CONSTANT_CASE: left too.
      const shadowed = ['const EXTRA = `x`;', 'function f(EXTRA: string) { return compileTemplate(`${EXTRA} {{a}}`); }'].join('\n');
      expect(precompileTemplates(shadowed, undefined, join(dir, 'user.ts')).count).toBe(0);
      const local = ['const EXTRA = `x`;', 'function f() { const EXTRA = `y`; return compileTemplate(`${EXTRA} {{a}}`); }'].join('\n');
      expect(precompileTemplates(local, undefined, join(dir, 'user.ts')).count).toBe(0);
      expect(precompileTemplates('const extra = `x`;\nconst t = compileTemplate(`${extra} {{a}}`);', undefined, join(dir, 'user.ts')).count).toBe(0);
      expect(precompileTemplates('const EXTRA = `x`;\nconst t = compileTemplate(`${EXTRA} {{a}}`);', undefined, join(dir, 'user.ts')).count).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recognise every template of the generator: no command compiles one at run time (nor loads Handlebars\' compiler)', () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(join(ROOT, d), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${d}/${e.name}`);
        else if (e.name.endsWith('.ts')) files.push(`${d}/${e.name}`);
      }
    };
    walk('generators');
    let total = 0;
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      const calls = [...text.matchAll(/(?<![\w.$]|function )compileTemplate\(`/g)].length;
      total += calls;
      expect(precompileTemplates(text, undefined, join(ROOT, f)).count, f).toBe(calls);
    }
    expect(total).toBeGreaterThan(20);
  });
});
