/**
 * npm run promote on a scratch git repository built from the example fixtures (never environments/):
 * a chart bump committed in staging moves into prod as that one version, comments and layout kept;
 * soak: 72h refuses a promotion right after the bump, naming the gate, the time left and the commit
 * measured from; --dry-run writes nothing; a freeze window refuses with its reason. Plus the pure parts:
 * image tags, freeze windows (cron and date ranges), durations.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyMoves } from '../generators/promote/edit.js';
import { formatDuration, openFreeze, parseDuration } from '../generators/promote/gates.js';
import { imageVersion, withImageVersion } from '../generators/promote/items.js';
import { planPromotion } from '../generators/promote/plan.js';
import { cli, EXAMPLES } from './helpers.js';
import { git, H, isoMinute, NOW, render, scratch } from './support/promote-repo.js';

describe('npm run promote', () => {
  let repo: { root: string; bump: string };
  let prodBefore: string;
  beforeAll(() => {
    repo = scratch();
    prodBefore = readFileSync(join(repo.root, 'environments', 'prod.yaml'), 'utf8');
  });

  it('refuses right after the bump with soak: 72h, naming the gate, the time left and the commit measured from', () => {
    const r = cli('promote', repo.root, '--from', 'staging', '--to', 'prod', '--now', isoMinute(NOW));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('chart cert-manager: v1.20.2 → v1.21.2');
    expect(r.stdout).toContain(`soak gate: chart cert-manager v1.21.2 has run in staging for 1h of 72h: 71h left (measured from commit ${repo.bump}`);
    expect(readFileSync(join(repo.root, 'environments', 'prod.yaml'), 'utf8')).toBe(prodBefore);
  });

  it('--dry-run writes nothing, even when the gates pass', () => {
    const r = cli('promote', repo.root, '--from', 'staging', '--to', 'prod', '--dry-run', '--now', isoMinute(NOW + 80 * H));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Gates pass. Dry run: environments/prod.yaml not written.');
    // Without promotion.requireHealthy the source's cluster is not asked, and promote says so.
    expect(r.stdout).toContain("Health: not checked — staging's cluster was not asked whether it applied these versions (promotion.requireHealthy is not set in environments/prod.yaml).");
    expect(readFileSync(join(repo.root, 'environments', 'prod.yaml'), 'utf8')).toBe(prodBefore);
  });

  it('--status: what prod is behind staging by, since when staging carries it (the soak gate\'s measure); writes nothing', () => {
    const r = cli('promote', repo.root, '--status', '--now', isoMinute(NOW));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`prod ← staging (soak 72h):\n  behind staging by 1 version:\n    chart cert-manager: v1.20.2 → v1.21.2 — in staging since commit ${repo.bump} (${isoMinute(NOW - H)}, 1h ago); soak: 71h left\n`);
    expect(r.stdout).toContain('Without promotion.from: staging.');
    expect(cli('promote', repo.root, '--status', '--now', isoMinute(NOW + 80 * H)).stdout).toContain('81h ago); soak passed');
    expect(readFileSync(join(repo.root, 'environments', 'prod.yaml'), 'utf8')).toBe(prodBefore);
    expect(cli('promote', repo.root, '--status', '--to', 'prod').code).toBe(2);
  });

  it('after the soak, changes only that version in prod.yaml, comments kept, and says what stays different', () => {
    const r = cli('promote', repo.root, '--from', 'staging', '--to', 'prod', '--now', isoMinute(NOW + 80 * H));
    expect(r.code).toBe(0);
    const after = readFileSync(join(repo.root, 'environments', 'prod.yaml'), 'utf8');
    expect(after).toBe(prodBefore.replace('chart: { version: v1.20.2 }', 'chart: { version: v1.21.2 }'));
    expect(after).toContain('# prod keeps its own name');
    expect(r.stdout).toMatch(/Stays different on purpose:[\s\S]*cluster\.name: prod's own[\s\S]*workloads\[api\] \(settings\): prod's own/);
  });

  it('a freeze window refuses with its reason and when it closes', () => {
    const { root } = scratch('promotion:\n  from: staging\n  freeze:\n    - { start: 2026-12-08, end: 2026-12-10T06:00Z, reason: release week }\n');
    const r = cli('promote', root, '--from', 'staging', '--to', 'prod', '--now', isoMinute(NOW));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('freeze gate: release week (window 2026-12-08 to 2026-12-10T06:00Z, open since 2026-12-08T00:00Z): 18h left, until 2026-12-10T06:00Z');
    expect(cli('promote', root, '--from', 'dev', '--to', 'prod').code).toBe(2);
    expect(cli('promote', root, '--status', '--now', isoMinute(NOW)).stdout).toContain('  freeze open: release week, until 2026-12-10T06:00Z (18h left)');
  });
});

describe('npm run promote: an add-on only the target runs by the catalog\'s default', () => {
  it('prod pins nvidia-device-plugin (on by default with its GPU pool), staging has no GPU: the pin stays prod\'s own, in the plan and in --status', () => {
    const root = mkdtempSync(join(tmpdir(), 'odp-promote-gpu-'));
    const env = join(root, 'environments');
    mkdirSync(env, { recursive: true });
    for (const f of ['_base.yaml', 'staging.yaml', 'staging.ssm.lock.json', 'prod.yaml', 'prod.ssm.lock.json']) copyFileSync(join(EXAMPLES, 'environments', f), join(env, f));
    const prod = readFileSync(join(env, 'prod.yaml'), 'utf8');
    expect(prod).toContain('\n  cloudnative-pg:\n');
    const pinned = prod.replace('\n  cloudnative-pg:\n', '\n  nvidia-device-plugin:\n    chart: { version: 0.17.4 }\n  cloudnative-pg:\n');
    writeFileSync(join(env, 'prod.yaml'), `${pinned.trimEnd()}\npromotion:\n  from: staging\n`);
    render(root, ['staging', 'prod']);
    git(root, ['init', '-q', '-b', 'main']);
    git(root, ['add', '-A']);
    git(root, ['commit', '-qm', 'level'], NOW - 100 * H);
    const r = cli('promote', root, '--from', 'staging', '--to', 'prod', '--dry-run', '--now', isoMinute(NOW));
    expect(r.stdout).toContain('chart nvidia-device-plugin: only in prod');
    // Before: a move to the catalog's pin, which staging never ran (and the soak gate refused the whole promotion).
    expect(r.stdout).not.toContain('chart nvidia-device-plugin: 0.17.4 →');
    expect(r.stdout).not.toContain('soak gate: chart nvidia-device-plugin');
    const status = cli('promote', root, '--status', '--now', isoMinute(NOW));
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('prod ← staging');
    expect(status.stdout).not.toContain('nvidia-device-plugin');
  });
});

describe('promotion, pure parts', () => {
  it('moves image tags and digests, keeping each environment\'s repository', () => {
    expect(imageVersion('ghcr.io/o/api:2.7.0')).toBe('2.7.0');
    expect(imageVersion('localhost:5000/api@sha256:ab')).toBe('@sha256:ab');
    expect(imageVersion('localhost:5000/api')).toBe('');
    expect(withImageVersion('mirror.example/o/api:2.7.0', '2.8.0')).toBe('mirror.example/o/api:2.8.0');
    expect(withImageVersion('localhost:5000/api:1@sha256:aa', '@sha256:bb')).toBe('localhost:5000/api@sha256:bb');
    const plan = planPromotion(
      { cluster: { kubernetesVersion: '1.36.1' }, workloads: [{ name: 'api', image: 'ghcr.io/o/api:2.8.0', replicas: 2 }] },
      { cluster: { kubernetesVersion: '1.36.1' }, workloads: [{ name: 'api', image: 'mirror/o/api:2.7.0', replicas: 5 }] },
      ['images'],
    );
    expect(plan.moves.map((m) => `${m.item.id} ${m.from} → ${m.to}`)).toStrictEqual(['image api 2.7.0 → 2.8.0']);
    expect(plan.ownSettings).toStrictEqual(['workloads[api] (settings)']);
    const text = 'workloads:\n  # the API\n  - name: api\n    image: "mirror/o/api:2.7.0"   # pinned\n    replicas: 5\n';
    expect(applyMoves(text, 'prod.yaml', plan.moves).text).toBe(text.replace('"mirror/o/api:2.7.0"', '"mirror/o/api:2.8.0"'));
  });

  it('a third-party chart only the target runs stays the target\'s own: no move to a catalog pin it does not have', () => {
    const source = { addons: { 'cert-manager': { chart: { version: 'v1.21.2' } } } };
    const target = {
      addons: {
        'cert-manager': { chart: { version: 'v1.20.2' } },
        'cloudnative-pg': { namespace: 'cnpg-system', chart: { repoURL: 'https://cloudnative-pg.github.io/charts', name: 'cloudnative-pg', version: '0.29.0' } },
      },
    };
    const plan = planPromotion(source, target);
    expect(plan.moves.map((m) => `${m.item.id} ${m.from} → ${m.to}`)).toStrictEqual(['chart cert-manager v1.20.2 → v1.21.2']);
    expect(plan.excluded).toStrictEqual([]);
    expect(plan.onlyTarget.map((i) => `${i.id} ${i.value}`)).toStrictEqual(['chart cloudnative-pg 0.29.0']);
  });

  it('a catalog chart only one side runs stays that side\'s own: no move to (or from) a pin the other never ran', () => {
    // The source disables cert-manager and does not run nvidia-device-plugin (off by default: no GPU pool); the
    // target pins both. The source runs metrics-server at the catalog's pin, which the target pins: that pin goes.
    const source = { addons: { 'cert-manager': { enabled: false }, 'external-secrets': { chart: { version: '0.20.1' } } } };
    const target = {
      addons: {
        'cert-manager': { chart: { version: 'v1.20.2' } },
        'nvidia-device-plugin': { chart: { version: '0.17.1' } },
        'metrics-server': { chart: { version: '3.12.1' } },
      },
    };
    const runs = { source: (a: string) => a !== 'cert-manager' && a !== 'nvidia-device-plugin', target: (a: string) => a !== 'external-secrets' };
    const plan = planPromotion(source, target, undefined, runs);
    expect(plan.moves.map((m) => `${m.item.id} ${m.from} → ${m.to}`)).toStrictEqual(['chart metrics-server 3.12.1 → undefined']);
    expect(plan.onlyTarget.map((i) => `${i.id} ${i.value}`)).toStrictEqual(['chart cert-manager v1.20.2', 'chart nvidia-device-plugin 0.17.1']);
    // The source pins external-secrets, which the target does not run: no pin is written into the target.
    expect(plan.onlySource.map((i) => `${i.id} ${i.value}`)).toStrictEqual(['chart external-secrets 0.20.1']);
    // Without the models' answer, the documents alone: an add-on a side disables (enabled: false) is not run there.
    const byDocs = planPromotion(source, target);
    expect(byDocs.onlyTarget.map((i) => i.id)).toContain('chart cert-manager');
    expect(byDocs.moves.map((m) => m.item.id)).not.toContain('chart cert-manager');
  });

  it('opens a cron freeze window for its duration after each start, and a date range from start to end', () => {
    const friday = [{ schedule: '0 16 * * 5', duration: '64h', reason: 'weekend' }];
    expect(openFreeze(friday, new Date('2026-12-06T10:00:00Z'))?.closes.toISOString()).toBe('2026-12-07T08:00:00.000Z');
    expect(openFreeze(friday, new Date('2026-12-07T08:00:00Z'))).toBeUndefined();
    expect(openFreeze(friday, new Date('2026-12-04T15:59:00Z'))).toBeUndefined();
    expect(openFreeze([{ start: '2026-12-21', end: '2027-01-04', reason: 'year end' }], new Date('2027-01-03T23:59:00Z'))?.window.reason).toBe('year end');
    expect(parseDuration('72h')).toBe(72 * H);
    expect(formatDuration(71 * H + 5 * 60_000)).toBe('71h 5m');
  });
});

describe('freeze windows as Argo CD sync windows', () => {
  it('deny exactly the project\'s Applications in UTC, in Go durations; a date range becomes its yearly schedule', async () => {
    const { syncWindows } = await import('../generators/engines/argocd/freeze.js');
    const w = syncWindows([{ schedule: '0 16 * * 5', duration: '3d', reason: 'weekend' }, { start: '2026-12-21', end: '2027-01-04T06:30Z', reason: 'year end' }], ['root', 'api']);
    expect(w[0]).toStrictEqual({ kind: 'deny', applications: ['root', 'api'], manualSync: true, timeZone: 'UTC', schedule: '0 16 * * 5', duration: '72h' });
    expect(w[1]).toMatchObject({ schedule: '0 0 21 12 *', duration: '342h30m' });
  });
});
