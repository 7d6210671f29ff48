/**
 * Rendering a TreeDiff for people (text, a PR comment in Markdown) and machines (JSON). Counts first,
 * details after; the Markdown has one collapsible <details> per environment and never exceeds
 * GitHub's comment limit.
 */
import { formatFieldPath, type FieldChange } from './fields.js';
import type { EnvDiff, ObjectChange, TreeDiff } from './diff.js';
import { ACTION_COMMAND, ACTION_TEXT, type TalosImpact } from './talos-impact.js';
import { NODE_ACTION_TEXT, nodeImpactLines } from './rke2-impact.js';

/** GitHub rejects issue/PR comments longer than 65536 characters. */
export const GITHUB_COMMENT_LIMIT = 65536;
/** First line of the PR comment: the workflow finds and updates its own comment by it. */
export const COMMENT_MARKER = '<!-- odp-gitops:rendered-diff -->';

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

const SIGN: Record<ObjectChange['status'], string> = { added: '+', removed: '-', changed: '~', moved: '→' };

function objectHeadline(o: ObjectChange): string {
  const where = o.status === 'moved' ? `${o.from} → ${o.file}` : o.file;
  return `${SIGN[o.status]} ${o.label}  (${where})${o.status === 'added' || o.status === 'removed' ? ` ${o.status}` : ''}`;
}

function objectDetails(o: ObjectChange): string[] {
  if (o.lines) return [...o.lines.removed.map((l) => `- ${l}`), ...o.lines.added.map((l) => `+ ${l}`)];
  return o.fields.map(fieldLine);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function countsLine(c: EnvDiff['counts']): string {
  return `${c.added} added, ${c.removed} removed, ${c.changed} changed, ${c.moved} moved; ${plural(c.fields, 'field change')}`;
}

function talosSummary(t: readonly TalosImpact[]): string {
  const by = new Map<string, number>();
  for (const i of t) by.set(i.headline, (by.get(i.headline) ?? 0) + 1);
  return [...by].map(([k, n]) => `${n} ${k}`).join(', ');
}

function talosLines(t: TalosImpact): string[] {
  const lines = [`${t.node}: ${t.headline}${t.actions.length > 1 ? ` (then ${t.actions.slice(1).join(', ')})` : ''}`];
  for (const a of t.actions) lines.push(`    ${a}: ${ACTION_TEXT[a]}`);
  for (const r of t.reasons) lines.push(`    ${r.path}: ${r.action} — ${r.why}`);
  return lines;
}

export function formatText(d: TreeDiff, ctx: FormatContext): string {
  const out: string[] = [`Rendered diff ${ctx.base} → ${ctx.head}`];
  if (d.envs.length === 0) return `${out[0]}\nNo changes to the rendered tree.\n`;
  const t = d.totals;
  out.push(`${plural(d.envs.length, 'environment')} changed: ${countsLine(t)}`);
  const talos = Object.entries(t.talos).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  if (talos.length) out.push(`Talos nodes: ${talos.join(', ')}`);
  for (const e of d.envs) out.push(`  ${e.env}${e.status === 'changed' ? '' : ` (${e.status})`}: ${countsLine(e.counts)}${e.talos.length ? `; Talos: ${talosSummary(e.talos)}` : ''}`);
  for (const e of d.envs) {
    out.push('', `== ${e.env} ==`);
    if (e.talos.length) {
      out.push('Talos impact:');
      for (const ti of e.talos) out.push(...talosLines(ti).map((l) => `  ${l}`));
    }
    if (e.rke2?.length) {
      out.push('RKE2 impact:');
      for (const ni of e.rke2) out.push(...nodeImpactLines(ni).map((l) => `  ${l}`));
    }
    for (const r of e.renamed) out.push(`→ ${r.from} → ${r.to} (renamed, content unchanged)`);
    for (const o of e.objects) {
      out.push(objectHeadline(o));
      out.push(...objectDetails(o).map((l) => `    ${l}`));
    }
  }
  return out.join('\n') + '\n';
}

/** Markdown-safe inline code (backticks in values would end the span). */
const code = (s: string): string => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);

function envBlock(e: EnvDiff): { head: string[]; items: string[][]; tail: string[] } {
  const summary = `${e.env}${e.status === 'changed' ? '' : ` (${e.status})`} — ${countsLine(e.counts)}${e.talos.length ? `; Talos: ${talosSummary(e.talos)}` : ''}`;
  const head = ['<details>', `<summary><b>${summary}</b></summary>`, ''];
  const items: string[][] = [];
  if (e.talos.length) {
    const rows = ['| node | impact | command |', '|---|---|---|'];
    for (const t of e.talos) rows.push(`| ${code(t.node)} | **${t.headline}**${t.actions.length > 1 ? ` + ${t.actions.slice(1).join(', ')}` : ''} | ${t.actions.map((a) => code(ACTION_COMMAND[a])).join(', then ') || '—'} |`);
    items.push(['**Talos impact**', '', ...rows, '']);
    for (const t of e.talos) {
      if (t.reasons.length) items.push([`<sub>${code(t.node)}: ${t.reasons.map((r) => `${code(r.path)} → ${r.action}`).join(', ')}</sub>`, '']);
    }
  }
  if (e.rke2?.length) {
    const rows = ['| node | impact | what it takes |', '|---|---|---|'];
    for (const n of e.rke2) rows.push(`| ${code(n.node)} | **${n.headline}** | ${n.actions.map((a) => NODE_ACTION_TEXT[a]).join('; then ') || '—'} |`);
    items.push(['**RKE2 impact**', '', ...rows, '']);
  }
  for (const r of e.renamed) items.push([`- → ${code(r.from)} → ${code(r.to)} (renamed, content unchanged)`]);
  for (const o of e.objects) {
    const where = o.status === 'moved' ? `${code(o.from!)} → ${code(o.file)}` : code(o.file);
    const lines = [`- ${SIGN[o.status]} **${o.label}** ${where}${o.status === 'added' || o.status === 'removed' ? ` _${o.status}_` : ''}`];
    const details = objectDetails(o);
    if (details.length) lines.push('  ```diff', ...details.map((l) => `  ${l}`), '  ```');
    items.push(lines);
  }
  return { head, items, tail: ['', '</details>', ''] };
}

export function formatMarkdown(d: TreeDiff, ctx: FormatContext, limit = GITHUB_COMMENT_LIMIT): string {
  const top = [COMMENT_MARKER, `### Rendered diff`, '', `${code(ctx.base)} → ${code(ctx.head)}`, ''];
  if (d.envs.length === 0) return [...top, 'No changes to the rendered tree.', ''].join('\n');
  const t = d.totals;
  top.push(`**${plural(d.envs.length, 'environment')} changed:** ${countsLine(t)}`, '');
  const talos = Object.entries(t.talos).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  if (talos.length) top.push(`**Talos nodes:** ${talos.join(', ')}`, '');
  top.push('| environment | added | removed | changed | moved | field changes | Talos |', '|---|---:|---:|---:|---:|---:|---|');
  for (const e of d.envs) top.push(`| ${e.env} | ${e.counts.added} | ${e.counts.removed} | ${e.counts.changed} | ${e.counts.moved} | ${e.counts.fields} | ${talosSummary(e.talos) || '—'} |`);
  top.push('');

  const note = (n: number): string => `\n> ✂️ ${plural(n, 'change')} left out to fit GitHub's ${limit}-character comment limit: run \`npm run diff\` locally for the full diff.\n`;
  const reserve = note(999999).length + 16;
  let text = top.join('\n') + '\n';
  let left = 0;
  for (const e of d.envs) {
    const b = envBlock(e);
    const open = b.head.join('\n') + '\n';
    const close = b.tail.join('\n') + '\n';
    if (left > 0 || text.length + open.length + close.length + reserve > limit) {
      left += b.items.length;
      continue;
    }
    text += open;
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
