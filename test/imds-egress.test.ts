/**
 * The node role through IMDS, from add-on namespaces that never need it (catalog/network-policies.ts
 * imdsDenyPolicy, validate/access.ts nodeRoleDiagnostics). Where a node's IMDSv2 hop limit is 2 (the AWS
 * controllers take the node's credentials there: EC2 User Guide, "Configure the Instance Metadata
 * Service options", the hop limit is how far the token response travels, and a pod is one hop past
 * the host) every pod on its pod network could read the node role and, in instance-profile mode, assume
 * every store role External Secrets uses. So where a CNI enforces NetworkPolicies every add-on
 * namespace but kube-system and those of the add-ons that take the node's credentials gets a policy
 * denying egress to 169.254.169.254/32 (kube-router v2.11.0 pkg/controllers/netpol/policy.go:790-817
 * and Calico's conversion.go k8sPeerToCalicoFields honour `except`); where none does, rule
 * secret-access refuses the route (invalid/secret-access-imds-pool.yaml).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { accessGraph } from '../generators/validate/access.js';
import { awsPlan } from '../generators/infra/aws/plan.js';
import { resolveAddons } from '../generators/catalog/resolve.js';
import { IMDS_DENY_POLICY, imdsNamespaces, networkPolicyEnforcer } from '../generators/catalog/network-policies.js';
import { AMBIENT_CREDENTIAL_USES } from '../generators/catalog/ambient-credentials.js';
import { exampleSources, FIXTURES, fixtureSources, formatted } from './helpers.js';
import { egressReaches, fluxOperatorPolicies, type Policy } from './support/netpol.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';

const EXAMPLES = ['dev', 'dev-k3s', 'prod', 'staging', 'staging-k3s'];
const VALID = readdirSync(join(FIXTURES, 'valid')).filter((f) => f.endsWith('.yaml')).sort();

function prepared(name: string, sources: Map<string, string>) {
  const r = prepareEnvironment(name, sources);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return r.prepared;
}

const cases: [string, () => ReturnType<typeof prepared>][] = [
  ...VALID.map((f): [string, () => ReturnType<typeof prepared>] => [`valid/${f}`, () => prepared(fixtureSources('valid', f).name, fixtureSources('valid', f).sources)]),
  ...EXAMPLES.map((e): [string, () => ReturnType<typeof prepared>] => [`example ${e}`, () => prepared(e, exampleSources())]),
];

/** The namespaces that reach, through IMDS, a node role that may assume another role. */
function imdsToAssumers(p: ReturnType<typeof prepared>): { namespace: string; role: string }[] {
  const g = accessGraph(p.resolved, p.model);
  const assumers = new Set(g.identities.filter((i) => i.assumes.length > 0).map((i) => i.id));
  return g.entries.flatMap((e) => (e.route === 'imds' && e.reader.kind === 'namespace' && assumers.has(e.identity) ? [{ namespace: e.reader.namespace, role: e.identity }] : []));
}

/** Every rendered object (parsed from every YAML file). */
const objectsOf = (files: { path: string; content: string }[]): Record<string, any>[] =>
  files.filter((f) => /\.ya?ml$/.test(f.path)).flatMap((f) => parseAllDocuments(f.content).map((d) => d.toJS() as Record<string, any>)).filter((o) => o && typeof o === 'object');

describe('no namespace but those that need it reaches IMDS on a node whose role assumes store roles', () => {
  let exposedBefore = 0;
  it.each(cases)('%s', (_label, load) => {
    const p = load();
    const needs = imdsNamespaces(resolveAddons(p.model));
    const reach = imdsToAssumers(p);
    for (const r of reach) expect(needs.has(r.namespace), `${r.namespace} reaches ${r.role}`).toBe(true);
    // The fixture is not vacuous when a node role assumes a store role: its own namespace reaches it.
    const plan = awsPlan(p.model, p.model.aws.images);
    if (plan.storeRoles.length > 0 && p.model.aws.iam.mode === 'instance-profile') {
      exposedBefore += 1;
      expect(reach.map((r) => r.namespace)).toContain('external-secrets');
    }
  });
  it('the cases include instance-profile environments with store roles (K3s, RKE2 and Talos)', () => expect(exposedBefore).toBeGreaterThanOrEqual(10));
});

describe('the denial is rendered where a CNI enforces it', () => {
  it('K3s with an untainted controllers pool: every add-on namespace but kube-system and external-secrets has exactly one odp-deny-imds', () => {
    const { name, sources } = fixtureSources('valid', 'k3s-flux.yaml');
    const p = prepared(name, sources);
    expect(networkPolicyEnforcer(p.model)).toBe("K3s' embedded network policy controller (kube-router)");
    const policies = objectsOf(renderEnvironment(p)).filter((o) => o.kind === 'NetworkPolicy' && o.metadata?.name === IMDS_DENY_POLICY);
    const namespaces = [...new Set(resolveAddons(p.model).map((a) => a.namespace))].filter((n) => !['kube-system', 'external-secrets'].includes(n)).sort();
    expect(namespaces).toStrictEqual(['cert-manager', 'flux-system', 'monitoring', 'nvidia-device-plugin', 'system-upgrade']);
    expect(policies.map((o) => o.metadata.namespace).sort()).toStrictEqual(namespaces);
    for (const o of policies)
      expect(o.spec).toStrictEqual({
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: {} }] }, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] } }] }],
      });
  });

  it('every add-on with IAM statements on a node role is one whose namespace keeps IMDS (CatalogEntry.nodeCredentials)', () => {
    let granted = 0;
    for (const [label, load] of cases) {
      const p = load();
      const addons = resolveAddons(p.model);
      const plan = awsPlan(p.model, p.model.aws.images);
      const needs = imdsNamespaces(addons);
      for (const name of plan.roles.flatMap((r) => r.grants.flatMap((g) => g.addon ?? []))) {
        granted += 1;
        const a = addons.find((x) => x.name === name);
        expect(a && needs.has(a.namespace), `${label}: ${name}`).toBe(true);
      }
      // The distribution's control-plane pods with the node's credentials (Talos' etcd-backup) too.
      for (const who of plan.facts.controlPlanePodsWithNodeCredentials(p.model)) {
        const a = addons.find((x) => x.name === who.split(/[\s(]/)[0]);
        expect(a && needs.has(a.namespace), `${label}: ${who}`).toBe(true);
      }
    }
    expect(granted).toBeGreaterThan(0);
  });

  it('Talos v1.12 with flannel enforces nothing: no denial rendered, and secret-access refuses the untainted controllers pool; with Cilium the denial closes the route', () => {
    const { name, sources } = fixtureSources('invalid', 'secret-access-imds-pool.yaml');
    const r = prepareEnvironment(name, sources);
    expect(r.prepared).toBeUndefined();
    expect(formatted(r).filter((l) => !l.includes(': warning: ')).map((l) => l.split('  ')[1]?.split(':')[0])).toStrictEqual(['nodePools[1]']);
    const text = sources.get(`environments/${name}.yaml`)!;
    sources.set(`environments/${name}.yaml`, text.replace('  kubernetesVersion: 1.35.4\n', '  kubernetesVersion: 1.35.4\n  network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, cni: cilium }\n'));
    const p = prepared(name, sources);
    expect(networkPolicyEnforcer(p.model)).toBe('Cilium');
    expect(imdsToAssumers(p).map((x) => x.namespace).sort()).toStrictEqual(['external-secrets', 'kube-system']);
    const denied = resolveAddons(p.model).flatMap((a) => a.manifests.filter((o) => o.metadata.name === IMDS_DENY_POLICY).map((o) => o.metadata.namespace));
    expect(denied.sort()).toStrictEqual(['argocd', 'cert-manager', 'monitoring']);
  });
});

/**
 * The denial holds only if no other policy selecting the namespace's pods allows IMDS (policies are additive). The
 * rendered tree's policies and those an engine's installer adds there (the Flux Operator's allow-egress, whose
 * `egress: [{}]` opens everything: test/support/netpol.ts) are evaluated together. Helm charts' own policies are
 * not rendered here; at the pinned versions none of the denied namespaces' charts renders an egress rule by default
 * (argo-cd 10.1.1 networkpolicies are Ingress only, templates/argocd-repo-server/networkpolicy.yaml; cert-manager and
 * kube-prometheus-stack default networkPolicy.enabled: false, ../shared/upstream/charts/*\/values.yaml).
 */
describe('no other policy reopens IMDS in a namespace that denies it, and other link-local addresses stay reachable', () => {
  const policiesOf = (p: ReturnType<typeof prepared>, patched = true): { policies: Policy[]; denied: string[] } => {
    const objects = objectsOf(renderEnvironment(p));
    const instances = objects.filter((o) => o.kind === 'FluxInstance').map((o) => (patched ? o : { ...o, spec: { ...o.spec, kustomize: undefined } }));
    const policies = [...objects.filter((o) => o.kind === 'NetworkPolicy'), ...instances.flatMap((i) => fluxOperatorPolicies(i as never))] as Policy[];
    return { policies, denied: [...new Set(policies.filter((o) => o.metadata.name === IMDS_DENY_POLICY).map((o) => o.metadata.namespace!))].sort() };
  };
  let fluxDenied = 0;
  it.each(cases)('%s', (_label, load) => {
    const p = load();
    const { policies, denied } = policiesOf(p);
    if (denied.includes('flux-system')) fluxDenied += 1;
    for (const ns of denied) {
      expect(egressReaches(policies, ns, '169.254.169.254'), `${ns} reaches IMDS`).toBe(false);
      // NodeLocal DNS's usual address, the Amazon DNS resolver and Time Sync (link-local, not IMDS), a Service IP.
      for (const ip of ['169.254.20.10', '169.254.169.253', '169.254.169.123', '10.43.0.10']) expect(egressReaches(policies, ns, ip), `${ns} → ${ip}`).toBe(true);
      // CoreDNS and every other pod: the namespaceSelector {} peer of the denial.
      expect(policies.some((o) => o.metadata.namespace === ns && o.metadata.name === IMDS_DENY_POLICY && o.spec.egress?.some((r) => r.to?.some((t) => JSON.stringify(t) === '{"namespaceSelector":{}}')))).toBe(true);
    }
  });
  it('Flux environments deny IMDS in flux-system, and without the FluxInstance patch the operator allow-egress would reopen it', () => {
    expect(fluxDenied).toBeGreaterThanOrEqual(3);
    const { name, sources } = fixtureSources('valid', 'k3s-flux.yaml');
    const { policies, denied } = policiesOf(prepared(name, sources), false);
    expect(denied).toContain('flux-system');
    expect(egressReaches(policies, 'flux-system', '169.254.169.254')).toBe(true);
    expect(egressReaches(policies, 'cert-manager', '169.254.169.254')).toBe(false);
  });
  it('the evaluator: no egress policy allows all; an empty rule allows all; except removes its block; pod peers match no address', () => {
    const pol = (egress: Policy['spec']['egress']): Policy => ({ metadata: { name: 'p', namespace: 'n' }, spec: { policyTypes: ['Egress'], podSelector: {}, egress } });
    expect(egressReaches([], 'n', '169.254.169.254')).toBe(true);
    expect(egressReaches([pol([{}])], 'n', '169.254.169.254')).toBe(true);
    expect(egressReaches([pol([{ to: [{ namespaceSelector: {} }] }])], 'n', '169.254.169.254')).toBe(false);
    expect(egressReaches([pol([{ to: [{ ipBlock: { cidr: '169.254.0.0/16', except: ['169.254.169.254/32'] } }] }])], 'n', '169.254.169.254')).toBe(false);
    expect(egressReaches([pol([{ to: [{ ipBlock: { cidr: '169.254.0.0/16', except: ['169.254.169.254/32'] } }] }])], 'n', '169.254.169.253')).toBe(true);
    expect(egressReaches([pol([])], 'other', '169.254.169.254')).toBe(true);
  });
});

/** k3s-flux (K3s' kube-router enforces policies; the controllers pool has hop limit 2) with `extra` appended. */
function k3sFluxWith(extra: string, workload = '') {
  const { name, sources } = fixtureSources('valid', 'k3s-flux.yaml');
  sources.set(`environments/${name}.yaml`, `${sources.get(`environments/${name}.yaml`)!.replace('\nworkloads:\n', `\nworkloads:\n${workload}`)}${extra}`);
  return prepared(name, sources);
}

describe('every namespace an add-on writes into keeps IMDS for a reason, is denied, or is a workload namespace (default-deny)', () => {
  it.each(cases)('%s', (_label, load) => {
    const p = load();
    const addons = resolveAddons(p.model);
    const enforced = networkPolicyEnforcer(p.model) !== undefined;
    const needs = imdsNamespaces(addons);
    const denied = new Set(addons.flatMap((a) => a.manifests.filter((o) => o.metadata.name === IMDS_DENY_POLICY).map((o) => o.metadata.namespace!)));
    const workloads = new Set(p.model.workloads.map((w) => w.namespace));
    for (const a of addons) {
      const outside = [...a.extraNamespaces, ...a.manifests.flatMap((o) => (o.metadata.namespace && o.metadata.namespace !== a.namespace ? [o.metadata.namespace] : []))];
      for (const ns of [a.namespace, ...outside])
        expect(needs.has(ns) || workloads.has(ns) || !enforced || denied.has(ns), `${a.name} writes into ${ns}`).toBe(true);
    }
  });
});

describe("an add-on's extra namespaces get the denial from the add-on that writes there (one owner each)", () => {
  // A third-party chart writing into `default` (a system namespace no add-on owns) and into one it creates.
  const extra = [
    'addons:',
    '  reloader:',
    '    chart: { repoURL: https://stakater.github.io/stakater-charts, name: reloader, version: 2.2.7 }',
    '    namespace: reloader',
    '    clusterResources: [/Namespace, rbac.authorization.k8s.io/ClusterRole, rbac.authorization.k8s.io/ClusterRoleBinding]',
    '    extraNamespaces: [default, reloader-jobs, monitoring, kube-system, shop]',
    '',
  ].join('\n');
  const workload = ['  - name: cart', '    namespace: shop', '    image: ghcr.io/opendev/cart:1.0.0', '    resources: { requests: { cpu: 100m, memory: 128Mi } }', ''].join('\n');

  it('default and the chart-created namespace get one denial each, carried by the chart; kube-system, monitoring (its own add-on) and the workload namespace none from it', () => {
    const p = k3sFluxWith(extra, workload);
    const addons = resolveAddons(p.model);
    const owners = addons.flatMap((a) => a.manifests.filter((o) => o.metadata.name === IMDS_DENY_POLICY).map((o) => `${o.metadata.namespace} ← ${a.name}`));
    expect(owners.filter((o) => /^(default|reloader-jobs|reloader|kube-system|shop) /.test(o)).sort()).toStrictEqual(['default ← reloader', 'reloader ← reloader', 'reloader-jobs ← reloader']);
    expect(owners.filter((o) => o.startsWith('monitoring '))).toStrictEqual(['monitoring ← kube-prometheus-stack']);
    // The rendered tree holds each once, and every policy evaluated together keeps IMDS closed there.
    const objects = objectsOf(renderEnvironment(p));
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy') as Policy[];
    for (const ns of ['default', 'reloader-jobs']) {
      expect(policies.filter((o) => o.metadata.name === IMDS_DENY_POLICY && o.metadata.namespace === ns)).toHaveLength(1);
      expect(egressReaches(policies, ns, '169.254.169.254'), ns).toBe(false);
    }
    // The access graph counts the chart's pods there, and none reaches a node role that assumes a store role.
    expect(imdsToAssumers(p).map((r) => r.namespace).sort()).toStrictEqual(['external-secrets', 'kube-system']);
  });
  it.each(['k3s-flux.yaml', 'eso-irsa.yaml'])('%s (Flux, Argo CD): the rendered tree with those denials passes its checks', async (file) => {
    const { name, sources } = fixtureSources('valid', file);
    const text = sources.get(`environments/${name}.yaml`)!;
    sources.set(`environments/${name}.yaml`, text.includes('\naddons:\n') ? text.replace('\naddons:\n', `\n${extra}`) : `${text}${extra}`);
    const p = prepared(name, sources);
    const files = renderEnvironment(p);
    expect(files.some((f) => f.path === 'manifests/reloader/networkpolicy-default-odp-deny-imds.yaml')).toBe(true);
    const found = await checkRenderedTree(parseRenderedTree(new Map(files.map((f) => [`${name}/${f.path}`, f.content]))));
    expect(found.map((d) => `${formatDiagnostic(d)} [${d.rule}]`)).toStrictEqual([]);
  });
});

describe('etcd-backup with a role of its own (aws.iam.mode irsa) takes no node credentials, so its namespace is denied IMDS', () => {
  const backupGrants = (p: ReturnType<typeof prepared>) => awsPlan(p.model, p.model.aws.images).roles.flatMap((r) => r.grants.filter((g) => g.id === 'etcd-snapshots').map(() => r.kind));
  it('irsa-roles: the job assumes its web identity; etcd-backup has the denial and no node role holds the snapshot grant', () => {
    const { name, sources } = fixtureSources('valid', 'irsa-roles.yaml');
    const p = prepared(name, sources);
    const addons = resolveAddons(p.model);
    expect(imdsNamespaces(addons).has('etcd-backup')).toBe(false);
    expect(addons.flatMap((a) => a.manifests.filter((o) => o.metadata.name === IMDS_DENY_POLICY && o.metadata.namespace === 'etcd-backup').map(() => a.name))).toStrictEqual(['etcd-backup']);
    expect(backupGrants(p)).toStrictEqual([]);
    expect(awsPlan(p.model, p.model.aws.images).irsa?.roles.map((r) => `${r.namespace}/${r.serviceAccount}`)).toContain('etcd-backup/etcd-backup');
  });
  it('without its iamRoleArn the job still has a role of its own, <cluster>-etcd-backup, which the AWS layer creates', () => {
    const { name, sources } = fixtureSources('valid', 'irsa-roles.yaml');
    const text = sources.get(`environments/${name}.yaml`)!;
    sources.set(`environments/${name}.yaml`, text.replace('    settings: { iamRoleArn: "arn:aws:iam::111111111111:role/odp-fixture/etcd-backup" }\n', '    enabled: true\n'));
    const p = prepared(name, sources);
    expect(imdsNamespaces(resolveAddons(p.model)).has('etcd-backup')).toBe(false);
    expect(backupGrants(p)).toStrictEqual([]);
    const role = awsPlan(p.model, p.model.aws.images).irsa?.roles.find((r) => r.namespace === 'etcd-backup');
    expect(role && { arn: role.arn, sa: role.serviceAccount, actions: role.statements.flatMap((st) => st.Action) }).toStrictEqual({ arn: 'arn:aws:iam::111111111111:role/fixture-etcd-backup', sa: 'etcd-backup', actions: ['s3:PutObject'] });
  });
  it('instance-profile mode: the job uploads with the control-plane role, so etcd-backup keeps IMDS', () => {
    const { name, sources } = fixtureSources('valid', 'irsa-roles.yaml');
    const text = sources.get(`environments/${name}.yaml`)!;
    sources.set(
      `environments/${name}.yaml`,
      text
        .replace('aws:\n  iam: { mode: irsa, issuerURL: https://oidc.fixture.example/irsa }\n', '')
        .replace(/    settings: \{ iamRoleArn: [^\n]*\n/g, '    enabled: true\n')
        .replace('    serviceAccount: { iamRoleArn: "arn:aws:iam::111111111111:role/odp-fixture-exporter" }\n', ''),
    );
    const p = prepared(name, sources);
    expect(imdsNamespaces(resolveAddons(p.model)).has('etcd-backup')).toBe(true);
    expect(backupGrants(p)).toStrictEqual(['controlplane']);
  });
});

/**
 * Rule imds-denied-credentials (validate/imds-credentials.ts): values that leave an add-on's pods to the AWS SDK's
 * default chain in a namespace denied IMDS are refused at the value (catalog/ambient-credentials.ts).
 */
describe('credentials that would fail silently in a namespace denied IMDS are refused at the value', () => {
  const { name, sources } = fixtureSources('invalid', 'imds-denied-credentials.yaml');
  const file = `environments/${name}.yaml`;
  const header = sources.get(file)!.split('addons:\n')[0]!;
  /** The fixture with `addons:` replaced, optionally on Talos 1.12 (its flannel enforces nothing: no denial). */
  const errors = (addons: string, extra = '') => {
    const s = new Map(sources);
    s.set(file, `${header}${extra}addons:\n${addons}`);
    const r = prepareEnvironment(name, s);
    return r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.rule} ${formatPathOf(d.path)}`);
  };
  const formatPathOf = (p: readonly (string | number)[]) => p.map((x) => (typeof x === 'number' ? `[${x}]` : `.${x}`)).join('').slice(1);
  const kps = (values: string) => `  kube-prometheus-stack:\n    values:\n${values}`;

  it.each(AMBIENT_CREDENTIAL_USES.map((u) => [u.path, u] as const))('%s: refused without credentials of its own', (_p, use) => {
    const keys = use.path.split('.');
    const leaf = use.path.endsWith('sigv4') || use.path.endsWith('_sd_configs[]') ? '{ region: eu-west-1 }' : '{ type: S3, config: { bucket: b, endpoint: s3.eu-west-1.amazonaws.com } }';
    const yaml = keys.reduceRight((inner, k, i) => {
      const pad = '      ' + '  '.repeat(i);
      return k.endsWith('[]') ? `${pad}${k.slice(0, -2)}:\n${pad}  - ${inner.trimStart().replace(/\n/g, '\n  ')}` : `${pad}${k}:${inner.startsWith('{') ? ` ${inner}` : `\n${inner}`}`;
    }, leaf);
    const found = errors(kps(`${yaml}\n`));
    const at = `addons.kube-prometheus-stack.values.${use.path.replace(/\[\]/g, '[0]')}`;
    expect(found).toStrictEqual([`imds-denied-credentials ${at}`]);
  });
  it('accepted: static keys from a Secret, a web identity in the values, or a namespace that keeps IMDS', () => {
    const keyed = '      prometheus:\n        prometheusSpec:\n          remoteWrite:\n            - url: https://aps.example/api/v1/remote_write\n              sigv4: { region: eu-west-1, accessKey: { name: amp, key: id }, secretKey: { name: amp, key: secret } }\n';
    expect(errors(kps(keyed))).toStrictEqual([]);
    const s3 = '      prometheus:\n        prometheusSpec:\n          thanos:\n            objectStorageConfig:\n              secret: { type: S3, config: { bucket: b, endpoint: e, access_key: a, secret_key: s } }\n';
    expect(errors(kps(s3))).toStrictEqual([]);
    const bare = '      prometheus:\n        prometheusSpec:\n          remoteWrite:\n            - url: https://aps.example/api/v1/remote_write\n              sigv4: { region: eu-west-1 }\n';
    const web = '          containers:\n            - name: prometheus\n              env: [{ name: AWS_WEB_IDENTITY_TOKEN_FILE, value: /var/run/secrets/sts/token }, { name: AWS_ROLE_ARN, value: "arn:aws:iam::111111111111:role/amp" }]\n';
    expect(errors(kps(`${bare}${web}`))).toStrictEqual([]);
    // Talos 1.12's flannel enforces no policy: no denial, so nothing to refuse here (secret-access judges the route).
    expect(errors(kps(bare), 'cluster:\n  talosVersion: v1.12.11\n  kubernetesVersion: 1.35.4\n').filter((e) => e.startsWith('imds-denied-credentials'))).toStrictEqual([]);
    expect(errors(kps(bare))).toStrictEqual(['imds-denied-credentials addons.kube-prometheus-stack.values.prometheus.prometheusSpec.remoteWrite[0].sigv4']);
  });
  it("the annotation only where the namespace is denied: external-secrets' namespace keeps IMDS", () => {
    const annotated = (addon: string) => `  ${addon}:\n    values:\n      serviceAccount:\n        annotations:\n          eks.amazonaws.com/role-arn: "arn:aws:iam::111111111111:role/x"\n`;
    expect(errors(annotated('cert-manager'))).toStrictEqual(['imds-denied-credentials addons.cert-manager.values.serviceAccount.annotations.eks.amazonaws.com/role-arn']);
    expect(errors(annotated('external-secrets')).filter((e) => e.startsWith('imds-denied-credentials'))).toStrictEqual([]);
  });
});
