/**
 * SHA-256 and canonical JSON: stable fingerprints of content and data.
 */
import { hash } from 'node:crypto';

/**
 * Hex sha256 of a text (UTF-8) or bytes. The one-shot `crypto.hash` (Node 20.12+; engines ≥ 20.19):
 * a third of the CPU of `createHash().update().digest()` for the short texts hashed here, hundreds
 * of times per run (issue 23, sixth pass).
 */
export function sha256(text: string | Uint8Array): string {
  return hash('sha256', text, 'hex');
}

/** A value the fast path leaves to JSON.stringify (see canonicalJson). */
const NOT_PLAIN = Symbol('not plain data');

/**
 * canonicalJson of plain data (null, booleans, numbers, strings, arrays, objects whose prototype is
 * Object.prototype or null, no toJSON): the same text as JSON.stringify with the sorting replacer
 * below, without a replacer call and a sorted copy of every object (the provenance hashes every input
 * path of every environment through it; issue 23, seventh pass). Anything else throws NOT_PLAIN and
 * the whole value goes the general way: a key starting with a digit too, since an object copied by
 * Object.fromEntries puts integer-like keys first, in numeric order.
 */
function plainJson(v: unknown, inArray: boolean): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      if (inArray) return 'null';
      return undefined;
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) throw NOT_PLAIN;
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + plainJson(v[i], true);
        return out + ']';
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if ((proto !== Object.prototype && proto !== null) || 'toJSON' in v) throw NOT_PLAIN;
      const src = v as Record<string, unknown>;
      const keys = Object.keys(src);
      for (const k of keys) {
        const c = k.charCodeAt(0);
        if (c >= 48 && c <= 57) throw NOT_PLAIN;
      }
      keys.sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const s = plainJson(src[k], false);
        if (s === undefined) continue;
        out += (first ? '' : ',') + JSON.stringify(k) + ':' + s;
        first = false;
      }
      return out + '}';
    }
    default:
      // functions and symbols (left out, or null in an array) and bigints (a TypeError): the general way
      throw NOT_PLAIN;
  }
}

/** JSON with sorted keys: a stable text for hashing values. */
export function canonicalJson(value: unknown): string {
  if (value !== undefined) {
    try {
      return plainJson(value, false)!;
    } catch (e) {
      // RangeError: nested too deep for the recursion (or a cycle, which JSON.stringify names)
      if (e !== NOT_PLAIN && !(e instanceof RangeError)) throw e;
    }
  }
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const src = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(src).sort().map((k) => [k, src[k]]));
    }
    return v;
  });
}
