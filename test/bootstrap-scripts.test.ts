/**
 * Rendered bootstrap scripts run against stub binaries (aws, kubectl, helm on PATH) that behave as
 * upstream does: the AWS CLI exits 254 with "An error occurred (…)" on stderr when a parameter cannot
 * be read, and prints "None" for an empty --query result. A failing step stops the script with a
 * non-zero exit and a clear message before it creates anything; no secret reaches a command line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderedExamples } from './helpers.js';

const SCRIPT = 'rendered/staging-k3s/flux/bootstrap/bootstrap.sh';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A Ready worker without taints, as `kubectl get nodes -o jsonpath=…` (the script's schedulable_node) prints it. */
const READY_WORKER = 'worker-1\tTrue\t';

/**
 * A scratch copy of the rendered examples with stubs; `aws` and `helm` bodies decide what fails,
 * `nodes` is what `kubectl get nodes` prints (name, Ready status, `key:Effect ` taints; tab-separated
 * lines), one answer per call (the last repeats). `sleep` returns at once.
 */
function run(o: { aws?: string; helm?: string; nodes?: string[]; script?: string; args?: string[]; existingSecret?: boolean }): { code: number | null; stdout: string; stderr: string; calls: string[]; secret?: string } {
  const dir = mkdtempSync(join(tmpdir(), 'odp-bootstrap-'));
  dirs.push(dir);
  cpSync(join(renderedExamples(), 'rendered'), join(dir, 'repo', 'rendered'), { recursive: true });
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'log');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >>'${log}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('aws', o.aws ?? 'exit 0');
  stub('sleep', 'exit 0');
  if (o.existingSecret) writeFileSync(join(dir, 'existing'), '');
  const answers = o.nodes ?? [READY_WORKER];
  answers.forEach((a, i) => writeFileSync(join(dir, `nodes.${i}`), a.replace(/\\t/g, '\t') + '\n'));
  const count = join(dir, 'count');
  stub('helm', o.helm ?? 'exit 0');
  // kubectl: the API answers; `create … --dry-run=client -o yaml` prints the Secret with the files' contents.
  stub('kubectl', [
    'case "$*" in',
    `  "get nodes"*) n=$(cat '${count}' 2>/dev/null || echo 0); f='${dir}/nodes.'$n; [ -f "$f" ] || f='${dir}/nodes.${answers.length - 1}'; echo $((n + 1)) >'${count}'; cat "$f" ;;`,
    // A re-run: the Secret exists, its data owned by External Secrets' manager with another value (rotated in SSM):
    // server-side apply refuses unless conflicts are forced (as the API server answers: 409 Conflict).
    `  *"apply --server-side -f"*secret.yaml*) if [ -f '${join(dir, 'existing')}' ]; then echo 'error: Apply failed with 1 conflict: conflict with "externalsecrets.external-secrets.io/flux-system" using v1: .data.password' >&2; exit 1; fi ;;`,
    `  *"create secret"*) for a in "$@"; do case "$a" in --from-file=*) f=\${a#--from-file=}; printf '%s=%s\\n' "\${f%%=*}" "$(cat "\${f#*=}")" >>'${join(dir, 'secret')}' ;; esac; done; echo 'kind: Secret' ;;`,
    'esac',
  ].join('\n'));
  const r = spawnSync('sh', [join(dir, 'repo', o.script ?? SCRIPT), ...(o.args ?? [])], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls, secret: existsSync(join(dir, 'secret')) ? readFileSync(join(dir, 'secret'), 'utf8') : undefined };
}

const creates = (calls: string[]) => calls.filter((c) => c.startsWith('helm ') || / (apply|create) /.test(c));

describe('Flux bootstrap script against stub binaries', () => {
  it('the script is valid sh', () => {
    execFileSync('sh', ['-n', join(renderedExamples(), SCRIPT)]);
  });

  it('an SSM read that fails stops it at once, non-zero, with the parameter named, before anything is created', () => {
    const r = run({ aws: `echo 'An error occurred (AccessDeniedException) when calling the GetParameter operation: not authorized' >&2; exit 254` });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('bootstrap stopped: cannot read SSM parameter /odp/staging-k3s/flux/git-password');
    expect(creates(r.calls)).toStrictEqual([]);
  });

  it('an empty parameter (the CLI prints None) stops it before anything is created', () => {
    const r = run({ aws: 'echo None' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('bootstrap stopped: SSM parameter /odp/staging-k3s/flux/git-password is empty');
    expect(creates(r.calls)).toStrictEqual([]);
  });

  it('a failing helm install stops it before the Secret and the FluxInstance', () => {
    const r = run({ aws: 'echo s3cr3t-value', helm: 'echo "Error: INSTALLATION FAILED: context deadline exceeded" >&2; exit 1' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('INSTALLATION FAILED');
    expect(r.calls.filter((c) => c.startsWith('kubectl ') && / (apply|create) /.test(c))).toStrictEqual([]);
  });

  it('with every step succeeding: the Secret gets the values through files, none on a command line; kubectl keeps its own field manager', () => {
    const r = run({ aws: 'case "$*" in *git-password*) echo s3cr3t-value ;; *) echo bot ;; esac' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.secret).toBe('password=s3cr3t-value\nusername=bot\n');
    expect(r.calls.filter((c) => c.includes('s3cr3t'))).toStrictEqual([]);
    // kustomize-controller takes over fields applied by the kubectl manager only (v1.9.1 kustomization_controller.go:894-927).
    expect(r.calls.filter((c) => c.includes('--field-manager'))).toStrictEqual([]);
  });

  it('run again after the git password was rotated in SSM: the Secret apply forces the conflict with External Secrets and the script goes on', () => {
    const r = run({ aws: 'case "$*" in *git-password*) echo rotated-value ;; *) echo bot ;; esac', existingSecret: true });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.includes('secret.yaml'))).toStrictEqual([expect.stringMatching(/^kubectl apply --server-side --force-conflicts -f .*\/secret\.yaml$/)]);
    expect(r.calls.some((c) => c.includes('flux-instance.yaml'))).toBe(true);
  });
});

/**
 * Talos with Cilium (prod): control planes are tainted node-role.kubernetes.io/control-plane:NoSchedule
 * once workers exist and Argo CD's pods tolerate no taint, so before Argo CD the script waits (bounded)
 * for a Ready node they can run on; `nodes` installs only what nodes need and stops.
 */
describe('Argo CD bootstrap script (Talos + Cilium) waits for a schedulable worker', () => {
  const ARGO = 'rendered/prod/argocd/bootstrap/bootstrap.sh';
  const CONTROL_PLANE = 'prod-cp-1\tTrue\tnode-role.kubernetes.io/control-plane:NoSchedule ';
  const helmReleases = (calls: string[]) => calls.filter((c) => c.startsWith('helm upgrade')).map((c) => c.split(' ')[3]);

  it('the script is valid sh', () => {
    execFileSync('sh', ['-n', join(renderedExamples(), ARGO)]);
  });

  it('only tainted control planes: it stops after 20 minutes with the pools that must join, before Argo CD and the root', () => {
    const r = run({ script: ARGO, nodes: [CONTROL_PLANE] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bootstrap stopped before argo-cd: no Ready node argo-cd can run on after 20 minutes (pools general-amd64, general-arm64 must have joined');
    expect(helmReleases(r.calls)).toStrictEqual(['cilium', 'aws-cloud-controller-manager']);
    expect(r.calls.filter((c) => c.startsWith('kubectl apply'))).toStrictEqual([]);
    // Bounded: 120 polls, 10 s apart.
    expect(r.calls.filter((c) => c.startsWith('kubectl get nodes'))).toHaveLength(121);
  });

  it('a worker that is NotReady, then still tainted uninitialized, then schedulable: Argo CD installs, then the root', () => {
    const r = run({ script: ARGO, nodes: [`${CONTROL_PLANE}\nw1\tFalse\tnode.kubernetes.io/not-ready:NoSchedule `, `${CONTROL_PLANE}\nw1\tTrue\tnode.cloudprovider.kubernetes.io/uninitialized:NoSchedule `, `${CONTROL_PLANE}\nw1\tTrue\tnvidia.com/gpu:PreferNoSchedule `] });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('kubectl get nodes'))).toHaveLength(3);
    expect(helmReleases(r.calls)).toStrictEqual(['cilium', 'aws-cloud-controller-manager', 'argo-cd']);
    expect(r.calls.at(-2)).toMatch(/^kubectl apply --server-side --field-manager=argocd-bootstrap -f .*rendered\/prod\/argocd\/$/);
  });

  it('`nodes`: the CNI and the cloud controller only, no wait, exit 0 with the next step', () => {
    const r = run({ script: ARGO, args: ['nodes'], nodes: [CONTROL_PLANE] });
    expect(r.code).toBe(0);
    expect(helmReleases(r.calls)).toStrictEqual(['cilium', 'aws-cloud-controller-manager']);
    expect(r.calls.filter((c) => c.startsWith('kubectl get nodes') || c.startsWith('kubectl apply'))).toStrictEqual([]);
    expect(r.stdout).toContain('phase nodes done: cilium, aws-cloud-controller-manager installed; once the workers have joined run: sh ');
  });

  it('an unknown phase is refused before anything runs', () => {
    const r = run({ script: ARGO, args: ['everything'] });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: sh ');
    expect(r.calls).toStrictEqual([]);
  });
});
