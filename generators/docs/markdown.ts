/**
 * Markdown for the generated reference pages (docs/reference/): GitHub's heading anchors, a table of
 * contents, prose wrapped at the docs' line width, escaping, code fences. Pure string functions.
 */

/** Code-point order: the same on every machine, whatever its locale (localeCompare is not). */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** No line of docs/ or README.md is longer than this (test/docs.test.ts). */
export const LINE_WIDTH = 120;

/**
 * The anchor GitHub gives a heading (github-slugger): lower case, every character that is not a
 * letter, mark, number, connector punctuation, space or hyphen removed, spaces turned into hyphens.
 * `seen` numbers repeated anchors as GitHub does (`x`, `x-1`, `x-2`).
 */
export function slug(heading: string, seen?: Map<string, number>): string {
  const base = heading
    .replace(/<[^>]*>/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
  if (!seen) return base;
  // github-slugger: occurrences of each anchor given so far.
  let s = base;
  while (seen.has(s)) {
    seen.set(base, seen.get(base)! + 1);
    s = `${base}-${seen.get(base)}`;
  }
  seen.set(s, 0);
  return s;
}

/** The text a heading's anchor is made from: its Markdown without code ticks, emphasis or link syntax. */
export function headingText(markdown: string): string {
  return markdown.replace(/`/g, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/\*\*?|__?/g, '');
}

/**
 * Backslash-escape what Markdown would read as syntax in running text (HTML, emphasis, links, a
 * heading or quote at the start of a wrapped line). Backticks stay: the sources write code spans.
 */
export function escapeText(text: string): string {
  return text.replace(/([\\*[\]<>|#])/g, '\\$1');
}

/** `text` as one inline code span, whatever backticks it holds. */
export function code(text: string): string {
  const ticks = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length)) + 1;
  const fence = '`'.repeat(ticks);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * Words wrapped to `width` (the first line after `first`, the others after `rest`). Inline code
 * spans and links are kept whole: a line break inside one would still render, but reads badly.
 */
export function wrap(text: string, first = '', rest = first, width = LINE_WIDTH): string[] {
  const words = tokens(text.replace(/\s+/g, ' ').trim());
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const w of words) {
    const candidate = empty ? line + w : `${line} ${w}`;
    if (!empty && candidate.length > width) {
      lines.push(line);
      line = rest + w;
    } else line = candidate;
    empty = false;
  }
  lines.push(line);
  return lines.map((l) => l.trimEnd());
}

/** Words, with each inline code span (and a link around it) one token. */
function tokens(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] === '`' && (i === 0 || text[i - 1] !== '\\')) {
      const ticks = /^`+/.exec(text.slice(i))![0];
      const end = text.indexOf(ticks, i + ticks.length);
      if (end > 0) {
        cur += text.slice(i, end + ticks.length);
        i = end + ticks.length;
        continue;
      }
    }
    if (text[i] === ' ') {
      if (cur) out.push(cur);
      cur = '';
    } else cur += text[i];
    i++;
  }
  if (cur) out.push(cur);
  return out;
}

/** A list item (`- ` or `1. `) whose text wraps with its continuation lines indented under it. */
export function listItem(text: string, marker = '-', indent = ''): string[] {
  const first = `${indent}${marker} `;
  return wrap(text, first, ' '.repeat(first.length));
}

/**
 * A fenced code block. Lines longer than the docs' width are wrapped, each continuation starting
 * with `↪` (said in the page wherever that can happen); the fence is longer than any backtick run inside.
 */
export function fence(lang: string, text: string, width = LINE_WIDTH): string[] {
  const longest = Math.max(2, ...[...text.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  const body = text.replace(/\n+$/, '').split('\n').flatMap((l) => hardWrap(l, width));
  return [`${f}${lang}`, ...body, f];
}

/** One line cut into pieces of at most `width` characters, continuation pieces prefixed `↪ `. */
export function hardWrap(line: string, width = LINE_WIDTH): string[] {
  const chars = [...line];
  if (chars.length <= width) return [line];
  const out = [chars.slice(0, width).join('')];
  for (let i = width; i < chars.length; i += width - 2) out.push(`↪ ${chars.slice(i, i + width - 2).join('')}`);
  return out;
}

export interface Heading {
  level: number;
  text: string;
  anchor: string;
}

/** The headings of a Markdown text (outside code fences), with the anchors GitHub gives them. */
export function headings(markdown: string): Heading[] {
  const seen = new Map<string, number>();
  const out: Heading[] = [];
  let fenceMark: string | undefined;
  for (const line of markdown.split('\n')) {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (!fenceMark) fenceMark = f[1]!;
      else if (f[1]!.startsWith(fenceMark[0]!) && f[1]!.length >= fenceMark.length && line.trim() === f[1]) fenceMark = undefined;
      continue;
    }
    if (fenceMark) continue;
    const h = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) out.push({ level: h[1]!.length, text: h[2]!, anchor: slug(headingText(h[2]!), seen) });
  }
  return out;
}

/**
 * A table of contents of the `##` and `###` headings after the marker line (`maxLevel` 2 for `##`
 * only), as a nested list of links.
 */
export function tableOfContents(body: string, maxLevel = 3): string[] {
  return headings(body)
    .filter((h) => h.level >= 2 && h.level <= maxLevel)
    .flatMap((h) => listItem(`[${headingText(h.text)}](#${h.anchor})`, '-', '  '.repeat(h.level - 2)));
}

export interface Page {
  /** Repository-relative path, e.g. docs/reference/rules.md. */
  path: string;
  content: string;
}

/**
 * A generated page: a comment saying so (and how to regenerate it), the title, an introduction,
 * the table of contents, the body. Exactly one empty line between blocks, one newline at the end.
 */
export function generatedPage(path: string, title: string, intro: string[], body: string[], opts: { tocLevel?: number } = {}): Page {
  const text = body.join('\n');
  const content = [
    '<!-- Generated by npm run docs from the sources (generators/docs/). Do not edit: npm run check fails when stale. -->',
    '',
    `# ${title}`,
    '',
    ...intro,
    '',
    '## Contents',
    '',
    ...tableOfContents(text, opts.tocLevel ?? 2),
    '',
    text,
  ].join('\n');
  return { path, content: content.replace(/\n{3,}/g, '\n\n').replace(/\s*$/, '\n') };
}
