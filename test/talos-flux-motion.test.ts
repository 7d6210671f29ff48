/**
 * Talos under Flux with heterogeneous pools, in motion (fixture test/fixtures/valid/talos-flux-pools.yaml: three
 * control planes with etcd snapshots, an amd64 pool running the AWS controllers (`aws.iam.controllersPool`), a
 * Graviton pool, a tainted NVIDIA GPU pool; Cilium; a Deployment with a Secret from SSM, a GPU StatefulSet).
 *
 * A pool that joins late (an hour: a pool scaled from zero, a GPU capacity shortage) must end in a sync, not a
 * permanent failure. helm-controller v1.6.1: a failed install with `install.remediation.retries: N >= 0` is Stalled
 * (RetriesExceeded) once N retries are spent, a reconcile.TerminalError that is never requeued
 * (internal/reconcile/atomic_release.go:394-402, 509-513, 203-207; internal/controller/helmrelease_controller.go:442-446),
 * until the spec changes or `flux reconcile hr --reset/--force`; a negative count is unlimited
 * (api/v2/helmrelease_types.go:695-699, 754-756). Argo CD v3.4.4: a failed sync is retried while
 * `RetryCount < limit || limit < 0` (controller/appcontroller.go:1537-1551), then automated sync never tries the same
 * revision again (:2251-2258); a root wave fails when an Application it waits on is Degraded
 * (gitops-engine/pkg/sync/sync_context.go:547-551), a Deployment past its progress deadline is
 * (gitops-engine/pkg/health/health_deployment.go:39-43).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { motionOf } from '../generators/validate/motion/index.js';
import { schedulable, simulate } from '../generators/validate/motion/simulate.js';
import { runbookScript } from '../generators/distributions/talos/runbook.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, formatted } from './helpers.js';

const ENV = 'talos-flux-pools';
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function render(edit: (text: string) => string = (t) => t) {
  const { sources } = fixtureSources('valid', `${ENV}.yaml`);
  sources.set(`environments/${ENV}.yaml`, edit(sources.get(`environments/${ENV}.yaml`)!));
  const r = prepareEnvironment(ENV, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const files = new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
  const report = motionOf(parseRenderedTree(new Map([...files].map(([p, c]) => [`${ENV}/${p}`, c]))), ENV, r.prepared.model)!;
  return { model: r.prepared.model, files, report };
}
const flux = render();
const argocd = render((t) => t.replace('gitops: flux\n', 'gitops: argocd\n'));

/** The first sync with the nodes of `pools` joining only after every finite retry budget is spent. */
function lateSync(r: ReturnType<typeof render>, pools: string[]) {
  const early = r.report.nodes.filter((n) => !pools.includes(n.name));
  const late = r.report.nodes.filter((n) => pools.includes(n.name));
  expect(late.map((n) => n.name).sort()).toStrictEqual([...pools].sort());
  const waiting = r.report.units.filter((u) => u.phases.flat().some((i) => i.pods.some((p) => !schedulable(p, early))));
  const s = simulate(r.report.units, r.report.base, early, new Set(), late);
  return { waiting: waiting.map((u) => u.id), state: s.state, failures: s.failures };
}

describe(`${ENV}: renders and converges`, () => {
  it('both engines: the first sync applies every unit and each becomes Ready, no motion error', () => {
    for (const r of [flux, argocd]) {
      expect(r.report.findings.filter((d) => d.severity === 'error')).toStrictEqual([]);
      expect(r.report.units.length).toBeGreaterThan(10);
    }
  });
});

describe(`${ENV}: a pool joining an hour late ends in a sync`, () => {
  it('Flux: every HelmRelease installs with unlimited remediated retries (or RetryOnFailure for a chart owning CRDs); upgrades roll back after 3', () => {
    const releases = [...flux.files].filter(([p]) => /^flux\/units\/[^/]+\/helmrelease-/.test(p)).map(([, c]) => parse(c) as Obj);
    expect(releases.length).toBeGreaterThan(8);
    for (const hr of releases) {
      const ownsCrds = hr.spec.install.crds === 'Create';
      if (ownsCrds) expect(hr.spec.install.strategy, hr.metadata.name).toStrictEqual({ name: 'RetryOnFailure', retryInterval: '5m' });
      else {
        expect(hr.spec.install, hr.metadata.name).toMatchObject({ remediation: { retries: -1 } });
        expect(hr.spec.install.strategy).toBeUndefined();
        // Not RetryOnFailure for the install alone: its retry is an upgrade, whose failure would fall to the
        // upgrade's rollback remediation with nothing to roll back to (MissingRollbackTarget, Stalled).
        expect(hr.spec.upgrade, hr.metadata.name).toMatchObject({ remediation: { retries: 3 } });
      }
    }
  });

  it('Flux: the controllers pool late — what waits for it (the AWS controllers) fails nothing and every unit ends Ready', () => {
    const { waiting, state, failures } = lateSync(flux, ['controllers']);
    expect(waiting).toEqual(expect.arrayContaining(['aws-ebs-csi-driver', 'aws-load-balancer-controller']));
    expect([...failures]).toStrictEqual([]);
    expect([...state].filter(([, s]) => s !== 'ready')).toStrictEqual([]);
  });

  it('Flux: the GPU pool late — the device plugin and the GPU workload wait, then sync', () => {
    const { waiting, state, failures } = lateSync(flux, ['gpu']);
    expect(waiting).toEqual(expect.arrayContaining(['nvidia-device-plugin']));
    expect([...failures]).toStrictEqual([]);
    expect([...state].filter(([, s]) => s !== 'ready')).toStrictEqual([]);
  });

  it('Flux, with the former 3 remediated install retries: the late controllers pool leaves the AWS controllers failed for good (what the fix removes)', () => {
    const old = render();
    for (const u of old.report.units) for (const i of u.phases.flat()) if (i.label.startsWith('HelmRelease ') && !i.onUnmet.fail) {
      if (old.files.get(`flux/units/${u.id}/helmrelease-${u.id}.yaml`)?.includes('RetryOnFailure')) continue;
      i.onUnmet = { fail: true, why: 'stalls after 3 remediated retries' };
      i.retries = 3;
    }
    const { state, failures } = lateSync(old, ['controllers']);
    expect(state.get('aws-ebs-csi-driver')).toBe('failed');
    expect(failures.get('aws-ebs-csi-driver')).toContain('had no node (its pool joined after every retry was spent)');
  });

  it('Argo CD: every Application retries a failed sync without limit, backing off to 5 minutes, each retry on the latest revision', () => {
    const apps = [...argocd.files].filter(([p]) => p.startsWith('apps/') || p.startsWith('argocd/')).flatMap(([, c]) => (c.includes('kind: Application\n') ? [parse(c) as Obj] : []));
    expect(apps.length).toBeGreaterThan(8);
    for (const a of apps) expect(a.spec.syncPolicy.retry, a.metadata.name).toStrictEqual({ limit: -1, backoff: { duration: '10s', factor: 2, maxDuration: '5m' }, refresh: true });
  });

  it('Argo CD, with the former retry limit 5: the late controllers pool fails the root\'s wave for good, and every later wave is never applied (what the fix removes)', () => {
    const files = new Map([...argocd.files].map(([p, c]) => [`${ENV}/${p}`, p === 'argocd/application-root.yaml' ? c.replace('limit: -1', 'limit: 5') : c]));
    const old = { ...argocd, report: motionOf(parseRenderedTree(files), ENV, argocd.model)! };
    const { state, failures } = lateSync(old, ['controllers']);
    const failed = [...failures.keys()];
    expect(failed.length).toBeGreaterThan(0);
    expect(failures.get(failed[0]!)).toContain("fails the root's wave");
    expect([...state].filter(([, s]) => s === 'pending').length).toBeGreaterThan(0);
  });

  // Bound not modelled here (rounds, not time): the controller's sync timeout (1 h from the operation's start, not reset by
  // retries: argo-cd v3.4.4 controller/appcontroller.go:1460-1465, 1538) still terminates the root's operation for good.
  it('Argo CD: the controllers pool or the GPU pool late (within the sync timeout) — the root retries its failed wave (Degraded at the progress deadline) until the pool joins, and every Application ends Ready', () => {
    for (const pools of [['controllers'], ['gpu'], ['controllers', 'gpu']]) {
      const { waiting, state, failures } = lateSync(argocd, pools);
      expect(waiting.length, pools.join()).toBeGreaterThan(0);
      expect([...failures], pools.join()).toStrictEqual([]);
      expect([...state].filter(([, s]) => s !== 'ready'), pools.join()).toStrictEqual([]);
    }
  });
});

describe(`${ENV}: Talos and Kubernetes upgrades keep the GPU pool's NVIDIA extensions`, () => {
  const bumped = render((t) => t.replace('talosVersion: v1.13.9', 'talosVersion: v1.13.8').replace('kubernetesVersion: 1.35.2', 'kubernetesVersion: 1.35.1'));
  const schematic = (r: ReturnType<typeof render>) => parse(r.files.get('talos/schematics/amd64-nvidia.yaml')!) as Obj;
  it('the GPU pool installs from the nvidia schematic (extensions in the installer image) at either version; the others from the plain one', () => {
    for (const [r, v] of [[flux, 'v1.13.9'], [bumped, 'v1.13.8']] as const) {
      const s = schematic(r);
      expect(s.schematic.customization.systemExtensions.officialExtensions).toStrictEqual(['siderolabs/nvidia-container-toolkit-lts', 'siderolabs/nvidia-open-gpu-kernel-modules-lts']);
      expect(s.installerImage).toBe(`factory.talos.dev/aws-installer/${s.id}:${v}`);
      expect(r.files.get('talos/gpu.yaml')).toContain(`image: ${s.installerImage}\n`);
      expect(r.files.get('talos/controllers.yaml')).not.toContain(s.id);
      // The pool's AMI (what a refresh's replacement boots) is registered from the same schematic's disk image.
      expect(r.files.get('aws/images/amd64-nvidia.sh')).toContain(`https://factory.talos.dev/image/${s.id}/${v}/aws-amd64.raw.xz`);
    }
    // A version bump keeps the schematic (its id is the hash of the customization, not of the version).
    expect(schematic(bumped).id).toBe(schematic(flux).id);
  });

  it('upgrade: pools only through their refresh (never talosctl upgrade of a pool instance with another image); upgrade-k8s touches no install image', () => {
    const upgrade = runbookScript(flux.model, 'upgrade');
    // Each fixed node's upgrade: upgrade_node IP NAME IMAGE (its one `talosctl upgrade --nodes "$1" --image "$3"`).
    expect(upgrade.match(/talosctl upgrade --nodes/g)).toHaveLength(1);
    expect(upgrade).toContain('  if out=$(talosctl upgrade --nodes "$1" --image "$3" 2>&1); then\n');
    const images = [...upgrade.matchAll(/upgrade_node (\S+) '[^']+' ([^\s;]+)/g)].map((m) => [m[1], m[2]]);
    expect(images.map(([ip]) => ip)).toStrictEqual(['10.10.1.10', '10.10.1.11', '10.10.1.12']);
    const plain = (parse(flux.files.get('talos/schematics/amd64.yaml')!) as Obj).installerImage;
    for (const [, image] of images) expect(image).toBe(plain);
    expect(upgrade).toContain('refresh_pool gpu\n');
    const k8s = runbookScript(flux.model, 'upgrade-k8s');
    // Through the first control plane that answers (any_cp appends --nodes CP).
    expect(k8s).toContain('etcd_cp talosctl upgrade-k8s --to 1.35.2\n');
    expect(k8s).not.toContain('--image');
  });
});

describe(`${ENV}: etcd restore`, () => {
  it('resets or re-creates the three control planes, then restarts the kubelet of every other member (pool instances included): a worker that joined after the snapshot registers its Node again', () => {
    const s = runbookScript(flux.model, 'restore');
    const touched = [...s.matchAll(/--nodes (\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]);
    expect(new Set(touched)).toStrictEqual(new Set(['10.10.1.10', '10.10.1.11', '10.10.1.12']));
    expect(s).toContain('RECOVER=$(pick_cp cp_preparing $KEPT $CPS)');
    expect(s).toContain('talosctl bootstrap --nodes "$RECOVER" --recover-from "$SNAPSHOT" $SKIP_HASH');
    // The workers are discovery's members, not a list of this file: the pools' instances are whatever runs now.
    expect(s).toContain("members=$(any_cp talosctl get members -o 'jsonpath={.spec.addresses[0]}')");
    expect(s).toContain("case ' 10.10.1.10 10.10.1.11 10.10.1.12 ' in *\" $n \"*) continue ;; esac; talosctl service kubelet restart --nodes \"$n\"");
    expect(s.indexOf('talosctl service kubelet restart')).toBeLessThan(s.indexOf('retry etcd_cp talosctl health'));
  });
});

describe(`${ENV}: who reads which Secret`, () => {
  it('one ClusterSecretStore per namespace, admitting only it, with a role of its own reading exactly that namespace\'s parameters', () => {
    const stores = [...flux.files].filter(([p]) => /^manifests\/external-secrets-store-[^/]+\/clustersecretstore-/.test(p)).map(([, c]) => parse(c) as Obj);
    const byNs = Object.fromEntries(stores.map((s) => [s.spec.conditions[0].namespaces.join(','), s.spec.provider.aws.role]));
    expect(byNs).toStrictEqual(Object.fromEntries(['apps', 'flux-system', 'ml', 'monitoring'].map((ns) => [ns, `arn:aws:iam::111111111111:role/tfp-external-secrets-${ns}`])));
    // Each role reads exactly its namespace's parameters (the base stack's policies).
    const base = flux.files.get('aws/base.yaml')!;
    for (const [ns, names] of [['ml', ['ml/hf-token']], ['apps', ['api/database-url']], ['flux-system', ['flux/git-password', 'flux/git-username']]] as const) {
      const policy = base.slice(base.indexOf(`StoreAwsSsmParameterStore${ns.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}RoleReadPolicy:`));
      const resources = [...policy.slice(0, policy.indexOf('\n  Store', 10) > 0 ? policy.indexOf('\n  Store', 10) : undefined).matchAll(/parameter(\/odp\/talos-flux-pools\/[^\s"']+)/g)].map((m) => m[1]);
      expect(resources, ns).toStrictEqual(names.map((n) => `/odp/talos-flux-pools/${n}`));
    }
    // The Git credentials' ExternalSecret lives in flux-system only.
    const es = [...flux.files].filter(([, c]) => c.includes('kind: ExternalSecret\n') && c.includes('/flux/git-')).map(([, c]) => (parse(c) as Obj).metadata.namespace);
    expect(es).toStrictEqual(['flux-system']);
  });
});
