/**
 * audit17: the valid fixture talos-audit17 (Talos under Flux, three control planes on etcd with snapshots to S3, an x86
 * pool holding the AWS controllers, a Graviton pool, a tainted NVIDIA pool, an internet-facing ingress, Secrets from
 * SSM through External Secrets, a GPU StatefulSet with a volume, kube-prometheus-stack values, the second promotion
 * stage after talos-audit17-dev), written from the README and docs/ as a newcomer would, and the mistakes such a
 * newcomer makes in it, one at a time: each is refused at its file:line:col before anything is written, with one
 * error (no second error about the same slip), the value, what was expected and a hint.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { motionOf } from '../generators/validate/motion/index.js';
import { simulate } from '../generators/validate/motion/simulate.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, renderValidFixture } from './helpers.js';
import { expectFixturePrepares, expectMistakeRefused } from './support/mistakes.js';

const FILE = 'environments/talos-audit17.yaml';

describe('talos-audit17: a newcomer\'s mistakes, one at a time, are refused at their line before anything is written', () => {
  it('the environment as written validates (warnings only) and prepares', () => expectFixturePrepares('talos-audit17.yaml'));

  it('renders its Flux units, its node configs and its AWS stacks', () => {
    const files = renderValidFixture('talos-audit17.yaml');
    for (const f of ['flux/kustomizations/storefront.yaml', 'flux/kustomizations/infer.yaml', 'talos/gpu.yaml', 'talos/graviton.yaml', 'aws/nodes.yaml'])
      expect(files.has(f), f).toBe(true);
  });

  it.each([
    ['a typo in a workload key', '    placement: { arch: arm64 }', '    placment: { arch: arm64 }', [
      `${FILE}:83:5  workloads[0].placment: unknown key 'placment'; expected one of: name, namespace, kind, image,`,
    ]],
    ['a Graviton type on the x86 pool that holds the AWS controllers', '    instanceType: m7i.xlarge\n    subnet: private-a', '    instanceType: m7g.xlarge\n    subnet: private-a', [
      `${FILE}:51:11  nodePools[1].arch: amd64 does not match instance type m7g.xlarge, which is arm64  (m7g.xlarge is a Graviton (arm64) type; set arch: arm64)`,
    ]],
    ['the GPU pool on a type without a GPU', 'instanceType: g6.xlarge', 'instanceType: m7i.xlarge', [
      `${FILE}:66:19  nodePools[3].instanceType: GPU pool 'gpu' uses m7i.xlarge, which has no NVIDIA GPU  (NVIDIA GPU families:`,
    ]],
    ['a password pasted into a workload variable', 'DB_PASSWORD: { secret: /odp/talos-audit17/storefront/db-password }', 'DB_PASSWORD: Sup3rS3cretPassw0rd!', [
      `${FILE}:90:20  workloads[0].env.DB_PASSWORD: env DB_PASSWORD looks like a secret written in plain: env values are rendered into the Deployment, in git  (store it as an SSM SecureString`,
    ]],
    ['the device plugin switched off beside a GPU pool and a GPU workload', 'addons:\n', 'addons:\n  nvidia-device-plugin: { enabled: false }\n', [
      `${FILE}:74:36  addons.nvidia-device-plugin.enabled: nvidia-device-plugin cannot be disabled: workload infer (placement.gpu: its pods request nvidia.com/gpu, which only the device plugin advertises on the GPU nodes; without it they stay Pending) needs it  (remove enabled: false`,
    ]],
    ['a Talos release that does not exist', 'talosVersion: v1.13.9', 'talosVersion: v1.13.99', [
      `${FILE}:29:17  cluster.talosVersion: Talos v1.13.99 is not a release this generator lists (the newest listed v1.13 release is v1.13.9)  (did you mean v1.13.9?`,
    ]],
    ['a Kubernetes the Talos release does not run', 'kubernetesVersion: 1.35.2', 'kubernetesVersion: 1.37.0', [
      `${FILE}:30:22  cluster.kubernetesVersion: Kubernetes 1.37.0 is not supported by Talos v1.13.9  (Talos 1.13 supports Kubernetes 1.31 to 1.36)`,
    ]],
    ['two ports of the workload on one number', '{ name: metrics, port: 9090 }', '{ name: metrics, port: 8080 }', [
      `${FILE}:86:32  workloads[0].ports[1].port: port 8080/TCP is declared twice (as 'http' and 'metrics')  (Kubernetes refuses a Service with two ports of one number and protocol`,
    ]],
    ['a pool size written as a word', '    count: 2\n    labels: { node.opendev.dev/pool: graviton }', '    count: two\n    labels: { node.opendev.dev/pool: graviton }', [
      `${FILE}:61:12  nodePools[2].count: expected integer, got 'two'  (write it in digits: count: 2`,
    ]],
    ['the age identity (private key) where the recipient belongs', 'ageRecipientPublicKey: age10y9', 'ageRecipientPublicKey: AGE-SECRET-KEY-10y9', [
      `${FILE}:38:30  cluster.datastore.backup.ageRecipientPublicKey: 'AGE-SECRET-KEY-10y9etcu38q2a7qlxu5cy9qvnjkns3np0pnxr5rwl770encdxq3rqlzmv6k' is not an age X25519 public key`,
    ]],
    ['the Graviton pool in a public subnet', '    subnet: private-b\n', '    subnet: public-b\n', [
      `${FILE}:60:13  nodePools[2].subnet: pool 'graviton' is placed in public subnet 'public-b'; nodes run in private subnets only`,
    ]],
    ['the certificate of another region', 'arn:aws:acm:eu-west-1:', 'arn:aws:acm:us-east-1:', [
      `${FILE}:98:23  workloads[0].ingress.certificateArn: ACM certificate arn:aws:acm:us-east-1:111111111111:certificate/0a170000-0000-4000-8000-000000000001 cannot be used here: it is in region us-east-1`,
    ]],
    ['a soak written in words', 'soak: 48h', 'soak: 2 days', [
      `${FILE}:12:9  promotion.soak: '2 days' is not of the form ^[1-9][0-9]*(m|h|d)$`,
    ]],
    ['a promotion source that does not exist', 'from: talos-audit17-dev', 'from: talos-audit17-dve', [
      `${FILE}:11:9  promotion.from: no environment talos-audit17-dve  (one of talos-audit17-dev)`,
    ]],
    // Fixed by audit17: Ajv's "must NOT be valid" / "must match exactly one schema in oneOf" and a required key of the
    // other form were three errors for one slip.
    ['a freeze window with a schedule and a date', '{ schedule: "0 16 * * 5", duration: 64h, reason', '{ schedule: "0 16 * * 5", duration: 64h, start: 2026-12-21, reason', [
      `${FILE}:14:7  promotion.freeze[0]: has schedule, duration and start: it takes exactly one of the forms schedule and duration, or start and end  (keep the keys of one form and remove the others)`,
    ]],
    // Fixed by audit17: accepted (no pool, no error) while the pods could land nowhere.
    ['the only arm64 pool scaled to zero under an arm64 workload', '    count: 2\n    labels: { node.opendev.dev/pool: graviton }', '    count: 0\n    labels: { node.opendev.dev/pool: graviton }', [
      `${FILE}:83:16  workloads[0].placement: workload 'storefront' can land on no node: graviton (nodePools[2].count: 0) has no nodes, and no other pool matches its placement`,
    ]],
    // Fixed by audit17: accepted, a claim of 50 bytes (EBS gives 1 GiB).
    ['a volume size without its unit', 'size: 50Gi', 'size: 50', [
      `${FILE}:116:51  workloads[1].volumes[0].size: volume models asks for 50, which is 50 bytes: under 1 GiB, the smallest EBS volume (gp3)  (add the unit: size: 50Gi`,
    ]],
    // Fixed by audit17: accepted (only the image of the pool changed): a Graviton pool with a driver and no GPU.
    ['the NVIDIA driver extension on the Graviton pool', '    labels: { node.opendev.dev/pool: graviton }', '    labels: { node.opendev.dev/pool: graviton }\n    talos: { extensions: [siderolabs/nvidia-open-gpu-kernel-modules-lts] }', [
      `${FILE}:63:27  nodePools[2].talos.extensions[0]: pool 'graviton' lists siderolabs/nvidia-open-gpu-kernel-modules-lts but has no gpu`,
    ]],
    // Fixed by audit17: accepted, two driver tiers in the GPU pool's image.
    ['the production driver added by hand to the GPU pool', '    gpu: { vendor: nvidia }\n', '    gpu: { vendor: nvidia }\n    talos: { extensions: [siderolabs/nvidia-open-gpu-kernel-modules-production] }\n', [
      `${FILE}:70:27  nodePools[3].talos.extensions[0]: siderolabs/nvidia-open-gpu-kernel-modules-production beside the lts driver the generator gives GPU pool 'gpu' (cluster.talos.nvidiaDriver: lts) would put two NVIDIA drivers into one image  (remove it; to change the driver of every GPU pool set cluster.talos.nvidiaDriver`,
    ]],
    // Fixed by audit17: a second error said the ALB had public subnets in one zone only, listing public-a as private.
    ['a YAML 1.1 boolean on a public subnet', 'public: true }\n      - { name: public-b', 'public: yes }\n      - { name: public-b', [
      `${FILE}:24:105  aws.vpc.subnets[3].public: expected boolean, got 'yes'  (write public: true`,
    ]],
    // Fixed by audit17: a second error counted the GPUs of every replica and spoke of a Deployment's surge.
    ['more GPUs per pod than a GPU node has', 'placement: { arch: amd64, gpu: 1 }', 'placement: { arch: amd64, gpu: 2 }', [
      `${FILE}:107:36  workloads[1].placement.gpu: 2 GPUs per pod, but GPU nodes here have at most 1 (pool gpu: g6.xlarge, 1 GPU), and a pod cannot span nodes  (set placement.gpu: 1, or move pool gpu to g6.12xlarge (4 L4 GPUs, instance table))`,
    ]],
  ])('%s', (_what, from, to, expected) => expectMistakeRefused('talos-audit17.yaml', from, to, expected));
});

/**
 * The first sync as kustomize-controller runs it: a Kustomization is applied only when each dependsOn is Ready at the
 * current source revision (fluxcd/kustomize-controller internal/controller/kustomization_controller.go
 * checkDependencies: exists, observedGeneration current, Ready=True, lastAppliedRevision = the source's), and with
 * wait: true it is Ready only once everything it applied is healthy (kstatus). Cilium and the AWS CCM come before
 * Flux, from the bootstrap (helm --wait), so no unit waits on them; the rest is ordered by dependsOn alone.
 */
describe('talos-audit17: the first sync under Flux', () => {
  const ENV = 'talos-audit17';
  const { sources } = fixtureSources('valid', `${ENV}.yaml`);
  const prepared = prepareEnvironment(ENV, sources).prepared!;
  const files = new Map(renderEnvironment(prepared).map((f) => [f.path, f.content]));
  const deps = new Map([...files].filter(([p]) => p.startsWith('flux/kustomizations/')).map(([, c]) => {
    const k = parse(c) as { metadata: { name: string }; spec: { dependsOn?: { name: string }[]; wait?: boolean } };
    return [k.metadata.name, (k.spec.dependsOn ?? []).map((d) => d.name)] as const;
  }));
  const before = (unit: string): Set<string> => {
    const seen = new Set<string>();
    const walk = (u: string): void => { for (const d of deps.get(u) ?? []) if (!seen.has(d)) { seen.add(d); walk(d); } };
    walk(unit);
    return seen;
  };

  it('every dependsOn names a unit of the tree, and none waits on itself (no cycle: no unit stays DependencyNotReady)', () => {
    for (const [u, ds] of deps) {
      for (const d of ds) expect(deps.has(d), `${u} -> ${d}`).toBe(true);
      expect(before(u).has(u), u).toBe(false);
    }
    expect(deps.has('cilium') && deps.get('cilium')!.length === 0 && deps.get('aws-cloud-controller-manager')!.length === 0).toBe(true);
  });

  it('each custom resource, StorageClass, RuntimeClass and Secret store comes after the unit providing it', () => {
    // storefront: ServiceMonitor (kube-prometheus-stack's CRD), ExternalSecret (external-secrets' CRD) read through its
    // namespace's ClusterSecretStore, Ingress of class alb (the controller's webhook), its tenant ServiceAccount.
    expect([...before('storefront')]).toEqual(expect.arrayContaining(['kube-prometheus-stack', 'external-secrets', 'external-secrets-store-shop', 'aws-load-balancer-controller', 'namespace-shop']));
    // infer: nvidia.com/gpu from the device plugin, RuntimeClass nvidia, the gp3 StorageClass of its volume, its store.
    expect([...before('infer')]).toEqual(expect.arrayContaining(['nvidia-device-plugin', 'nvidia-device-plugin-prerequisites', 'aws-ebs-csi-driver-manifests', 'external-secrets-store-ml', 'namespace-ml']));
    for (const ns of ['shop', 'ml', 'monitoring', 'flux-system']) expect([...before(`external-secrets-store-${ns}`)], ns).toContain('external-secrets');
    expect([...before('flux-sync-alerts')]).toContain('kube-prometheus-stack');
    expect([...before('kube-prometheus-stack')]).toEqual(expect.arrayContaining(['kube-prometheus-stack-prerequisites', 'aws-ebs-csi-driver-manifests']));
  });

  it('simulated, every unit becomes Ready with no motion error, also with the GPU pool joining an hour late', () => {
    const report = motionOf(parseRenderedTree(new Map([...files].map(([p, c]) => [`${ENV}/${p}`, c]))), ENV, prepared.model)!;
    expect(report.findings.filter((d) => d.severity === 'error')).toStrictEqual([]);
    expect(report.nodes.map((n) => n.name)).toContain('gpu');
    for (const late of [[], ['gpu']]) {
      const s = simulate(report.units, report.base, report.nodes.filter((n) => !late.includes(n.name)), new Set(), report.nodes.filter((n) => late.includes(n.name)));
      expect([...s.failures], late.join()).toStrictEqual([]);
      expect([...s.state].filter(([, st]) => st !== 'ready'), late.join()).toStrictEqual([]);
    }
  });

  it('each namespace\'s store reads exactly its own workload\'s parameters', () => {
    const base = files.get('aws/base.yaml')!;
    const read = (store: string): string[] => {
      const from = base.indexOf(`${store}RoleReadPolicy:`);
      return [...base.slice(from, base.indexOf('\n  Store', from + 1) === -1 ? undefined : base.indexOf('\n  Store', from + 1)).matchAll(/parameter(\/odp\/[^\s"']+)/g)].map((m) => m[1]!);
    };
    expect(read('StoreAwsSsmParameterStoreShop')).toStrictEqual(['/odp/talos-audit17/storefront/db-password']);
    expect(read('StoreAwsSsmParameterStoreMl')).toStrictEqual(['/odp/talos-audit17/infer/hf-token']);
  });
});
