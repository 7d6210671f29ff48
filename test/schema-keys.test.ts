/**
 * Every documented key changes the output or is refused. The walker enumerates every leaf key of
 * schemas/environment.schema.json (keys added later are covered without touching this file), sets
 * it in a base fixture environment to values valid for its schema, and expects, for at least one
 * value, that the rendered tree changes or that validation refuses the environment. A refusal only
 * because the base lacks a required sibling does not count (extend the base instead).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { prepareEnvironment } from '../generators/pipeline.js';
import { renderModel } from '../generators/render/index.js';
import { fixtureSources, ROOT } from './helpers.js';
import { sourcesWith } from './support/inline-env.js';

type Json = Record<string, any>;
type Seg = string | '[]' | '{}';
const SCHEMA: Json = JSON.parse(readFileSync(join(ROOT, 'schemas/environment.schema.json'), 'utf8'));
const isMap = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Keys that legitimately change nothing in the rendered tree and are never refused, each with its
 * reason and the test showing what they change instead (a command's report or gates). Every other key is
 * wired (even cluster.talos.secretsBundle.kmsKeyId, used at apply time, shows in the README's secrets-import command).
 */
const ALLOWLIST: Record<string, string> = {
  // An acknowledgement changes which warnings are printed, never a rendered file; one that matches
  // no warning is refused (test/acknowledge.test.ts, invalid/acknowledge-unmatched.yaml).
  'acknowledge[].rule': 'silences a warning: changes the report, not the tree',
  'acknowledge[].path': 'silences a warning: changes the report, not the tree',
  'acknowledge[].reason': 'silences a warning: changes the report, not the tree',
  // A gate of npm run promote, measured from Git history: changes what promote refuses (test/promote.test.ts), not the tree.
  'promotion.soak': 'a gate of npm run promote: changes what it refuses, not the tree',
  // A gate of npm run promote, read from the source's cluster at promote time: changes what promote asks kubectl and
  // refuses (test/promote-health.test.ts; without it promote says the health was not checked, test/promote.test.ts).
  'promotion.requireHealthy': "a gate of npm run promote: changes what it checks and refuses, not the tree",
};

interface Leaf {
  path: Seg[];
  schema: Json;
  /** Name of the $defs entry the leaf refers to, if any. */
  def?: string;
}

function resolve(node: Json): { node: Json; def?: string } {
  let def: string | undefined;
  let n = node;
  for (let i = 0; i < 8 && typeof n.$ref === 'string'; i++) {
    def = n.$ref.replace('#/$defs/', '');
    const { $ref: _, ...rest } = n;
    n = { ...SCHEMA.$defs[def!], ...rest };
  }
  return { node: n, def };
}

function leaves(node: Json, path: Seg[] = []): Leaf[] {
  const { node: s, def } = resolve(node);
  if (isMap(s.properties) && Object.keys(s.properties).length > 0) {
    const out = Object.entries(s.properties).flatMap(([k, v]) => leaves(v as Json, [...path, k]));
    if (isMap(s.additionalProperties) && s.additionalProperties.properties) out.push(...leaves(s.additionalProperties, [...path, '{}']));
    return out;
  }
  if (isMap(s.additionalProperties)) {
    const { node: inner } = resolve(s.additionalProperties);
    if (isMap(inner.properties) || isMap(inner.additionalProperties)) return leaves(s.additionalProperties, [...path, '{}']);
  }
  if (s.type === 'array' && isMap(s.items)) {
    const { node: item } = resolve(s.items);
    if (isMap(item.properties)) return leaves(s.items, [...path, '[]']);
  }
  return [{ path, schema: s, def }];
}

/** Sample values by $defs name, by key name, or by full path (most specific wins). */
const BY_DEF: Record<string, unknown[]> = {
  dnsLabel: ['sample-x', 'workers'],
  cidr: ['10.10.3.0/24', '10.30.0.0/16'],
  ipv4: ['10.10.1.20'],
  cron: ['5 4 * * *'],
  quantity: ['300m', '3Gi', '20Gi'],
  secretRef: [{ secret: '/odp/sample/other' }],
  envValue: ['sample', { secret: '/odp/sample/other' }],
  stringMap: [{ 'sample.example.com/key': 'sample' }],
  k3sArgs: [{ 'kubelet-arg': ['image-gc-low-threshold=60'] }],
  taint: [{ key: 'sample', value: 'x', effect: 'NoSchedule' }],
  endpointOrSsm: ['https://api.other.internal:6443'],
  ssmPathRef: [{ ssmPath: '/odp/sample/' }],
};
const BY_KEY: Record<string, unknown[]> = {
  image: ['ghcr.io/opendev/sample:9.9.9'],
  region: ['eu-central-1'],
  accountId: ['222222222222'],
  repoURL: ['https://github.com/opendev/other.git', 'https://charts.example.com/'],
  targetRevision: ['release'],
  talosVersion: ['v1.12.4'],
  k3sVersion: ['v1.34.3+k3s1'],
  rke2Version: ['v1.35.6+rke2r1'],
  kubernetesVersion: ['1.34.3'],
  version: ['9.9.9', 'v0.30.0', 'v0.5.1'],
  issuerURL: ['https://oidc.other.example'],
  iamRoleArn: ['arn:aws:iam::111111111111:role/sample'],
  certificateArn: ['arn:aws:acm:eu-west-1:111111111111:certificate/00000000-0000-0000-0000-000000000000'],
  kmsKeyId: ['arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000'],
  ageRecipientPublicKey: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'],
  instanceType: ['m7i.2xlarge', 'm7g.xlarge'],
  installDisk: ['/dev/nvme1n1'],
  extensions: [['siderolabs/iscsi-tools']],
  parameter: ['/odp/sample/bundle'],
  mountPath: ['/sample'],
  path: ['/sample'],
  httpGet: ['/sample'],
  host: ['sample.other.example'],
  bucket: ['other-bucket'],
  prefix: ['other-prefix'],
  clusterResources: [['apiextensions.k8s.io/CustomResourceDefinition']],
  extraSANs: [['api.other.internal']],
  ingressFrom: [['namespace/monitoring']],
  caBundlePath: ['/etc/ssl/other.pem'],
  endpoint: ['https://api.other.internal:6443'],
  zone: ['eu-west-1b'],
  id: ['vpc-0fedcba9876543210', 'subnet-0fedcba9876543210'],
  metricsPort: ['http'],
  port: [8081, 'http'],
  dnsDomain: ['cluster.other'],
  description: ['another description'],
  name: ['sample-x'],
  extends: ['_fixture'],
  secret: ['/odp/sample/other'],
  database: ['other'],
  user: ['other'],
  ssmPath: ['/odp/sample/'],
  configFiles: [{ '/etc/sample.conf': 'x' }],
  metricsPath: ['/other'],
  operatorCidrs: [['10.200.0.0/16']],
  duration: ['12h'],
  start: ['2026-01-01'],
  end: ['2026-01-02T06:00Z'],
  maxUpdate: [1, '50%'],
};

function candidates(leaf: Leaf, current: unknown): unknown[] {
  const key = [...leaf.path].reverse().find((s) => s !== '[]' && s !== '{}') as string;
  const s = leaf.schema;
  const out: unknown[] = [];
  if (leaf.def && BY_DEF[leaf.def]) out.push(...BY_DEF[leaf.def]!);
  if (BY_KEY[key]) out.push(...BY_KEY[key]!);
  if (Array.isArray(s.enum)) out.push(...s.enum);
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('boolean')) out.push(true, false);
  if (types.includes('integer') || types.includes('number')) {
    const n = typeof current === 'number' ? current : (s.minimum ?? 1);
    out.push(n + 1, s.minimum ?? 0, s.maximum ?? n + 5, n * 2);
  }
  if (types.includes('string') || leaf.def === 'stringOrSsm') out.push('sample-value');
  if (types.includes('array')) out.push(['sample'], []);
  if (types.includes('object') || (s.type === undefined && !s.enum)) out.push({ sample: 'x' }, { 'sample-key': 'sample' });
  return out.filter((v) => JSON.stringify(v) !== JSON.stringify(current));
}

const ajv = new Ajv2020({ strict: false, allErrors: false });
const validFor = (schema: Json) => ajv.compile({ ...schema, $defs: SCHEMA.$defs });

/**
 * Where a leaf applies in `doc`: '[]' and '{}' segments become the first element or key under which
 * the rest of the path's parent exists (so a pool's taints are tried on a pool that has taints),
 * else element 0 / the first key ('sample' in an empty map).
 */
function concrete(doc: unknown, path: Seg[]): (string | number)[] {
  const out: (string | number)[] = [];
  let cur: any = doc;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    let k: string | number;
    if (seg === '[]' || seg === '{}') {
      const keys: (string | number)[] = seg === '[]' ? (Array.isArray(cur) ? cur.map((_: unknown, j: number) => j) : []) : isMap(cur) ? Object.keys(cur) : [];
      const rest = path.slice(i + 1, -1);
      k = keys.find((x) => rest.length === 0 || getAt(cur[x], rest) !== undefined) ?? keys[0] ?? (seg === '[]' ? 0 : 'sample');
    } else k = seg;
    out.push(k);
    cur = cur === undefined || cur === null ? undefined : cur[k];
  }
  return out;
}

/** Set `value` at the leaf's concrete path in a copy of `doc`, creating missing parents. */
function setAt(doc: Json, path: Seg[], value: unknown): Json | undefined {
  const root = structuredClone(doc);
  const keys = concrete(root, path);
  let cur: any = root;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) cur[k] = value;
    else {
      if (cur[k] === undefined || cur[k] === null) cur[k] = typeof keys[i + 1] === 'number' ? [] : {};
      cur = cur[k];
    }
  });
  return root;
}
function getAt(doc: unknown, path: Seg[]): unknown {
  let cur: any = doc;
  for (const seg of path) {
    if (cur === undefined || cur === null) return undefined;
    cur = seg === '[]' ? cur[0] : seg === '{}' ? cur[Object.keys(cur)[0] ?? ''] : cur[seg];
  }
  return cur;
}
const currentAt = (doc: Json, path: Seg[]): unknown => concrete(doc, path).reduce<any>((c, k) => (c === undefined || c === null ? undefined : c[k]), doc);

type Outcome = 'changed' | 'refused' | 'unchanged' | 'lacks-context';

function outcome(name: string, doc: Json, baseline: Map<string, string>): Outcome {
  const r = prepareEnvironment(name, sourcesWith(name, stringify(doc)));
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.prepared) return errors.length > 0 && errors.every((d) => d.rule === 'schema.required') ? 'lacks-context' : 'refused';
  // Bodies without the generated headers: a header carries a hash of its inputs, which changes with any key.
  const files = renderModel(r.prepared.model);
  if (files.length !== baseline.size) return 'changed';
  return files.some((f) => baseline.get(f.path) !== f.content) ? 'changed' : 'unchanged';
}

/** Base environments: Talos with most keys set, and K3s on Postgres and on SQLite. */
const BASES: Record<string, string> = {
  talos: `name: keys
git: { repoURL: https://github.com/opendev/odp-gitops.git, targetRevision: main }
description: Every key
aws:
  region: eu-west-1
  accountId: "111111111111"
  iam: { mode: irsa, issuerURL: https://oidc.fixture.example }
  vpc:
    id: vpc-0123456789abcdef0
    cidr: 10.10.0.0/16
    subnets:
      - { name: private-a, id: subnet-0123456789abcdef0, cidr: 10.10.1.0/24, zone: eu-west-1a }
      - { name: private-b, id: subnet-0123456789abcdef2, cidr: 10.10.2.0/24, zone: eu-west-1b }
      - { name: public-a, id: subnet-0123456789abcdef1, cidr: 10.10.100.0/24, zone: eu-west-1a, public: true }
cluster:
  name: keys
  distribution: talos
  talosVersion: v1.13.9
  kubernetesVersion: 1.35.2
  endpoint: https://api.keys.internal:6443
  extraSANs: [api.keys.example]
  plannedPods: 100
  datastore:
    type: etcd
    backup: { bucket: snapshots, prefix: keys, schedule: "0 */6 * * *", kmsKeyId: "arn:aws:kms:eu-west-1:111111111111:key/11111111-1111-1111-1111-111111111111", ageRecipientPublicKey: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p }
  network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, cni: flannel, dnsDomain: cluster.local }
  talos:
    installDisk: /dev/nvme0n1
    kubeletExtraArgs: { image-gc-high-threshold: "85" }
    apiServerExtraArgs: { audit-log-maxage: "30" }
    sysctls: { net.core.somaxconn: "65535" }
    extensions: [siderolabs/amazon-ena]
    nvidiaDriver: lts
    secretsBundle: { parameter: /odp/keys/talos/bundle, kmsKeyId: alias/keys }
argocd: { automated: true, prune: true, selfHeal: true }
nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [{ name: cp-1, ip: 10.10.1.10, subnet: private-a }]
  - name: workers
    role: worker
    arch: amd64
    instanceType: m7i.xlarge
    subnet: private-a
    maxPods: 110
    labels: { tier: general }
    taints: [{ key: dedicated, value: general, effect: PreferNoSchedule }]
    count: 2
  - name: gpu
    role: worker
    arch: amd64
    instanceType: g5.xlarge
    subnet: private-a
    gpu: { vendor: nvidia, perNode: 1 }
    count: 1
addons:
  aws-ebs-csi-driver: { settings: { kmsKeyId: "arn:aws:kms:eu-west-1:111111111111:key/22222222-2222-2222-2222-222222222222" } }
  kube-prometheus-stack: { values: { prometheus: { prometheusSpec: { retention: 20d } } }, podSecurity: privileged }
  reloader:
    enabled: true
    chart: { repoURL: https://stakater.github.io/stakater-charts, name: reloader, version: 2.2.7 }
    namespace: reloader
    values: { reloader: { watchGlobally: true } }
    settings: {}
    secrets: { reloader-token: { token: { secret: /odp/keys/reloader/token } } }
    clusterResources: [rbac.authorization.k8s.io/ClusterRole]
    serverSideApply: true
    podSecurity: baseline
    extraNamespaces: [kube-system]
workloads:
  - name: portal
    namespace: portal
    kind: deployment
    image: ghcr.io/opendev/portal:1.4.2
    replicas: 3
    command: [/portal]
    args: [--serve]
    ports: [{ name: http, port: 8080, protocol: TCP }, { name: metrics, port: 9090 }]
    metricsPort: metrics
    metricsPath: /metrics
    env: { LOG_LEVEL: info, DB_PASSWORD: { secret: /odp/keys/portal/db } }
    configFiles: { /etc/portal/config.yaml: "a: b" }
    resources: { requests: { cpu: 200m, memory: 256Mi }, limits: { cpu: "1", memory: 512Mi } }
    runAsUser: 1000
    liveness: { httpGet: /healthz, port: 8080, initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 }
    readiness: { tcp: true, port: 8080, initialDelaySeconds: 2, periodSeconds: 5, failureThreshold: 2 }
    placement: { arch: amd64, pool: workers }
    ingress: { host: portal.keys.example, path: /, port: http, scheme: internal, certificateArn: "arn:aws:acm:eu-west-1:111111111111:certificate/11111111-1111-1111-1111-111111111111", groupName: keys-internal }
    autoscaling: { minReplicas: 3, maxReplicas: 6, targetCPUUtilization: 70 }
    disruptionBudget: { maxUnavailable: 1 }
    serviceAccount: { iamRoleArn: "arn:aws:iam::111111111111:role/portal" }
    network: { ingressFrom: [worker], egressTo: [{ workload: worker, ports: [8080] }, { cidr: 10.10.0.0/16, ports: [5432] }] }
  - name: worker
    namespace: portal
    kind: statefulset
    image: ghcr.io/opendev/worker:2.0.0
    replicas: 1
    ports: [{ name: http, port: 8080 }]
    resources: { requests: { cpu: 100m, memory: 128Mi } }
    volumes: [{ name: data, mountPath: /data, size: 10Gi }]
  - name: report
    kind: cronjob
    schedule: "0 3 * * *"
    image: ghcr.io/opendev/report:1.0.0
    resources: { requests: { cpu: 100m, memory: 128Mi } }
    placement: { gpu: 1 }
`,
};
const K3S_COMMON = `  distribution: k3s
  k3sVersion: v1.35.2+k3s1
  kubernetesVersion: 1.35.2
  endpoint: https://api.keys.internal:6443
  network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12 }
  k3s: { token: { secret: /odp/keys/k3s/token }, agentToken: { secret: /odp/keys/k3s/agent }, extraArgs: { kube-apiserver-arg: [audit-log-maxage=30] } }
`;
const K3S_HEAD = `name: keys
git: { repoURL: https://github.com/opendev/odp-gitops.git, targetRevision: main }
aws:
  region: eu-west-1
  accountId: "111111111111"
  vpc: { id: vpc-0123456789abcdef0, cidr: 10.10.0.0/16, subnets: [{ name: private-a, cidr: 10.10.1.0/24, zone: eu-west-1a }] }
cluster:
  name: keys
`;
const k3sPools = (servers: number) => `nodePools:
  - name: cp
    role: controlplane
    arch: amd64
    instanceType: m7i.large
    subnet: private-a
    nodes: [${Array.from({ length: servers }, (_, i) => `{ name: cp-${i + 1}, ip: 10.10.1.${10 + i} }`).join(', ')}]
  - { name: workers, role: worker, arch: amd64, instanceType: m7i.xlarge, subnet: private-a, count: 1, k3s: { extraArgs: { kubelet-arg: [image-gc-high-threshold=80] } } }
`;
BASES['k3s-postgres'] = `${K3S_HEAD}${K3S_COMMON}  datastore: { type: kine-postgres, postgres: { host: kine.keys.internal, port: 5432, database: k3s, user: k3s, password: { secret: /odp/keys/kine/password }, caBundlePath: /etc/ssl/certs/rds.pem } }
${k3sPools(3)}`;
BASES['k3s-sqlite'] = `${K3S_HEAD}${K3S_COMMON}  datastore: { type: kine-sqlite, litestream: { bucket: litestream, prefix: keys, version: v0.5.2 } }
${k3sPools(1)}`;

const baseDocs = Object.fromEntries(Object.entries(BASES).map(([k, v]) => [k, parse(v) as Json]));
const baselines = new Map<string, Map<string, string>>();
function baseline(base: string): Map<string, string> {
  let b = baselines.get(base);
  if (!b) {
    const { sources } = fixtureSources('valid', 'minimal.yaml');
    sources.set('environments/keys.yaml', `# yaml-language-server: $schema=../schemas/environment.schema.json\n${BASES[base]}`);
    sources.set('environments/keys.ssm.lock.json', sources.get('environments/_fixture.ssm.lock.json')!);
    const r = prepareEnvironment('keys', sources);
    if (!r.prepared) throw new Error(`base ${base} does not validate:\n${r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.col} ${d.path.join('.')}: ${d.message}`).join('\n')}`);
    baselines.set(base, (b = new Map(renderModel(r.prepared.model).map((f) => [f.path, f.content]))));
  }
  return b;
}

const LEAVES = leaves(SCHEMA);
const label = (l: Leaf): string => l.path.join('.').replace(/\.\[\]/g, '[]').replace(/\.\{\}/g, '.*');

describe('every leaf key of the environment schema changes the rendered tree or is refused', () => {
  it('the walker finds the schema leaves, and every base validates', () => {
    expect(LEAVES.length).toBeGreaterThan(100);
    for (const b of Object.keys(BASES)) expect(baseline(b).size).toBeGreaterThan(10);
  });

  it.each(LEAVES.map((l) => [label(l), l] as const))('%s', (name, leaf) => {
    if (ALLOWLIST[name]) return;
    const tried: string[] = [];
    for (const base of Object.keys(BASES)) {
      const doc = baseDocs[base]!;
      const current = currentAt(doc, leaf.path);
      const valid = validFor(leaf.schema);
      for (const value of candidates(leaf, current)) {
        if (!valid(value)) continue;
        const mutated = setAt(doc, leaf.path, value);
        if (!mutated) continue;
        const o = outcome('keys', mutated, baseline(base));
        if (o === 'changed' || o === 'refused') return;
        tried.push(`${base}: ${JSON.stringify(value)} → ${o}`);
      }
    }
    expect.fail(tried.length === 0 ? `${name}: no sample value valid for its schema; add one to BY_DEF/BY_KEY` : `${name} neither changes the rendered tree nor is refused:\n  ${tried.join('\n  ')}`);
  });
});
