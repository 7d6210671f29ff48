/**
 * SSM placeholders (lib/placeholder.ts): what npm run new-env locks before the AWS account exists.
 * Their shape (never a real value, refused by AWS's own formats), the warnings while they remain,
 * and the guards that keep them from a node: K3s and RKE2 user data refuse to boot (the boot script
 * run against stubs), npm run talos -- config refuses to materialize.
 */
import { BOOT_SETTINGS_PATH } from '../generators/distributions/rancher/boot-settings.js';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { resolveEnvironment } from '../generators/load/loader.js';
import { findPlaceholders, isPlaceholder, placeholderFor } from '../generators/lib/placeholder.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { findSsmReferences, lockFile, placeholderLock, serializeLock } from '../generators/load/ssm-lock.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { placeholderChecker } from '../generators/validate/rendered/placeholders.js';
import { parseRenderedFile } from '../generators/validate/rendered/tree.js';
import { cli, FIXTURES, fixtureSources } from './helpers.js';

vi.setConfig({ testTimeout: 120_000 });

/** A fixture environment with some values turned into SSM references, and a lock of placeholders for all of them. */
function withPlaceholders(file: string, edit: (text: string) => string): { name: string; sources: Map<string, string> } {
  const { name, sources } = fixtureSources('valid', file);
  sources.set(`environments/${name}.yaml`, edit(sources.get(`environments/${name}.yaml`)!));
  const { env } = resolveEnvironment(name, sources);
  sources.set(lockFile(name), serializeLock(placeholderLock(findSsmReferences(env!.data))));
  return { name, sources };
}

describe('the placeholder shape', () => {
  it('a host name under .invalid where a host or URL goes, odp-placeholder(<name>) elsewhere', () => {
    expect(placeholderFor('/odp/qa/api/endpoint', ['cluster', 'endpoint'])).toBe('https://odp-qa-api-endpoint.odp-placeholder.invalid:6443');
    expect(placeholderFor('/odp/qa/iam/issuer', ['aws', 'iam', 'issuerURL'])).toBe('https://odp-qa-iam-issuer.odp-placeholder.invalid');
    expect(placeholderFor('/odp/qa/api/san', ['cluster', 'extraSANs', 0])).toBe('odp-qa-api-san.odp-placeholder.invalid');
    expect(placeholderFor('/odp/qa/kine/host', ['cluster', 'datastore', 'postgres', 'host'])).toBe('odp-qa-kine-host.odp-placeholder.invalid');
    expect(placeholderFor('/odp/qa/network/vpc-id', ['aws', 'vpc', 'id'])).toBe('odp-placeholder(/odp/qa/network/vpc-id)');
  });

  it('is never a value AWS accepts where it lands: no VPC, subnet or KMS ID, bucket name or ARN; hosts never resolve (.invalid, RFC 6761)', () => {
    const generic = placeholderFor('/odp/qa/network/vpc-id', ['aws', 'vpc', 'id']);
    // The formats AWS documents for these identifiers (the same the environment rules check).
    for (const format of [/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, /^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, /^(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, /^arn:aws[a-z-]*:/]) expect(format.test(generic)).toBe(false);
    expect(new URL(placeholderFor('/odp/qa/api/endpoint', ['cluster', 'endpoint'])).hostname.endsWith('.invalid')).toBe(true);
  });

  it('is recognized whole, and found in any text it was rendered into, however it is surrounded', () => {
    const name = fc.stringMatching(/^\/[A-Za-z0-9_.-]{1,20}(\/[A-Za-z0-9_.-]{1,20}){0,4}$/);
    const path = fc.constantFrom<(string | number)[]>(['aws', 'vpc', 'id'], ['cluster', 'endpoint'], ['cluster', 'extraSANs', 1], ['workloads', 0, 'env', 'QUEUE'], ['cluster', 'datastore', 'postgres', 'host']);
    fc.assert(
      fc.property(name, path, fc.constantFrom('', 's3://', 'x: "', '--server='), fc.constantFrom('', '/etcd/prefix', '"\n', ' and more'), (n, p, before, after) => {
        const v = placeholderFor(n, p);
        expect(isPlaceholder(v)).toBe(true);
        expect(findPlaceholders(`${before}${v}${after}`)).toStrictEqual([v]);
      }),
    );
    expect(isPlaceholder('vpc-0123456789abcdef0')).toBe(false);
    expect(findPlaceholders('api.qa.odp.internal https://portal.example')).toStrictEqual([]);
  });
});

describe('an environment whose lock holds placeholders', () => {
  const edit = (t: string) => `${t}cluster:\n  endpoint: { ssm: /odp/fixture/api/endpoint }\n  extraSANs: [{ ssm: /odp/fixture/api/san }]\naws:\n  vpc: { id: { ssm: /odp/fixture/network/vpc-id } }\n`;

  it('validates with one ssm.placeholder warning per reference and renders: the placeholders show where the values go', async () => {
    const { name, sources } = withPlaceholders('minimal.yaml', edit);
    const r = prepareEnvironment(name, sources);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    expect(r.diagnostics.filter((d) => d.rule === 'ssm.placeholder').map(formatDiagnostic).sort()).toStrictEqual([
      "environments/minimal.yaml:5:13  cluster.endpoint: warning: SSM parameter /odp/fixture/api/endpoint is still a placeholder of npm run new-env in environments/minimal.ssm.lock.json ('https://odp-fixture-api-endpoint.odp-placeholder.invalid:6443' is rendered; AWS refuses it, and no node boots or applies a config with it)  (create it in account 111111111111 (eu-west-1), then npm run synth -- --env minimal --refresh-ssm)",
      "environments/minimal.yaml:6:15  cluster.extraSANs[0]: warning: SSM parameter /odp/fixture/api/san is still a placeholder of npm run new-env in environments/minimal.ssm.lock.json ('odp-fixture-api-san.odp-placeholder.invalid' is rendered; AWS refuses it, and no node boots or applies a config with it)  (create it in account 111111111111 (eu-west-1), then npm run synth -- --env minimal --refresh-ssm)",
      "environments/minimal.yaml:8:14  aws.vpc.id: warning: SSM parameter /odp/fixture/network/vpc-id is still a placeholder of npm run new-env in environments/minimal.ssm.lock.json ('odp-placeholder(/odp/fixture/network/vpc-id)' is rendered; AWS refuses it, and no node boots or applies a config with it)  (create it in account 111111111111 (eu-west-1), then npm run synth -- --env minimal --refresh-ssm)",
    ]);
    expect(r.prepared!.ssmPlaceholders).toStrictEqual(['/odp/fixture/api/endpoint', '/odp/fixture/api/san', '/odp/fixture/network/vpc-id']);
    const files = renderEnvironment(r.prepared!);
    const cp = files.find((f) => f.path === 'talos/cp-1.yaml')!;
    // The endpoint's host in the certificate SANs, the SAN, the endpoint itself.
    expect(findPlaceholders(cp.content).sort()).toStrictEqual(['https://odp-fixture-api-endpoint.odp-placeholder.invalid:6443', 'odp-fixture-api-endpoint.odp-placeholder.invalid', 'odp-fixture-api-san.odp-placeholder.invalid']);
    // validate: one rendered.placeholder warning per file that carries one, naming what refuses it.
    const finding = await placeholderChecker.check(parseRenderedFile(name, cp.path, cp.content), undefined as never);
    expect(finding.map((d) => `${d.rule} ${d.message}`)).toStrictEqual([
      `rendered.placeholder carries the SSM placeholder ${findPlaceholders(cp.content)[0]} (and 2 more) of npm run new-env: not deployable as it is (npm run talos -- config refuses to materialize it for a node)`,
    ]);
  });

  it('a real value in its place: no warning, and no placeholder in the rendered tree', () => {
    const { name, sources } = fixtureSources('valid', 'ssm-references.yaml');
    const r = prepareEnvironment(name, sources);
    expect(r.diagnostics.filter((d) => d.rule === 'ssm.placeholder')).toStrictEqual([]);
    expect(renderEnvironment(r.prepared!).filter((f) => findPlaceholders(f.content).length > 0)).toStrictEqual([]);
  });
});

/** Run a boot script with stub commands on PATH that log every call: what it would have done. */
function runBootScript(script: string, settings = ''): { status: number | null; stderr: string; calls: string } {
  const dir = mkdtempSync(join(tmpdir(), 'odp-boot-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'calls');
  writeFileSync(log, '');
  for (const cmd of ['curl', 'aws', 'snap', 'sysctl', 'install', 'systemctl', 'useradd', 'id', 'chmod', 'sh', 'tar', 'sha256sum', 'mktemp', 'od', 'tr', 'sed', 'grep', 'printf'])
    writeFileSync(join(bin, cmd), `#!/bin/sh\necho "${cmd} $*" >> ${log}\n`, { mode: 0o755 });
  const file = join(dir, 'boot');
  // The settings file cloud-init writes before runcmd (rancher/boot-settings.ts), here beside the script.
  writeFileSync(join(dir, 'boot-settings.env'), settings);
  writeFileSync(file, script.split(`. ${BOOT_SETTINGS_PATH}\n`).join(`. ${join(dir, 'boot-settings.env')}\n`));
  chmodSync(file, 0o755);
  const r = spawnSync('/bin/sh', [file], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
  return { status: r.status, stderr: r.stderr, calls: readFileSync(log, 'utf8') };
}

const bootScriptOf = (userData: string): { path: string; content: string; settings: string } => {
  const data = parseYamlStream(userData)[0] as { write_files: { path: string; content: string }[]; runcmd: string[][] };
  return { ...data.write_files.find((f) => f.path === data.runcmd[0]![0])!, settings: data.write_files.find((f) => f.path === BOOT_SETTINGS_PATH)?.content ?? '' };
};

describe.each([
  ['K3s', 'k3s-postgres.yaml', 'k3s'],
  ['RKE2', 'rke2-postgres.yaml', 'rke2'],
])('%s user data carrying a placeholder refuses to boot', (_product, fixture, dir) => {
  it('its boot script stops before anything runs, and says why on the console (stderr); user data without one is unchanged', () => {
    const { name, sources } = withPlaceholders(fixture, (t) => t.replace('host: kine.fixture.internal', 'host: { ssm: /odp/fixture/kine/host }'));
    const r = prepareEnvironment(name, sources);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const files = new Map(renderEnvironment(r.prepared!).map((f) => [f.path, f.content]));
    const server = bootScriptOf(files.get(`${dir}/userdata/cp-1.yaml`)!);
    const run = runBootScript(server.content, server.settings);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'odp-gitops: refusing to boot: this user data carries SSM placeholders of npm run new-env (odp-fixture-kine-host.odp-placeholder.invalid), locked before the AWS account existed. Create the SSM parameters, run npm run synth -- --env <environment> --refresh-ssm, commit, and launch the node with the user data rendered then.\n',
    );
    // Nothing ran: no secret read, nothing installed, no service started.
    expect(run.calls).toBe('');
    // The workers' user data carries no placeholder here (agents do not reach the database): unchanged, no guard.
    const agent = bootScriptOf(files.get(`${dir}/userdata/workers.yaml`)!);
    expect(findPlaceholders(files.get(`${dir}/userdata/workers.yaml`)!)).toStrictEqual([]);
    const clean = fixtureSources('valid', fixture);
    const cleanAgent = bootScriptOf(new Map(renderEnvironment(prepareEnvironment(clean.name, clean.sources).prepared!).map((f) => [f.path, f.content])).get(`${dir}/userdata/workers.yaml`)!);
    expect(agent.content).toBe(cleanAgent.content);
    expect(agent.content).not.toContain('refusing to boot');
  });

  it('a pool instance\'s boot script refuses after arming its EXIT trap: the refusal abandons its launch lifecycle hook at once', () => {
    // The endpoint (the agents' server URL) as a placeholder: the pool's user data carries it.
    const { name, sources } = withPlaceholders(fixture, (t) => t.replace(/^cluster:\n/m, 'cluster:\n  endpoint: { ssm: /odp/fixture/api/endpoint }\n'));
    const files = new Map(renderEnvironment(prepareEnvironment(name, sources).prepared!).map((f) => [f.path, f.content]));
    const pool = bootScriptOf(files.get(`${dir}/userdata/workers.yaml`)!);
    const lines = pool.content.split('\n');
    // The guard right after the trap (rancher/boot.ts EXIT_TRAP_LINE); before it only definitions, nothing runs.
    expect(lines[lines.indexOf('trap abandon_on_failure EXIT') + 2]).toMatch(/^echo 'odp-gitops: refusing to boot: /);
    const run = runBootScript(pool.content, pool.settings);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^odp-gitops: refusing to boot: this user data carries SSM placeholders of npm run new-env \(https:\/\/odp-fixture-api-endpoint\.odp-placeholder\.invalid:\d+\)/);
    expect(run.stderr).toContain('boot failed (exit 1): abandoning this instance (lifecycle hook node-joined of fixture-workers)');
    // Only the hook's completion ran (IMDSv2 for the instance id and region, then ABANDON): no secret read, nothing installed.
    const calls = run.calls.trim().split('\n');
    expect(calls.filter((x) => !x.startsWith('curl -sf '))).toStrictEqual([
      'aws autoscaling complete-lifecycle-action --region  --auto-scaling-group-name fixture-workers --lifecycle-hook-name node-joined --instance-id  --lifecycle-action-result ABANDON',
    ]);
    expect(calls.filter((x) => x.startsWith('curl -sf ')).every((x) => x.includes('http://169.254.169.254/latest/'))).toBe(true);
  });
});

describe('npm run talos -- config refuses while the lock holds placeholders', () => {
  it('names the placeholders and those the node config carries, before any AWS call (a process)', () => {
    const root = mkdtempSync(join(tmpdir(), 'odp-placeholder-'));
    mkdirSync(join(root, 'environments'));
    for (const f of ['_fixture.yaml']) writeFileSync(join(root, 'environments', f), readFileSync(join(FIXTURES, f), 'utf8'));
    const { sources } = withPlaceholders('minimal.yaml', (t) => `${t}cluster:\n  endpoint: { ssm: /odp/fixture/api/endpoint }\n`);
    writeFileSync(join(root, 'environments', 'minimal.yaml'), sources.get('environments/minimal.yaml')!);
    writeFileSync(join(root, 'environments', 'minimal.ssm.lock.json'), sources.get('environments/minimal.ssm.lock.json')!);
    expect(cli('synth', root).code).toBe(0);
    const r = cli('talos', root, 'config', '--env', 'minimal', '--node', 'cp-1', '--stdout');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'refusing to materialize minimal/cp-1: environments/minimal.ssm.lock.json still holds placeholders of npm run new-env (/odp/fixture/api/endpoint), and the config carries odp-fixture-api-endpoint.odp-placeholder.invalid, https://odp-fixture-api-endpoint.odp-placeholder.invalid:6443.\nCreate the SSM parameters in account 111111111111 (eu-west-1), then npm run synth -- --env minimal --refresh-ssm, review and commit.',
    );
    expect(r.stderr).toMatch(/^talos: failed \(exit 2\): invalid usage \(\d+\.\d s\)$/m);
    // And validate: warnings, no error.
    const v = cli('validate', root);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^rendered\/minimal\/talos\/cp-1\.yaml:\d+:\d+ {2}\(document\): warning: carries the SSM placeholder \S+ \(and 1 more\) of npm run new-env: not deployable as it is \(npm run talos -- config refuses to materialize it for a node\)/m);
    expect(v.stdout).toMatch(/^environments\/minimal\.yaml:5:13 {2}cluster\.endpoint: warning: SSM parameter \/odp\/fixture\/api\/endpoint is still a placeholder/m);
  });
});
