/**
 * canonicalJson's fast path for plain data (lib/hash.ts) writes exactly what JSON.stringify with the
 * key-sorting replacer writes, for any value (the provenance hashes and the manifests depend on it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../generators/lib/hash.js';

/** The reference: JSON.stringify with a replacer that copies every object with its keys sorted. */
function reference(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const src = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(src).sort().map((k) => [k, src[k]]));
    }
    return v;
  });
}

const outcome = (f: () => string): { text?: string; error?: string } => {
  try {
    return { text: f() };
  } catch (e) {
    return { error: (e as Error).constructor.name };
  }
};

describe('canonicalJson', () => {
  it('sorts keys at every depth, leaves undefined out of objects and writes it as null in arrays', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined, 'x'], c: undefined }, e: null })).toBe('{"a":{"d":[1,null,"x"]},"b":1,"e":null}');
  });

  it('puts integer-like keys first in numeric order, as the copy made by Object.fromEntries does', () => {
    expect(canonicalJson({ b: 1, 10: 'ten', 9: 'nine', '1e3': 'x' })).toBe('{"9":"nine","10":"ten","1e3":"x","b":1}');
  });

  it('writes what JSON.stringify with the sorting replacer writes, for arbitrary values', () => {
    const values = fc.anything({
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withBigInt: true,
      withTypedArray: true,
      key: fc.oneof(fc.string(), fc.constantFrom('0', '1', '10', '01', '1e3', '-1', '4294967295', '__proto__', 'toJSON', 'a', 'B')),
    });
    fc.assert(
      fc.property(values, (v) => {
        expect(outcome(() => canonicalJson(v))).toEqual(outcome(() => reference(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('numbers as JSON writes them: -0 as 0, NaN and infinities as null', () => {
    expect(canonicalJson([-0, NaN, Infinity, -Infinity, 1e21, 1.5e-7])).toBe(reference([-0, NaN, Infinity, -Infinity, 1e21, 1.5e-7]));
  });

  it('a value with toJSON (a Date) goes through toJSON, as JSON.stringify does', () => {
    const d = new Date(Date.UTC(2026, 11, 7));
    expect(canonicalJson({ z: 1, at: d })).toBe('{"at":"2026-12-07T00:00:00.000Z","z":1}');
  });
});
