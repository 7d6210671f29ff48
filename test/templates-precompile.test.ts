/**
 * The build precompiles the Handlebars templates into the bundles (generators/build/templates.mjs):
 * what it rewrites, what it leaves alone, and that a precompiled template writes what the same
 * template compiled at run time writes (helpers, strict mode and no HTML escaping included).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { precompileTemplates } from '../generators/build/templates.mjs';
import { compileTemplate } from '../generators/lib/templates.js';

const ROOT = join(import.meta.dirname, '..');

/** The spec the build passes for the first compileTemplate call of `text`. */
function specOf(text: string): unknown {
  const out = precompileTemplates(text).text;
  const call = out.indexOf('compileTemplate(`');
  const specStart = out.indexOf('`, ', call) + 3;
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

  it('recognise most of the generator\'s templates (the others compile at their first use)', () => {
    const files = ['generators/render/readme/overview.ts', 'generators/distributions/talos/readme.ts', 'generators/engines/argocd/readme.ts'];
    for (const f of files) expect(precompileTemplates(readFileSync(join(ROOT, f), 'utf8')).count, f).toBeGreaterThan(0);
  });
});
