/**
 * Issue 25 item 5: every environment or lock value that reaches a rendered shell script has its
 * field's shape (lib/shapes.ts, rule shell-shape) and is single-quoted there. Shell metacharacters
 * fed through every such field, in the environment file and through a locked SSM value, are refused
 * at the field's position; the example environments' scripts still parse (`sh -n`).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { SHAPES, shapeProblem, shellValue, type ShapeName } from '../generators/lib/shapes.js';
import { SHELL_FIELDS } from '../generators/validate/rules-shell.js';
import { usedFunctions } from '../generators/lib/shell-functions.js';
import { exampleSources, fixtureSources } from './helpers.js';

const METAS = [';', '$(id)', '`id`', "'", '"', ' ', '\n', '&&', '|', '>', '\\', '${HOME}'];

/** An environment field the examples set, and how to put a value there (in the file, or through the lock). */
interface Site {
  field: string;
  env: string;
  file: string;
  /** The line that holds the field (its value is replaced). */
  line: RegExp;
  /** A valid value of the field, the metacharacter is inserted into. */
  good: string;
  /** The SSM parameter holding it, when the field is an `{ ssm }` reference. */
  ssm?: string;
  /** Rules that may refuse it first (the schema's pattern where it has one). */
  rules: string[];
}

const SITES: Site[] = [
  { field: 'cluster.datastore.postgres.host', env: 'staging-k3s', file: 'staging-k3s.yaml', line: /^ {6}host: /, good: 'db.example.internal', ssm: '/odp/staging-k3s/kine/db-host', rules: ['shell-shape'] },
  { field: 'cluster.datastore.postgres.database', env: 'staging-k3s', file: 'staging-k3s.yaml', line: /^ {6}database: /, good: 'k3s', rules: ['shell-shape', 'schema.pattern'] },
  { field: 'cluster.datastore.postgres.user', env: 'staging-k3s', file: 'staging-k3s.yaml', line: /^ {6}user: /, good: 'k3s', rules: ['shell-shape', 'schema.pattern'] },
  { field: 'cluster.datastore.postgres.password.secret', env: 'staging-k3s', file: 'staging-k3s.yaml', line: /^ {6}password: /, good: '/odp/staging-k3s/kine/password', rules: ['shell-shape', 'schema.pattern'] },
  { field: 'cluster.datastore.litestream.bucket', env: 'dev-k3s', file: 'dev-k3s.yaml', line: /^ {6}bucket: /, good: 'odp-dev-k3s-litestream', ssm: '/odp/dev-k3s/litestream/bucket', rules: ['s3-bucket-name'] },
  { field: 'cluster.datastore.backup.bucket', env: 'dev', file: 'dev.yaml', line: /^ {6}bucket: /, good: 'odp-dev-backup', ssm: '/odp/dev/backup/bucket', rules: ['s3-bucket-name'] },
  { field: 'git.repoURL', env: 'dev', file: '_base.yaml', line: /^ {2}repoURL: /, good: 'https://github.com/opendev/odp-gitops.git', rules: ['shell-shape', 'schema.pattern'] },
  { field: 'git.targetRevision', env: 'dev', file: '_base.yaml', line: /^ {2}targetRevision: /, good: 'main', rules: ['shell-shape', 'schema.pattern'] },
];

/** caBundlePath is not set by the examples: it is added below password. */
const CA_SITE = { field: 'cluster.datastore.postgres.caBundlePath', env: 'staging-k3s', file: 'staging-k3s.yaml', after: /^ {6}password: /, good: '/etc/ssl/certs/db-ca.pem' };

const refusal = (sources: Map<string, string>, env: string) => prepareEnvironment(env, sources).diagnostics.filter((d) => d.severity === 'error');

/** Sources with `value` in the file at the line matching `line` (a YAML double-quoted scalar); the position of the value. */
function inFile(site: { env: string; file: string }, line: RegExp, value: string, insert?: string) {
  const sources = exampleSources();
  const path = `environments/${site.file}`;
  const lines = sources.get(path)!.split('\n');
  const i = lines.findIndex((l) => line.test(l));
  expect(i, `${site.file}: ${line}`).toBeGreaterThanOrEqual(0);
  const scalar = JSON.stringify(value); // a JSON string is a YAML double-quoted scalar
  if (insert !== undefined) {
    const text = `      ${insert}: ${scalar}`;
    lines.splice(i + 1, 0, text);
    sources.set(path, lines.join('\n'));
    return { sources, file: path, line: i + 2, col: text.indexOf('"') + 1 };
  }
  const m = /^(\s*[A-Za-z]+: )/.exec(lines[i]!)!;
  const key = m[1]!;
  // `password: { secret: … }` keeps its mapping
  const text = key.trim() === 'password:' ? `${key}{ secret: ${scalar} }` : `${key}${scalar}`;
  lines[i] = text;
  sources.set(path, lines.join('\n'));
  return { sources, file: path, line: i + 1, col: text.indexOf('"') + 1 };
}

/** Sources whose lock holds `value` for `ssm`; the position of the `{ ssm }` reference. */
function inLock(site: Site, value: string) {
  const sources = exampleSources();
  const lockPath = `environments/${site.env}.ssm.lock.json`;
  const lock = JSON.parse(sources.get(lockPath)!) as { parameters: Record<string, { value: string }> };
  lock.parameters[site.ssm!]!.value = value;
  sources.set(lockPath, JSON.stringify(lock, null, 2) + '\n');
  const path = `environments/${site.file}`;
  const lines = sources.get(path)!.split('\n');
  const i = lines.findIndex((l) => site.line.test(l));
  return { sources, file: path, line: i + 1, col: lines[i]!.indexOf('{') + 1 };
}

const withMeta = (good: string, meta: string): string[] => [`${good}${meta}`, `${meta}${good}`, good.length > 2 ? `${good.slice(0, 2)}${meta}${good.slice(2)}` : `${good}${meta}x`];

describe('the shapes', () => {
  it('every shell field has a shape the rule and the renderers share', () => {
    for (const f of SHELL_FIELDS) expect(Object.keys(SHAPES)).toContain(f.shape);
    // the buckets are rule s3-bucket-name's (rules-aws.ts); every other site is a shell field
    expect(SITES.filter((s) => !s.rules.includes('s3-bucket-name')).map((s) => s.field).concat(CA_SITE.field).sort()).toStrictEqual(SHELL_FIELDS.map((f) => f.path.join('.')).sort());
  });

  it('accepts the values real environments use', () => {
    const ok: [ShapeName, string][] = [
      ['host', 'odp-staging-k3s-kine.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com'],
      ['host', '10.0.12.7'],
      ['host', 'odp-qa-kine-db-host.odp-placeholder.invalid'],
      ['path', '/etc/ssl/certs/rds-global-bundle.pem'],
      ['ssm-name', '/odp/dev/kine/password'],
      ['database', 'k3s'],
      ['url', 'https://github.com/opendev/odp-gitops.git'],
      ['url', 'ssh://git@github.com/opendev/odp-gitops.git'],
      ['url', 'git@github.com:opendev/odp-gitops.git'],
      ['git-ref', 'release/1.2'],
      ['git-ref', '3c8b7e7'],
    ];
    for (const [shape, v] of ok) expect(shapeProblem(shape, v), `${shape} ${v}`).toBeUndefined();
  });

  it('refuses what the fields must not hold (URLs and DSNs for hosts, IPs for buckets, relative paths, ..)', () => {
    const bad: [ShapeName, string][] = [
      ['host', 'postgres://u:p@db:5432/x'],
      ['host', 'db.example.com:5432'],
      ['host', 'https://db.example.com'],
      ['host', '999.1.1.1'],
      ['host', '-db.example.com'],
      ['path', 'etc/ca.pem'],
      ['path', '/etc/../root/x'],
      ['ssm-name', 'odp/x'],
      ['database', 'K3s'],
      ['git-ref', '-main'],
      ['git-ref', 'a..b'],
    ];
    for (const [shape, v] of bad) expect(shapeProblem(shape, v), `${shape} ${v}`).toBeDefined();
  });

  it('no value with a shell metacharacter has any shape (property)', () => {
    const shapes = Object.keys(SHAPES) as ShapeName[];
    fc.assert(
      fc.property(fc.constantFrom(...shapes), fc.string(), fc.constantFrom(...METAS), fc.string(), (shape, a, meta, b) => {
        const v = `${a}${meta}${b}`;
        expect(shapeProblem(shape, v)).toBeDefined();
        expect(() => shellValue(shape, v, 'x')).toThrow(/is not/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('refusal at the position of the value', () => {
  for (const site of SITES)
    for (const meta of METAS)
      it(`${site.field} with ${JSON.stringify(meta)} in ${site.file}`, () => {
        for (const v of withMeta(site.good, meta)) {
          const { sources, file, line, col } = inFile(site, site.line, v);
          const errors = refusal(sources, site.env);
          const at = errors.filter((d) => d.file === file && d.line === line && d.col === col);
          expect(at.map((d) => d.rule), `${JSON.stringify(v)}: ${errors.map((d) => `${d.file}:${d.line}:${d.col} ${d.rule} ${d.message}`).join('\n')}`).not.toHaveLength(0);
          expect(site.rules).toContain(at[0]!.rule);
        }
      });

  for (const meta of METAS)
    it(`${CA_SITE.field} with ${JSON.stringify(meta)}`, () => {
      for (const v of withMeta(CA_SITE.good, meta)) {
        const { sources, file, line, col } = inFile(CA_SITE, CA_SITE.after, v, 'caBundlePath');
        const errors = refusal(sources, CA_SITE.env);
        const at = errors.filter((d) => d.file === file && d.line === line && d.col === col && ['shell-shape', 'schema.pattern'].includes(d.rule));
        expect(at, `${JSON.stringify(v)}: ${errors.map((d) => `${d.file}:${d.line}:${d.col} ${d.rule} ${d.message}`).join('\n')}`).toHaveLength(1);
        expect(at[0]!.path.join('.')).toBe(CA_SITE.field);
        // the schema only asks for a leading '/': what follows it is the shape's
        if (v.startsWith('/')) expect(at[0]!.rule).toBe('shell-shape');
      }
    });

  for (const site of SITES.filter((s) => s.ssm))
    it(`${site.field} through the lock (${site.ssm})`, () => {
      for (const meta of METAS)
        for (const v of withMeta(site.good, meta)) {
          const { sources, file, line, col } = inLock(site, v);
          const errors = refusal(sources, site.env);
          const at = errors.filter((d) => d.file === file && d.line === line && d.col === col && site.rules.includes(d.rule));
          expect(at, `${JSON.stringify(v)}: ${errors.map((d) => `${d.file}:${d.line}:${d.col} ${d.rule} ${d.message}`).join('\n')}`).toHaveLength(1);
          expect(at[0]!.message).toContain(`the value of SSM parameter ${site.ssm} in environments/${site.env}.ssm.lock.json`);
        }
    });

  it('a URL or DSN where the host goes is refused with what was expected', () => {
    const site = SITES[0]!;
    const { sources, file, line } = inLock(site, 'postgres://k3s@db.example.internal:5432/k3s');
    const [d] = refusal(sources, site.env).filter((x) => x.rule === 'shell-shape');
    expect(d).toMatchObject({ file, line, path: ['cluster', 'datastore', 'postgres', 'host'] });
    expect(d!.message).toMatch(/is not a DNS name or an IPv4 address .*it is a URL, not a host; it reaches the Kine DSN/);
    expect(d!.hint).toBe('fix the parameter in SSM and run npm run synth -- --env staging-k3s --refresh-ssm');
  });

  it('the valid examples raise no shell-shape finding', () => {
    for (const env of ['dev', 'dev-k3s', 'staging-k3s', 'staging', 'prod']) expect(prepareEnvironment(env, exampleSources()).diagnostics.filter((d) => d.rule === 'shell-shape')).toStrictEqual([]);
  });
});

describe('rendered scripts', () => {
  const scripts = (files: { path: string; content: string }[]): [string, string][] => {
    const out: [string, string][] = [];
    for (const f of files) {
      if (f.path.endsWith('.sh')) out.push([f.path, f.content]);
      else if (/\/userdata\/[^/]+\.yaml$/.test(f.path)) {
        const data = parseYamlStream(f.content)[0] as { write_files: { path: string; content: string }[] };
        for (const w of data.write_files) if (w.content.startsWith('#!/bin/sh')) out.push([`${f.path}:${w.path}`, w.content]);
      }
    }
    return out;
  };
  const rendered = (env: string, sources = exampleSources()) => {
    const r = prepareEnvironment(env, sources);
    expect(r.prepared, r.diagnostics.map((d) => d.message).join('\n')).toBeDefined();
    return renderEnvironment(r.prepared!);
  };
  const shN = (text: string) => execFileSync('sh', ['-n'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] });

  it('every script of the examples parses with sh -n', () => {
    let n = 0;
    for (const env of ['dev', 'dev-k3s', 'staging-k3s', 'staging', 'prod'])
      for (const [path, text] of scripts(rendered(env))) {
        expect(() => shN(text), path).not.toThrow();
        n++;
      }
    expect(n).toBeGreaterThan(10);
  });

  // No dead code in a rendered script, runbook or boot user data: the shared preludes are composed by use
  // (lib/shell-functions.ts), so every function a rendered .sh script or a user data's boot script defines is called in
  // it (outside comments and its own definition line; a trap's handler is called by its trap line).
  it('every shell function a rendered runbook script or boot user data defines is called in it', () => {
    const fixtures = ['rke2-etcd.yaml', 'rke2-postgres.yaml', 'k3s-postgres.yaml', 'k3s-litestream.yaml', 'rke2-flux.yaml'].map((f) => fixtureSources('valid', f));
    const trees = [...['dev', 'dev-k3s', 'staging-k3s', 'staging', 'prod'].map((env) => rendered(env)), ...fixtures.map((f) => rendered(f.name, f.sources))];
    const dead: string[] = [];
    let defined = 0;
    let userData = 0;
    for (const files of trees)
      for (const [path, content] of scripts(files)) {
        if (path.includes('/userdata/')) userData++;
        const lines = content.split('\n').filter((l) => !/^\s*#/.test(l));
        for (const [, name] of content.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)\(\) *\{/gm)) {
          defined++;
          const word = new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_(]|$)`);
          const called = lines.some((l) => word.test(l.replace(new RegExp(`^\\s*${name}\\(\\) *\\{`), '')));
          if (!called) dead.push(`${path}: ${name}`);
        }
      }
    expect(defined).toBeGreaterThan(20);
    // The boot scripts of the examples' and the fixtures' K3s and RKE2 nodes and pools were read.
    expect(userData).toBeGreaterThan(20);
    expect(dead).toStrictEqual([]);
  });

  it('a boot user data carries only the prelude it uses: urlencode only where the Kine DSN is assembled (a server on PostgreSQL)', () => {
    const { name, sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    const boot = (target: string) => scripts(rendered(name, sources)).find(([p]) => p === `k3s/userdata/${target}.yaml:/usr/local/sbin/odp-k3s-boot`)![1];
    expect(boot('cp-1')).toMatch(/^urlencode\(\) \{/m);
    expect(boot('cp-1')).toContain('PGPASSWORD_ENC=$(urlencode "$PGPASSWORD")');
    expect(boot('workers')).not.toContain('urlencode');
    expect(boot('workers')).toMatch(/^ssm_secret\(\) \{$/m);
  });

  it('the prelude carries only what a script uses: the rotation script has no urlencode, the datastore-password script (Kine DSN) has it', () => {
    const { name, sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    const files = rendered(name, sources);
    const text = (path: string) => files.find((f) => f.path === path)!.content;
    expect(text('k3s/rotate-token.sh')).not.toContain('urlencode');
    expect(text('k3s/rotate-token.sh')).toMatch(/^ssm_secret\(\) \{$/m);
    expect(text('k3s/datastore-password.sh')).toMatch(/^urlencode\(\) \{/m);
    expect(text('k3s/datastore-password.sh')).toContain('PGPASSWORD_ENC=$(urlencode "$PGPASSWORD")');
  });

  it('usedFunctions keeps a function called only through another kept one, in definition order, and ignores comments', () => {
    const defs = [
      { name: 'log', text: 'log() { echo "$*" >&2; }' },
      { name: 'get', text: 'get() { log "get $1"; }' },
      { name: 'unused', text: '# log and get are not called here\nunused() { :; }' },
    ];
    expect(usedFunctions(defs, 'x=$(get a)')).toStrictEqual([defs[0]!.text, defs[1]!.text]);
    expect(usedFunctions(defs, '# get\necho unused_thing getter')).toStrictEqual([]);
  });

  /** A server's boot script and the settings file it sources (/etc/odp-gitops/boot-settings.env: every environment value). */
  const boot = (files: { path: string; content: string }[], node: string): { settings: string; script: string } => {
    const data = parseYamlStream(files.find((f) => f.path.endsWith(`/userdata/${node}.yaml`))!.content)[0] as { write_files: { path: string; content: string }[]; runcmd: string[][] };
    const file = (path: string) => data.write_files.find((w) => w.path === path)!.content;
    return { settings: file('/etc/odp-gitops/boot-settings.env'), script: file(data.runcmd[0]![0]!) };
  };

  it('the Kine DSN quotes every value; only the encoded password is expanded; the values are quoted in the settings file', () => {
    const { settings, script } = boot(rendered('staging-k3s'), 'stg-k3s-server-1');
    expect(script).toContain(`DSN='postgres://'"$PG_USER"':'"$PGPASSWORD_ENC"'@'"$PG_HOST"':'"$PG_PORT"'/'"$PG_DATABASE"'?sslmode=verify-full'`);
    expect(script).toContain('PGPASSWORD=$(ssm_secret "$PG_PASSWORD_PARAM")');
    expect(script).toContain('ssm_secret "$TOKEN_PARAM"');
    for (const line of [`PG_USER='k3s'`, `PG_HOST='odp-staging-k3s-kine.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com'`, `PG_PORT='5432'`, `PG_DATABASE='k3s'`, `PG_PASSWORD_PARAM='/odp/staging-k3s/kine/password'`, `TOKEN_PARAM='/odp/staging-k3s/k3s/token'`])
      expect(settings.split('\n')).toContain(line);
  });

  it('the DSN, run by sh after the settings file, is the URL Kine reads, with the password percent-encoded', () => {
    const { settings, script } = boot(rendered('staging-k3s'), 'stg-k3s-server-1');
    const line = script.split('\n').find((l) => l.startsWith('DSN='))!;
    const out = execFileSync('sh', ['-c', `${settings}\nPGPASSWORD_ENC=%27%24x; ${line}; printf '%s' "$DSN"`]).toString();
    expect(out).toBe('postgres://k3s:%27%24x@odp-staging-k3s-kine.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:5432/k3s?sslmode=verify-full');
  });

  it('a caBundlePath is quoted in the settings file and read quoted by the boot script', () => {
    const { sources } = inFile(CA_SITE, CA_SITE.after, '/etc/ssl/certs/db-ca.pem', 'caBundlePath');
    const { settings, script } = boot(rendered('staging-k3s', sources), 'stg-k3s-server-1');
    expect(settings.split('\n')).toContain(`PG_CA_BUNDLE='/etc/ssl/certs/db-ca.pem'`);
    expect(script).toContain(`[ -s "$PG_CA_BUNDLE" ] ||`);
    expect(() => shN(settings)).not.toThrow();
    expect(() => shN(script)).not.toThrow();
  });

  it('RKE2 on PostgreSQL: the scripts parse and the DSN is quoted', () => {
    const { name, sources } = fixtureSources('valid', 'rke2-postgres.yaml');
    const all = scripts(rendered(name, sources));
    expect(all.length).toBeGreaterThan(0);
    for (const [path, text] of all) expect(() => shN(text), path).not.toThrow();
    expect(all.some(([, t]) => /^DSN='postgres:\/\/'"\$PG_USER"':'"\$PGPASSWORD_ENC"'@'"\$PG_HOST"':'"\$PG_PORT"'\/'"\$PG_DATABASE"'\?sslmode=verify-full'$/m.test(t))).toBe(true);
  });

  it('the renderer refuses a value the rule would refuse (defence in depth)', () => {
    expect(() => shellValue('host', 'db;reboot', 'postgres.host')).toThrow(`postgres.host "db;reboot" is not a DNS name or an IPv4 address`);
  });
});
