/**
 * The credentialed controllers (AWS Load Balancer Controller, EBS CSI controller, External Secrets
 * when it assumes store roles) pinned to one place, and what follows from it: IMDS hop limit 2 and
 * their IAM statements only there, hop limit 1 and no controller statement on every other worker
 * pool, the rendered values (nodeSelector, tolerations), the EBS CSI node plugin reading its metadata
 * from the Node, and the access graph's IMDS entries.
 *
 * Upstream facts the rendered values rely on (cited in the catalog entries):
 * - aws-load-balancer-controller chart 3.5.0 values.yaml:78 `nodeSelector`, :80 `tolerations`;
 * - aws-ebs-csi-driver chart 2.64.0 values.yaml:271 `controller.nodeSelector`, :316-321
 *   `controller.tolerations` (defaults kept), :439 `node.metadataSources` → `--metadata-sources`
 *   (templates/_node.tpl:86-87); the `kubernetes` source reads spec.providerID and the instance-type,
 *   region and zone labels (pkg/cloud/metadata/k8s.go:107-210 at 9767d852);
 * - external-secrets chart 2.9.0 values.yaml:439 `nodeSelector`, :441 `tolerations` (the controller's).
 * - IMDSv2 with hop limit 1 answers no pod on the pod network (research/day2.md §15a).
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { awsPlan, type AwsPlan } from '../generators/infra/aws/plan.js';
import { controllersHost } from '../generators/catalog/placement.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { accessGraph } from '../generators/validate/access.js';
import { exampleSources, fixtureSources, formatted } from './helpers.js';

const CP = 'node-role.kubernetes.io/control-plane';
const CP_TOLERATION = { key: CP, operator: 'Exists', effect: 'NoSchedule' };
const EBS_DEFAULT_TOLERATIONS = [
  { key: 'CriticalAddonsOnly', operator: 'Exists' },
  { effect: 'NoExecute', operator: 'Exists', tolerationSeconds: 300 },
];
const LBC = ['load-balancer-controller', 'ebs-csi'];

function build(name: string, sources: Map<string, string>) {
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  const files = renderEnvironment(r.prepared);
  const values = (addon: string): Record<string, any> => parse(files.find((f) => f.path === `values/${addon}.yaml`)?.content ?? 'null') ?? {};
  const plan = awsPlan(r.prepared.model, r.prepared.model.aws.images);
  const graph = accessGraph(r.prepared.resolved, r.prepared.model);
  const readme = files.find((f) => f.path === 'README.md')!.content;
  return { model: r.prepared.model, plan, values, graph, readme, diagnostics: formatted(r) };
}

/** A fixture environment: `valid/<file>` with `patch` applied to its text. */
function fixture(file: string, patch: (text: string) => string = (t) => t) {
  const { name, sources } = fixtureSources('valid', file);
  sources.set(`environments/${name}.yaml`, patch(sources.get(`environments/${name}.yaml`)!));
  return build(name, sources);
}

/** An example environment with `patch` applied to its text. */
function example(name: string, patch: (text: string) => string = (t) => t) {
  const sources = exampleSources();
  sources.set(`environments/${name}.yaml`, patch(sources.get(`environments/${name}.yaml`)!));
  return build(name, sources);
}

const pools = (plan: AwsPlan) => plan.pools.map((p) => [p.pool.name, p.hopLimit, p.role]);
const grantsOf = (plan: AwsPlan, kind: string) => plan.roles.find((r) => r.kind === kind)?.grants.map((g) => g.id) ?? [];
const imdsEntries = (g: ReturnType<typeof build>['graph']) =>
  g.entries.filter((e) => e.route === 'imds').map((e) => `${e.position.join('.')} ${e.reader.kind === 'namespace' ? e.reader.namespace : e.reader.kind}`);

describe('Talos: the control planes host the AWS controllers (always tainted, their role reads no boot secret)', () => {
  const prod = example('prod');

  it('hop limit 2 on the control planes only; the controllers statements on the control-plane role, none on the worker or GPU roles', () => {
    expect(controllersHost(prod.model)).toStrictEqual({ kind: 'controlplane' });
    expect(pools(prod.plan)).toStrictEqual([
      ['control-plane', 2, 'controlplane'],
      ['general-amd64', 1, 'worker'],
      ['general-arm64', 1, 'worker'],
      ['gpu', 1, 'gpu'],
    ]);
    expect(grantsOf(prod.plan, 'controlplane')).toEqual(expect.arrayContaining([...LBC, 'external-secrets']));
    for (const k of ['worker', 'gpu']) expect(grantsOf(prod.plan, k).filter((g) => [...LBC, 'external-secrets'].includes(g))).toStrictEqual([]);
    // The store role is assumed from where External Secrets runs.
    expect(prod.plan.storeRoles.map((r) => r.from)).toStrictEqual(prod.plan.storeRoles.map(() => ['controlplane']));
  });

  it('values: nodeSelector on the control-plane label (Talos value ""), the control-plane toleration; EBS keeps its default tolerations', () => {
    const sel = { [CP]: '' };
    expect(prod.values('aws-load-balancer-controller')).toMatchObject({ nodeSelector: sel, tolerations: [CP_TOLERATION] });
    expect(prod.values('aws-ebs-csi-driver').controller).toMatchObject({ nodeSelector: sel, tolerations: [...EBS_DEFAULT_TOLERATIONS, CP_TOLERATION] });
    expect(prod.values('external-secrets')).toMatchObject({ nodeSelector: sel, tolerations: [CP_TOLERATION] });
    // webhook and cert controller need no AWS credentials: not pinned.
    expect(prod.values('external-secrets').webhook?.nodeSelector).toBeUndefined();
  });

  it('the EBS CSI node plugin reads its metadata from the Node on every pool (no IMDS from the pod network)', () => {
    expect(prod.values('aws-ebs-csi-driver').node).toStrictEqual({ tolerateAllTaints: true, metadataSources: 'kubernetes' });
  });

  it('access graph: IMDS readers only on the control planes, the namespaces pinned there', () => {
    const entries = imdsEntries(prod.graph);
    expect(entries.every((e) => e.startsWith('nodePools.0 '))).toBe(true);
    expect(entries).toEqual(expect.arrayContaining(['nodePools.0 kube-system', 'nodePools.0 external-secrets']));
    expect(entries).not.toContain('nodePools.0 monitoring');
  });

  it('README: the hop limit table and why, with the pinned place', () => {
    expect(prod.readme).toMatch(/\| general-amd64 \(pool\) \|.*\| `odp-prod-worker` \| 1 \|/);
    expect(prod.readme).toContain('- pool general-amd64: hop limit 1: nothing on the pod network needs the node credentials: the AWS controllers run on the control planes.');
    expect(prod.readme).toContain('are pinned by nodeSelector and tolerations to one place, the control planes');
    expect(prod.readme).toContain('`node.metadataSources: kubernetes`');
  });
});

describe('aws.iam.mode irsa: External Secrets with web identity needs no node credentials; the other two stay pinned', () => {
  it('valid/eso-irsa.yaml: External Secrets unpinned and without a node grant, LBC and EBS on the control planes', () => {
    const e = fixture('eso-irsa.yaml');
    expect(e.model.aws.iam.mode).toBe('irsa');
    expect(e.values('external-secrets').nodeSelector).toBeUndefined();
    expect(e.values('aws-load-balancer-controller').nodeSelector).toStrictEqual({ [CP]: '' });
    expect(grantsOf(e.plan, 'controlplane')).toEqual(expect.arrayContaining(LBC));
    expect(e.plan.roles.flatMap((r) => r.grants.map((g) => g.id))).not.toContain('external-secrets');
    expect(e.plan.pools.filter((p) => p.group === 'worker').map((p) => p.hopLimit)).toStrictEqual([1]);
  });
});

describe('K3s and RKE2: the servers read the tokens (and a Kine password) at boot', () => {
  it('staging-k3s names general-amd64: only it has hop limit 2 and a role with the controllers statements; values select its labels', () => {
    const k3s = example('staging-k3s');
    expect(pools(k3s.plan)).toStrictEqual([
      ['server', 1, 'controlplane'],
      ['general-amd64', 2, 'controllers'],
      ['general-arm64', 1, 'worker'],
      ['gpu', 1, 'gpu'],
    ]);
    expect(grantsOf(k3s.plan, 'controllers')).toStrictEqual(['boot-secrets', 'pool-join', ...LBC, 'node-termination-handler', 'external-secrets']);
    expect(grantsOf(k3s.plan, 'worker')).toStrictEqual(['boot-secrets', 'pool-join']);
    expect(grantsOf(k3s.plan, 'controlplane')).not.toContain('ebs-csi');
    const sel = { 'node.opendev.dev/pool': 'general-amd64' };
    expect(k3s.values('aws-load-balancer-controller')).toMatchObject({ nodeSelector: sel, tolerations: [] });
    expect(k3s.values('aws-ebs-csi-driver').controller).toMatchObject({ nodeSelector: sel, tolerations: EBS_DEFAULT_TOLERATIONS });
    expect(k3s.values('external-secrets')).toMatchObject({ nodeSelector: sel });
    expect(imdsEntries(k3s.graph).every((e) => e.startsWith('nodePools.1 '))).toBe(true);
    expect(k3s.readme).toContain('- pool general-arm64: hop limit 1: nothing on the pod network needs the node credentials: the AWS controllers run on pool general-amd64 (aws.iam.controllersPool).');
  });

  it('without a named pool the controllers stay unpinned on untainted workers: pinning them to the servers would expose the server token', () => {
    const k3s = example('staging-k3s', (t) => t.replace(/\n  iam: \{ controllersPool: general-amd64 \}/, ''));
    expect(controllersHost(k3s.model).kind).toBe('unpinned');
    expect(pools(k3s.plan)).toStrictEqual([
      ['server', 1, 'controlplane'],
      ['general-amd64', 2, 'worker'],
      ['general-arm64', 2, 'worker'],
      ['gpu', 1, 'gpu'],
    ]);
    expect(k3s.values('aws-load-balancer-controller').nodeSelector).toBeUndefined();
    expect(k3s.values('aws-ebs-csi-driver').controller.nodeSelector).toBeUndefined();
    // The node plugin still reads the Node, on every pool.
    expect(k3s.values('aws-ebs-csi-driver').node.metadataSources).toBe('kubernetes');
    expect(k3s.readme).toContain('are not pinned: the control planes\' role holds boot secrets');
    // The agent token is reachable from both untainted pools again: a warning each, with the key that fixes it.
    const warning = k3s.diagnostics.find((l) => l.includes('pod network of pool general-arm64 (IMDS hop limit 2)'));
    expect(warning).toMatch(/^environments\/staging-k3s\.yaml:\d+:\d+  nodePools\[2\]: warning: \/odp\/staging-k3s\/k3s\/agent-token .*name one worker pool for them in aws\.iam\.controllersPool/);
  });

  it('RKE2 (valid/rke2-etcd.yaml) with a dedicated tainted pool: tolerations of exactly its taints, its own role, hop limit 1 elsewhere', () => {
    const rke2 = fixture('rke2-etcd.yaml', (t) =>
      t.replace(
        /\nnodePools:\n/,
        `\naws:\n  iam: { controllersPool: system }\nnodePools:\n  - name: system\n    role: worker\n    arch: arm64\n    instanceType: m7g.medium\n    subnet: private-a\n    count: 2\n    labels: { node.opendev.dev/pool: system }\n    taints:\n      - { key: node.opendev.dev/controllers, effect: NoSchedule }\n      - { key: dedicated, value: aws, effect: NoExecute }\n`,
      ),
    );
    expect(pools(rke2.plan)).toStrictEqual([
      ['system', 2, 'controllers'],
      ['cp', 1, 'controlplane'],
      ['workers', 1, 'worker'],
      ['gpu', 1, 'gpu'],
    ]);
    const tolerations = [
      { key: 'node.opendev.dev/controllers', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'dedicated', operator: 'Equal', value: 'aws', effect: 'NoExecute' },
    ];
    expect(rke2.values('aws-load-balancer-controller')).toMatchObject({ nodeSelector: { 'node.opendev.dev/pool': 'system' }, tolerations });
    expect(rke2.values('aws-ebs-csi-driver').controller.tolerations).toStrictEqual([...EBS_DEFAULT_TOLERATIONS, ...tolerations]);
    // A tainted controllers pool: only the pinned add-ons' namespaces reach IMDS there.
    const entries = imdsEntries(rke2.graph);
    expect(entries.every((e) => e.startsWith('nodePools.0 '))).toBe(true);
    expect(entries.map((e) => e.split(' ')[1]).sort()).toStrictEqual(['external-secrets', 'kube-system']);
  });

  it('a named pool that is the only pool of its kind takes the controllers statements on its own role (no new role, no export removed)', () => {
    const k3s = fixture('k3s-postgres.yaml', (t) => `${t}\naws:\n  iam: { controllersPool: workers }\n`.replace(/(  - name: workers\n(?:    .*\n)*?    count: \d+\n)/, '$1    labels: { node.opendev.dev/pool: workers }\n'));
    const workers = k3s.plan.pools.filter((p) => p.group === 'worker');
    expect(workers.map((p) => [p.pool.name, p.hopLimit, p.role])).toContainEqual(['workers', 2, 'worker']);
    expect(k3s.plan.roles.map((r) => r.kind)).not.toContain('controllers');
    expect(grantsOf(k3s.plan, 'worker')).toEqual(expect.arrayContaining(LBC));
  });

  it('servers without workers take every pod (no control-plane taint): the controllers run there with hop limit 2, nothing else exists', () => {
    // RKE2 (and K3s) taint servers only when worker pools exist (distributions/rancher/config.ts nodeTaints).
    const rke2 = fixture('rke2-etcd.yaml', (t) => t.replace(/\n  - name: workers\n[\s\S]*$/, '\n'));
    expect(rke2.model.pools.every((p) => p.role === 'controlplane')).toBe(true);
    expect(controllersHost(rke2.model)).toStrictEqual({ kind: 'controlplane' });
    expect(pools(rke2.plan)).toStrictEqual([['cp', 2, 'controlplane']]);
    expect(rke2.values('aws-load-balancer-controller').nodeSelector).toStrictEqual({ [CP]: 'true' });
    // Every add-on shares the servers' pod network, but Canal enforces the IMDS denial of every add-on namespace
    // that does not need the node's credentials (catalog/network-policies.ts): only those that do read the tokens
    // (warnings: nowhere else to run them).
    expect(imdsEntries(rke2.graph)).toStrictEqual(['nodePools.0 external-secrets', 'nodePools.0 kube-system']);
    // A Kine password on such servers stays refused (datastore passwords are never a warning).
    const k3s = prepareEnvironment('k3s-postgres', (() => {
      const { sources } = fixtureSources('valid', 'k3s-postgres.yaml');
      sources.set('environments/k3s-postgres.yaml', sources.get('environments/k3s-postgres.yaml')!.replace(/\n  - name: workers\n(?:    .*\n)*/, '\n'));
      return sources;
    })());
    expect(formatted(k3s).find((l) => l.includes('/odp/fixture/kine/password') && !l.includes(': warning: '))).toMatch(/pod network of pool cp \(IMDS hop limit 2\)/);
  });
});

describe('rule addon-controllers-placement: the environment cannot move a credentialed controller by its values', () => {
  const errors = (file: string, patch: (t: string) => string) => {
    const { name, sources } = fixtureSources('valid', file);
    sources.set(`environments/${name}.yaml`, patch(sources.get(`environments/${name}.yaml`)!));
    return formatted(prepareEnvironment(name, sources)).filter((l) => l.includes('values.nodeSelector') && !l.includes(': warning: '));
  };
  const esoSelector = (t: string) =>
    t.includes('  external-secrets:\n') ? t.replace('  external-secrets:\n', '  external-secrets:\n    values: { nodeSelector: { kubernetes.io/os: linux } }\n') : `${t}\naddons:\n  external-secrets:\n    values: { nodeSelector: { kubernetes.io/os: linux } }\n`;

  it('External Secrets assuming a store role with node credentials: refused at the key', () => {
    expect(errors('minimal.yaml', esoSelector)).toStrictEqual([
      "environments/minimal.yaml:7:29  addons.external-secrets.values.nodeSelector: external-secrets calls AWS with the node's credentials: its nodeSelector is set by the generator, to the one place with IMDS hop limit 2 and its permissions  (remove it here; to move the AWS controllers to a worker pool, set aws.iam.controllersPool (docs/concepts/hardening.md))",
    ]);
  });

  it('External Secrets with its own role (irsa, iamRoleArn): its placement is free', () => {
    expect(errors('eso-irsa.yaml', esoSelector)).toStrictEqual([]);
  });
});
