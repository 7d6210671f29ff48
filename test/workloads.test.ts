import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { workloadAppSpecs } from '../generators/engines/argocd/workload-apps.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { formatKubeIssue, loadKubernetesValidator } from '../generators/validate/kubernetes.js';
import { checkRestricted } from '../generators/validate/pss.js';
import { imageTag } from '../generators/validate/rules-workloads.js';
import { formatted, prepareExample, exampleSources, renderExample, SHARED } from './helpers.js';

const ENVS = ['dev', 'staging', 'prod'];
const K8S_SCHEMAS = join(SHARED, 'upstream', 'kubernetes', '1.34');
const ESO_CRD = join(SHARED, 'upstream', 'crds', 'external-secrets', 'v2.9.0', 'external-secrets.io_externalsecrets.yaml');
const ESO_STORE_CRD = join(SHARED, 'upstream', 'crds', 'external-secrets', 'v2.9.0', 'external-secrets.io_clustersecretstores.yaml');

/** Application directories of the workloads and of their namespaces (add-ons have their own under manifests/ too). */
function workloadDirs(env: string): string[] {
  const workloads = prepareExample(env).prepared!.model.workloads;
  return [...workloads.map((w) => w.name), ...new Set(workloads.map((w) => `namespace-${w.namespace}`))];
}

/** The manifests of the environment's workloads and workload namespaces. */
function manifestFiles(env: string) {
  const dirs = workloadDirs(env).map((d) => `manifests/${d}/`);
  return renderExample(env).filter((f) => dirs.some((d) => f.path.startsWith(d)));
}
const objectsOf = (env: string) => manifestFiles(env).map((f) => ({ path: f.path, content: f.content, objects: parseYamlStream(f.content) as Record<string, any>[] }));

function renderWith(env: string, edit: (doc: ReturnType<typeof parseDocument>) => void) {
  const sources = exampleSources();
  const file = `environments/${env}.yaml`;
  const doc = parseDocument(sources.get(file)!);
  edit(doc);
  sources.set(file, doc.toString());
  const r = prepareEnvironment(env, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
}

function changedPaths(a: { path: string; content: string }[], b: { path: string; content: string }[]): string[] {
  const before = new Map(a.map((f) => [f.path, f.content]));
  const after = new Map(b.map((f) => [f.path, f.content]));
  return [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p)).sort();
}

const workloadIndex = (doc: ReturnType<typeof parseDocument>, name: string): number =>
  (doc.toJS().workloads as { name: string }[]).findIndex((w) => w.name === name);

describe('workload manifests', () => {
  it.each(ENVS)('%s: one object per file, named <kind>-<name>.yaml, in its namespace', (env) => {
    for (const f of objectsOf(env)) {
      expect(f.objects).toHaveLength(1);
      const o = f.objects[0]!;
      expect(f.path.split('/').at(-1)).toBe(`${String(o.kind).toLowerCase()}-${o.metadata.name}.yaml`);
      expect(o.metadata.name).not.toMatch(/-[0-9a-f]{8}$/);
      if (o.kind !== 'Namespace') expect(typeof o.metadata.namespace).toBe('string');
    }
  });

  it.each(ENVS)('%s: every pod template meets Pod Security Standards restricted', (env) => {
    const pods = objectsOf(env).flatMap((f) => f.objects.filter((o) => ['Deployment', 'StatefulSet', 'CronJob'].includes(o.kind)));
    expect(pods.length).toBeGreaterThan(0);
    for (const o of pods) expect(checkRestricted(o), `${o.kind}/${o.metadata.name}`).toStrictEqual([]);
  });

  it.each(ENVS)('%s: every namespace with workloads is PSS-restricted with a default deny and DNS egress', (env) => {
    const all = objectsOf(env).flatMap((f) => f.objects);
    const used = new Set(all.filter((o) => o.kind !== 'Namespace').map((o) => o.metadata.namespace as string));
    const model = prepareExample(env).prepared!.model;
    expect([...used].sort()).toStrictEqual([...new Set(model.workloads.map((w) => w.namespace))].sort());
    for (const ns of used) {
      const namespace = all.find((o) => o.kind === 'Namespace' && o.metadata.name === ns);
      expect(namespace?.metadata.labels, ns).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/enforce-version': `v${model.cluster.kubernetesMinor}`,
      });
      const deny = all.find((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns && o.metadata.name === 'default-deny');
      expect(deny?.spec, ns).toStrictEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      const dns = all.find((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns && o.metadata.name === 'allow-dns');
      expect(dns?.spec.egress[0].ports, ns).toStrictEqual([
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ]);
    }
  });

  it.runIf(existsSync(K8S_SCHEMAS))('every rendered object validates strictly against the Kubernetes 1.34 schemas (ExternalSecret against its CRD)', () => {
    const v = loadKubernetesValidator(K8S_SCHEMAS, existsSync(ESO_CRD) ? [ESO_CRD] : []);
    let checked = 0;
    for (const env of ENVS) {
      for (const f of manifestFiles(env)) {
        // The prometheus-operator CRDs are not in ../shared/upstream: ServiceMonitor has no schema there.
        const issues = v.validateYaml(f.content).filter((i) => !(i.rule === 'kubernetes.unknown-kind' && i.object.startsWith('monitoring.coreos.com/v1/ServiceMonitor')));
        expect(issues.map((i) => formatKubeIssue(f.path, i)), `${env}/${f.path}`).toStrictEqual([]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it.runIf(existsSync(K8S_SCHEMAS))('the strict validator rejects unknown fields and wrong types, with positions', () => {
    const v = loadKubernetesValidator(K8S_SCHEMAS);
    const text = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n  selector: { matchLabels: { a: b } }\n  template:\n    spec:\n      containers:\n        - name: c\n          image: i:1\n          ports: [{ containerPort: http }]\n';
    expect(v.validateYaml(text).map((i) => formatKubeIssue('f.yaml', i))).toStrictEqual([
      "f.yaml:6:12  apps/v1/Deployment x /spec/replica: unknown field 'replica'",
      'f.yaml:13:36  apps/v1/Deployment x /spec/template/spec/containers/0/ports/0/containerPort: must be integer',
    ]);
    expect(v.validate({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })[0]?.rule).toBe('kubernetes.unknown-kind');
    expect(v.validate({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', creationTimestamp: null } })).toStrictEqual([]);
  });

  it('the PSS check reports what restricted forbids', () => {
    const pod = {
      kind: 'Deployment',
      spec: {
        template: {
          spec: {
            hostNetwork: true,
            volumes: [{ name: 'h', hostPath: { path: '/' } }],
            containers: [{ name: 'c', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }],
          },
        },
      },
    };
    expect(checkRestricted(pod).map((v) => `${v.check} ${v.pointer}`)).toStrictEqual([
      'host-namespaces /spec/template/spec/hostNetwork',
      'host-path-volumes /spec/template/spec/volumes/0/hostPath',
      'privileged /spec/template/spec/containers/0/securityContext/privileged',
      'allow-privilege-escalation /spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation',
      'capabilities /spec/template/spec/containers/0/securityContext/capabilities/drop',
      'capabilities /spec/template/spec/containers/0/securityContext/capabilities/add/0',
      'run-as-non-root /spec/template/spec/securityContext/runAsNonRoot',
      'seccomp /spec/template/spec/securityContext/seccompProfile',
    ]);
  });

  it('changing one workload\'s replicas changes exactly one rendered file', () => {
    const base = renderExample('prod');
    const worker = renderWith('prod', (doc) => doc.setIn(['workloads', workloadIndex(doc, 'worker'), 'replicas'], 6));
    expect(changedPaths(base, worker)).toStrictEqual(['manifests/worker/deployment-worker.yaml']);
    // With an HPA and an explicit minReplicas, replicas would change nothing: a different value is refused.
    expect(() => renderWith('prod', (doc) => doc.setIn(['workloads', workloadIndex(doc, 'portal'), 'replicas'], 5))).toThrow(
      /workloads\[\d+\]\.replicas: replicas 5 is not used: with autoscaling the HPA owns the replica count and starts at minReplicas 3/,
    );
    const api = renderWith('prod', (doc) => doc.setIn(['workloads', workloadIndex(doc, 'api'), 'replicas'], 5));
    expect(changedPaths(base, api)).toStrictEqual(['manifests/api/deployment-api.yaml']);
  });

  it('reordering workloads changes nothing', () => {
    const base = renderExample('prod');
    const reordered = renderWith('prod', (doc) => {
      const list = doc.get('workloads') as { items: unknown[] };
      list.items.reverse();
    });
    expect(changedPaths(base, reordered)).toStrictEqual([]);
  });

  it('AppSpecs: one Application per workload namespace carries the Namespace; one per workload, a wave later', () => {
    // Waves from the delivery graph (issue 19): the namespace in the layer after what it needs, each workload one later
    // (and Grafana's store one wave before kube-prometheus-stack, whose ServiceMonitor CRD the workloads need).
    const specs = workloadAppSpecs(prepareExample('dev').prepared!.model);
    expect(specs.map(({ inputs: _i, projectInputs: _p, ...rest }) => rest)).toStrictEqual([
      { name: 'api', project: 'workloads', namespace: 'opendev', syncWave: 5, manifests: true, createNamespace: false, clusterResources: [], onDelete: 'cascade' },
      { name: 'namespace-opendev', project: 'workloads', namespace: 'opendev', syncWave: 4, manifests: true, createNamespace: false, clusterResources: ['/Namespace'], onDelete: 'cascade' },
      { name: 'nightly-maintenance', project: 'workloads', namespace: 'opendev', syncWave: 5, manifests: true, createNamespace: false, clusterResources: [], onDelete: 'cascade' },
      { name: 'portal', project: 'workloads', namespace: 'opendev', syncWave: 5, manifests: true, createNamespace: false, clusterResources: [], onDelete: 'cascade' },
    ]);
    // A workload's Application derives from its own namespace only; the namespace's from its members'.
    const ns = (name: string) => ['workloads', { name }, 'namespace'];
    expect(specs[0]!.inputs).toStrictEqual([ns('api')]);
    expect(specs[1]!.inputs).toStrictEqual([ns('api'), ns('nightly-maintenance'), ns('portal')]);
    expect(specs[3]!.projectInputs).toStrictEqual([ns('portal')]);
  });

  it('GPU workloads get the GPU limit, toleration and runtime class; arm64 workloads a node selector', () => {
    const prod = objectsOf('prod').flatMap((f) => f.objects);
    const inference = prod.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'inference')!.spec.template.spec;
    expect(inference.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    expect(inference.tolerations).toStrictEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(inference.runtimeClassName).toBe('nvidia');
    const worker = prod.find((o) => o.kind === 'Deployment' && o.metadata.name === 'worker')!.spec.template.spec;
    expect(worker.nodeSelector).toStrictEqual({ 'kubernetes.io/arch': 'arm64' });
    expect(worker.containers[0].resources).toStrictEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { memory: '1Gi' } });
  });

  it("secrets from SSM become an ExternalSecret on its namespace's ClusterSecretStore, never values", () => {
    const api = objectsOf('prod').flatMap((f) => f.objects).find((o) => o.kind === 'ExternalSecret' && o.metadata.name === 'api-env')!;
    expect(api.spec).toStrictEqual({
      refreshInterval: '1h',
      secretStoreRef: { kind: 'ClusterSecretStore', name: `aws-ssm-parameter-store-${api.metadata.namespace}` },
      target: { name: 'api-env', creationPolicy: 'Owner' },
      data: [
        { secretKey: 'DATABASE_URL', remoteRef: { key: '/odp/prod/api/database-url' } },
        { secretKey: 'SESSION_SIGNING_KEY', remoteRef: { key: '/odp/prod/api/session-signing-key' } },
      ],
    });
  });

  it('removing the first workload of a namespace leaves the namespace, its policies and the other workloads intact', () => {
    const parsed = (files: { path: string; content: string }[], prefix: string) =>
      new Map(files.filter((f) => f.path.startsWith(prefix)).map((f) => [f.path, parseYamlStream(f.content)]));
    const base = renderExample('prod');
    // 'api' sorts first in 'opendev' (it used to carry the Namespace); drop it and every reference to it.
    const without = renderWith('prod', (doc) => {
      const env = doc.toJS() as { workloads: { name: string; network?: { ingressFrom?: string[]; egressTo?: { workload?: string }[] } }[] };
      env.workloads = env.workloads.filter((w) => w.name !== 'api');
      for (const w of env.workloads) {
        if (w.network?.ingressFrom) w.network.ingressFrom = w.network.ingressFrom.filter((f) => f !== 'api');
        if (w.network?.egressTo) w.network.egressTo = w.network.egressTo.filter((t) => t.workload !== 'api');
      }
      doc.contents = doc.createNode(env) as typeof doc.contents;
    });
    const before = parsed(base, 'manifests/namespace-opendev/');
    expect([...before.keys()].sort()).toStrictEqual([
      'manifests/namespace-opendev/namespace-opendev.yaml',
      'manifests/namespace-opendev/networkpolicy-allow-dns.yaml',
      'manifests/namespace-opendev/networkpolicy-default-deny.yaml',
    ]);
    // The same objects, from the same Application (only the provenance header names fewer members).
    expect(parsed(without, 'manifests/namespace-opendev/')).toStrictEqual(before);
    expect(parsed(without, 'apps/namespace-opendev.yaml')).toStrictEqual(parsed(base, 'apps/namespace-opendev.yaml'));
    expect(without.filter((f) => f.path.startsWith('manifests/api/') || f.path === 'apps/api.yaml')).toStrictEqual([]);
    // The other workloads keep every object (only the NetworkPolicies that named 'api' change), and
    // the other namespace is untouched.
    for (const name of ['inference', 'nightly-maintenance', 'portal', 'worker', 'namespace-ml']) {
      const mine = (fs: { path: string; content: string }[]) =>
        fs.filter((f) => (f.path.startsWith(`manifests/${name}/`) && !f.path.endsWith(`/networkpolicy-${name}.yaml`)) || f.path === `apps/${name}.yaml`);
      expect(mine(base).length, name).toBeGreaterThan(0);
      expect(mine(without), name).toStrictEqual(mine(base));
    }
  });

  it.each(ENVS)('%s: no object belongs to two Applications', (env) => {
    const owner = new Map<string, string>();
    for (const f of renderExample(env).filter((x) => x.path.startsWith('manifests/'))) {
      const app = f.path.split('/')[1]!;
      for (const o of parseYamlStream(f.content) as Record<string, any>[]) {
        const id = `${o.apiVersion.split('/').slice(0, -1).join('/')}/${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
        expect(owner.get(id) ?? app, `${id} in ${app} and ${owner.get(id)}`).toBe(app);
        owner.set(id, app);
      }
    }
    expect(owner.size).toBeGreaterThan(10);
  });

  it.each(ENVS)('%s: namespace-level objects are kept when their Application is deleted (Delete=false), the Namespace is cluster-scoped', (env) => {
    const files = renderExample(env).filter((f) => /^manifests\/namespace-[^/]+\//.test(f.path));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const [o] = parseYamlStream(f.content) as Record<string, any>[];
      expect(o!.metadata.annotations, f.path).toStrictEqual({ 'argocd.argoproj.io/sync-options': 'Delete=false' });
      if (o!.kind === 'Namespace') expect(o!.metadata.namespace, f.path).toBeUndefined();
    }
  });

  it.each(ENVS)('%s: an ALB reaches a workload through a NodePort Service (target-type instance, externalTrafficPolicy Local)', (env) => {
    const all = objectsOf(env).flatMap((f) => f.objects);
    const ingresses = all.filter((o) => o.kind === 'Ingress');
    expect(ingresses.length).toBeGreaterThan(0);
    const vpc = prepareExample(env).prepared!.model.aws.vpc.cidr;
    for (const ing of ingresses) {
      const backend = ing.spec.rules[0].http.paths[0].backend.service;
      expect(ing.metadata.annotations).toMatchObject({ 'alb.ingress.kubernetes.io/target-type': 'instance', 'alb.ingress.kubernetes.io/healthcheck-port': 'traffic-port' });
      const svc = all.find((o) => o.kind === 'Service' && o.metadata.name === backend.name && o.metadata.namespace === ing.metadata.namespace)!;
      expect(svc.spec.type).toBe('NodePort');
      expect(svc.spec.externalTrafficPolicy).toBe('Local');
      // Node ports are left to Kubernetes.
      for (const p of svc.spec.ports) expect(p.nodePort).toBeUndefined();
      const port = svc.spec.ports.find((p: { name: string }) => p.name === backend.port.name).targetPort;
      const policy = all.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === backend.name && o.metadata.namespace === ing.metadata.namespace)!;
      expect(policy.spec.ingress).toContainEqual({ from: [{ ipBlock: { cidr: vpc } }], ports: [{ port, protocol: 'TCP' }] });
    }
    // A Service without an Ingress stays ClusterIP.
    const internal = all.filter((o) => o.kind === 'Service' && !ingresses.some((i) => i.spec.rules[0].http.paths[0].backend.service.name === o.metadata.name));
    for (const s of internal) expect(s.spec.type, s.metadata.name).toBe('ClusterIP');
  });

  it('the ALB health check follows the readiness probe: its path, and its port when that is not the ingress port', () => {
    const ingressOf = (files: { path: string; content: string }[]) => parseYamlStream(files.find((f) => f.path === 'manifests/portal/ingress-portal.yaml')!.content)[0] as Record<string, any>;
    const policyOf = (files: { path: string; content: string }[]) => parseYamlStream(files.find((f) => f.path === 'manifests/portal/networkpolicy-portal.yaml')!.content)[0] as Record<string, any>;
    const base = renderExample('dev');
    expect(ingressOf(base).metadata.annotations['alb.ingress.kubernetes.io/healthcheck-path']).toBe('/healthz/ready');
    const onMetrics = renderWith('dev', (doc) => doc.setIn(['workloads', workloadIndex(doc, 'portal'), 'readiness'], doc.createNode({ httpGet: '/ready', port: 9090 })));
    expect(ingressOf(onMetrics).metadata.annotations).toMatchObject({ 'alb.ingress.kubernetes.io/healthcheck-port': 'metrics', 'alb.ingress.kubernetes.io/healthcheck-path': '/ready' });
    expect(policyOf(onMetrics).spec.ingress[0].ports).toStrictEqual([
      { port: 8080, protocol: 'TCP' },
      { port: 9090, protocol: 'TCP' },
    ]);
    const tcp = renderWith('dev', (doc) => doc.setIn(['workloads', workloadIndex(doc, 'portal'), 'readiness'], doc.createNode({ tcp: true })));
    expect(ingressOf(tcp).metadata.annotations['alb.ingress.kubernetes.io/healthcheck-path']).toBeUndefined();
  });

  it.each(ENVS)('%s: one ClusterSecretStore per namespace holding an ExternalSecret, admitting that namespace only', (env) => {
    const files = renderExample(env);
    const stores = files
      .filter((f) => /^manifests\/external-secrets-store-[^/]+\/clustersecretstore-aws-ssm-parameter-store-/.test(f.path))
      .map((f) => parseYamlStream(f.content)[0] as Record<string, any>);
    const holders = new Set<string>();
    for (const f of files.filter((x) => x.path.startsWith('manifests/'))) {
      for (const o of parseYamlStream(f.content) as Record<string, any>[])
        if (o.kind === 'ExternalSecret' && o.spec.secretStoreRef.name.startsWith('aws-ssm-parameter-store')) {
          holders.add(o.metadata.namespace);
          // Every ExternalSecret names its own namespace's store.
          expect(o.spec.secretStoreRef).toStrictEqual({ kind: 'ClusterSecretStore', name: `aws-ssm-parameter-store-${o.metadata.namespace}` });
        }
    }
    expect(holders.size).toBeGreaterThan(1);
    expect(stores.map((s) => [s.metadata.name, s.spec.conditions])).toStrictEqual([...holders].sort().map((ns) => [`aws-ssm-parameter-store-${ns}`, [{ namespaces: [ns] }]]));
    if (existsSync(ESO_STORE_CRD)) {
      const v = loadKubernetesValidator(K8S_SCHEMAS, [ESO_STORE_CRD]);
      for (const store of stores) expect(v.validate(store).map((i) => formatKubeIssue('store', i))).toStrictEqual([]);
    }
  });

  it('image references: tag and digest parsing', () => {
    expect(imageTag('ghcr.io/a/b:1.2')).toStrictEqual({ tag: '1.2', digest: undefined });
    expect(imageTag('registry:5000/a/b')).toStrictEqual({ tag: undefined, digest: undefined });
    expect(imageTag('a/b@sha256:00')).toStrictEqual({ tag: undefined, digest: 'sha256:00' });
    expect(imageTag('a/b:1@sha256:00')).toStrictEqual({ tag: '1', digest: 'sha256:00' });
  });
});
