import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareEnvironment } from '../generators/pipeline.js';
import { expectations, FIXTURES, fixtureSources, formatted } from './helpers.js';

const invalid = readdirSync(join(FIXTURES, 'invalid')).filter((f) => f.endsWith('.yaml')).sort();
const valid = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();

describe('invalid fixtures: one rule each, message and position asserted', () => {
  it.each(invalid)('%s', (file) => {
    const expected = expectations(readFileSync(join(FIXTURES, 'invalid', file), 'utf8'));
    expect(expected.length, 'fixture needs at least one # expect: line').toBeGreaterThan(0);
    const { name, sources } = fixtureSources('invalid', file);
    const r = prepareEnvironment(name, sources);
    expect(r.prepared).toBeUndefined();
    const lines = formatted(r).filter((l) => !l.includes(': warning: '));
    for (const e of expected) expect(lines.some((l) => l.startsWith(e)), `expected a diagnostic starting with\n  ${e}\ngot\n  ${lines.join('\n  ')}`).toBe(true);
    // One rule per fixture: every error comes from the same rule.
    const rules = new Set(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.rule.replace(/^schema\..*/, 'schema')));
    expect([...rules].length, `errors from several rules: ${[...rules].join(', ')}`).toBe(1);
  });
});

describe('valid fixtures', () => {
  it.each(valid)('%s validates without errors', (file) => {
    const { name, sources } = fixtureSources('valid', file);
    const r = prepareEnvironment(name, sources);
    expect(formatted(r).filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
    expect(r.prepared?.model.name).toBe(name);
  });
});
