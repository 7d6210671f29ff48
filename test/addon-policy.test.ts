/**
 * Add-on policies decided per catalog entry as data: deletion (onDelete), determinism of the
 * rendered Helm values, extra namespaces of third-party charts. Fixture environments only.
 */
import { describe, expect, it } from 'vitest';
import { determinismRules, determinismViolations } from '../generators/catalog/determinism.js';
import { catalogEntries, catalogEntry, catalogNames } from '../generators/catalog/index.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { typesFromValues } from '../generators/values/derive-keys.js';
import { wrongTypes, type ValueType } from '../generators/values/keys.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; finalizers?: string[] }; spec?: Record<string, any> };

/** Sources of an environment written next to the fixtures (extends _fixture). */
export function inlineSources(name: string, body: string): Map<string, string> {
  const { sources } = fixtureSources('valid', 'minimal.yaml');
  sources.set(`environments/${name}.yaml`, `# yaml-language-server: $schema=../schemas/environment.schema.json\nname: ${name}\nextends: _fixture\n${body}`);
  sources.set(`environments/${name}.ssm.lock.json`, sources.get('environments/_fixture.ssm.lock.json')!);
  return sources;
}

export function renderInline(name: string, body: string): Map<string, string> {
  const r = prepareEnvironment(name, inlineSources(name, body));
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return new Map(renderEnvironment(r.prepared).map((f) => [f.path, f.content]));
}

const objectsOf = (files: Map<string, string>, prefix: string): Obj[] =>
  [...files].filter(([p]) => p.startsWith(prefix) && p.endsWith('.yaml')).flatMap(([, c]) => parseYamlStream(c) as Obj[]);

/** Every catalog add-on on: Cilium, a GPU pool, an etcd backup. */
const ALL_ADDONS = `cluster:
  datastore: { type: etcd, backup: { bucket: snapshots, ageRecipientPublicKey: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p } }
  network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, cni: cilium }
nodePools:
  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1 }
  - { name: gpu, role: worker, arch: amd64, instanceType: g5.xlarge, subnet: private-a, count: 1, gpu: { vendor: nvidia } }
addons:
  reloader:
    chart: { repoURL: https://stakater.github.io/stakater-charts, name: reloader, version: 2.2.7 }
    namespace: reloader
`;

describe('deleting an add-on Application (catalog onDelete)', () => {
  const files = renderInline('all-addons', ALL_ADDONS);
  const apps = new Map(objectsOf(files, 'apps/').map((a) => [a.metadata.name, a]));
  // The K3s/RKE2 family's upgrade add-ons run only there: rendered from an RKE2 environment.
  const RANCHER_ONLY = ['system-upgrade-controller', 'system-upgrade-plans'];
  // The Litestream alerts exist only on Kine + SQLite: rendered from such an environment.
  const sqlite = renderInline('all-addons-sqlite', 'cluster:\n  distribution: k3s\n  talosVersion: null\n  k3sVersion: v1.35.2+k3s1\n  datastore: { type: kine-sqlite, litestream: { bucket: odp-fixture-litestream } }\nnodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n');
  for (const a of objectsOf(sqlite, 'apps/')) if (a.metadata.name === 'litestream-alerts') apps.set(a.metadata.name, a);
  const rke2 = renderInline('all-addons-rke2', 'cluster:\n  distribution: rke2\n  talosVersion: null\n  rke2Version: v1.35.7+rke2r1\n  kubernetesVersion: 1.35.7\n  datastore: { type: etcd }\nnodePools:\n  - { name: cp, role: controlplane, arch: amd64, instanceType: m7i.large, subnet: private-a, nodes: [{ name: cp-1, ip: 10.10.1.10 }] }\n');
  for (const a of objectsOf(rke2, 'apps/')) if (RANCHER_ONLY.includes(a.metadata.name)) apps.set(a.metadata.name, a);

  /** Every catalog add-on but the other engine's (flux-operator is refused next to Argo CD: addon-engine). */
  const ARGO_ADDONS = catalogNames().filter((n) => n !== 'flux-operator');

  it('every catalog add-on of an Argo CD environment is rendered in the all-add-ons fixture', () => {
    expect(ARGO_ADDONS.filter((n) => !apps.has(n))).toStrictEqual([]);
  });

  /** The decision per entry: the cluster's plumbing is never deleted with its Application. */
  const EXPECTED: Record<string, 'cascade' | 'orphan'> = {
    'argo-cd': 'orphan',
    'aws-cloud-controller-manager': 'orphan',
    'aws-ebs-csi-driver': 'orphan',
    'aws-load-balancer-controller': 'orphan',
    // Terminations then wait for the TERMINATING hook's timeout and go on undrained, as before it was added.
    'aws-node-termination-handler': 'cascade',
    'cert-manager': 'orphan',
    cilium: 'orphan',
    'etcd-backup': 'cascade',
    'external-secrets': 'orphan',
    'flux-operator': 'orphan',
    'kube-prometheus-stack': 'orphan',
    'kubelet-csr-approver': 'orphan',
    'metrics-server': 'cascade',
    'nvidia-device-plugin': 'cascade',
    // The controller and its Plans: nodes keep the release they run; the Plan CRD (the controller's) stays.
    'system-upgrade-controller': 'cascade',
    'system-upgrade-plans': 'cascade',
    // Only the scrape and the alerts go; Litestream keeps replicating.
    'litestream-alerts': 'cascade',
  };

  it('flux-operator, the other GitOps engine, is never deleted with its delivery either', () => {
    expect(catalogEntry('flux-operator').onDelete).toBe('orphan');
  });

  it.each(ARGO_ADDONS)('%s: catalog decision and the Application finalizer agree', (name) => {
    expect(catalogEntry(name).onDelete).toBe(EXPECTED[name]);
    expect(apps.get(name)!.metadata.finalizers).toStrictEqual(EXPECTED[name] === 'cascade' ? ['resources-finalizer.argocd.argoproj.io'] : undefined);
  });

  it('third-party charts and workloads cascade; the root Application does not', () => {
    expect(apps.get('reloader')!.metadata.finalizers).toStrictEqual(['resources-finalizer.argocd.argoproj.io']);
    const root = objectsOf(files, 'argocd/application-root.yaml')[0]!;
    // The root carries none: deleting it must not cascade to every Application (issue 19).
    expect(root.metadata.finalizers).toBeUndefined();
  });
});

describe('addons.<name>.extraNamespaces', () => {
  const body = (extra: string) => `addons:
  reloader:
    chart: { repoURL: https://stakater.github.io/stakater-charts, name: reloader, version: 2.2.7 }
    namespace: reloader
    extraNamespaces: ${extra}
`;
  const destinations = (files: Map<string, string>, project: string): string[] =>
    objectsOf(files, `argocd/appproject-${project}.yaml`)[0]!.spec!.destinations.map((d: { namespace: string }) => d.namespace);

  it('adds existing namespaces to the third-party project, not to the platform project', () => {
    const files = renderInline('extra-ns', body('[kube-system, monitoring]'));
    expect(destinations(files, 'third-party')).toStrictEqual(['kube-system', 'monitoring', 'reloader']);
    expect(destinations(files, 'platform')).not.toContain('reloader');
  });

  it('without extraNamespaces the project holds the chart namespace only', () => {
    expect(destinations(renderInline('no-extra-ns', body('[]')), 'third-party')).toStrictEqual(['reloader']);
  });

  const errors = (name: string, b: string): string[] =>
    formatted(prepareEnvironment(name, inlineSources(name, b))).filter((l) => !l.includes(': warning: '));

  it('refuses its own namespace, and accepts a namespace the chart creates itself', () => {
    expect(errors('own-ns', body('[reloader]'))).toStrictEqual([
      "environments/own-ns.yaml:8:23  addons.reloader.extraNamespaces[0]: 'reloader' is already reloader's own namespace  (remove it from extraNamespaces)",
    ]);
    expect(errors('creates-ns', `${body('[reloader-jobs]')}    clusterResources: [/Namespace]\n`)).toStrictEqual([]);
  });

  it('refuses an overridden Argo CD namespace', () => {
    expect(errors('argo-ns', `${body('[gitops]')}  argo-cd: { namespace: gitops }\n`)).toStrictEqual([
      expect.stringMatching(/^environments\/argo-ns\.yaml:8:23  addons\.reloader\.extraNamespaces\[0\]: reloader may not write to Argo CD's namespace 'gitops'/),
    ]);
  });
});

describe('deterministic chart rendering (catalog/determinism.ts)', () => {
  it('every row is audited at the version the catalog pins (a pin bump needs a new audit)', () => {
    for (const r of determinismRules()) {
      const entry = catalogEntries().find((e) => e.chart?.name === r.chart);
      expect(entry?.chart?.version, `${r.chart}: ${r.template}`).toBe(r.version);
    }
  });

  it('the catalog values of every add-on keep every row satisfied (all add-ons on)', () => {
    const files = renderInline('determinism', ALL_ADDONS);
    const found: string[] = [];
    for (const name of catalogNames()) {
      const chart = catalogEntry(name).chart;
      if (!chart) continue;
      const values = parseYamlStream(files.get(`values/${name}.yaml`)!)[0];
      found.push(...determinismViolations(chart.name, chart.version, values).map((r) => `${name}: ${r.path.join('.')}`));
    }
    expect(found).toStrictEqual([]);
    expect((parseYamlStream(files.get('values/cilium.yaml')!)[0] as any).hubble).toStrictEqual({ tls: { auto: { method: 'cronJob' } } });
  });

  it('flags the chart defaults that are not deterministic, and honours the exceptions', () => {
    expect(determinismViolations('cilium', '1.18.0', {}).map((r) => r.path.join('.'))).toStrictEqual(['hubble.tls.auto.method']);
    expect(determinismViolations('cilium', '1.18.0', { hubble: { enabled: false } })).toStrictEqual([]);
    expect(determinismViolations('cilium', '1.18.0', { hubble: { tls: { auto: { method: 'cronJob' } } }, clustermesh: { useAPIServer: true } }).map((r) => r.path.join('.'))).toStrictEqual(['clustermesh.useAPIServer']);
    expect(determinismViolations('aws-load-balancer-controller', '3.5.0', {}).map((r) => r.path.join('.'))).toStrictEqual(['enableCertManager']);
    expect(determinismViolations('metrics-server', '3.13.1', { tls: { type: 'helm' } }).map((r) => r.path.join('.'))).toStrictEqual(['tls.type']);
    expect(determinismViolations('argo-cd', '10.1.1', { configs: { secret: { argocdServerAdminPassword: 'x', argocdServerAdminPasswordMtime: '2026-01-01T00:00:00Z' } } })).toStrictEqual([]);
    expect(determinismViolations('kube-prometheus-stack', '88.5.3', { grafana: { persistence: { enabled: true } } }).map((r) => r.path.join('.'))).toStrictEqual([
      'grafana.admin.existingSecret',
      'grafana.persistence.lookupVolumeName',
    ]);
  });
});

describe('cluster.datastore.backup.kmsKeyId', () => {
  const backup = (kms: string) => `cluster:
  datastore: { type: etcd, backup: { bucket: snapshots, ${kms}ageRecipientPublicKey: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p } }
`;
  const KEY = 'arn:aws:kms:eu-west-1:111111111111:key/11111111-1111-1111-1111-111111111111';

  it('the base stack encrypts the bucket with the key by default; the runbook says so and names the KMS permissions the uploader gets', () => {
    const files = renderInline('kms', backup(`kmsKeyId: "${KEY}", `));
    const readme = files.get('README.md')!;
    expect(readme).toContain(`S3 encrypts them server-side with KMS key \`${KEY}\`: talos-backup sends no encryption header of its own, so the bucket's default encryption, which the base stack sets, applies to every upload.`);
    expect(readme).toContain('The uploading role (the control-plane instance profile) has `s3:PutObject` on the prefix and `kms:GenerateDataKey` and `kms:Decrypt` on the key');
    expect(files.get('aws/base.yaml')!).toContain(`KMSMasterKeyID: ${KEY}`);
  });

  it('without a key the environment key of the base stack encrypts the bucket', () => {
    const files = renderInline('no-kms', backup(''));
    expect(files.get('README.md')).toContain("S3 encrypts them server-side with the environment's KMS key");
    const base = parseYamlStream(files.get('aws/base.yaml')!)[0] as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
    const bucket = Object.values(base.Resources).find((r) => r.Type === 'AWS::S3::Bucket' && r.Properties.BucketName === 'snapshots')!;
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID).toStrictEqual({ 'Fn::GetAtt': ['EnvironmentKey', 'Arn'] });
  });
});

describe('Helm values types (schemas/charts/*.keys.json types)', () => {
  it('derives each default type, widened by what values.schema.json allows', () => {
    const schema = { type: 'object', properties: { tls: { type: 'object', properties: { ca: { type: ['string', 'object'] } } } } };
    expect(typesFromValues({ tls: { ca: '', list: [], map: {}, unset: null }, 'a.b': 1 }, schema)).toStrictEqual({
      tls: ['map'],
      'tls.ca': ['map', 'scalar'],
      'tls.list': ['list'],
      'tls.map': ['map'],
    });
  });

  it('reports a map replaced by a scalar and a list by a string, not null or an allowed type', () => {
    const types = { a: ['map'], 'a.b': ['list'], c: ['map', 'scalar'] } as Record<string, ValueType[]>;
    expect(wrongTypes({ a: { b: 'x' }, c: 'y' }, types)).toStrictEqual([{ path: ['a', 'b'], expected: ['list'], actual: 'scalar' }]);
    expect(wrongTypes({ a: 1, c: null }, types)).toStrictEqual([{ path: ['a'], expected: ['map'], actual: 'scalar' }]);
    expect(wrongTypes({ a: null }, types)).toStrictEqual([]);
  });
});

/** Issue 19 item 6: a third-party chart that declares no cluster-scoped kinds gets a warning saying what its engine refuses. */
describe('third-party charts without clusterResources', () => {
  const chart = '  reloader:\n    chart: { repoURL: https://stakater.github.io/stakater-charts, name: reloader, version: 2.2.7 }\n';
  // formatted() drops the rule id: the message names it (rule addon-cluster-resources).
  const warnings = (name: string, b: string): string[] => formatted(prepareEnvironment(name, inlineSources(name, b))).filter((l) => l.includes('declares no clusterResources'));

  it('Argo CD: a positioned warning naming what the AppProject refuses, with how to list the chart\'s kinds', () => {
    const [w, ...rest] = warnings('no-kinds', `addons:\n${chart}`);
    expect(rest).toStrictEqual([]);
    const d = prepareEnvironment('no-kinds', inlineSources('no-kinds', `addons:\n${chart}`)).diagnostics.filter((x) => x.rule === 'addon-cluster-resources');
    expect(d.map((x) => [x.severity, x.path.join('.')])).toStrictEqual([['warning', 'addons.reloader.chart']]);
    expect(w).toMatch(/^environments\/no-kinds\.yaml:6:5 {2}addons\.reloader\.chart: warning: reloader declares no clusterResources: if chart reloader 2\.2\.7 renders any cluster-scoped object, Argo CD refuses to sync/);
    expect(w).toContain("the AppProject third-party whitelists exactly the declared kinds ('resource … is not permitted in project third-party')");
    expect(w).toContain("helm template reloader reloader --repo https://stakater.github.io/stakater-charts --version 2.2.7 --values <its values> | yq -N '.apiVersion + \" \" + .kind' | sort -u");
  });

  it('Flux: the same warning in the words of the flux-third-party identity', () => {
    const [w] = warnings('no-kinds-flux', `gitops: flux\naddons:\n${chart}`);
    expect(w).toContain("its HelmRelease, impersonating flux-third-party (a ClusterRole for exactly the declared kinds), cannot create its cluster-scoped objects");
  });

  it('none once the kinds are declared, and none for a catalog add-on', () => {
    expect(warnings('kinds', `addons:\n${chart}    clusterResources: [rbac.authorization.k8s.io/ClusterRole]\n`)).toStrictEqual([]);
    expect(warnings('catalog', 'addons:\n  metrics-server: { enabled: true }\n')).toStrictEqual([]);
  });
});
