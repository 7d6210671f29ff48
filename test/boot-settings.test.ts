/**
 * The first-boot settings of a K3s/RKE2 user data (generators/distributions/rancher/boot-settings.ts): a value the
 * renderer registered becomes its variable, quoted for where it stands, and the file the script sources gives it back
 * exactly (sh itself reads both here).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BootSettings, expandSettings, parseBootSettings } from '../generators/distributions/rancher/boot-settings.js';
import { shQuote } from '../generators/distributions/rancher/boot.js';

describe('boot settings', () => {
  it('each context: single quotes, double quotes, a bare word, a comment, inside $(…) in double quotes', () => {
    const s = new BootSettings();
    const p = s.ref('PARAM', "/odp/it's/token");
    const u = s.ref('URL', 'https://api.example:9345');
    const script = [
      `# reads ${p}`,
      `echo ${shQuote(`the token in ${p} is refused`)}`,
      `echo ${shQuote(p)}`,
      `echo ${shQuote(`${u}/cacerts`)}`,
      `echo "at ${u}x"`,
      `echo "$(printf '%s' "${p}")"`,
      `echo ${p}`,
    ].join('\n');
    const out = expandSettings(script);
    expect(out).toBe(
      [
        '# reads $PARAM',
        `echo 'the token in '"$PARAM"' is refused'`,
        'echo "$PARAM"',
        `echo "$URL"'/cacerts'`,
        'echo "at ${URL}x"',
        `echo "$(printf '%s' "$PARAM")"`,
        'echo "$PARAM"',
      ].join('\n'),
    );
    const dir = mkdtempSync(join(tmpdir(), 'odp-settings-'));
    writeFileSync(join(dir, 'settings.env'), s.fileText());
    expect(parseBootSettings(s.fileText())).toStrictEqual({ PARAM: "/odp/it's/token", URL: 'https://api.example:9345' });
    const ran = execFileSync('sh', ['-c', `. ${join(dir, 'settings.env')}\n${out}`], { encoding: 'utf8' });
    expect(ran.split('\n').slice(0, 6)).toStrictEqual([
      "the token in /odp/it's/token is refused",
      "/odp/it's/token",
      'https://api.example:9345/cacerts',
      'at https://api.example:9345x',
      "/odp/it's/token",
      "/odp/it's/token",
    ]);
  });

  it('refuses a second value for one key, a value with a newline, a left-over sentinel', () => {
    const s = new BootSettings();
    s.ref('A', 'x');
    expect(() => s.ref('A', 'y')).toThrow('boot setting A: two values (x, y)');
    expect(() => s.ref('B', 'a\nb')).toThrow('boot setting B: empty, or a control character');
    expect(() => expandSettings(`echo '${s.ref('A', 'x')}`)).toThrow('expandSettings: unbalanced quoting (sq open at the end)');
  });
});
