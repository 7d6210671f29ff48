/**
 * The portable shell functions (generators/lib/portable-shell.ts) against what they replace: a UTC time's epoch
 * seconds and back as JavaScript's Date computes them (GNU `date -d` did it before: macOS's date has no -d), sha256 as
 * node:crypto computes it, base64 as Buffer decodes it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PORTABLE_BASE64, PORTABLE_DATE, PORTABLE_SHA256 } from '../generators/lib/portable-shell.js';

const sh = (lines: readonly string[], script: string, input = '') => spawnSync('sh', ['-c', `${lines.join('\n')}\n${script}`], { input, encoding: 'utf8' });

describe('portable shell functions (lib/portable-shell.ts)', () => {
  it('epoch_of and utc_of agree with Date across leap days, century years and the Lease times kubectl prints', () => {
    const times = ['1970-01-01T00:00:00Z', '2000-02-29T23:59:59Z', '2024-02-29T12:00:00.000000Z', '2026-12-07T19:31:15.123456Z', '2099-12-31T23:30:00.000000Z', '2100-03-01T00:00:00Z', '2400-02-29T06:07:08Z'];
    const r = sh(PORTABLE_DATE, 'for t in "$@"; do e=$(epoch_of "$t"); echo "$e $(utc_of "$e")"; done'.replace('"$@"', times.join(' ')));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toStrictEqual(times.map((t) => {
      const ms = Date.parse(t);
      return `${Math.floor(ms / 1000)} ${new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')}`;
    }));
  });

  it('epoch_of refuses another shape (nothing printed, status 1): the lock then says so instead of reading it as expired', () => {
    for (const t of ['', '2026-12-07 19:31:15', '2026-12-07T19:31:15+01:00', 'now']) {
      const r = sh(PORTABLE_DATE, `epoch_of '${t}'`);
      expect([t, r.status, r.stdout]).toStrictEqual([t, 1, '']);
    }
  });

  it('sha256_hex and base64_decode give what node:crypto and Buffer give', () => {
    const text = '#cloud-config\n# ünïcode and a trailing newline\n';
    expect(sh(PORTABLE_SHA256, 'sha256_hex', text).stdout).toBe(`${createHash('sha256').update(text).digest('hex')}\n`);
    expect(sh(PORTABLE_BASE64, 'base64_decode', Buffer.from(text).toString('base64')).stdout).toBe(text);
  });
});
