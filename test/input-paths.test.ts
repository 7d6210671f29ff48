/**
 * formatInputPath (generators/lib/paths.ts): the key of each input in a rendered file's provenance
 * (rendered/<env>/.provenance.json). Issue 23 wrote its segments inline instead of through formatPath
 * and a regular expression; the keys must stay the same, or every manifest would change.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatInputPath, formatPath, type InputPath } from '../generators/lib/paths.js';

/** The implementation before issue 23. */
function viaFormatPath(path: InputPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'object' && seg !== null && typeof seg.name === 'string') out += `[name=${seg.name}]`;
    else out += formatPath([seg as string | number]).replace(/^(?=[A-Za-z_])/, out === '' ? '' : '.');
  }
  return out === '' ? '(document)' : out;
}

const segment = fc.oneof(
  fc.constantFrom('addons', 'workloads', 'cluster', 'name', '_x', 'a-b', '9a', '', 'a.b', '"', '[name=x]', '(document)'),
  fc.string(),
  fc.nat(),
  fc.string().map((name) => ({ name })),
);

describe('formatInputPath', () => {
  it('formats paths as people read them', () => {
    expect(formatInputPath([])).toBe('(document)');
    expect(formatInputPath(['workloads', { name: 'portal' }, 'replicas'])).toBe('workloads[name=portal].replicas');
    expect(formatInputPath(['nodePools', 2, 'a-b', 'x y'])).toBe('nodePools[2].a-b["x y"]');
  });

  it('property: the same key as the formatPath-based implementation it replaced', () => {
    fc.assert(fc.property(fc.array(segment, { maxLength: 5 }), (path) => formatInputPath(path) === viaFormatPath(path)), { numRuns: 3000 });
  });
});
