/**
 * Source positions of every value in an environment file, and of the merged result of an
 * environment with its bases: `locate(path)` answers "which file, line and column wrote this".
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node } from 'yaml';
import { toPointer, type DocPath } from '../lib/paths.js';
import type { SourcePos } from '../validate/diagnostics.js';

export interface Origin {
  /** Where the value starts. */
  value: SourcePos;
  /** Where the map key naming it starts (absent for list items and the root). */
  key?: SourcePos;
  /** Whether the value is a map (maps merge across extends; anything else replaces). */
  isMap: boolean;
  /** A number as the file wrote it, when YAML read it as another text (`055…` → 55…, `1.30` → 1.3). */
  written?: string;
}

export type OriginMap = Map<string, Origin>;

function pos(file: string, lc: LineCounter, offset: number | undefined): SourcePos {
  const { line, col } = lc.linePos(offset ?? 0);
  return { file, line, col };
}

/** Record the position of every node of a parsed document, keyed by JSON pointer. */
export function collectOrigins(file: string, root: Node | null | undefined, lc: LineCounter): OriginMap {
  const out: OriginMap = new Map();
  const visit = (node: unknown, path: (string | number)[], key?: SourcePos): void => {
    const n = node as Node | null | undefined;
    const offset = n && 'range' in n && n.range ? n.range[0] : undefined;
    const value = offset === undefined ? (key ?? { file, line: 1, col: 1 }) : pos(file, lc, offset);
    const written = isScalar(n) && typeof n.value === 'number' && typeof n.source === 'string' && n.source !== String(n.value) ? { written: n.source } : {};
    out.set(toPointer(path), key ? { value, key, isMap: isMap(n), ...written } : { value, isMap: isMap(n), ...written });
    if (isMap(n)) {
      for (const item of n.items) {
        if (!isPair(item)) continue;
        const k = isScalar(item.key) ? String(item.key.value) : String(item.key);
        const keyNode = item.key as Node | null;
        const keyPos = keyNode && keyNode.range ? pos(file, lc, keyNode.range[0]) : value;
        visit(item.value, [...path, k], keyPos);
      }
    } else if (isSeq(n)) {
      n.items.forEach((item, i) => visit(item, [...path, i]));
    }
  };
  visit(root, []);
  return out;
}

/**
 * Origins of `over` merged onto `under` with the merge rule of `extends`: maps merge deeply, lists
 * and scalars replace (so everything `under` had below a replaced value is forgotten).
 */
export function mergeOrigins(under: OriginMap, over: OriginMap): OriginMap {
  // Everything of `under` below a value `over` replaces goes: a pointer whose ancestor (each prefix
  // ending before a '/') is one of those values. (In one pass: comparing every pair was quadratic.)
  const replaced = new Set<string>();
  for (const [p, o] of over) if (!o.isMap) replaced.add(p);
  const out: OriginMap = new Map();
  for (const [k, o] of under) {
    let below = false;
    for (let i = k.indexOf('/'); i !== -1 && !below; i = k.indexOf('/', i + 1)) below = replaced.has(k.slice(0, i));
    if (!below) out.set(k, o);
  }
  for (const p of [...over.keys()].sort((a, b) => a.length - b.length)) out.set(p, over.get(p)!);
  return out;
}

/** The position of the deepest recorded value on `path`; `preferKey` points at the key instead. */
export function locateIn(origins: OriginMap, path: DocPath, preferKey = false): SourcePos | undefined {
  for (let n = path.length; n >= 0; n--) {
    const o = origins.get(toPointer(path.slice(0, n)));
    if (o) return preferKey && n === path.length && o.key ? o.key : o.value;
  }
  return undefined;
}
