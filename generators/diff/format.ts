/**
 * Rendering a TreeDiff for people (text, a PR comment in Markdown) and machines (JSON).
 *
 * Both reports for people lead with "What changes in the cluster" (lead-sections.ts: new namespaces,
 * cluster-scoped permissions, chart versions, nodes in order, AWS replacements, what GitOps does not
 * apply, and every other changed GitOps object grouped by consequence), then the run's warnings (validate findings of the head, with rule ids), then per
 * environment the semantic changes: one line per changed field grouped by object, text files as a
 * unified line diff, added and removed objects (Markdown: only inside collapsed <details>).
 *
 * The Markdown is written for CommonMark as GitHub renders it: status markers are words and emoji,
 * never a leading `+`/`-` (which would open a nested list); field changes and the content of added
 * or removed objects are `-`/`+`/`!` lines in ```diff blocks, which GitHub colours. It stays under
 * GitHub's comment limit by summarising the environments' details (collapsing and counting: see
 * DETAIL_LEVELS), never by leaving anything out of the lead.
 */
import { distributions } from '../distributions/registry.js';
import { commonItems, formatFieldPath, type FieldChange } from './fields.js';
import type { EnvDiff, ObjectChange, TreeDiff } from './diff.js';
import { toYaml } from '../lib/yaml.js';
import { cell, code, plural } from './words.js';
import { awsImpactLines, type AwsResourceImpact } from './aws-impact.js';
import { leadContent, type LeadSection, type Style } from './lead-sections.js';
import { formatDiagnostic, type Diagnostic } from '../validate/diagnostics.js';

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
  /** Validate findings of the head (environment rules and rendered checks), shown after the lead; undefined: not run. */
  warnings?: readonly Diagnostic[];
  /** Lead sections after the built-in ones (a plan summary, a cost delta), e.g. from another command's data. */
  leadSections?: readonly LeadSection[];
  /** Markdown blocks other modules add after the environments table (the upgrade plans' summaries). */
  notes?: string[];
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
  if (o.hunks) return o.hunks;
  if (o.lines) return [...o.lines.removed.map((l) => `- ${l}`), ...o.lines.added.map((l) => `+ ${l}`)];
  return o.fields.map(fieldLine);
}

const TEXT_STYLE: Style = { code: (x) => x, bold: (x) => x, text: (x) => x };

/** Warnings shown one per line (Markdown: table rows); the rest are counted by rule. */
export const WARNINGS_SHOWN = 30;

/** `rule ×n` counts of diagnostics. */
const byRule = (ws: readonly Diagnostic[]): string => {
  const m = new Map<string, number>();
  for (const w of ws) m.set(w.rule, (m.get(w.rule) ?? 0) + 1);
  return [...m]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([r, n]) => `${r} ×${n}`)
    .join(', ');
};

function textLead(d: TreeDiff, ctx: FormatContext): string[] {
  const out = ['', 'What changes in the cluster:'];
  const content = leadContent(d, { style: TEXT_STYLE, compact: false }, ctx.leadSections);
  if (content.length === 0) out.push('  nothing at cluster level (no GitOps object, node step or AWS change)');
  for (const { section, items } of content) {
    out.push(`  ${section.title}:`);
    let n = 0;
    let group: string | undefined;
    for (const i of items) {
      if (i.group !== group) {
        group = i.group;
        n = 0;
      }
      out.push(`    ${i.ordered ? `${++n}.` : '-'} ${i.group ? `${i.group}: ` : ''}${i.text}`);
    }
  }
  return [...out, ...textWarnings(ctx.warnings)];
}

function textWarnings(ws: readonly Diagnostic[] | undefined): string[] {
  if (!ws) return [];
  return ['', `Warnings (validate, head): ${ws.length === 0 ? 'none' : ws.length}`, ...ws.map((w) => `  ${formatDiagnostic(w)} [${w.rule}]`)];
}

export function formatText(d: TreeDiff, ctx: FormatContext): string {
  const out: string[] = [`Rendered diff ${ctx.base} → ${ctx.head}`];
  if (d.envs.length === 0) return [out[0], 'No changes to the rendered tree.', ...textWarnings(ctx.warnings)].join('\n') + '\n';
  const t = d.totals;
  out.push(`${plural(d.envs.length, 'environment')} changed: ${countsLine(t)}`);
  for (const l of totalsLines(t)) out.push(`${l.label}: ${l.value}`);
  for (const e of d.envs) out.push(`  ${e.env}${e.status === 'changed' ? '' : ` (${e.status})`}: ${countsLine(e.counts)}${envSummaries(e)}${awsEnvSummary(e)}`);
  out.push(...textLead(d, ctx));
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

/**
 * One field change as diff lines. A scalar change is one line, `! path: old → new` (GitHub colours
 * `!` lines as changed); an added or removed scalar `+ path: value` / `- path: value`; a long or
 * multi-line value goes below its path with its lines diffed.
 */
export function fieldDiffLines(c: FieldChange): string[] {
  const p = formatFieldPath(c.path);
  const old = 'old' in c ? valueLines(c.old) : [];
  const neu = 'new' in c ? valueLines(c.new) : [];
  const oneLine = old.length <= 1 && neu.length <= 1 && isScalar(c.old) && isScalar(c.new);
  if (oneLine) {
    const line = c.op === 'changed' ? `! ${p}: ${old[0]} → ${neu[0]}` : c.op === 'added' ? `+ ${p}: ${neu[0]}` : `- ${p}: ${old[0]}`;
    if (line.length <= WRAP) return [line];
  }
  const head = c.op === 'added' ? `+ ${p}:` : c.op === 'removed' ? `- ${p}:` : `! ${p}:`;
  return [head, ...lineDiff(old, neu, '    ')];
}

function contentLines(o: ObjectChange): string[] {
  if (o.kind === 'text') return o.value as string[];
  return toYaml(o.value).replace(/\n$/, '').split('\n');
}

/** Markdown free text: no raw HTML (angle brackets, ampersands). */
export const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const MD_STYLE: Style = { code, bold: (x) => `**${x}**`, text: escapeHtml };

/**
 * How much of an environment's details the comment shows, from 0 (everything) to 4 (counts only);
 * the comment raises the level of its largest environment until it fits the limit.
 *   0: field changes, text diffs, and the content of added and removed objects (collapsed);
 *   1: added and removed objects by name only (collapsed);
 *   2: at most FIELDS_SHOWN field lines per changed object and TEXT_LINES per text diff;
 *   3: changed objects by name with their count of field changes (collapsed);
 *   4: counts by kind.
 */
export const DETAIL_LEVELS = 5;
/** Field lines per changed object at detail level 2. */
export const FIELDS_SHOWN = 6;
/** Lines of a text file's diff at detail level 2. */
export const TEXT_LINES = 30;

/** `Deployment ×2, Service ×1`, by the object kinds of a list. */
export function kindCounts(objects: readonly ObjectChange[]): string {
  const m = new Map<string, number>();
  for (const o of objects) {
    const k = o.kind === 'kubernetes' ? o.label.split(' ')[0]! : o.kind === 'text' ? 'text file' : o.kind === 'values' ? 'Helm values' : o.kind;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ×${n}`).join(', ');
}

/** A diff block in a list item; its fence longer than any backtick run inside (a README's own ``` blocks). */
function fenced(lines: readonly string[], note?: string): string[] {
  if (lines.length === 0) return [];
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...[...l.matchAll(/`+/g)].map((m) => m[0].length))));
  const fence = '`'.repeat(longest + 1);
  return [`  ${fence}diff`, ...lines.map((l) => `  ${l}`), `  ${fence}`, ...(note ? [`  <sub>${note}</sub>`] : [])];
}

function addedBody(env: string, o: ObjectChange): string[] {
  const all = contentLines(o);
  const max = o.kind === 'values' ? VALUES_LINES : OBJECT_LINES;
  const sign = o.status === 'added' ? '+' : '-';
  const note = all.length > max ? `… ${plural(all.length - max, 'more line')}: ${code(`rendered/${env}/${o.file}`)}` : undefined;
  return fenced(all.slice(0, max).flatMap((l) => wrap(sign, l)), note);
}

function changedBody(o: ObjectChange, level: number): string[] {
  let lines: string[];
  let cap: number;
  if (o.hunks || o.lines) {
    lines = (o.hunks ?? [...o.lines!.removed.map((l) => `- ${l}`), ...o.lines!.added.map((l) => `+ ${l}`)]).flatMap((l) => (l.startsWith('@@') ? [l] : wrap(l[0]!, l.slice(2))));
    cap = TEXT_LINES;
  } else {
    lines = o.fields.flatMap(fieldDiffLines);
    cap = FIELDS_SHOWN;
  }
  if (level < 2 || lines.length <= cap) return fenced(lines);
  return fenced(lines.slice(0, cap), `… ${plural(lines.length - cap, 'more line')} of ${plural(o.fields.length || lines.length, o.fields.length ? 'field change' : 'line')}: \`npm run diff\` shows them`);
}

const where = (o: ObjectChange): string => (o.status === 'moved' ? `${code(o.from!)} → ${code(o.file)}` : code(o.file));

/** A collapsed block of the added (or removed) objects of an environment. */
function objectsBlock(env: string, objects: readonly ObjectChange[], status: 'added' | 'removed', level: number): string[] {
  if (objects.length === 0) return [];
  const summary = `${MARKER[status].replace(/\*\*/g, '')} ${plural(objects.length, 'object')}: ${kindCounts(objects)}`;
  if (level >= 4) return [`<sub>${escapeHtml(summary)}</sub>`, ''];
  const out = ['<details>', `<summary>${escapeHtml(summary)}</summary>`, ''];
  for (const o of objects) out.push(`- ${MARKER[status]} **${o.label}** · ${where(o)}`, ...(level === 0 ? addedBody(env, o) : []));
  return [...out, '', '</details>', ''];
}

function envBlock(e: EnvDiff, open: boolean, level: number): string {
  const summary = `${e.env}${e.status === 'changed' ? '' : ` (${e.status})`} — ${countsLine(e.counts)}${envSummaries(e)}`;
  const out = [open ? '<details open>' : '<details>', `<summary><b>${escapeHtml(summary)}</b></summary>`, ''];
  if (e.status !== 'changed') {
    // A new (or removed) environment: what it holds, by kind, rather than every object.
    const objs = e.objects.filter((o) => o.status === e.status);
    const files = new Set(objs.map((o) => o.file)).size;
    out.push(`**${plural(files, 'file')}, ${plural(objs.length, 'object')}** ${e.status === 'added' ? 'new' : 'removed'}:`, '', '| kind | objects |', '|---|---:|');
    const m = new Map<string, number>();
    for (const part of kindCounts(objs).split(', ').filter((x) => x !== '')) {
      const i = part.lastIndexOf(' ×');
      m.set(part.slice(0, i), Number(part.slice(i + 2)));
    }
    for (const [k, n] of m) out.push(`| ${cell(k)} | ${n} |`);
    out.push('');
  }
  if (level < 4) for (const item of distributions().flatMap((dist) => dist.diff.report.markdown(e))) out.push(...item);
  if (e.aws?.length) {
    if (level < 2) {
      const rows = ['| resource | change | what happens |', '|---|---|---|'];
      for (const a of e.aws) rows.push(`| ${cell(code(`${a.logicalId}`))}${a.name !== a.logicalId ? ` ${cell(code(a.name))}` : ''}<br><sub>${cell(a.type)}</sub> | **${a.change}** | ${cell(escapeHtml(a.consequence))} |`);
      out.push(`**AWS impact** (${awsSummary(e.aws)})`, '', ...rows, '');
    } else out.push(`**AWS impact:** ${awsSummary(e.aws)}`, '');
  }
  const changed = e.objects.filter((o) => o.status === 'changed' || o.status === 'moved');
  if (level === 3 && e.renamed.length + changed.length > 0) {
    out.push('<details>', `<summary>${escapeHtml(`${MARKER.changed.replace(/\*\*/g, '')} ${plural(changed.length, 'object')}: ${kindCounts(changed)}${e.renamed.length ? `; ${plural(e.renamed.length, 'file')} renamed` : ''}`)}</summary>`, '');
    for (const r of e.renamed) out.push(`- ${MARKER.renamed} ${code(r.from)} → ${code(r.to)} (content unchanged)`);
    for (const o of changed) out.push(`- ${MARKER[o.status]} **${o.label}** · ${where(o)} · ${plural(o.fields.length || (o.hunks ?? []).filter((l) => /^[-+]/.test(l)).length, o.fields.length ? 'field change' : 'changed line')}`);
    out.push('', `<sub>\`npm run diff -- --env ${e.env}\` shows every field</sub>`, '', '</details>', '');
  } else if (level >= 4) {
    if (e.renamed.length + changed.length > 0) out.push(`<sub>${escapeHtml(`${MARKER.changed.replace(/\*\*/g, '')} ${plural(changed.length, 'object')}: ${kindCounts(changed)}${e.renamed.length ? `; ${plural(e.renamed.length, 'file')} renamed` : ''}`)} — \`npm run diff -- --env ${e.env}\` shows every field</sub>`, '');
  } else {
    const items: string[] = [];
    for (const r of e.renamed) items.push(`- ${MARKER.renamed} ${code(r.from)} → ${code(r.to)} (content unchanged)`);
    for (const o of changed) items.push(`- ${MARKER[o.status]} **${o.label}** · ${where(o)}`, ...changedBody(o, level));
    if (items.length > 0) out.push(...items, '');
  }
  if (e.status === 'changed' || level < 4) {
    out.push(...objectsBlock(e.env, e.objects.filter((o) => o.status === 'added'), 'added', level));
    out.push(...objectsBlock(e.env, e.objects.filter((o) => o.status === 'removed'), 'removed', level));
  }
  out.push('</details>', '');
  return out.join('\n') + '\n';
}

/**
 * The lead in Markdown. \`cap\` (last resort, only when the compact lead alone would exceed the comment's limit, so
 * GitHub would refuse the whole comment): each section keeps its first \`cap\` items and says how many more there are.
 */
function leadMarkdown(d: TreeDiff, ctx: FormatContext, compact: boolean, cap = Infinity): string[] {
  const out = ['#### What changes in the cluster', ''];
  const content = leadContent(d, { style: MD_STYLE, compact }, ctx.leadSections);
  if (content.length === 0) out.push('Nothing at cluster level: no GitOps object, no node step, no AWS change.', '');
  for (const { section, items: all } of content) {
    out.push(`**${section.title}**${section.note ? ` — ${escapeHtml(section.note)}` : ''}`, '');
    const items = all.length > cap ? [...all.slice(0, cap), { text: `… and ${all.length - cap} more (\`npm run diff\` lists every one)` }] : all;
    let group: string | undefined;
    let ordered: boolean | undefined;
    for (const i of items) {
      // A new list (blank line and a label) when the kind of list or its group changes.
      if (i.group !== group || (i.ordered ?? false) !== ordered) {
        if (ordered !== undefined) out.push('');
        if (i.group !== undefined) out.push(`*${escapeHtml(i.group)}*`, '');
        group = i.group;
        ordered = i.ordered ?? false;
      }
      out.push(`${ordered ? '1.' : '-'} ${i.text}`);
    }
    out.push('');
  }
  return out;
}

function warningsMarkdown(ws: readonly Diagnostic[] | undefined): string[] {
  if (!ws) return [];
  const out = ['#### Warnings', ''];
  if (ws.length === 0) return [...out, 'None: `npm run validate` finds nothing in the head.', ''];
  out.push(`${plural(ws.length, 'finding')} of \`npm run validate\` in the head:`, '', '| rule | where | finding |', '|---|---|---|');
  for (const w of ws.slice(0, WARNINGS_SHOWN)) {
    const at = w.line === undefined ? w.file : `${w.file}:${w.line}:${w.col ?? 1}`;
    out.push(`| ${cell(code(w.rule))} | ${cell(code(at))} | ${cell(escapeHtml(`${w.severity === 'error' ? 'error: ' : ''}${w.message}${w.hint ? ` (${w.hint})` : ''}`)).replace(/\n/g, ' ')} |`);
  }
  if (ws.length > WARNINGS_SHOWN) out.push('', `… and ${ws.length - WARNINGS_SHOWN} more: ${byRule(ws.slice(WARNINGS_SHOWN))} (\`npm run validate\` lists them).`);
  return [...out, ''];
}

export function formatMarkdown(d: TreeDiff, ctx: FormatContext, limit = GITHUB_COMMENT_LIMIT): string {
  const top = [COMMENT_MARKER, `### Rendered diff`, '', `${code(ctx.base)} → ${code(ctx.head)}`, ''];
  if (d.envs.length === 0) return [...top, 'No changes to the rendered tree.', '', ...warningsMarkdown(ctx.warnings)].join('\n');
  const t = d.totals;
  top.push(`**${plural(d.envs.length, 'environment')} changed:** ${countsLine(t)}`, '');
  const counts: string[] = [];
  for (const l of totalsLines(t)) counts.push(`**${l.label}:** ${l.value}`, '');
  const columns = distributions().flatMap((dist) => dist.diff.report.column ?? []);
  counts.push(`| environment | added | removed | changed | moved | field changes |${columns.map((c) => ` ${c.title} |`).join('')}`, `|---|---:|---:|---:|---:|---:|${columns.map(() => '---|').join('')}`);
  for (const e of d.envs) counts.push(`| ${e.env} | ${e.counts.added} | ${e.counts.removed} | ${e.counts.changed} | ${e.counts.moved} | ${e.counts.fields} |${columns.map((c) => ` ${c.cell(e)} |`).join('')}`);
  counts.push('');
  for (const n of ctx.notes ?? []) counts.push(n, '');

  const open = d.envs.length <= OPEN_ENVIRONMENTS;
  const levels = d.envs.map(() => 0);
  const blocks = d.envs.map((e) => envBlock(e, open, 0));
  const heading = '#### Changes by environment\n\n';
  const join = (lead: string[]): string => [...top, ...lead, ...warningsMarkdown(ctx.warnings), '#### Environments', '', ...counts].join('\n') + '\n' + heading + blocks.join('');
  let lead = leadMarkdown(d, ctx, false);
  let text = join(lead);
  // Summarise: the largest environment's details one level shorter, until the comment fits.
  while (text.length > limit) {
    let k = -1;
    for (let i = 0; i < blocks.length; i++) if (levels[i]! < DETAIL_LEVELS - 1 && (k === -1 || blocks[i]!.length > blocks[k]!.length)) k = i;
    if (k === -1) break;
    levels[k]!++;
    blocks[k] = envBlock(d.envs[k]!, open, levels[k]!);
    text = join(lead);
  }
  if (text.length > limit) {
    lead = leadMarkdown(d, ctx, true);
    text = join(lead);
  }
  // Still too long (hundreds of environments): their details go, the lead and the table stay.
  while (text.length > limit && blocks.some((b) => b !== '')) {
    const k = blocks.findLastIndex((b) => b !== '');
    blocks[k] = '';
    const gone = blocks.filter((b) => b === '').length;
    text = join(lead) + `\n> ✂️ The details of ${plural(gone, 'environment')} are left out to fit GitHub's ${limit}-character limit; every change is in the lead and the table above. \`npm run diff\` shows them.\n`;
  }
  // The lead alone is over the limit (hundreds of objects changed at once): GitHub would refuse the whole comment, so,
  // and only then, each section keeps its first items (the most it can) and counts the rest, with a notice at the top.
  if (text.length > limit) {
    const most = Math.max(...leadContent(d, { style: MD_STYLE, compact: true }, ctx.leadSections).map((c) => c.items.length));
    const gone = blocks.filter((b) => b === '').length;
    const cut = (cap: number): string => {
      const [heading, blank, ...rest] = leadMarkdown(d, ctx, true, cap);
      const notice = `> ✂️ So many changes that the lead alone exceeds GitHub's ${limit}-character limit: each section ${cap === 0 ? 'counts its items' : `names its first ${plural(cap, 'item')} and counts the rest`}. \`npm run diff\` lists every one.`;
      const details = gone > 0 ? `\n> ✂️ The details of ${plural(gone, 'environment')} are left out to fit the same limit.\n` : '';
      return join([heading!, blank!, notice, '', ...rest]) + details;
    };
    let lo = 0;
    let hi = most;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (cut(mid).length <= limit) lo = mid;
      else hi = mid - 1;
    }
    // Not even the counts fit (a limit smaller than the table and the headings): cutting helps nothing, the whole lead stays.
    if (cut(lo).length <= limit) text = cut(lo);
  }
  return text;
}

export function formatJson(d: TreeDiff, ctx: FormatContext): string {
  return JSON.stringify({ base: ctx.base, head: ctx.head, ...d }, null, 2) + '\n';
}
