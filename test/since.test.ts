/**
 * Since when: each rendered tree's provenance manifest dates every promoted version (write/since.ts), carried forward
 * by synth while the value stays, today's (lib/source-date.ts: SOURCE_DATE_EPOCH, else the clock) when it is new; the
 * fleet matrix says since when the source carried the version a target is behind by.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main as synthMain } from '../generators/cli/synth.js';
import { main as checkMain } from '../generators/cli/check.js';
import { carryDates, datesOf } from '../generators/write/since.js';
import { parseSourceDateEpoch, SOURCE_DATE_EPOCH_SPEC, today } from '../generators/lib/source-date.js';
import { UsageError } from '../generators/validate/diagnostics.js';
import { promotionCell, renderFleetMatrix } from '../generators/fleet/matrix.js';
import type { FleetRow } from '../generators/fleet/row.js';
import { parseManifest } from '../generators/write/provenance.js';
import { listFiles } from '../generators/write/writer.js';
import { STATE_FILE } from '../generators/write/state.js';
import { EXAMPLES } from './helpers.js';

vi.setConfig({ testTimeout: 180_000 });

const epoch = (day: string): string => String(Date.parse(`${day}T12:00:00Z`) / 1000);

describe('SOURCE_DATE_EPOCH', () => {
  it('is read as seconds since 1970-01-01 UTC, its UTC day taken; unset or empty, the clock is', () => {
    expect(parseSourceDateEpoch('1796731200')).toBe('2026-12-08');
    expect(parseSourceDateEpoch('1796774399')).toBe('2026-12-08'); // 23:59:59 UTC
    expect(parseSourceDateEpoch('1796774400')).toBe('2026-12-09');
    expect(parseSourceDateEpoch('0')).toBe('1970-01-01');
    const clock = () => Date.UTC(2027, 0, 2, 23, 30);
    expect(today({}, clock)).toBe('2027-01-02');
    expect(today({ SOURCE_DATE_EPOCH: '' }, clock)).toBe('2027-01-02');
    expect(today({ SOURCE_DATE_EPOCH: '1796731200' }, clock)).toBe('2026-12-08');
  });

  it('refuses a malformed value, naming it and the specification (exit code 2)', () => {
    for (const bad of ['1.5', '-1', 'abc', ' 1796731200', '1e9', '0x10', '99999999999999999']) {
      let err: unknown;
      try {
        today({ SOURCE_DATE_EPOCH: bad });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(2);
      expect((err as Error).message).toContain(`SOURCE_DATE_EPOCH=${JSON.stringify(bad)} is not a time synth can read`);
      expect((err as Error).message).toContain(SOURCE_DATE_EPOCH_SPEC);
    }
  });
});

describe('carrying dates forward', () => {
  it('keeps the committed date of an unchanged value; a new or changed value, or one never dated, gets today', () => {
    const committed = { a: { value: '1.0.0', date: '2026-11-01' }, b: { value: '2.0.0', date: '2026-11-02' }, gone: { value: 'x', date: '2026-10-01' }, odd: { value: '3', date: 'yesterday' } };
    expect(carryDates(committed, { b: '2.1.0', a: '1.0.0', c: '4', odd: '3' }, '2026-12-08')).toStrictEqual({
      a: { value: '1.0.0', date: '2026-11-01' },
      b: { value: '2.1.0', date: '2026-12-08' },
      c: { value: '4', date: '2026-12-08' },
      odd: { value: '3', date: '2026-12-08' },
    });
    expect(carryDates(undefined, { a: '1' }, '2026-12-08')).toStrictEqual({ a: { value: '1', date: '2026-12-08' } });
  });

  it('reads a manifest\'s dates only when every entry is a dated value', () => {
    expect(datesOf({ a: { value: '1', date: '2026-12-08' } })).toStrictEqual({ a: { value: '1', date: '2026-12-08' } });
    for (const bad of [undefined, null, [], 'x', { a: '1' }, { a: { value: 1, date: '2026-12-08' } }]) expect(datesOf(bad)).toBeUndefined();
  });
});

describe('the fleet matrix\'s since', () => {
  const row = (over: Partial<FleetRow>): FleetRow => ({ env: 'x', distribution: 'Dist', releases: [{ label: 'distVersion', value: 'v1.1.0' }], kubernetes: '1.35.2', engine: 'Engine', charts: { 'cert-manager': 'v1.21.1', other: '1.0.0' }, images: { api: 'ghcr.io/o/api:2.0.0' }, ...over });
  const since = { 'addons.cert-manager.chart.version': '2026-12-08', 'addons.other.chart.version': '2026-11-30', 'cluster.kubernetesVersion': '2026-10-01', 'workloads[name=api].image': '2026-12-01' };

  it('is the day the source first carried the version the target lacks, the earliest of several', () => {
    const prod = row({ env: 'prod', promotionFrom: 'staging' });
    const one = row({ env: 'staging', charts: { 'cert-manager': 'v1.22.0', other: '1.0.0' }, since });
    expect(promotionCell(prod, new Map([['staging', one]]))).toBe('behind `staging` by `cert-manager v1.21.1 → v1.22.0` since 2026-12-08');
    const two = row({ env: 'staging', charts: { 'cert-manager': 'v1.22.0', other: '1.1.0' }, images: { api: 'ghcr.io/o/api:2.1.0' }, since });
    expect(renderFleetMatrix([prod, two])).toContain('| behind `staging` by `cert-manager v1.21.1 → v1.22.0`, `other 1.0.0 → 1.1.0`, `api 2.0.0 → 2.1.0` since 2026-11-30 |');
    // Level, or a source whose row records no dates (no since, nothing invented).
    expect(promotionCell(prod, new Map([['staging', row({ env: 'staging', since })]]))).toBe('level with `staging`');
    expect(promotionCell(prod, new Map([['staging', row({ env: 'staging', kubernetes: '1.36.0' })]]))).toBe('behind `staging` by `Kubernetes 1.35.2 → 1.36.0`');
  });
});

describe('synth carries the dates forward', () => {
  const saved = process.env.SOURCE_DATE_EPOCH;
  afterEach(() => {
    process.env.SOURCE_DATE_EPOCH = saved;
  });

  const PIN = (v: string): string => `addons:\n  cert-manager:\n    chart: { version: ${v} }\n`;
  function scratch(): string {
    const root = mkdtempSync(join(tmpdir(), 'odp-since-'));
    const env = join(root, 'environments');
    mkdirSync(env, { recursive: true });
    for (const f of ['_base.yaml', 'staging.yaml', 'staging.ssm.lock.json']) copyFileSync(join(EXAMPLES, 'environments', f), join(env, f));
    copyFileSync(join(EXAMPLES, 'environments', 'staging.ssm.lock.json'), join(env, 'prod.ssm.lock.json'));
    const base = readFileSync(join(env, 'staging.yaml'), 'utf8');
    writeFileSync(join(env, 'staging.yaml'), `${base.trimEnd()}\n${PIN('v1.20.2')}`);
    const prod = base.replace('name: staging', 'name: prod').replace('name: odp-staging', 'name: odp-prod');
    writeFileSync(join(env, 'prod.yaml'), `${prod.trimEnd()}\npromotion:\n  from: staging\n${PIN('v1.20.2')}`);
    return root;
  }
  const tree = (root: string): Map<string, string> => new Map(listFiles(join(root, 'rendered')).filter((f) => f !== STATE_FILE).map((f) => [f, readFileSync(join(root, 'rendered', f), 'utf8')]));
  const since = (root: string, env: string) => parseManifest(readFileSync(join(root, 'rendered', env, '.provenance.json'), 'utf8'))!.since!;
  async function synth(root: string, day: string, ...args: string[]): Promise<string> {
    process.env.SOURCE_DATE_EPOCH = epoch(day);
    let out = '';
    expect(await synthMain(['--root', root, ...args], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: (t) => (out += t) })).toBe(0);
    return out;
  }
  async function check(root: string, day: string, ...args: string[]): Promise<boolean> {
    process.env.SOURCE_DATE_EPOCH = epoch(day);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await checkMain(['--root', root, ...args]);
      return true;
    } catch {
      return false;
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  it('re-renders byte-identical on a later day; a chart change moves that key\'s date only, and the matrix says since', async () => {
    const root = scratch();
    await synth(root, '2026-12-01');
    const first = tree(root);
    const dated = since(root, 'staging');
    expect(Object.keys(dated)).toContain('addons.cert-manager.chart.version');
    expect(Object.keys(dated)).toContain('cluster.kubernetesVersion');
    expect(new Set(Object.values(dated).map((d) => d.date))).toStrictEqual(new Set(['2026-12-01']));
    expect(dated['addons.cert-manager.chart.version']!.value).toBe('v1.20.2');
    expect(first.get('README.md')).toContain('| level with `staging` |');

    // A later day, everything rendered again (in two threads too), and check: nothing differs.
    await synth(root, '2027-01-15', '--force');
    expect(tree(root)).toStrictEqual(first);
    await synth(root, '2027-01-16', '--force', '--jobs', '2');
    expect(tree(root)).toStrictEqual(first);
    expect(await check(root, '2027-02-01', '--force')).toBe(true);
    expect(await check(root, '2027-02-01', '--force', '--jobs', '2')).toBe(true);

    // staging's cert-manager moves: that key alone is dated anew; prod's tree does not change.
    const file = join(root, 'environments', 'staging.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('version: v1.20.2', 'version: v1.21.2'));
    await synth(root, '2027-03-03', '--jobs', '2');
    const after = since(root, 'staging');
    expect(after['addons.cert-manager.chart.version']).toStrictEqual({ value: 'v1.21.2', date: '2027-03-03' });
    expect(Object.entries(after).filter(([, d]) => d.date !== '2026-12-01').map(([k]) => k)).toStrictEqual(['addons.cert-manager.chart.version']);
    const now = tree(root);
    expect([...now.keys()].filter((f) => f.startsWith('prod/')).every((f) => now.get(f) === first.get(f))).toBe(true);
    expect(now.get('README.md')).toContain('| behind `staging` by `cert-manager v1.20.2 → v1.21.2` since 2027-03-03 |');

    // Incremental runs on later days replay the same tree, and check agrees, in one thread or two.
    const out = await synth(root, '2027-04-04');
    expect(out).toContain('0 written');
    expect(tree(root)).toStrictEqual(now);
    await synth(root, '2027-04-05', '--force', '--jobs', '2');
    expect(tree(root)).toStrictEqual(now);
    expect(await check(root, '2027-04-06')).toBe(true);
    expect(await check(root, '2027-04-06', '--force', '--jobs', '2')).toBe(true);
  });

  it('a row kept in the state is dated by the tree a pull brought, not by the run that kept it', async () => {
    // Alice renders staging's chart change on 2027-03-05 (her state keeps staging's row "since 2027-03-05"); main
    // rendered and committed the same change on 2027-03-04, and she pulls it: rendered/ is main's, her state is not.
    const change = (root: string): void => {
      const file = join(root, 'environments', 'staging.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('version: v1.20.2', 'version: v1.21.2'));
    };
    const main = scratch();
    const alice = scratch();
    for (const root of [main, alice]) {
      await synth(root, '2026-12-01');
      change(root);
    }
    await synth(main, '2027-03-04');
    await synth(alice, '2027-03-05');
    expect(tree(alice).get('README.md')).toContain('since 2027-03-05 |');
    const pulled = join(alice, 'rendered');
    for (const f of ['staging', 'prod', 'README.md']) rmSync(join(pulled, f), { recursive: true });
    for (const f of ['staging', 'prod', 'README.md']) cpSync(join(main, 'rendered', f), join(pulled, f), { recursive: true });
    expect(tree(alice)).toStrictEqual(tree(main));

    // A run for another environment (prod verified, staging left unverified), in one thread or two: the matrix says
    // what staging's tree says, and check agrees.
    for (const jobs of [[], ['--jobs', '2']]) {
      const out = await synth(alice, '2027-03-06', '--env', 'prod', ...jobs);
      expect(out).toContain('1 of 1 not rendered');
      expect(since(alice, 'staging')['addons.cert-manager.chart.version']).toStrictEqual({ value: 'v1.21.2', date: '2027-03-04' });
      expect(tree(alice).get('README.md')).toContain('| behind `staging` by `cert-manager v1.20.2 → v1.21.2` since 2027-03-04 |');
      expect(tree(alice)).toStrictEqual(tree(main));
    }
    expect(await check(alice, '2027-03-07')).toBe(true);
    expect(await check(alice, '2027-03-07', '--jobs', '2')).toBe(true);
  });

  it('a synth with a malformed SOURCE_DATE_EPOCH writes nothing', async () => {
    const root = scratch();
    process.env.SOURCE_DATE_EPOCH = 'soon';
    await expect(synthMain(['--root', root], { ssmClient: () => { throw new Error('no SSM'); }, checkAccount: false, stdout: () => undefined })).rejects.toThrow('SOURCE_DATE_EPOCH="soon" is not a time synth can read');
    expect(listFiles(join(root, 'rendered')).filter((f) => f !== STATE_FILE && !f.startsWith('.odp'))).toStrictEqual([]);
  });
});
