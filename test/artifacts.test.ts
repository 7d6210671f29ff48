/**
 * Artifacts pinned by content (generators/distributions/rancher/artifacts.ts, record.ts): the record
 * command against a local fake release server (checksum file and asset must agree), the committed
 * locks covering every release the generator pins (a version bump without a recorded lock fails here
 * and names the command), and the validate warning where a value is unknown.
 */
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K3S_ARTIFACTS } from '../generators/distributions/k3s/artifacts.js';
import { RKE2_ARTIFACTS } from '../generators/distributions/rke2/artifacts.js';
import { releaseOf, RECORD_COMMAND, type ArtifactFacts } from '../generators/distributions/rancher/artifacts.js';
import { checksumOf, lockText, recordArtifacts } from '../generators/distributions/rancher/record.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted, ROOT } from './helpers.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('npm run artifacts -- record, against a fake release server', () => {
  let server: Server;
  let base = '';
  const V = 'v1.35.9+k3s1';
  const files: Record<string, string> = {
    '/k3s-io/k3s/releases/download/v1.35.9%2Bk3s1/k3s': 'k3s-amd64-binary',
    '/k3s-io/k3s/releases/download/v1.35.9%2Bk3s1/k3s-arm64': 'k3s-arm64-binary',
    // The amd64 list is right; the arm64 list disagrees with the asset (tampered or wrong release).
    '/k3s-io/k3s/releases/download/v1.35.9%2Bk3s1/sha256sum-amd64.txt': `${sha('k3s-amd64-binary')}  k3s\n${sha('x')}  k3s-airgap-images-amd64.tar\n`,
    '/k3s-io/k3s/releases/download/v1.35.9%2Bk3s1/sha256sum-arm64.txt': `${sha('something else')}  k3s-arm64\n`,
    '/raw/k3s-io/k3s/v1.35.9%2Bk3s1/install.sh': '#!/bin/sh\n# install.sh\n',
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      const body = files[req.url ?? ''];
      res.writeHead(body === undefined ? 404 : 200).end(body ?? 'not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('records what the checksum file and the downloaded asset agree on; refuses a disagreement and keeps null', async () => {
    const facts: ArtifactFacts = { ...K3S_ARTIFACTS, lock: { products: {} } };
    const { lock, outcomes } = await recordArtifacts(facts, { today: '2026-12-06', origins: { github: base, raw: `${base}/raw` } }, [{ product: 'k3s', version: V }]);
    const rec = releaseOf(lock, 'k3s', V)!;
    expect(rec.amd64).toMatchObject({ file: 'k3s', sha256: sha('k3s-amd64-binary'), url: 'https://github.com/k3s-io/k3s/releases/download/v1.35.9%2Bk3s1/k3s' });
    expect(rec.amd64!.source).toContain('sha256sum-amd64.txt of release v1.35.9+k3s1 of k3s-io/k3s');
    expect(rec['install.sh']).toMatchObject({ sha256: sha('#!/bin/sh\n# install.sh\n') });
    expect(rec.arm64!.sha256).toBeNull();
    expect(outcomes.find((o) => o.key === 'arm64')!.note).toContain('refusing to record either');
    // What the command writes parses back to the same lock.
    expect(JSON.parse(lockText(lock))).toStrictEqual(JSON.parse(JSON.stringify(lock)));
  });

  it('reads a checksum line in either format', () => {
    expect(checksumOf(`${'a'.repeat(64)} *dist/litestream-0.5.16-linux-arm64.tar.gz\n`, 'litestream-0.5.16-linux-arm64.tar.gz')).toBe('a'.repeat(64));
    expect(checksumOf(`${'b'.repeat(64)}  k3s\n`, 'k3s-arm64')).toBeUndefined();
  });
});

describe('the committed locks', () => {
  const all = [K3S_ARTIFACTS, RKE2_ARTIFACTS];

  it('cover every release the generator pins, for the URLs the nodes download (a bump names the command)', () => {
    const stale: string[] = [];
    for (const facts of all)
      for (const { product, version } of facts.pinned()) {
        const p = facts.products.find((x) => x.product === product)!;
        for (const spec of p.assets(version)) {
          const rec = releaseOf(facts.lock, product, version)?.[spec.key];
          if (!rec || rec.url !== spec.url || rec.file !== spec.file) stale.push(`${product} ${version} ${spec.key}`);
        }
      }
    expect(stale, `no lock record (or one for another URL): run ${RECORD_COMMAND} (network) and commit ${all.map((f) => f.lockFile).join(', ')}`).toStrictEqual([]);
  });

  it('every recorded value is a sha256 with its source; the files are as the command writes them', () => {
    for (const facts of all) {
      for (const versions of Object.values(facts.lock.products))
        for (const release of Object.values(versions))
          for (const rec of Object.values(release)) {
            expect(rec!.sha256 === null || /^[0-9a-f]{64}$/.test(rec!.sha256)).toBe(true);
            expect(rec!.source.length).toBeGreaterThan(10);
          }
      expect(readFileSync(join(ROOT, facts.lockFile), 'utf8')).toBe(lockText(facts.lock));
    }
  });

  it('RKE2 install.sh at v1.35.7+rke2r1 is the value hashed from the repository (research/day2.md line 16)', () => {
    expect(releaseOf(RKE2_ARTIFACTS.lock, 'rke2', 'v1.35.7+rke2r1')!['install.sh']!.sha256).toBe('2d24db2184dd6b1a5e281fa45cc9a8234c889394721746f89b5fe953fdaaf40a');
  });
});

describe('validate: artifact-sha256', () => {
  it('warns at the version key when the pinned release has no recorded tarball hashes', () => {
    const { sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const r = prepareEnvironment('rke2-etcd', sources);
    expect(r.diagnostics.filter((d) => d.rule === 'artifact-sha256').map((d) => d.severity)).toStrictEqual(['warning']);
    const lines = formatted(r).filter((l) => l.includes('no sha256 is recorded'));
    expect(lines).toStrictEqual([
      `environments/rke2-etcd.yaml:8:16  cluster.rke2Version: warning: no sha256 is recorded for amd64 of RKE2 v1.35.7+rke2r1: its nodes refuse to install it  (run ${RECORD_COMMAND} (needs network), then npm run synth)`,
    ]);
  });
});
