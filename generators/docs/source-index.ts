/**
 * The generator's own TypeScript sources, parsed (syntax only, no type checking) for the reference
 * pages that are read off the code: rule ids with their messages, the diff's JSON fields with their
 * doc comments. TypeScript (a dependency: `npm run check` and `npm run docs` use it) is loaded on first use only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type * as TS from 'typescript';
import { compareText } from './markdown.js';

let tsModule: typeof TS | undefined;
export function typescript(): typeof TS {
  tsModule ??= createRequire(import.meta.url)('typescript') as typeof TS;
  return tsModule;
}

export interface SourceFile {
  /** Repository-relative path, e.g. generators/validate/rules.ts. */
  path: string;
  sf: TS.SourceFile;
}

/** Every .ts file below `dir` of `root` (sorted) whose path and text `want` (default: all), parsed. */
export function parseSources(root: string, dir = 'generators', want: (path: string, text: string) => boolean = () => true): SourceFile[] {
  const ts = typescript();
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => compareText(a.name, b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(p);
    }
  };
  walk(join(root, dir));
  return files.flatMap((f) => {
    const path = relative(root, f).split('\\').join('/');
    const text = readFileSync(f, 'utf8');
    return want(path, text) ? [{ path, sf: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS) }] : [];
  });
}

/** The doc comment (`/** … *\/`) of a declaration, as one line of text; undefined when it has none. */
export function docComment(node: TS.Node, sf: TS.SourceFile): string | undefined {
  const ts = typescript();
  const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
  const docs = ranges.map((r) => sf.text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**'));
  const last = docs[docs.length - 1];
  if (!last) return undefined;
  return last
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, ''))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}
