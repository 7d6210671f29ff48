/**
 * An indentation slip, said once: a line of a block (YAML's indented style) that starts at a column
 * no block around it uses, or deeper than the line before it can open. The YAML parser reports such
 * a slip as several errors (implicit keys, compact mappings, sequence items without `-`), often at
 * the line before and at every line after it; the loader replaces them with this one finding when
 * a slip lies next to the parser's first error.
 *
 * Pure and line-based: blank lines, comments, block scalars (`|`, `>`) and multi-line flow
 * collections are skipped; it is only consulted when the parser already failed.
 */
import type { DocPath } from '../lib/paths.js';

export interface IndentSlip {
  /** 1-based line and column of the slipped line's first character. */
  line: number;
  col: number;
  /** The block the line was meant to be in (its document path). */
  path: DocPath;
  /** The line's indentation and the one it was meant to have (a sibling's). */
  indent: number;
  expected: number;
  /** The key (or `-`) the line starts with, and the sibling it should line up with. */
  what: string;
  sibling?: { line: number; what: string };
  /** The line is a tab-indented one (YAML indents with spaces only). */
  tab?: boolean;
}

interface Level {
  indent: number;
  path: (string | number)[];
  /** For a block sequence at this indent: items seen so far. */
  items: number;
  /** The first line of the level, to line up with. */
  first?: { line: number; what: string };
  /** Lines that start at this level's column so far. */
  count: number;
  /** Column of the line that opened the level (the key, or the item's `-`). */
  parent: number;
  /** An item's content: the sequence whose `-` column the item's first line sets. */
  owner?: Level;
}

const KEY = /^((?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[&*!|>%@`][^#]*?)):(?:\s+(.*))?$/;

/** What follows a key's colon (or a bare `-`) when it opens a block: nothing, a comment, an anchor or tag only. */
const opensBlock = (rest: string | undefined): boolean => rest === undefined || rest === '' || /^(?:[&!][^\s]*\s*)*(?:#.*)?$/.test(rest);
/** A block scalar indicator as the whole value: `|`, `>-`, `|2+` … */
const blockScalar = (rest: string | undefined): boolean => rest !== undefined && /^[|>][-+0-9]*\s*(?:#.*)?$/.test(rest);

const unquote = (k: string): string => (/^".*"$/.test(k) ? (JSON.parse(k) as string) : /^'.*'$/.test(k) ? k.slice(1, -1).replace(/''/g, "'") : k.trim());

/** Brackets opened minus closed on a line, outside quotes and comments (multi-line flow collections). */
function flowDepth(s: string): number {
  let d = 0;
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(s[i - 1]!))) break;
    else if (c === '[' || c === '{') d++;
    else if (c === ']' || c === '}') d--;
  }
  return d;
}

/**
 * The first indentation slip of a document, if any. The first line of a block sets the block's
 * column, so when that line slipped YAML only stumbles on the next one: when the line blamed
 * lines up with the block around it once that first line moves, the first line is the slip.
 */
export function findIndentSlip(text: string): IndentSlip | undefined {
  const slip = scan(text);
  // Which of the two lines slipped: the one that is off the file's usual step from the block's opener.
  if (slip?.alone === undefined || !slip.sibling || slip.alone.indent === slip.alone.parent + usualStep(text)) return strip(slip);
  const lines = text.split(/\r?\n/);
  const first = lines[slip.sibling.line - 1]!;
  const delta = slip.indent - slip.expected;
  if (delta < 0 && !first.startsWith(' '.repeat(-delta))) return strip(slip);
  lines[slip.sibling.line - 1] = delta > 0 ? ' '.repeat(delta) + first : first.slice(-delta);
  const after = scan(lines.join('\n'));
  if (after && after.line <= slip.line) return strip(slip);
  const col = slip.expected + 1;
  return { line: slip.sibling.line, col, path: slip.path, indent: slip.expected, expected: slip.indent, what: slip.sibling.what, sibling: { line: slip.line, what: slip.what } };
}

/** When the line a block lines up with is the only one setting its column: where that column should be, from its opener. */
function alone(level: Level): { alone?: { parent: number; indent: number } } {
  const owner = level.owner ?? level;
  return owner.count === 1 ? { alone: { parent: owner.parent, indent: owner.indent } } : {};
}

/** The indentation step the file uses most (2 when it cannot tell). */
function usualStep(text: string): number {
  const counts = new Map<number, number>();
  let prev = 0;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trimStart();
    if (t === '' || t.startsWith('#')) continue;
    const indent = line.length - t.length;
    if (indent > prev) counts.set(indent - prev, (counts.get(indent - prev) ?? 0) + 1);
    prev = indent;
  }
  let best = 2;
  for (const [step, n] of counts) if (n > (counts.get(best) ?? 0)) best = step;
  return best;
}

const strip = (s: (IndentSlip & { alone?: { parent: number; indent: number } }) | undefined): IndentSlip | undefined => {
  if (!s) return undefined;
  const { alone: _, ...rest } = s;
  return rest;
};

/** The first line at a column no open block uses; `alone`: set when one line alone set the column of the block it should line up with. */
function scan(text: string): (IndentSlip & { alone?: { parent: number; indent: number } }) | undefined {
  const lines = text.split(/\r?\n/);
  const stack: Level[] = [{ indent: 0, path: [], items: 0, count: 0, parent: -2 }];
  /** What the previous content line opened: a deeper block of `path` (a key with no value, or a bare `-`). */
  let opened: { indent: number; path: (string | number)[]; line: number } | undefined;
  // A block scalar's lines (deeper than its key): its first line sets the column the others keep.
  let scalar: { key: number; path: (string | number)[]; indent?: number; first?: { line: number; what: string }; count: number } | undefined;
  let flow = 0; // inside a multi-line flow collection
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    const lead = /^[ \t]*/.exec(raw)![0];
    const content = raw.slice(lead.length);
    if (content === '' || content.startsWith('#')) continue;
    if (/^(---|\.\.\.)(\s|$)/.test(raw) || raw.startsWith('%')) continue;
    const indent = lead.length;
    if (scalar) {
      if (indent > scalar.key) {
        const what = content.split(/[:\s]/)[0]!;
        scalar.indent ??= indent;
        scalar.first ??= { line: n + 1, what };
        if (indent === scalar.indent) scalar.count++;
        if (indent >= scalar.indent) continue;
        return { line: n + 1, col: indent + 1, path: scalar.path, indent, expected: scalar.indent, what, sibling: scalar.first, ...(scalar.count === 1 ? { alone: { parent: scalar.key, indent: scalar.indent } } : {}) };
      }
      scalar = undefined;
    }
    if (flow > 0) {
      flow = Math.max(0, flow + flowDepth(content));
      continue;
    }
    if (lead.includes('\t')) {
      const top = stack[stack.length - 1]!;
      return { line: n + 1, col: 1, path: top.path, indent, expected: top.indent, what: content.split(/[:\s]/)[0] ?? '', tab: true };
    }
    // Where this line belongs: a new deeper block the previous line opened, or a block already open.
    let level: Level | undefined;
    const isItem = content === '-' || content.startsWith('- ');
    if (opened && (indent > opened.indent || (indent === opened.indent && isItem))) {
      level = { indent, path: opened.path, items: 0, count: 0, parent: opened.indent };
      stack.push(level);
    } else {
      const meant = nearest(stack, indent);
      if (meant.indent !== indent) {
        // A column no open block uses: deeper than the previous line can open, or between two blocks.
        const what = isItem ? '-' : (KEY.exec(content)?.[1] ?? content.split(/\s/)[0]!);
        return { line: n + 1, col: indent + 1, path: meant.path, indent, expected: meant.indent, what: unquote(what), ...(meant.first ? { sibling: meant.first } : {}), ...alone(meant) };
      }
      while (stack[stack.length - 1]!.indent > indent) stack.pop();
      level = stack[stack.length - 1]!;
    }
    // Parse the line: `- ` items (each opens the item's own block), then `key:` (with or without a value).
    let col = indent;
    let rest = content;
    let path = level.path;
    opened = undefined;
    level.first ??= { line: n + 1, what: isItem ? '-' : unquote(KEY.exec(content)?.[1] ?? content) };
    level.count++;
    while (rest === '-' || rest.startsWith('- ')) {
      const cur = stack[stack.length - 1]!;
      const index = cur.items++;
      const after = rest.slice(1);
      const pad = /^\s*/.exec(after)![0].length;
      path = [...cur.path, index];
      if (after.trim() === '' || after.trim().startsWith('#')) {
        opened = { indent: col, path, line: n + 1 };
        rest = '';
        break;
      }
      col += 1 + pad;
      rest = after.slice(pad);
      // The item's content starts a block at its own column (a map continues below it there).
      stack.push({ indent: col, path, items: 0, count: 1, parent: cur.indent, owner: cur, first: { line: n + 1, what: unquote(KEY.exec(rest)?.[1] ?? rest) } });
    }
    if (rest === '') continue;
    const m = KEY.exec(rest);
    if (!m) {
      flow = Math.max(0, flowDepth(rest));
      continue;
    }
    const key = unquote(m[1]!);
    const value = m[2];
    if (blockScalar(value)) scalar = { key: col, path: [...path, key], count: 0 };
    else if (opensBlock(value)) opened = { indent: col, path: [...path, key], line: n + 1 };
    else flow = Math.max(0, flowDepth(value!));
  }
  return undefined;
}

/** The open block a line belongs to, or for a slipped line the one it most likely meant: the closest indent (the deeper one on a tie). */
function nearest(stack: readonly Level[], indent: number): Level {
  let best = stack[0]!;
  for (const l of stack) {
    const d = Math.abs(l.indent - indent);
    const bd = Math.abs(best.indent - indent);
    if (d < bd || (d === bd && l.indent > best.indent)) best = l;
  }
  return best;
}
