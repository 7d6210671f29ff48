import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../generators/lib/hash.js';
import { GENERATOR_VERSION } from '../generators/version.js';
import { listFiles, planEnvironment, recover, removeEnvironment, safeJoin, writeEnvironment } from '../generators/write/writer.js';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'odp-writer-'));

describe('writer', () => {
  it('writes a tree, then leaves unchanged files untouched (same mtime and inode)', () => {
    const root = fresh();
    writeEnvironment(root, 'dev', [
      { path: 'a.yaml', content: 'a: 1\n' },
      { path: 'talos/n1.yaml', content: 'n: 1\n' },
    ]);
    const file = join(root, 'dev', 'talos', 'n1.yaml');
    const past = new Date('2020-01-01T00:00:00Z');
    utimesSync(file, past, past);
    const before = statSync(file);
    const r = writeEnvironment(root, 'dev', [
      { path: 'a.yaml', content: 'a: 2\n' },
      { path: 'talos/n1.yaml', content: 'n: 1\n' },
    ]);
    expect(r).toStrictEqual({ env: 'dev', written: ['.provenance.json', 'a.yaml'], unchanged: ['talos/n1.yaml'], removed: [] });
    const after = statSync(file);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(after.ino).toBe(before.ino);
    expect(readFileSync(join(root, 'dev', 'a.yaml'), 'utf8')).toBe('a: 2\n');
  });

  it('does nothing at all when every file is unchanged', () => {
    const root = fresh();
    const files = [{ path: 'a.yaml', content: 'a: 1\n' }];
    writeEnvironment(root, 'dev', files);
    const dirBefore = statSync(join(root, 'dev')).ino;
    expect(writeEnvironment(root, 'dev', files)).toStrictEqual({ env: 'dev', written: [], unchanged: ['a.yaml', '.provenance.json'], removed: [] });
    expect(statSync(join(root, 'dev')).ino).toBe(dirBefore);
  });

  it('prunes files no longer generated, only inside the environment', () => {
    const root = fresh();
    writeEnvironment(root, 'dev', [{ path: 'a.yaml', content: 'a\n' }, { path: 'old/b.yaml', content: 'b\n' }]);
    writeEnvironment(root, 'prod', [{ path: 'b.yaml', content: 'b\n' }]);
    const r = writeEnvironment(root, 'dev', [{ path: 'a.yaml', content: 'a\n' }]);
    expect(r.removed).toStrictEqual(['old/b.yaml']);
    expect(listFiles(join(root, 'dev'))).toStrictEqual(['.provenance.json', 'a.yaml']);
    expect(listFiles(join(root, 'prod'))).toStrictEqual(['.provenance.json', 'b.yaml']);
  });

  it.each(['../escape.yaml', '/etc/passwd', 'a/../../x.yaml', 'a//b.yaml', './a.yaml', 'a\\b.yaml', ''])('refuses the path %j', (p) => {
    const root = fresh();
    expect(() => writeEnvironment(root, 'dev', [{ path: p, content: 'x\n' }])).toThrow(/refusing to write/);
    expect(existsSync(join(root, 'dev'))).toBe(false);
  });

  it('refuses environment names that are not plain directory names', () => {
    expect(() => writeEnvironment(fresh(), '../x', [])).toThrow(/refusing environment directory/);
    expect(() => safeJoin('/r', '..')).toThrow();
  });

  it('safeJoin answers as path.resolve does (its fast path for a normalized absolute root), refusing the same paths', () => {
    // The check before the fast path (issue 23, seventh pass), as it was written with split and resolve.
    const reference = (root: string, rel: string): string => {
      if (rel === '' || rel.startsWith('/') || rel.includes('\\') || rel.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new Error('not plain');
      const abs = resolve(root, rel);
      if (!abs.startsWith(resolve(root) + sep)) throw new Error('outside');
      return abs;
    };
    const outcome = (f: () => string): string => {
      try {
        return f();
      } catch {
        return '(refused)';
      }
    };
    const segment = fc.oneof(fc.constantFrom('', '.', '..', '...', 'a', '.a', 'a.', 'x.yaml', 'a\\b', ' '), fc.string({ maxLength: 4 }));
    const rel = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
    const root = fc.constantFrom('/r', '/tmp/x/rendered', '/', '/a/../b', '/a/', 'rel/dir', '.', '/r/.odp-tmp-dev-1');
    fc.assert(
      fc.property(root, rel, (r, p) => {
        expect(outcome(() => safeJoin(r, p))).toBe(outcome(() => reference(r, p)));
      }),
      { numRuns: 400 },
    );
  });

  it('writes the provenance manifest as one more file, and refuses a rendered file in its place', () => {
    const root = fresh();
    writeEnvironment(root, 'dev', [{ path: 'a.yaml', content: 'a: 1\n', provenance: { sources: ['environments/dev.yaml'], inputs: { name: 'h1' } } }]);
    expect(readFileSync(join(root, 'dev', '.provenance.json'), 'utf8')).toBe(
      [
        '{',
        '  "environment": "dev",',
        '  "generator": "odp-gitops",',
        `  "version": "${GENERATOR_VERSION}",`,
        '  "sources": ["environments/dev.yaml"],',
        '  "inputs": {',
        '    "name": "h1"',
        '  },',
        '  "files": {',
        `    "a.yaml": { "inputs": ["name"], "sha256": "${sha256('a: 1\n')}" }`,
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(() => writeEnvironment(root, 'dev', [{ path: '.provenance.json', content: '{}' }])).toThrow(/writer's: no renderer may produce it/);
  });

  it('refuses two files with the same path', () => {
    expect(() => writeEnvironment(fresh(), 'dev', [{ path: 'a.yaml', content: '1' }, { path: 'a.yaml', content: '2' }])).toThrow(/share the path/);
  });

  it('recovers a swap interrupted between its two renames (old tree kept aside, new not yet in place)', () => {
    const root = fresh();
    writeEnvironment(root, 'dev', [{ path: 'a.yaml', content: 'old\n' }]);
    // Simulate a kill after `rename(dev → .odp-old-dev-<pid>)`, with a half-written temporary tree.
    renameSync(join(root, 'dev'), join(root, '.odp-old-dev-4242'));
    mkdirSync(join(root, '.odp-tmp-dev-4242'));
    writeFileSync(join(root, '.odp-tmp-dev-4242', 'a.yaml'), 'half');
    recover(root);
    expect(readFileSync(join(root, 'dev', 'a.yaml'), 'utf8')).toBe('old\n');
    expect(existsSync(join(root, '.odp-tmp-dev-4242'))).toBe(false);
    expect(existsSync(join(root, '.odp-old-dev-4242'))).toBe(false);
  });

  it('plans stale, missing and extra files without writing', () => {
    const root = fresh();
    writeEnvironment(root, 'dev', [{ path: 'a.yaml', content: 'a\n' }, { path: 'b.yaml', content: 'b\n' }]);
    expect(planEnvironment(root, 'dev', [{ path: 'a.yaml', content: 'A\n' }, { path: 'c.yaml', content: 'c\n' }])).toStrictEqual({
      stale: ['a.yaml', '.provenance.json'],
      missing: ['c.yaml'],
      extra: ['b.yaml'],
      unchanged: [],
    });
    expect(readFileSync(join(root, 'dev', 'a.yaml'), 'utf8')).toBe('a\n');
  });

  it('removes the tree of a deleted environment', () => {
    const root = fresh();
    writeEnvironment(root, 'gone', [{ path: 'x/a.yaml', content: 'a\n' }]);
    expect(removeEnvironment(root, 'gone')).toStrictEqual(['.provenance.json', 'x/a.yaml']);
    expect(existsSync(join(root, 'gone'))).toBe(false);
  });
});
