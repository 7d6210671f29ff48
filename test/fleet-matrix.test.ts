/**
 * The fleet matrix, rendered/README.md: one row per environment with its versions and promotion
 * state, written by synth through the writer and compared by check (the one file directly under
 * rendered/ that is not a stray).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFleetMatrix } from '../generators/fleet/matrix.js';
import { preparedRow } from '../generators/fleet/prepared.js';
import { versionsBehind, type FleetRow } from '../generators/fleet/row.js';
import { listStrayFiles, readFleetReadme, writeFleetReadme } from '../generators/write/writer.js';
import { prepareExample } from './helpers.js';

const row = (over: Partial<FleetRow>): FleetRow => ({ env: 'x', distribution: 'Dist', releases: [{ label: 'distVersion', value: 'v1.1.0' }], kubernetes: '1.35.2', engine: 'Engine', charts: { a: '1.0.0' }, images: { api: 'ghcr.io/o/api:2.0.0' }, ...over });

describe('fleet matrix', () => {
  it('lists every example environment with its distribution release, Kubernetes, engine and chart versions', () => {
    const rows = ['dev', 'staging', 'prod'].map((n) => preparedRow(prepareExample(n).prepared!));
    const md = renderFleetMatrix(rows);
    const lines = md.split('\n').filter((l) => l.startsWith('| ['));
    expect(lines.map((l) => l.slice(0, l.indexOf(']')))).toStrictEqual(['| [dev', '| [prod', '| [staging']);
    const prod = rows.find((r) => r.env === 'prod')!;
    for (const v of [prod.kubernetes, ...prod.releases.map((r) => r.value), ...Object.values(prod.charts)]) expect(lines[1]).toContain(`\`${v}\``);
    expect(lines[1]).toContain('no price locked');
  });

  it('says what an environment is behind its promotion source by, with the source\'s value after the arrow', () => {
    const staging = row({ env: 'staging', charts: { a: '1.1.0' }, images: { api: 'ghcr.io/o/api:2.1.0' } });
    const prod = row({ env: 'prod', promotionFrom: 'staging' });
    expect(versionsBehind(prod, staging)).toStrictEqual(['a 1.0.0 → 1.1.0', 'api 2.0.0 → 2.1.0']);
    const md = renderFleetMatrix([prod, staging]);
    expect(md).toContain('behind `staging` by `a 1.0.0 → 1.1.0`, `api 2.0.0 → 2.1.0`');
    expect(renderFleetMatrix([row({ env: 'prod', promotionFrom: 'staging' }), row({ env: 'staging' })])).toContain('level with `staging`');
    expect(renderFleetMatrix([row({ env: 'prod', promotionFrom: 'gone' })])).toContain('from `gone`: no such environment');
    expect(renderFleetMatrix([row({ env: 'prod', monthlyCost: 1234.4 })])).toContain('| $1,234/month |');
  });

  it('is written only when its content changes, and is not a stray file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'odp-fleet-'));
    expect(writeFleetReadme(dir, 'a\n')).toBe(true);
    expect(writeFleetReadme(dir, 'a\n')).toBe(false);
    expect(readFleetReadme(dir)).toBe('a\n');
    writeFileSync(join(dir, 'notes.md'), 'x');
    expect(listStrayFiles(dir)).toStrictEqual(['notes.md']);
  });
});
