/**
 * Rendering a TreeDiff for people (text, a PR comment in Markdown) and machines (JSON). Counts first,
 * details after; the Markdown has one collapsible <details> per environment (open when at most
 * three environments changed) and never exceeds GitHub's comment limit.
 *
 * The Markdown is written for CommonMark as GitHub renders it: status markers are words and emoji,
 * never a leading `+`/`-` (which would open a nested list); field changes and the content of added
 * or removed objects are `-`/`+` lines in ```diff blocks, which GitHub colours.
 */
import { distributions } from '../distributions/registry.js';
import { commonItems, formatFieldPath, type FieldChange } from './fields.js';
import type { EnvDiff, ObjectChange, TreeDiff } from './diff.js';
import { toYaml } from '../lib/yaml.js';
import { cell, code, plural } from './words.js';
import { awsImpactLines, type AwsResourceImpact } from './aws-impact.js';

export { plural };

/** GitHub rejects issue/PR comments longer than 65536 characters. */
export const GITHUB_COMMENT_LIMIT = 65536;
/** First line of the PR comment: the workflow finds and updates its own comment by it. */
export const COMMENT_MARKER = '<!-- odp-gitops:rendered-diff -->';
/** Environments expanded (`<details open>`) when no more than this many changed. */
export const OPEN_ENVIRONMENTS = 3;
/** Lines of an added or removed object shown in the comment (values files: VALUES_LINES). */
export const OBJECT_LINES = 80;
export const VALUES_LINES = 400;
/** Diff lines longer than this are wrapped (continuation lines start with ↪). */
export const WRAP = 120;

export interface FormatContext {
  base: string;
  head: string;
}

const MAX_VALUE = 160;

export function showValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}

export function fieldLine(c: FieldChange): string {
  const p = formatFieldPath(c.path);
  if (c.op === 'added') return `+ ${p}: ${showValue(c.new)}`;
  if (c.op === 'removed') return `- ${p}: ${showValue(c.old)}`;
  return `~ ${p}: ${showValue(c.old)} → ${showValue(c.new)}`;
}

export function countsLine(c: EnvDiff['counts']): string {
  return `${c.added} added, ${c.removed} removed, ${c.changed} changed, ${c.moved} moved; ${plural(c.fields, 'field change')}`;
}

/** "; <distribution summary>" after an environment's counts, for each distribution with one. */
const envSummaries = (e: EnvDiff): string =>
  distributions()
    .map((d) => d.diff.report.summary?.(e))
    .filter((x): x is string => x !== undefined)
    .map((x) => `; ${x}`)
    .join('');

/** Each distribution's line after the totals. */
const totalsLines = (t: TreeDiff['totals']): { label: string; value: string }[] => distributions().flatMap((d) => d.diff.report.totals?.(t) ?? []);

/** `2 replaced, 1 modified`. */
export function awsSummary(a: readonly AwsResourceImpact[]): string {
  return (['replaced', 'removed', 'added', 'modified'] as const)
    .map((k) => [k, a.filter((x) => x.change === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/** "; AWS: …" after an environment's counts, when its AWS layer changed. */
const awsEnvSummary = (e: EnvDiff): string => (e.aws?.length ? `; AWS: ${awsSummary(e.aws)}` : '');

const SIGN: Record<ObjectChange['status'], string> = { added: '+', removed: '-', changed: '~', moved: '→' };

function objectHeadline(o: ObjectChange): string {
  const where = o.status === 'moved' ? `${o.from} → ${o.file}` : o.file;
  return `${SIGN[o.status]} ${o.label}  (${where})${o.status === 'added' || o.status === 'removed' ? ` ${o.status}` : ''}`;
}

function objectDetails(o: ObjectChange): string[] {
  if (o.lines) return [...o.lines.removed.map((l) => `- ${l}`), ...o.lines.added.map((l) => `+ ${l}`)];
  return o.fields.map(fieldLine);
}

export function formatText(d: TreeDiff, ctx: FormatContext): string {
  const out: string[] = [`Rendered diff ${ctx.base} → ${ctx.head}`];
  if (d.envs.length === 0) return `${out[0]}\nNo changes to the rendered tree.\n`;
  const t = d.totals;
  out.push(`${plural(d.envs.length, 'environment')} changed: ${countsLine(t)}`);
  for (const l of totalsLines(t)) out.push(`${l.label}: ${l.value}`);
  for (const e of d.envs) out.push(`  ${e.env}${e.status === 'changed' ? '' : ` (${e.status})`}: ${countsLine(e.counts)}${envSummaries(e)}${awsEnvSummary(e)}`);
  for (const e of d.envs) {
    out.push('', `== ${e.env} ==`);
    for (const dist of distributions()) out.push(...dist.diff.report.text(e));
    if (e.aws?.length) {
      out.push(`AWS impact: ${awsSummary(e.aws)}`);
      for (const ai of e.aws) out.push(...awsImpactLines(ai).map((l) => `  ${l}`));
    }
    for (const r of e.renamed) out.push(`→ ${r.from} → ${r.to} (renamed, content unchanged)`);
    for (const o of e.objects) {
      out.push(objectHeadline(o));
      out.push(...objectDetails(o).map((l) => `    ${l}`));
    }
  }
  return out.join('\n') + '\n';
}

// ---- Markdown -------------------------------------------------------------------------------

/** Markers as text: a leading `+`/`-` after the list bullet would be a nested list in CommonMark. */
export const MARKER: Record<ObjectChange['status'] | 'renamed', string> = {
  added: '➕ **added**',
  removed: '➖ **removed**',
  changed: '✏️ **changed**',
  moved: '🚚 **moved**',
  renamed: '🚚 **renamed**',
};

/** Split a diff line longer than WRAP; continuation lines keep the sign and start with ↪. */
function wrap(sign: string, text: string): string[] {
  if (text.length + 2 <= WRAP) return [`${sign} ${text}`];
  const indent = /^ */.exec(text)![0];
  const out: string[] = [];
  let rest = text;
  let first = true;
  while (rest.length > 0) {
    const room = WRAP - 2 - (first ? 0 : indent.length + 2);
    // Break after a space or comma near the end when there is one, else mid-word.
    let cut = rest.length <= room ? rest.length : Math.max(rest.lastIndexOf(' ', room - 1), rest.lastIndexOf(',', room - 1)) + 1;
    if (cut < room * 0.6) cut = Math.min(room, rest.length);
    out.push(first ? `${sign} ${rest.slice(0, cut)}` : `${sign} ${indent}↪ ${rest.slice(0, cut)}`);
    rest = rest.slice(cut);
    first = false;
  }
  return out;
}

const isMultiline = (v: unknown): v is string => typeof v === 'string' && v.includes('\n');
const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object';

/** A value as lines: scalars on one line (strings quoted), text and collections as YAML lines. */
function valueLines(v: unknown): string[] {
  if (isMultiline(v)) return v.replace(/\n$/, '').split('\n');
  if (isScalar(v)) return [typeof v === 'string' ? JSON.stringify(v) : String(v)];
  return toYaml(v).replace(/\n$/, '').split('\n');
}

/** Line diff (common lines as context) of two line lists. */
function lineDiff(a: readonly string[], b: readonly string[], indent: string): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  for (const [ai, bj] of [...commonItems(a, b), [a.length, b.length] as [number, number]]) {
    for (; i < ai; i++) out.push(...wrap('-', indent + a[i]!));
    for (; j < bj; j++) out.push(...wrap('+', indent + b[j]!));
    if (ai < a.length) out.push(...wrap(' ', indent + a[ai]!));
    i = ai + 1;
    j = bj + 1;
  }
  return out;
}

/** One field change as diff lines: `- path: old` / `+ path: new`, or the path then its value lines. */
export function fieldDiffLines(c: FieldChange): string[] {
  const p = formatFieldPath(c.path);
  const old = 'old' in c ? valueLines(c.old) : [];
  const neu = 'new' in c ? valueLines(c.new) : [];
  const oneLine = old.length <= 1 && neu.length <= 1 && isScalar(c.old) && isScalar(c.new);
  if (oneLine && Math.max(...[...old, ...neu].map((l) => l.length)) + p.length + 4 <= WRAP) {
    return [...old.map((l) => `- ${p}: ${l}`), ...neu.map((l) => `+ ${p}: ${l}`)];
  }
  const head = c.op === 'added' ? `+ ${p}:` : c.op === 'removed' ? `- ${p}:` : `  ${p}:`;
  return [head, ...lineDiff(old, neu, '    ')];
}

function contentLines(o: ObjectChange): string[] {
  if (o.kind === 'text') return o.value as string[];
  return toYaml(o.value).replace(/\n$/, '').split('\n');
}

function objectBody(env: string, o: ObjectChange): string[] {
  let lines: string[];
  let note: string | undefined;
  if (o.status === 'added' || o.status === 'removed') {
    const all = contentLines(o);
    const max = o.kind === 'values' ? VALUES_LINES : OBJECT_LINES;
    const sign = o.status === 'added' ? '+' : '-';
    lines = all.slice(0, max).flatMap((l) => wrap(sign, l));
    if (all.length > max) note = `… ${plural(all.length - max, 'more line')}: ${code(`rendered/${env}/${o.file}`)}`;
  } else if (o.lines) {
    lines = [...o.lines.removed.flatMap((l) => wrap('-', l)), ...o.lines.added.flatMap((l) => wrap('+', l))];
  } else {
    lines = o.fields.flatMap(fieldDiffLines);
  }
  if (lines.length === 0) return [];
  return ['  ```diff', ...lines.map((l) => `  ${l}`), '  ```', ...(note ? [`  <sub>${note}</sub>`] : [])];
}

function envBlock(e: EnvDiff, open: boolean): { head: string[]; items: string[][]; tail: string[] } {
  const summary = `${e.env}${e.status === 'changed' ? '' : ` (${e.status})`} — ${countsLine(e.counts)}${envSummaries(e)}`;
  const head = [open ? '<details open>' : '<details>', `<summary><b>${summary}</b></summary>`, ''];
  const items = distributions().flatMap((dist) => dist.diff.report.markdown(e));
  if (e.aws?.length) {
    const rows = ['| resource | change | what happens |', '|---|---|---|'];
    for (const a of e.aws) rows.push(`| ${cell(code(`${a.logicalId}`))}${a.name !== a.logicalId ? ` ${cell(code(a.name))}` : ''}<br><sub>${cell(a.type)}</sub> | **${a.change}** | ${cell(a.consequence)} |`);
    items.push([`**AWS impact** (${awsSummary(e.aws)})`, '', ...rows, '']);
  }
  for (const r of e.renamed) items.push([`- ${MARKER.renamed} ${code(r.from)} → ${code(r.to)} (content unchanged)`]);
  for (const o of e.objects) {
    const where = o.status === 'moved' ? `${code(o.from!)} → ${code(o.file)}` : code(o.file);
    items.push([`- ${MARKER[o.status]} **${o.label}** · ${where}`, ...objectBody(e.env, o)]);
  }
  return { head, items, tail: ['', '</details>', ''] };
}

export function formatMarkdown(d: TreeDiff, ctx: FormatContext, limit = GITHUB_COMMENT_LIMIT): string {
  const top = [COMMENT_MARKER, `### Rendered diff`, '', `${code(ctx.base)} → ${code(ctx.head)}`, ''];
  if (d.envs.length === 0) return [...top, 'No changes to the rendered tree.', ''].join('\n');
  const t = d.totals;
  top.push(`**${plural(d.envs.length, 'environment')} changed:** ${countsLine(t)}`, '');
  for (const l of totalsLines(t)) top.push(`**${l.label}:** ${l.value}`, '');
  const columns = distributions().flatMap((dist) => dist.diff.report.column ?? []);
  top.push(`| environment | added | removed | changed | moved | field changes |${columns.map((c) => ` ${c.title} |`).join('')}`, `|---|---:|---:|---:|---:|---:|${columns.map(() => '---|').join('')}`);
  for (const e of d.envs) top.push(`| ${e.env} | ${e.counts.added} | ${e.counts.removed} | ${e.counts.changed} | ${e.counts.moved} | ${e.counts.fields} |${columns.map((c) => ` ${c.cell(e)} |`).join('')}`);
  top.push('');

  const note = (n: number): string => `\n> ✂️ ${plural(n, 'change')} left out to fit GitHub's ${limit}-character comment limit: run \`npm run diff\` locally for the full diff.\n`;
  const reserve = note(999999).length + 16;
  const open = d.envs.length <= OPEN_ENVIRONMENTS;
  let text = top.join('\n') + '\n';
  let left = 0;
  for (const e of d.envs) {
    const b = envBlock(e, open);
    const head = b.head.join('\n') + '\n';
    const close = b.tail.join('\n') + '\n';
    if (left > 0 || text.length + head.length + close.length + reserve > limit) {
      left += b.items.length;
      continue;
    }
    text += head;
    for (const item of b.items) {
      const chunk = item.join('\n') + '\n';
      if (left > 0 || text.length + chunk.length + close.length + reserve > limit) left++;
      else text += chunk;
    }
    text += close;
  }
  if (left > 0) text += note(left);
  return text;
}

export function formatJson(d: TreeDiff, ctx: FormatContext): string {
  return JSON.stringify({ base: ctx.base, head: ctx.head, ...d }, null, 2) + '\n';
}
