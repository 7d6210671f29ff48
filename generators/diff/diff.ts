/**
 * The semantic diff of two rendered trees held in memory (paths relative to rendered/, e.g.
 * `prod/values/cert-manager.yaml`). Pure: git and the renderer only supply the two maps.
 *
 * Grouped by environment → object (Kubernetes kind/namespace/name, a distribution's document, Helm
 * values file) → field path; each distribution adds what applying its changed node configs takes. Header comments are ignored (a provenance-only change is no change); objects that
 * moved to another file are recognised by identity, files renamed without change by content; every
 * printed value goes through the secret mask.
 */
import { PROVENANCE_FILE } from '../render/header.js';
import { distributions, type DiffEntries, type DiffTotals } from '../distributions/registry.js';
import { contentKey, splitFile, type DocKind, type RenderedDoc } from './documents.js';
import { commonItems, deepEqual, diffValues, maskChange, maskValue, type FieldChange } from './fields.js';
import { awsImpacts, type AwsResourceImpact } from './aws-impact.js';
import { envLead, type DocPair, type EnvLead } from './lead.js';

export type FileMap = ReadonlyMap<string, string>;

export type ObjectStatus = 'added' | 'removed' | 'changed' | 'moved';

export interface ObjectChange {
  id: string;
  label: string;
  kind: DocKind;
  status: ObjectStatus;
  /** Env-relative file holding the object in head (base for removed objects). */
  file: string;
  /** Where it was, when it moved. */
  from?: string;
  /** Field changes, values masked. Empty for added/removed objects. */
  fields: FieldChange[];
  /** Added/removed objects: the (masked) document. */
  value?: unknown;
  /** Text documents: lines removed and added. */
  lines?: { removed: string[]; added: string[] };
  /**
   * Text documents: the change as a unified line diff (values masked): `-`/`+` lines, ` ` context
   * lines (up to CONTEXT_LINES around each change), `@@ line N` where a hunk starts (N: head line).
   */
  hunks?: string[];
}

/** Unchanged lines shown around each change of a text document. */
export const CONTEXT_LINES = 2;
/** Above this many line pairs to align, a text change is shown as all lines removed and added. */
const MAX_LINE_PAIRS = 4_000_000;

/** Unified line diff of two texts (see ObjectChange.hunks). */
export function unifiedLines(a: readonly string[], b: readonly string[], context = CONTEXT_LINES): string[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const anchors = am.length * bm.length <= MAX_LINE_PAIRS ? commonItems(am, bm) : [];
  // Every line of both texts as an operation, in order.
  const ops: { op: ' ' | '-' | '+'; text: string; line: number }[] = [];
  for (let k = 0; k < pre; k++) ops.push({ op: ' ', text: a[k]!, line: k + 1 });
  let i = 0;
  let j = 0;
  for (const [ai, bj] of [...anchors, [am.length, bm.length] as [number, number]]) {
    for (; i < ai; i++) ops.push({ op: '-', text: am[i]!, line: pre + j + 1 });
    for (; j < bj; j++) ops.push({ op: '+', text: bm[j]!, line: pre + j + 1 });
    if (ai < am.length) ops.push({ op: ' ', text: am[ai]!, line: pre + bj + 1 });
    i = ai + 1;
    j = bj + 1;
  }
  for (let k = 0; k < suf; k++) ops.push({ op: ' ', text: b[b.length - suf + k]!, line: b.length - suf + k + 1 });
  const keep = ops.map(() => false);
  ops.forEach((o, k) => {
    if (o.op === ' ') return;
    for (let x = Math.max(0, k - context); x <= Math.min(ops.length - 1, k + context); x++) keep[x] = true;
  });
  const out: string[] = [];
  for (let k = 0; k < ops.length; k++) {
    if (!keep[k]) continue;
    if (k === 0 || !keep[k - 1]) out.push(`@@ line ${ops[k]!.line}`);
    out.push(`${ops[k]!.op} ${String(maskValue(ops[k]!.text))}`);
  }
  return out;
}

export interface EnvCounts {
  added: number;
  removed: number;
  changed: number;
  moved: number;
  fields: number;
}

export interface EnvDiffCore {
  env: string;
  status: 'added' | 'removed' | 'changed';
  objects: ObjectChange[];
  /** Files renamed without a content change. */
  renamed: { from: string; to: string }[];
  /** AWS layer: what each changed CloudFormation resource does (only present when a template or its parameters changed). */
  aws?: AwsResourceImpact[];
  /** What changes in the cluster: new namespaces, cluster-scoped permissions, chart versions. */
  lead: EnvLead;
  counts: EnvCounts;
}

/**
 * An environment's diff: the core's keys, each distribution's (Distribution.diff.impact: what
 * applying its changed node configs takes), the AWS layer's impact, then the counts; in this order
 * in the JSON report.
 */
export type EnvDiff = EnvDiffCore & DiffEntries;

/** What the head environment's model tells the diff. */
export interface EnvContext {
  /** What it tells each distribution's impact (Distribution.diff.context), by distribution name. */
  readonly distributions: Readonly<Record<string, unknown>>;
  /** What its control planes down together take with them (Distribution.diff.controlPlanesDown), for the AWS impact. */
  readonly controlPlanesDown?: string;
  /** What a fixed instance's changed user data does (Distribution.diff.fixedUserData), for the AWS impact. */
  readonly fixedUserData?: string;
}

export type DiffContext = ReadonlyMap<string, EnvContext>;

export interface TreeDiff {
  envs: EnvDiff[];
  totals: EnvCounts & DiffTotals;
}

function byEnv(files: FileMap): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const [p, c] of files) {
    const i = p.indexOf('/');
    if (i <= 0) continue;
    // The provenance manifest changes with every change: the diff is about what the files say.
    if (p.slice(i + 1) === PROVENANCE_FILE) continue;
    const env = p.slice(0, i);
    if (!out.has(env)) out.set(env, new Map());
    out.get(env)!.set(p.slice(i + 1), c);
  }
  return out;
}

interface Located {
  doc: RenderedDoc;
  file: string;
}

function lineChanges(a: string[], b: string[]): { removed: string[]; added: string[] } {
  const count = (xs: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const ca = count(a);
  const cb = count(b);
  const removed = a.filter((x) => {
    const n = cb.get(x) ?? 0;
    if (n > 0) {
      cb.set(x, n - 1);
      return false;
    }
    return true;
  });
  const added = b.filter((x) => {
    const n = ca.get(x) ?? 0;
    if (n > 0) {
      ca.set(x, n - 1);
      return false;
    }
    return true;
  });
  return { removed: removed.map((l) => String(maskValue(l))), added: added.map((l) => String(maskValue(l))) };
}

const emptyCounts = (): EnvCounts => ({ added: 0, removed: 0, changed: 0, moved: 0, fields: 0 });

export function diffEnvironment(env: string, base: ReadonlyMap<string, string>, head: ReadonlyMap<string, string>, ctx: EnvContext = { distributions: {} }): EnvDiff | undefined {
  // Files renamed without a content change: same documents (comments aside) at another path. Not a
  // distribution's node configs: a config under another node's name is another node to apply it to.
  const nodeConfig = (p: string): boolean => distributions().some((d) => d.diff.nodeConfig?.test(p));
  const baseOnly = [...base.keys()].filter((p) => !head.has(p) && !nodeConfig(p));
  const headOnly = [...head.keys()].filter((p) => !base.has(p) && !nodeConfig(p));
  const renamed: { from: string; to: string }[] = [];
  const baseByContent = new Map<string, string>();
  for (const p of baseOnly) baseByContent.set(contentKey(p, base.get(p)!), p);
  /** head path → base path, for document identities of renamed files. */
  const alias = new Map<string, string>();
  for (const p of headOnly) {
    const key = contentKey(p, head.get(p)!);
    const from = baseByContent.get(key);
    if (from !== undefined) {
      baseByContent.delete(key);
      renamed.push({ from, to: p });
      alias.set(p, from);
    }
  }
  const renamedFrom = new Set(renamed.map((r) => r.from));
  const renamedTo = new Set(renamed.map((r) => r.to));

  const collect = (files: ReadonlyMap<string, string>, skip: Set<string>, aliasOf: (p: string) => string): Map<string, Located> => {
    const out = new Map<string, Located>();
    for (const [p, c] of files) {
      if (skip.has(p)) continue;
      for (const doc of splitFile(aliasOf(p), c)) {
        let id = doc.id;
        for (let n = 2; out.has(id); n++) id = `${doc.id}#${n}`;
        out.set(id, { doc: { ...doc, id }, file: p });
      }
    }
    return out;
  };
  const same = new Set([...base.keys()].filter((p) => head.get(p) === base.get(p)));
  const bDocs = collect(base, new Set([...same, ...renamedFrom]), (p) => p);
  const hDocs = collect(head, new Set([...same, ...renamedTo]), (p) => alias.get(p) ?? p);

  const objects: ObjectChange[] = [];
  const pairs: DocPair[] = [];
  for (const [id, b] of bDocs) {
    const h = hDocs.get(id);
    if (!h || !deepEqual(b.doc.value, h.doc.value)) pairs.push({ label: (h ?? b).doc.label, kind: (h ?? b).doc.kind, file: (h ?? b).file, base: b.doc.value, ...(h ? { head: h.doc.value } : {}) });
    if (!h) {
      objects.push({ id, label: b.doc.label, kind: b.doc.kind, status: 'removed', file: b.file, fields: [], value: maskValue(b.doc.value) });
      continue;
    }
    const moved = h.file !== b.file && alias.get(h.file) !== b.file;
    if (deepEqual(b.doc.value, h.doc.value)) {
      if (moved) objects.push({ id, label: h.doc.label, kind: h.doc.kind, status: 'moved', file: h.file, from: b.file, fields: [] });
      continue;
    }
    const change: ObjectChange = { id, label: h.doc.label, kind: h.doc.kind, status: moved ? 'moved' : 'changed', file: h.file, fields: [] };
    if (moved) change.from = b.file;
    if (h.doc.kind === 'text') {
      change.lines = lineChanges(b.doc.value as string[], h.doc.value as string[]);
      change.hunks = unifiedLines(b.doc.value as string[], h.doc.value as string[]);
    }
    else change.fields = diffValues(b.doc.value, h.doc.value).map((c) => maskChange(c, h.doc.value));
    objects.push(change);
  }
  for (const [id, h] of hDocs) {
    if (bDocs.has(id)) continue;
    objects.push({ id, label: h.doc.label, kind: h.doc.kind, status: 'added', file: h.file, fields: [], value: maskValue(h.doc.value) });
    pairs.push({ label: h.doc.label, kind: h.doc.kind, file: h.file, head: h.doc.value });
  }
  objects.sort((x, y) => x.file.localeCompare(y.file) || x.label.localeCompare(y.label));

  // Each distribution's impact: what applying its changed node configs takes.
  const change = { base, head, changed: (p: string) => !same.has(p) && !renamedFrom.has(p) && !renamedTo.has(p) };
  const entries: Record<string, unknown> = {};
  let nodes = 0;
  for (const d of distributions()) {
    const impact = d.diff.impact(change, ctx.distributions[d.name]);
    Object.assign(entries, impact.entries);
    nodes += impact.nodes;
  }
  const aws = awsImpacts(base, head, ctx.controlPlanesDown, ctx.fixedUserData);
  if (objects.length === 0 && renamed.length === 0 && nodes === 0) return undefined;
  const counts = emptyCounts();
  for (const o of objects) {
    counts[o.status]++;
    counts.fields += o.fields.length + (o.lines ? o.lines.added.length + o.lines.removed.length : 0);
  }
  counts.moved += renamed.length;
  const status = base.size === 0 ? 'added' : head.size === 0 ? 'removed' : 'changed';
  return { env, status, objects, renamed, ...entries, ...(aws.length > 0 ? { aws } : {}), lead: envLead(pairs, status !== 'changed'), counts } as EnvDiff;
}

export function diffTrees(baseFiles: FileMap, headFiles: FileMap, context: DiffContext = new Map()): TreeDiff {
  const b = byEnv(baseFiles);
  const h = byEnv(headFiles);
  const envs: EnvDiff[] = [];
  for (const env of [...new Set([...b.keys(), ...h.keys()])].sort()) {
    const d = diffEnvironment(env, b.get(env) ?? new Map(), h.get(env) ?? new Map(), context.get(env));
    if (d) envs.push(d);
  }
  const counts = emptyCounts();
  for (const e of envs) for (const k of ['added', 'removed', 'changed', 'moved', 'fields'] as const) counts[k] += e.counts[k];
  const totals = Object.assign(counts, ...distributions().map((d) => d.diff.totals?.(envs) ?? {})) as TreeDiff['totals'];
  return { envs, totals };
}
