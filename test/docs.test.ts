/**
 * The documentation as a reader meets it: README.md and every page under docs/ (hand-written and
 * generated). No line is longer than 120 characters (counted as code points, as an editor shows
 * them); every page has a table of contents that links each of its sections; every relative link
 * points at a file that exists and every anchor at a heading of that page, with the anchors GitHub
 * gives headings. No exception is needed for the generated pages: their generator writes lists,
 * not tables, and wraps long code lines with `↪`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { headings, headingText, LINE_WIDTH, slug } from '../generators/docs/markdown.js';
import { ROOT } from './helpers.js';

const md = new MarkdownIt({ html: true });

function markdownFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? markdownFiles(p) : f.endsWith('.md') ? [p] : [];
    });
}

const PAGES = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];
const rel = (p: string): string => relative(ROOT, p);
const text = (p: string): string => readFileSync(p, 'utf8');

/** Every link of a page (markdown-it's parse, so links in code are not links). */
function links(source: string): string[] {
  const out: string[] = [];
  const walk = (tokens: ReturnType<typeof md.parse>): void => {
    for (const t of tokens) {
      if (t.type === 'link_open') out.push(String(t.attrGet('href') ?? ''));
      if (t.children) walk(t.children);
    }
  };
  walk(md.parse(source, {}));
  return out;
}

/** The section of a page under its `## Contents` heading. */
function contents(source: string): string | undefined {
  const m = /\n## Contents\n([\s\S]*?)(?=\n## )/.exec(source);
  return m?.[1];
}

describe('GitHub heading anchors', () => {
  it('slug() gives the anchors GitHub gives (github-slugger), duplicates numbered', () => {
    const seen = new Map<string, number>();
    expect(slug('Getting started', seen)).toBe('getting-started');
    expect(slug(headingText('`npm run diff`'), seen)).toBe('npm-run-diff');
    expect(slug(headingText('Hub mode: one Argo CD for several clusters'), seen)).toBe('hub-mode-one-argo-cd-for-several-clusters');
    expect(slug(headingText('IAM roles of add-ons (IRSA)'), seen)).toBe('iam-roles-of-add-ons-irsa');
    expect(slug(headingText('`aws.spec`'), seen)).toBe('awsspec');
    expect(slug(headingText('Runbook: from an empty account → a cluster'), seen)).toBe('runbook-from-an-empty-account--a-cluster');
    expect(slug('Getting started', seen)).toBe('getting-started-1');
    expect(slug('Getting started', seen)).toBe('getting-started-2');
    expect(slug('getting-started-1', seen)).toBe('getting-started-1-1');
  });

  it('headings() skips fenced code and numbers repeated headings', () => {
    const h = headings('# T\n\n## A\n\n```sh\n# not a heading\n```\n\n## A\n\n### `b.c`\n');
    expect(h.map((x) => x.anchor)).toStrictEqual(['t', 'a', 'a-1', 'bc']);
  });
});

describe('docs/ and README.md', () => {
  it('are found: the README, the getting-started walk, the how-to, concept and reference pages', () => {
    const names = PAGES.map(rel);
    expect(names).toContain('README.md');
    expect(names).toContain('docs/getting-started.md');
    for (const dir of ['docs/how-to/', 'docs/concepts/', 'docs/reference/']) expect(names.filter((n) => n.startsWith(dir)).length, dir).toBeGreaterThanOrEqual(5);
  });

  it(`no line is longer than ${LINE_WIDTH} characters`, () => {
    const long = PAGES.flatMap((p) =>
      text(p)
        .split('\n')
        .flatMap((l, i) => ([...l].length > LINE_WIDTH ? [`${rel(p)}:${i + 1}: ${[...l].length} characters`] : [])),
    );
    expect(long).toStrictEqual([]);
  });

  it('the README is a front page: under 200 lines', () => {
    expect(text(join(ROOT, 'README.md')).split('\n').length).toBeLessThan(200);
  });

  it('every page has a table of contents linking each of its ## sections', () => {
    const problems: string[] = [];
    for (const p of PAGES) {
      const source = text(p);
      const toc = contents(source);
      if (toc === undefined) {
        problems.push(`${rel(p)}: no "## Contents" section`);
        continue;
      }
      const listed = new Set(links(toc).filter((l) => l.startsWith('#')).map((l) => l.slice(1)));
      for (const h of headings(source).filter((x) => x.level === 2 && x.text !== 'Contents')) if (!listed.has(h.anchor)) problems.push(`${rel(p)}: "${h.text}" (#${h.anchor}) is not in its contents`);
    }
    expect(problems).toStrictEqual([]);
  });

  it('every relative link resolves to a file, every anchor to a heading of its page', () => {
    const anchors = new Map<string, Set<string>>();
    const anchorsOf = (file: string): Set<string> => {
      if (!anchors.has(file)) anchors.set(file, new Set(headings(text(file)).map((h) => h.anchor)));
      return anchors.get(file)!;
    };
    const broken: string[] = [];
    let checked = 0;
    for (const p of PAGES) {
      for (const href of links(text(p))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto: …
        checked++;
        const [path, anchor] = href.split('#') as [string, string | undefined];
        const target = path === '' ? p : resolve(dirname(p), decodeURIComponent(path));
        if (!existsSync(target)) {
          broken.push(`${rel(p)}: ${href}: no such file`);
          continue;
        }
        if (anchor !== undefined && (!target.endsWith('.md') || !anchorsOf(target).has(anchor))) broken.push(`${rel(p)}: ${href}: no such anchor`);
      }
    }
    expect(broken).toStrictEqual([]);
    expect(checked).toBeGreaterThan(300);
  });

  it('the link check sees a broken file, a broken anchor and a link inside code as what they are', () => {
    expect(links('[a](x.md#b) and `[c](d.md)`\n\n```\n[e](f.md)\n```\n')).toStrictEqual(['x.md#b']);
    expect(contents('# T\n\n## Contents\n\n- [A](#a)\n\n## A\n')).toContain('[A](#a)');
  });
});
