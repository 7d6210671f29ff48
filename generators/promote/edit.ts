/**
 * Apply a promotion's moves to the target environment's own file, in place: through the `yaml`
 * Document API, changing the value of each version's scalar (its quoting, the comments and the layout
 * around it stay), adding a key only where the file has none (the version was inherited from a
 * base), never touching anything else. Pure: text in, text and notes out.
 */
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { withImageVersion } from './items.js';
import type { Move } from './plan.js';

export interface EditResult {
  text: string;
  /** Moves applied, as printed. */
  applied: string[];
  /** Moves that could not be made in this file, and why. */
  skipped: string[];
}

const show = (v: string | undefined): string => v ?? 'the catalog pin';

/** A scalar's new source text in its old style (plain when the value reads back as the same string, else double-quoted). */
function scalarText(type: string | undefined, value: string): string {
  if (type === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  if (type === 'QUOTE_DOUBLE') return JSON.stringify(value);
  const back = parseDocument(`k: ${value}`).get('k');
  return back === value && !/[#{}[\],]/.test(value) ? value : JSON.stringify(value);
}

export function applyMoves(text: string, file: string, moves: readonly Move[]): EditResult {
  const doc = parseDocument(text);
  // Existing scalars are replaced in the text itself (everything else stays byte for byte); a key
  // added or removed makes the document re-serialize (which may re-space flow collections).
  const splices: { start: number; end: number; text: string }[] = [];
  let structural = false;
  const setScalar = (d: Document, path: (string | number)[], value: string): void => {
    const node = d.getIn(path, true);
    if (isScalar(node) && node.range) {
      splices.push({ start: node.range[0], end: node.range[1], text: scalarText(node.type, value) });
      node.value = value;
    } else {
      structural = true;
      d.setIn(path, value);
    }
  };
  const applied: string[] = [];
  const skipped: string[] = [];
  for (const m of moves) {
    const { item } = m;
    const label = `${item.id} ${show(m.from)} → ${show(m.to)}`;
    if (item.kind === 'kubernetes' || item.kind === 'distribution') {
      const key = item.kind === 'kubernetes' ? 'kubernetesVersion' : item.id.slice('cluster.'.length);
      setScalar(doc, ['cluster', key], m.to!);
      applied.push(label);
    } else if (item.kind === 'chart') {
      const path = ['addons', item.name!, 'chart', 'version'];
      if (m.to === undefined) {
        // Back to the catalog's pin: the pin goes, and the maps it leaves empty.
        structural = true;
        doc.deleteIn(path);
        for (const p of [path.slice(0, 3), path.slice(0, 2)]) {
          const node = doc.getIn(p, true);
          if (isMap(node) && node.items.length === 0) doc.deleteIn(p);
        }
      } else setScalar(doc, path, m.to);
      applied.push(label);
    } else {
      const workloads = doc.get('workloads', true);
      const index = isSeq(workloads) ? workloads.items.findIndex((w) => isMap(w) && w.get('name') === item.name) : -1;
      if (index < 0) {
        skipped.push(`${label}: workload ${item.name} is not in ${file} (inherited from a base: promote it there)`);
        continue;
      }
      const current = doc.getIn(['workloads', index, 'image']);
      setScalar(doc, ['workloads', index, 'image'], withImageVersion(String(current), m.to!));
      applied.push(label);
    }
  }
  if (structural) return { text: doc.toString({ lineWidth: 0, flowCollectionPadding: true }), applied, skipped };
  let out = text;
  for (const sp of [...splices].sort((a, b) => b.start - a.start)) out = out.slice(0, sp.start) + sp.text + out.slice(sp.end);
  return { text: out, applied, skipped };
}
