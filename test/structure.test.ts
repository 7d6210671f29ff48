/**
 * The layout's rules (issue 22), checked on the source: each distribution and engine is named only in
 * its own folder, imports between the folders follow the layers, and every file opens with a comment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { distributions } from '../generators/distributions/registry.js';
import { engines } from '../generators/engines/registry.js';
import { ROOT } from './helpers.js';

const GENERATORS = join(ROOT, 'generators');

/** Every file of generators/, repository-relative with forward slashes. */
function files(dir = GENERATORS): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [relative(ROOT, join(dir, e.name)).split('\\').join('/')]));
}
const ALL = files();
const text = (f: string): string => readFileSync(join(ROOT, f), 'utf8');

/**
 * How a name is spelled anywhere in a file, case-insensitively, comments included: the name itself,
 * and for Argo CD also with a space or hyphen ("Argo CD", "argo-cd").
 */
const SPELLINGS: Readonly<Record<string, RegExp>> = { argocd: /argo[\s-]?cd/i };
const spelling = (name: string): RegExp => SPELLINGS[name] ?? new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');

/** The only files outside a distribution's or engine's folder that may name it: the registry of its kind. */
const OWNERS = [
  ...distributions().map((d) => ({ name: d.name, home: `generators/distributions/${d.name}/`, registry: 'generators/distributions/registry.ts' })),
  ...engines().map((e) => ({ name: e.name, home: `generators/engines/${e.name}/`, registry: 'generators/engines/registry.ts' })),
];

describe('each distribution and engine is named only in its own folder', () => {
  it('the regexes: /talos/i, /k3s/i, /rke2/i, /flux/i and /argo[\\s-]?cd/i', () => {
    expect(OWNERS.map((o) => String(spelling(o.name)))).toStrictEqual(['/talos/i', '/k3s/i', '/rke2/i', '/argo[\\s-]?cd/i', '/flux/i']);
  });
  it.each(OWNERS)('$name: no file of generators/ outside $home and its registry mentions it', ({ name, home, registry }) => {
    const re = spelling(name);
    const mentions = ALL.filter((f) => !f.startsWith(home) && f !== registry).flatMap((f) =>
      text(f)
        .split('\n')
        .flatMap((line, i) => (re.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(mentions).toStrictEqual([]);
  });
});

/** The generators/ files a source file imports (relative specifiers of static and dynamic imports and re-exports). */
function importsOf(file: string): string[] {
  const src = text(file);
  const specs = [...src.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?\sfrom\s*'([^']+)'/g), ...src.matchAll(/\bimport\s*\(\s*'([^']+)'\s*\)/g), ...src.matchAll(/^import\s+'([^']+)'/gm)].map((m) => m[1]!);
  return specs
    .filter((s) => s.startsWith('.'))
    .map((s) => normalize(join(dirname(file), s)).split('\\').join('/').replace(/\.js$/, '.ts'));
}
const SOURCES = ALL.filter((f) => /\.(ts|mts|mjs)$/.test(f) && !f.endsWith('.d.mts'));
const IMPORTS = SOURCES.map((f) => ({ file: f, imports: importsOf(f) }));
const violations = (bad: (from: string, to: string) => boolean): string[] => IMPORTS.flatMap(({ file, imports }) => imports.filter((to) => bad(file, to)).map((to) => `${file} → ${to}`));

/** `distributions/<x>/` or `engines/<x>/` of a file, if any. */
const folderOf = (f: string): { kind: 'distributions' | 'engines'; name: string } | undefined => {
  const m = /^generators\/(distributions|engines)\/([^/]+)\//.exec(f);
  return m ? { kind: m[1] as 'distributions' | 'engines', name: m[2]! } : undefined;
};
const DISTRIBUTIONS = new Set(distributions().map((d) => d.name));
/** Folders under distributions/ that are no distribution: code a family shares (rancher/), parameterized by each member's descriptor. */
const isShared = (f: { kind: string; name: string }): boolean => f.kind === 'distributions' && !DISTRIBUTIONS.has(f.name);

/**
 * Pure code: everything but the commands and what touches the world (cli/, every `commands/` folder of
 * a distribution or engine, ssm/, write/, build/, bench/).
 */
const isPure = (f: string): boolean => !/^generators\/(cli|ssm|write|build|bench)\//.test(f) && !/^generators\/(distributions|engines)\/[^/]+\/commands\//.test(f);

describe('imports follow the layers', () => {
  it('finds the imports (the check is not vacuous)', () => {
    expect(IMPORTS.find((i) => i.file === 'generators/distributions/k3s/index.ts')?.imports).toEqual(expect.arrayContaining(['generators/distributions/rancher/model.ts', 'generators/distributions/k3s/schema.ts']));
    expect(IMPORTS.find((i) => i.file === 'generators/distributions/talos/commands/talos.ts')?.imports).toContain('generators/ssm/client.ts');
  });
  it('no distribution or engine folder imports another one; a shared family folder imports none', () => {
    expect(
      violations((from, to) => {
        const a = folderOf(from);
        const b = folderOf(to);
        if (!a || !b || (a.kind === b.kind && a.name === b.name)) return false;
        return !(isShared(b) && !isShared(a) && a.kind === 'distributions');
      }),
    ).toStrictEqual([]);
  });
  it('validate/ imports nothing from render/', () => {
    expect(violations((from, to) => from.startsWith('generators/validate/') && to.startsWith('generators/render/'))).toStrictEqual([]);
  });
  it('pure code imports nothing from ssm/ (AWS); only a command folder of a distribution may', () => {
    expect(violations((from, to) => isPure(from) && to.startsWith('generators/ssm/'))).toStrictEqual([]);
  });
  it('the core reaches distributions and engines only through their registries (and the interfaces)', () => {
    const entry = (to: string): boolean => /^generators\/(distributions|engines)\/(registry|types)\.ts$/.test(to);
    expect(violations((from, to) => !folderOf(from) && !/^generators\/(distributions|engines)\/[^/]+\.ts$/.test(from) && !!folderOf(to) && !entry(to))).toStrictEqual([]);
  });
});

describe('every source file of generators/ opens with a comment saying what it is', () => {
  it.each(ALL.filter((f) => /\.(ts|mts|mjs)$/.test(f)))('%s', (f) => {
    expect(text(f)).toMatch(/^(\/\*\*?\s*\S|\/\/ \S)/);
  });
});
