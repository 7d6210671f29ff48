/**
 * The Talos runbook's join and remove scripts (`npm run talos -- commands --env E join|remove --node N`: runbook.ts
 * joinScript, removeScript; the upstream facts in release.ts TALOS_MEMBERSHIP) run against the stub fleet of
 * test/support/talos-fleet.mjs, whose talosctl models etcd membership as Talos and etcd do (learners promoted one at a
 * time; a leave or remove-member refused without a leader or when the started members left would lose their quorum;
 * reset leaving etcd, wiping and powering off) and whose kubectl drains and deletes Nodes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeOperationRefusal, runbookScript } from '../generators/distributions/talos/runbook.js';
import { prepareInline } from './support/inline-env.js';
import { ROOT } from './helpers.js';

const CPS = ['10.10.1.10', '10.10.1.11', '10.10.1.12'];
const WORKER = '10.10.1.20';
const POOLS = (cps: string) =>
  `nodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [${cps}] }\n  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, nodes: [{ name: w-1, ip: ${WORKER} }] }\n`;
function model(cps = '{ name: cp-1, ip: 10.10.1.10 }, { name: cp-2, ip: 10.10.1.11 }, { name: cp-3, ip: 10.10.1.12 }') {
  const r = prepareInline('talos-rb', POOLS(cps));
  if (!r.prepared) throw new Error(JSON.stringify(r.diagnostics));
  return r.prepared.model;
}

type Node = { name: string; role: string; os: string; etcd?: string; maintenance?: boolean; unreachable?: boolean; learner?: number; member?: boolean; reset?: boolean; nodeDeleted?: boolean; cordoned?: boolean };
interface Fleet { version: string; api: string; nodes: Record<string, Node>; instances: Record<string, unknown>; events?: string[]; secondLearner?: string[]; pods?: { ns: string; name: string; node: string; app?: string }[] }

describe('Talos join and remove scripts against the stub fleet', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'odp-talos-membership-'));
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const c of ['talosctl', 'kubectl', 'aws', 'npm', 'sleep']) symlinkSync(join(ROOT, 'test', 'support', 'talos-fleet.mjs'), join(bin, c));
    mkdirSync(join(dir, 'repo'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const fleet = (edit: (f: Fleet) => void = () => {}): void => {
    const os = 'Talos (v1.13.9)';
    const f: Fleet = { version: 'v1.13.9', api: '1.35.2', instances: {}, nodes: {} };
    CPS.forEach((ip, i) => (f.nodes[ip] = { name: `cp-${i + 1}`, role: 'controlplane', os, etcd: 'Running' }));
    f.nodes[WORKER] = { name: 'w-1', role: 'worker', os };
    edit(f);
    writeFileSync(join(dir, 'fleet.json'), JSON.stringify(f));
  };
  const state = (): Fleet => JSON.parse(readFileSync(join(dir, 'fleet.json'), 'utf8'));
  const calls = (): string[] => readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
  const run = (script: string) => {
    const r = spawnSync('sh', ['-c', script], { cwd: join(dir, 'repo'), encoding: 'utf8', env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, HOME: join(dir, 'home'), FLEET: dir, ODP_POLL: '0', ODP_TRIES: '5' } });
    return { code: r.status, stderr: r.stderr };
  };
  /** The index of the first call matching `re` (each must be there). */
  const at = (re: RegExp): number => {
    const i = calls().findIndex((c) => re.test(c));
    expect(i, `${re} in ${calls().join('\n')}`).toBeGreaterThanOrEqual(0);
    return i;
  };

  it('remove a control plane: quorum checked, then drained, etcd left (seen gone), reset, its Node deleted, the cluster gated without it', () => {
    fleet();
    const r = run(runbookScript(model(), 'remove', 'cp-2'));
    expect(r.stderr).toContain('cp-2 (10.10.1.11) removed from talos-rb');
    // Its instance carries termination protection: terminated before the merge, which cannot (infra/aws/termination.ts).
    expect(r.stderr).toContain('next, before the merge: sh rendered/talos-rb/aws/deploy.sh terminate-node cp-2 (its instance carries termination protection');
    expect(r.code).toBe(0);
    const order = [at(/^talosctl etcd members --nodes 10\.10\.1\.1[02]$/), at(/^kubectl drain cp-2 /), at(/^talosctl etcd leave --nodes 10\.10\.1\.11$/), at(/^talosctl reset --nodes 10\.10\.1\.11$/), at(/^kubectl delete node cp-2$/)];
    expect([...order].sort((a, b) => a - b)).toStrictEqual(order);
    // The gate after it names the control planes left, and passes.
    const health = calls().filter((c) => c.startsWith('talosctl health'));
    expect(health.at(-1)).toContain('--control-plane-nodes 10.10.1.10,10.10.1.12');
    expect(calls().findLastIndex((c) => c.startsWith('talosctl health'))).toBeGreaterThan(order.at(-1)!);
    const after = state();
    expect(after.nodes['10.10.1.11']).toMatchObject({ member: false, reset: true, nodeDeleted: true });
    expect(after.events).toStrictEqual(['leave cp-2', 'reset cp-2', 'delete-node cp-2']);
  });

  it('remove a control plane refused when the members left would lose their quorum (another one is down): nothing drained, left or reset', () => {
    fleet((f) => (f.nodes['10.10.1.12']!.unreachable = true));
    const r = run(runbookScript(model(), 'remove', 'cp-2'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cp-2 (10.10.1.11) not removed: it would cost etcd its quorum: of the 2 members left only 1 would be healthy, 2 needed');
    expect(calls().filter((c) => /^kubectl (drain|delete)|^talosctl (reset|etcd leave|etcd remove-member)/.test(c))).toStrictEqual([]);
    expect(state().nodes['10.10.1.11']).toMatchObject({ etcd: 'Running' });
    expect(state().events).toBeUndefined();
  });

  it('remove a control plane whose Talos API does not answer: its member removed by ID through a healthy control plane, its Node deleted, nothing reset', () => {
    fleet((f) => (f.nodes['10.10.1.11']!.unreachable = true));
    const r = run(runbookScript(model(), 'remove', 'cp-2'));
    // Its Node, for a node that is down, fails the gate until deleted: deleted, the gate passes.
    expect(r.code, r.stderr).toBe(0);
    expect(at(/^talosctl etcd remove-member 000000000a0a010b --nodes 10\.10\.1\.10$/)).toBeLessThan(at(/^kubectl delete node cp-2$/));
    expect(calls().some((c) => c.startsWith('talosctl reset') || c.startsWith('kubectl drain'))).toBe(false);
  });

  it('the last control plane is never removed: refused before a script is rendered (the CLI exits 2 with it)', () => {
    const one = model('{ name: cp-1, ip: 10.10.1.10 }');
    expect(nodeOperationRefusal(one, 'remove', 'cp-1')).toBe('cp-1 is the only control plane of talos-rb: never removed (etcd has no other member to keep the cluster\'s state, and the cluster no other API server)');
    expect(() => runbookScript(one, 'remove', 'cp-1')).toThrow('cp-1 is the only control plane');
    expect(nodeOperationRefusal(one, 'remove', 'w-1')).toBeUndefined();
  });

  it('remove a worker: drained, reset, its Node deleted, gated', () => {
    fleet((f) => (f.pods = [{ ns: 'app', name: 'web-1', node: 'w-1', app: 'web' }]));
    const r = run(runbookScript(model(), 'remove', 'w-1'));
    expect(r.code, r.stderr).toBe(0);
    const order = [at(/^kubectl drain w-1 /), at(/^talosctl reset --nodes 10\.10\.1\.20$/), at(/^kubectl delete node w-1$/)];
    expect([...order].sort((a, b) => a - b)).toStrictEqual(order);
    expect(calls().some((c) => c.startsWith('talosctl etcd leave'))).toBe(false);
    expect(state().events).toStrictEqual(['reset w-1', 'delete-node w-1']);
  });

  it('join a control plane: the cluster gated without it, apply-config --insecure, waited for until promoted from learner, then gated with it', () => {
    fleet((f) => Object.assign(f.nodes['10.10.1.12']!, { maintenance: true, etcd: undefined }));
    const r = run(runbookScript(model(), 'join', 'cp-3'));
    expect(r.stderr).toContain('cp-3 (10.10.1.12) joined talos-rb');
    expect(r.code).toBe(0);
    const apply = at(/^talosctl apply-config --insecure --nodes 10\.10\.1\.12 --file .*\/cp-3\.yaml$/);
    expect(at(/^talosctl health .*--control-plane-nodes 10\.10\.1\.10,10\.10\.1\.11( |$)/)).toBeLessThan(apply);
    expect(calls().findLastIndex((c) => /^talosctl health .*--control-plane-nodes 10\.10\.1\.10,10\.10\.1\.11,10\.10\.1\.12/.test(c))).toBeGreaterThan(apply);
    const after = state();
    expect(after.nodes['10.10.1.12']).toMatchObject({ member: true, etcd: 'Running' });
    expect(after.nodes['10.10.1.12']!.learner).toBeUndefined();
    expect(after.secondLearner).toBeUndefined();
  });

  it('join a control plane refused while another one is still a learner (etcd takes one at a time): nothing applied', () => {
    fleet((f) => {
      Object.assign(f.nodes['10.10.1.12']!, { maintenance: true, etcd: undefined });
      f.nodes['10.10.1.11']!.learner = 50;
    });
    const r = run(runbookScript(model(), 'join', 'cp-3'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cp-3 (10.10.1.12) not applied: control plane 10.10.1.11 is still joining etcd (a learner)");
    expect(calls().some((c) => c.startsWith('talosctl apply-config'))).toBe(false);
    expect(state().nodes['10.10.1.12']!.maintenance).toBe(true);
  });

  it('join a node configured already (a re-run): nothing applied, gated', () => {
    fleet();
    const r = run(runbookScript(model(), 'join', 'w-1'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('w-1 (10.10.1.20) is configured already');
    expect(calls().some((c) => c.startsWith('talosctl apply-config'))).toBe(false);
  });
});
