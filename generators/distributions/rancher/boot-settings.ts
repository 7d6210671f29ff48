/**
 * The settings a first-boot script of this family reads, in a file of their own in the user data: every value that
 * comes from the environment (SSM parameter names, the server URL, the datastore's host and names, paths the
 * environment chose, pinned downloads, the pool's group) is one `KEY='value'` line of BOOT_SETTINGS_PATH, which the
 * script sources before anything else. The script's code carries none of them, so a change of the user data is
 * classified exactly (./impact.ts): only the script changed, or these settings (which ones, from what to what).
 *
 * The renderer writes a script as before, with `settings.ref(KEY, value)` where a value was: a sentinel that
 * `expandSettings` turns into the variable, quoted for where it stands (in single quotes: `'…'"$KEY"'…'`; in double
 * quotes and comments: `$KEY`, or `${KEY}` before a name character; in a bare word: `"$KEY"`). Each value is validated to its shape by the
 * caller before it is registered (lib/shapes.ts shellValue) and single-quoted in the file (shQuote), so sourcing the
 * file only assigns variables.
 */
import { shQuote } from '../../render/delivery/bootstrap.js';

/** Where the user data writes the settings its first-boot script sources. */
export const BOOT_SETTINGS_PATH = '/etc/odp-gitops/boot-settings.env';

const KEY = /^[A-Z][A-Z0-9_]*$/;
const OPEN = '\u0001';
const CLOSE = '\u0002';

/** What a script's values go through: a boot script's settings (BootSettings), or LITERAL (a runbook: the values in place). */
export interface BootValues {
  /** The value as the script's code refers to it. */
  ref(key: string, value: string): string;
}

/** Values written in place (scripts that carry them: runbooks run by hand). */
export const LITERAL: BootValues = { ref: (_key, value) => value };

/** The settings of one boot script, in the order they were first registered. */
export class BootSettings implements BootValues {
  private readonly values = new Map<string, string>();

  ref(key: string, value: string): string {
    this.define(key, value);
    return `${OPEN}${key}${CLOSE}`;
  }

  /** A setting the script reads by its variable name only (no sentinel). */
  define(key: string, value: string): void {
    if (!KEY.test(key)) throw new Error(`boot setting ${key}: not an upper-case shell variable name`);
    if (value === '' || /[\u0000-\u001f\u007f]/.test(value)) throw new Error(`boot setting ${key}: empty, or a control character in ${JSON.stringify(value)}`);
    const had = this.values.get(key);
    if (had !== undefined && had !== value) throw new Error(`boot setting ${key}: two values (${had}, ${value})`);
    this.values.set(key, value);
  }

  entries(): [string, string][] {
    return [...this.values];
  }

  /** The file's text: one shell-quoted assignment a line. */
  fileText(): string {
    return this.entries().map(([k, v]) => `${k}=${shQuote(v)}`).join('\n') + '\n';
  }
}

/**
 * The lines a boot script sources its settings with (right after its header). A missing file stops the script: `.` is a
 * special built-in, whose error exits a non-interactive shell (POSIX XCU 2.8.1, "Consequences of Shell Errors").
 */
export const SOURCE_SETTINGS_LINES = ['# Every value taken from the environment:', `. ${BOOT_SETTINGS_PATH}`];

type Frame = { kind: 'code'; depth: number; sub: boolean } | { kind: 'sq'; openAt: number } | { kind: 'dq' } | { kind: 'comment' };

/**
 * The script with every sentinel turned into its variable, quoted for where it stands. A small POSIX sh lexer: single
 * and double quotes, backslash escapes, `$(…)` (nested in double quotes too), comments. Throws when a sentinel is left
 * or the quotes do not balance (a script the renderer could not have meant).
 */
export function expandSettings(script: string): string {
  const out: string[] = [];
  const stack: Frame[] = [{ kind: 'code', depth: 0, sub: false }];
  const top = (): Frame => stack[stack.length - 1]!;
  let i = 0;
  while (i < script.length) {
    const c = script[i]!;
    const f = top();
    if (c === OPEN) {
      const m = /^\u0001([A-Z][A-Z0-9_]*)\u0002/.exec(script.slice(i));
      if (!m) throw new Error(`expandSettings: a broken sentinel at ${i}`);
      const name = m[1]!;
      i += m[0].length;
      if (f.kind === 'sq') {
        if (f.openAt === out.length - 1) out.pop();
        else out.push("'");
        out.push(`"$${name}"`);
        if (script[i] === "'") {
          stack.pop();
          i++;
        } else {
          out.push("'");
          f.openAt = out.length - 1;
        }
      } else if (f.kind === 'code') out.push(`"$${name}"`);
      // In double quotes or a comment: braced only when a name character follows.
      else out.push(/^\w/.test(script.slice(i, i + 1)) ? `\${${name}}` : `$${name}`);
      continue;
    }
    out.push(c);
    i++;
    if (f.kind === 'comment') {
      if (c === '\n') stack.pop();
    } else if (f.kind === 'sq') {
      if (c === "'") stack.pop();
    } else if (f.kind === 'dq') {
      if (c === '\\' && i < script.length) out.push(script[i++]!);
      else if (c === '"') stack.pop();
      else if (c === '$' && script[i] === '(') {
        out.push(script[i++]!);
        stack.push({ kind: 'code', depth: 0, sub: true });
      }
    } else {
      const prev = out.length >= 2 ? out[out.length - 2]! : '\n';
      if (c === '\\' && i < script.length) out.push(script[i++]!);
      else if (c === "'") stack.push({ kind: 'sq', openAt: out.length - 1 });
      else if (c === '"') stack.push({ kind: 'dq' });
      else if (c === '#' && /[\s;&|()]/.test(prev)) stack.push({ kind: 'comment' });
      else if (c === '$' && script[i] === '(') {
        out.push(script[i++]!);
        stack.push({ kind: 'code', depth: 0, sub: true });
      } else if (c === '(') f.depth++;
      else if (c === ')') {
        if (f.depth > 0) f.depth--;
        else if (f.sub) stack.pop();
      }
    }
  }
  const text = out.join('');
  if (text.includes(OPEN) || text.includes(CLOSE)) throw new Error('expandSettings: a sentinel is left');
  const end = top();
  if (stack.length !== 1 && !(stack.length === 2 && end.kind === 'comment')) throw new Error(`expandSettings: unbalanced quoting (${end.kind} open at the end)`);
  return text;
}

/** The settings a user data's settings file holds (its KEY='value' lines; comments skipped). */
export function parseBootSettings(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    out[m[1]!] = unquote(m[2]!);
  }
  return out;
}

/** The value of one shell word made of single-quoted parts and \' (what shQuote writes). */
function unquote(word: string): string {
  let v = '';
  for (const part of word.matchAll(/'([^']*)'|\\(.)|([^'\\]+)/g)) v += part[1] ?? part[2] ?? part[3] ?? '';
  return v;
}

/**
 * A boot script as it reads with its settings file's values in place of their variables: `'"$KEY"'` (a value inside a
 * single-quoted word) becomes the value, `"$KEY"` the single-quoted value, `${KEY}` and `$KEY` (in double quotes or a
 * comment) the bare value. For checks and review that look for a value where the script uses it (the config parameter a
 * fixed node reads, the DSN it assembles); never run: the node sources the file. Values hold no single quote (shape
 * checked before they are written: BootSettings).
 */
export function resolveBootSettings(script: string, settingsText: string): string {
  let out = script;
  for (const [key, value] of Object.entries(parseBootSettings(settingsText)).sort((a, b) => b[0].length - a[0].length)) {
    out = out
      .split(`'"$${key}"'`).join(value)
      .split(`"$${key}"`).join(`'${value}'`)
      .split(`\${${key}}`).join(value)
      .replace(new RegExp(`\\$${key}(?![A-Za-z0-9_])`, 'g'), () => value);
  }
  return out;
}
