/** The newcomer-mistake tests of the audit fixtures (test/k3s-audit16.test.ts, test/rke2-audit15.test.ts). */
import { expect } from 'vitest';
import { prepareEnvironment } from '../../generators/pipeline.js';
import { fixtureSources, formatted } from '../helpers.js';

/**
 * A newcomer's mistake in valid fixture `file` (`from` replaced by `to`) is refused before anything is written: it no
 * longer prepares, and its errors (not warnings) are exactly `expected`, in order, each given by its start.
 */
export function expectMistakeRefused(file: string, from: string, to: string, expected: readonly string[]): void {
  const { name, sources } = fixtureSources('valid', file);
  const path = `environments/${name}.yaml`;
  const text = sources.get(path)!;
  const changed = text.replace(from, to);
  expect(changed, 'the edit applies').not.toBe(text);
  sources.set(path, changed);
  const r = prepareEnvironment(name, sources);
  const errors = formatted(r).filter((l) => !l.includes(': warning: '));
  expect(r.prepared).toBeUndefined();
  expect(errors).toHaveLength(expected.length);
  for (const [i, e] of expected.entries()) expect(errors[i]!.startsWith(e), `${errors[i]}\n  should start with\n${e}`).toBe(true);
}

/** Valid fixture `file` as written validates (warnings only) and prepares. */
export function expectFixturePrepares(file: string): void {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  expect(formatted(r).filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
  expect(r.prepared).toBeDefined();
}
