/**
 * The shapes of values that reach a rendered shell script (boot scripts, user data, runbook
 * scripts). The validation rule `shell-shape` (validate/rules-shell.ts) refuses a value of another
 * shape at its position, and the renderers call `shellValue` before they quote it (defence in depth:
 * a value that passed neither cannot reach a script). Every value is also single-quoted (`shQuote`).
 *
 * S3 bucket names and ARNs have their checks in validate/rules-aws.ts (rules s3-bucket-name,
 * iam-role-arn, acm-certificate-arn, kms-key: positioned the same way, lock values included), whose
 * alphabets hold no shell metacharacter; no ARN from an environment is interpolated into a script.
 *
 * Sources of the shapes:
 * - host: RFC 1123 host names (labels of letters, digits and `-`, ≤ 63 chars, ≤ 253 in all) or an
 *   IPv4 address in dotted decimal; a URL, a DSN or `host:port` is not a host.
 * - path: an absolute path of `[A-Za-z0-9._/-]`, no `..` segment.
 * - ssm-name: an SSM parameter name with a leading `/`, letters, digits and `_.-/` (SSM's own
 *   alphabet is `a-zA-Z0-9_.-/`; AWS Systems Manager User Guide, "Requirements for parameter names").
 * - database: a PostgreSQL identifier that needs no quoting (lowercase letter or `_` first, then
 *   lowercase letters, digits, `_`; at most 63 bytes: NAMEDATALEN - 1).
 * - url: a URL (or scp-like `git@host:path`) of RFC 3986's unreserved characters and `:/@%+=,`
 *   (no shell metacharacter, quote, `?`, `#` or white space).
 * - git-ref: a branch, tag or commit as git check-ref-format(1) allows it, restricted to
 *   `[A-Za-z0-9._/-]` (no `..`, no leading `-` or `/`, no trailing `/`, `.` or `.lock`).
 */

export type ShapeName = 'host' | 'path' | 'ssm-name' | 'database' | 'url' | 'git-ref';

export interface Shape {
  /** What the value must be, in the words of an error message. */
  expected: string;
  /** Why the value is not of the shape, or undefined when it is. */
  problem(value: string): string | undefined;
}

const METACHARACTERS = /[\s;&|<>$`'"\\(){}*?[\]!#~]/;

/** The first shell metacharacter or white space in `value`, described, or undefined. */
export function metacharacter(value: string): string | undefined {
  const m = METACHARACTERS.exec(value);
  if (!m) return undefined;
  const c = m[0];
  return c === '\n' ? 'a newline' : /\s/.test(c) ? 'white space' : `'${c}'`;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

const withMeta =
  (test: (v: string) => string | undefined) =>
  (v: string): string | undefined => {
    const meta = metacharacter(v);
    return meta ? `it contains ${meta}, which a shell script would interpret` : test(v);
  };

export const SHAPES: Readonly<Record<ShapeName, Shape>> = {
  host: {
    expected: 'a DNS name or an IPv4 address (no scheme, port, path or credentials)',
    problem: withMeta((v) => {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return 'it is a URL, not a host';
      if (v.includes(':')) return 'it carries a port or is not a host name';
      if (v.includes('@') || v.includes('/')) return 'it carries credentials or a path';
      if (IPV4.test(v)) return undefined;
      if (v.length === 0 || v.length > 253) return 'a host name has 1-253 characters';
      const labels = v.replace(/\.$/, '').split('.');
      if (/^\d+$/.test(labels[labels.length - 1]!)) return 'it is neither an IPv4 address nor a DNS name';
      const bad = labels.find((l) => !LABEL.test(l));
      return bad === undefined ? undefined : `'${bad}' is not a DNS label (letters, digits and '-', not first or last, at most 63)`;
    }),
  },
  path: {
    expected: 'an absolute path of letters, digits, . _ / -',
    problem: withMeta((v) => {
      if (!v.startsWith('/')) return 'it is not absolute';
      if (!/^[A-Za-z0-9._/-]+$/.test(v)) return 'it has characters other than letters, digits, . _ / -';
      if (v.split('/').includes('..')) return "it has a '..' segment";
      return undefined;
    }),
  },
  'ssm-name': {
    expected: 'an SSM parameter name (/ then letters, digits, _ . - /)',
    problem: withMeta((v) => (/^\/[A-Za-z0-9_./-]+$/.test(v) ? undefined : 'it is not an SSM parameter name')),
  },
  database: {
    expected: 'a PostgreSQL identifier (a lowercase letter or _, then lowercase letters, digits, _; at most 63)',
    problem: withMeta((v) => (/^[a-z_][a-z0-9_]{0,62}$/.test(v) ? undefined : 'it is not an unquoted PostgreSQL identifier')),
  },
  url: {
    expected: 'a URL of letters, digits and - . _ ~ : / @ % + = ,',
    problem: withMeta((v) => (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[A-Za-z0-9._~:/@%+=,-]+$|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/%+=,-]+$/.test(v) ? undefined : 'it has characters a URL here may not have')),
  },
  'git-ref': {
    expected: 'a git branch, tag or commit (letters, digits, . _ / -)',
    problem: withMeta((v) =>
      !/^[A-Za-z0-9._/-]+$/.test(v) || v.includes('..') || /^[-/]|[/.]$|\.lock$|\/\//.test(v) ? 'it is not a ref name git check-ref-format accepts in this alphabet' : undefined,
    ),
  },
};

/** Why `value` is not of `shape`, or undefined. */
export const shapeProblem = (shape: ShapeName, value: string): string | undefined => SHAPES[shape].problem(value);

/**
 * A value for a shell script: returned unchanged when it has its shape; otherwise a render of a
 * value the rule refused (a programming error), which throws rather than render a dangerous script.
 */
export function shellValue(shape: ShapeName, value: string, what: string): string {
  const problem = shapeProblem(shape, value);
  if (problem) throw new Error(`${what} ${JSON.stringify(value)} is not ${SHAPES[shape].expected}: ${problem}`);
  return value;
}
