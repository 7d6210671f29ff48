/**
 * One ClusterSecretStore and one IAM role per namespace that holds a platform ExternalSecret.
 * Upstream facts relied on: a ClusterSecretStore admits exactly the namespaces its `conditions` name
 * (external-secrets v2.9.0 apis/externalsecrets/v1/secretstore_types.go:49-51, 91-106;
 * pkg/controllers/secretstore/client_manager.go:227-278, `namespaces` turned into
 * kubernetes.io/metadata.name selectors at 247-252); a store without `auth` assumes `role` with the
 * controller's default credentials, a store with `auth.jwt.serviceAccountRef` requests that
 * ServiceAccount's token and assumes its annotated role with web identity
 * (providers/v1/aws/auth/auth.go:74-130; research/day2.md §14d-e).
 */
import { describe, expect, it } from 'vitest';
import { fitRoleName, storeRoleName } from '../generators/catalog/secret-stores.js';
import { awsPlan } from '../generators/infra/aws/plan.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { deliveryGraph } from '../generators/plan/graph.js';
import { cap } from '../generators/plan/needs.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { accessGraph, explainAccess, routesTo } from '../generators/validate/access.js';
import { fixtureSources, formatted } from './helpers.js';

type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, any>; [k: string]: any };

const GRAFANA = '/odp/namespace-stores/grafana/admin-password';
const ROLE = (name: string) => `arn:aws:iam::111111111111:role/${name}`;

function prepare(edit: (text: string) => string = (t) => t) {
  const { name, sources } = fixtureSources('valid', 'namespace-stores.yaml');
  sources.set(`environments/${name}.yaml`, edit(sources.get(`environments/${name}.yaml`)!));
  return prepareEnvironment(name, sources);
}
function prepared(edit?: (text: string) => string) {
  const r = prepare(edit);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return r;
}
const objects = (files: { path: string; content: string }[], prefix: string): Obj[] =>
  files.filter((f) => f.path.startsWith(prefix) && f.path.endsWith('.yaml')).flatMap((f) => parseYamlStream(f.content) as Obj[]);
const IRSA = (t: string) => t.replace('extends: _fixture\n', 'extends: _fixture\naws:\n  iam: { mode: irsa, issuerURL: https://oidc.fixture.example }\n');
const SHARED = (t: string) => `${IRSA(t)}addons:\n  external-secrets:\n    settings:\n      iamRoleArn: "${ROLE('odp-fixture-eso')}"\n`;

describe('per-namespace stores (node roles assume each store role)', () => {
  const r = prepared();
  const files = renderEnvironment(r.prepared!);
  const eso = objects(files, 'manifests/external-secrets');
  const plan = awsPlan(r.prepared!.model, r.prepared!.model.aws.images);

  it('renders one ClusterSecretStore per consumer namespace, each admitting that namespace only, with a role of its own', () => {
    expect(eso.map((o) => [o.kind, o.metadata.name, o.spec!.conditions, o.spec!.provider.aws.role])).toStrictEqual(
      ['monitoring', 'qa', 'shop'].map((ns) => ['ClusterSecretStore', `aws-ssm-parameter-store-${ns}`, [{ namespaces: [ns] }], ROLE(`fixture-external-secrets-${ns}`)]),
    );
  });

  it("every ExternalSecret names its own namespace's store", () => {
    const refs = objects(files, 'manifests/').filter((o) => o.kind === 'ExternalSecret').map((o) => `${o.metadata.namespace}: ${o.spec!.secretStoreRef.name}`);
    expect(refs.sort()).toStrictEqual(['monitoring: aws-ssm-parameter-store-monitoring', 'qa: aws-ssm-parameter-store-qa', 'shop: aws-ssm-parameter-store-shop']);
  });

  it("each store role reads exactly its namespace's parameters; the node roles running ESO may assume every one of them", () => {
    const reads = (s: (typeof plan.storeRoles)[number]) => s.statements.flatMap((x) => x.Resource).map((a) => String(a).replace(/^arn:aws:ssm:eu-west-1:111111111111:parameter/, ''));
    expect(plan.storeRoles.map((s) => [s.name, reads(s)])).toStrictEqual([
      ['fixture-external-secrets-monitoring', ['/odp/namespace-stores/grafana/admin-password', '/odp/namespace-stores/grafana/admin-user']],
      ['fixture-external-secrets-qa', ['/odp/namespace-stores/web/token']],
      ['fixture-external-secrets-shop', ['/odp/namespace-stores/shop/database-url', '/odp/namespace-stores/shop/payment-key']],
    ]);
    const assume = plan.roles.flatMap((x) => x.grants).find((g) => g.id === 'external-secrets')!.statements[0]!;
    expect(assume.Resource).toStrictEqual(plan.storeRoles.map((s) => s.arn));
    // The AWS layer creates each, trusted by those node roles only: on Talos the controllers, ESO among them,
    // run on the control planes (infra/aws/plan.ts controllers placement), so the control planes' role.
    expect(plan.roles.filter((x) => x.grants.some((g) => g.id === 'external-secrets')).map((x) => x.kind)).toStrictEqual(['controlplane']);
    const base = parseYamlStream(files.find((f) => f.path === 'aws/base.yaml')!.content)[0] as { Resources: Record<string, any> };
    const roles = Object.values(base.Resources).filter((x) => x.Type === 'AWS::IAM::Role' && /external-secrets-/.test(x.Properties.RoleName));
    expect(roles.map((x) => x.Properties.RoleName)).toStrictEqual(plan.storeRoles.map((s) => s.name));
    for (const x of roles) expect(x.Properties.AssumeRolePolicyDocument.Statement).toStrictEqual([{ Effect: 'Allow', Principal: { AWS: [{ 'Fn::GetAtt': ['ControlPlaneRole', 'Arn'] }] }, Action: 'sts:AssumeRole' }]);
  });

  it("the route from qa to Grafana's password is gone: only monitoring's store reaches it", () => {
    const g = accessGraph(r.prepared!.resolved, r.prepared!.model);
    expect(routesTo(g, GRAFANA).filter((x) => x.route === 'store').map((x) => x.steps.join(' → '))).toStrictEqual([
      `namespace monitoring → ClusterSecretStore aws-ssm-parameter-store-monitoring → role fixture-external-secrets-monitoring → ${GRAFANA}`,
    ]);
    expect(explainAccess(r.prepared!.resolved, r.prepared!.model, GRAFANA)).not.toMatch(/namespace (qa|shop) → ClusterSecretStore/);
    expect(explainAccess(r.prepared!.resolved, r.prepared!.model, '/odp/namespace-stores/shop/payment-key')).toContain(
      '- namespace shop → ClusterSecretStore aws-ssm-parameter-store-shop → role fixture-external-secrets-shop → /odp/namespace-stores/shop/payment-key',
    );
    expect(r.diagnostics.filter((d) => d.rule === 'secret-access')).toStrictEqual([]);
  });
});

describe('per-namespace stores with aws.iam.mode irsa', () => {
  const r = prepared(IRSA);
  const files = renderEnvironment(r.prepared!);
  const eso = objects(files, 'manifests/external-secrets');
  const plan = awsPlan(r.prepared!.model, r.prepared!.model.aws.images);

  it('each store authenticates as ServiceAccount ssm-reader-<ns>, annotated with its own role; the controller may request only those tokens', () => {
    for (const ns of ['monitoring', 'qa', 'shop']) {
      const store = eso.find((o) => o.kind === 'ClusterSecretStore' && o.metadata.name === `aws-ssm-parameter-store-${ns}`)!;
      expect(store.spec!.provider.aws.auth).toStrictEqual({ jwt: { serviceAccountRef: { name: `ssm-reader-${ns}`, namespace: 'external-secrets' } } });
      expect(eso.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === `ssm-reader-${ns}`)!.metadata.annotations).toStrictEqual({ 'eks.amazonaws.com/role-arn': ROLE(`fixture-external-secrets-${ns}`) });
      expect(eso.find((o) => o.kind === 'Role' && o.metadata.name === `ssm-reader-${ns}-token`)!.rules).toStrictEqual([{ apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: [`ssm-reader-${ns}`], verbs: ['create'] }]);
    }
    // No node role assumes a store role any more.
    expect(plan.storeRoles).toStrictEqual([]);
    expect(plan.roles.flatMap((x) => x.grants).map((g) => g.id)).not.toContain('external-secrets');
  });

  it("each role's trust policy admits only its own ServiceAccount's web identity", () => {
    const base = parseYamlStream(files.find((f) => f.path === 'aws/base.yaml')!.content)[0] as { Resources: Record<string, any> };
    const trust = Object.values(base.Resources)
      .filter((x) => x.Type === 'AWS::IAM::Role' && /external-secrets-/.test(x.Properties.RoleName))
      .map((x) => [x.Properties.RoleName, x.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals['oidc.fixture.example:sub'], x.Properties.AssumeRolePolicyDocument.Statement[0].Action]);
    expect(trust).toStrictEqual(['monitoring', 'qa', 'shop'].map((ns) => [`fixture-external-secrets-${ns}`, `system:serviceaccount:external-secrets:ssm-reader-${ns}`, 'sts:AssumeRoleWithWebIdentity']));
    const g = accessGraph(r.prepared!.resolved, r.prepared!.model);
    expect(routesTo(g, GRAFANA).map((x) => x.steps[0])).toStrictEqual(['namespace monitoring']);
  });

  it("renaming ESO's controller ServiceAccount is refused without settings.iamRoleArn too (every store's token Role binds it)", () => {
    const bad = prepare((t) => `${IRSA(t)}addons:\n  external-secrets:\n    values: { serviceAccount: { name: eso } }\n`);
    expect(formatted(bad).filter((l) => !l.includes(': warning: '))).toStrictEqual([
      expect.stringMatching(/addons\.external-secrets\.values\.serviceAccount\.name: the Roles that let the controller request the tokens of the stores' ServiceAccounts/),
    ]);
  });
});

describe('one user-named role for every store (settings.iamRoleArn): the gap re-opens, a warning says so', () => {
  const r = prepared(SHARED);

  it('every store shares ServiceAccount ssm-reader and the role, which reads every namespace’s parameters', () => {
    const files = renderEnvironment(r.prepared!);
    const eso = objects(files, 'manifests/external-secrets');
    expect(eso.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name)).toStrictEqual(['ssm-reader']);
    expect(new Set(eso.filter((o) => o.kind === 'ClusterSecretStore').map((o) => o.spec!.provider.aws.auth.jwt.serviceAccountRef.name))).toStrictEqual(new Set(['ssm-reader']));
    const plan = awsPlan(r.prepared!.model, r.prepared!.model.aws.images);
    expect(plan.irsa!.roles.filter((x) => x.namespace === 'external-secrets').map((x) => x.name)).toStrictEqual(['odp-fixture-eso']);
  });

  it('rule secret-access warns at settings.iamRoleArn for each namespace that can read another\'s parameters', () => {
    expect(r.diagnostics.filter((d) => d.rule === 'secret-access').map((d) => [d.severity, d.path.join('.')])).toStrictEqual(
      Array.from({ length: 3 }, () => ['warning', 'addons.external-secrets.settings.iamRoleArn']),
    );
    const warnings = formatted(r).filter((l) => l.includes(': warning: namespace '));
    expect(warnings).toStrictEqual([
      expect.stringMatching(
        /^environments\/namespace-stores\.yaml:\d+:\d+ {2}addons\.external-secrets\.settings\.iamRoleArn: warning: namespace monitoring can read \/odp\/namespace-stores\/shop\/database-url, \/odp\/namespace-stores\/shop\/payment-key, \/odp\/namespace-stores\/web\/token through ClusterSecretStore aws-ssm-parameter-store-monitoring \(role odp-fixture-eso \(web identity of ServiceAccount external-secrets\/ssm-reader\)\), which none of its ExternalSecrets reads: settings\.iamRoleArn is one role for every namespace's store, so it reads every namespace's secrets {2}\(remove addons\.external-secrets\.settings\.iamRoleArn: each namespace's store then reads with a role of its own \(fixture-external-secrets-<namespace>, created by the AWS layer\), or acknowledge the warning with the reason\)$/,
      ),
      expect.stringContaining(`warning: namespace qa can read /odp/namespace-stores/grafana/admin-password, /odp/namespace-stores/grafana/admin-user, /odp/namespace-stores/shop/database-url and 1 more through ClusterSecretStore aws-ssm-parameter-store-qa`),
      expect.stringContaining('warning: namespace shop can read /odp/namespace-stores/grafana/admin-password, /odp/namespace-stores/grafana/admin-user, /odp/namespace-stores/web/token through ClusterSecretStore aws-ssm-parameter-store-shop'),
    ]);
    const g = accessGraph(r.prepared!.resolved, r.prepared!.model);
    expect(routesTo(g, GRAFANA).map((x) => x.steps[0]).sort()).toStrictEqual(['namespace monitoring', 'namespace qa', 'namespace shop']);
  });

  it('with one consumer namespace the shared role re-opens nothing: no warning', () => {
    const one = prepared((t) => SHARED(t.replace(/workloads:[\s\S]*?(?=addons:|$)/, '')));
    expect(one.diagnostics.filter((d) => d.rule === 'secret-access')).toStrictEqual([]);
  });
});

describe('role names fit IAM', () => {
  it('a name over 64 characters keeps 55 and a hash of the whole, deterministically', () => {
    const long = `fixture-external-secrets-${'n'.repeat(63)}`;
    const a = fitRoleName(long);
    expect(a).toHaveLength(64);
    expect(a).toMatch(/^fixture-external-secrets-n{30}-[0-9a-f]{8}$/);
    expect(fitRoleName(long)).toBe(a);
    expect(fitRoleName(`${long.slice(0, -1)}m`)).not.toBe(a);
    expect(fitRoleName('short')).toBe('short');
  });

  it('a 63-character namespace gets a role name of 64 characters, in the plan and the template', () => {
    const ns = `q${'a'.repeat(62)}`;
    const r = prepared((t) => t.replace('namespace: qa', `namespace: ${ns}`));
    const plan = awsPlan(r.prepared!.model, r.prepared!.model.aws.images);
    const role = plan.storeRoles.find((s) => s.store === `aws-ssm-parameter-store-${ns}`)!;
    expect(role.name).toBe(storeRoleName(r.prepared!.model, `aws-ssm-parameter-store-${ns}`));
    expect(role.name).toHaveLength(64);
    expect(role.arn).toBe(ROLE(role.name));
  });
});

describe('motion: first sync order and deleting a namespace', () => {
  it("each store is applied after ESO's chart (CRDs, webhook) and before the ExternalSecrets that name it", () => {
    const r = prepared();
    const g = deliveryGraph(r.prepared!.model);
    for (const [ns, consumer] of [['qa', 'web'], ['shop', 'shop'], ['monitoring', 'kube-prometheus-stack']] as const) {
      const what = cap.clusterSecretStore(`aws-ssm-parameter-store-${ns}`);
      const provider = g.steps.find((s) => s.provides.includes(what))!;
      // A unit of its own (test/store-containment.test.ts), waiting for the chart's CRD and webhook.
      expect(provider.unit!.name).toBe(`external-secrets-store-${ns}`);
      expect(g.edges.filter((e) => e.from === provider.id).map((e) => e.to)).toContain('external-secrets');
      const edges = g.edges.filter((e) => e.what === what);
      expect(edges.map((e) => [e.from.split('/')[0], e.to])).toContainEqual([consumer, provider.id]);
    }
    expect(g.unresolved).toStrictEqual([]);
  });

  it("removing a namespace's last secret removes its store and its role from the rendered tree (Argo CD and Flux prune it)", () => {
    // The store's unit goes: Argo CD's root prunes its Application, whose resources finalizer deletes the
    // store (rendered apps/external-secrets-store-<ns>.yaml); Flux's root Kustomization prunes the store's
    // Kustomization, which deletes its inventory (prune: true, no deletionPolicy Orphan;
    // fluxcd/kustomize-controller internal/controller/kustomization_controller.go:492-509 @ v1.9.1, research/sync-semantics.md F11.1).
    // CloudFormation deletes a role that leaves the template.
    const before = renderEnvironment(prepared().prepared!);
    const after = renderEnvironment(prepared((t) => t.replace(/ {2}- name: shop\n[\s\S]*$/, '')).prepared!);
    const stores = (fs: typeof before) => fs.filter((f) => /^manifests\/external-secrets[^/]*\/clustersecretstore-/.test(f.path)).map((f) => f.path);
    expect(stores(before)).toContain('manifests/external-secrets-store-shop/clustersecretstore-aws-ssm-parameter-store-shop.yaml');
    expect(before.map((f) => f.path)).toContain('apps/external-secrets-store-shop.yaml');
    expect(after.map((f) => f.path).filter((x) => x.includes('external-secrets-store-shop'))).toStrictEqual([]);
    expect(stores(after)).toStrictEqual(stores(before).filter((p) => !p.endsWith('-shop.yaml')));
    const base = (fs: typeof before) => fs.find((f) => f.path === 'aws/base.yaml')!.content;
    expect(base(before)).toContain('fixture-external-secrets-shop');
    expect(base(after)).not.toContain('fixture-external-secrets-shop');
  });
});
