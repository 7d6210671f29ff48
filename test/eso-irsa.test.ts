import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { formatKubeIssue, loadKubernetesValidator } from '../generators/validate/kubernetes.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { fixtureSources, formatted, renderExample, SHARED } from './helpers.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, any>; [k: string]: unknown };

const K8S_SCHEMAS = join(SHARED, 'upstream', 'kubernetes', '1.34');
const ESO_STORE_CRD = join(SHARED, 'upstream', 'crds', 'external-secrets', 'v2.9.0', 'external-secrets.io_clustersecretstores.yaml');
const ROLE = 'arn:aws:iam::111111111111:role/odp-fixture-eso';
const STORE_FILE = 'manifests/external-secrets-store-monitoring/clustersecretstore-aws-ssm-parameter-store-monitoring.yaml';

/** The eso-irsa fixture (aws.iam.mode irsa, addons.external-secrets.settings.iamRoleArn), with one edit. */
function prepare(edit: (text: string) => string = (t) => t) {
  const { name, sources } = fixtureSources('valid', 'eso-irsa.yaml');
  sources.set(`environments/${name}.yaml`, edit(sources.get(`environments/${name}.yaml`)!));
  return prepareEnvironment(name, sources);
}
const errors = (r: ReturnType<typeof prepare>) => formatted(r).filter((l) => !l.includes(': warning: '));
function render(edit?: (text: string) => string) {
  const r = prepare(edit);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
}
const objects = (files: { path: string; content: string }[], prefix: string): Obj[] =>
  files.filter((f) => f.path.startsWith(prefix) && f.path.endsWith('.yaml')).flatMap((f) => parseYamlStream(f.content) as Obj[]);

describe('External Secrets with IRSA: the store assumes its own role through JWT auth', () => {
  const files = render();
  const eso = objects(files, 'manifests/external-secrets');
  const store = eso.find((o) => o.kind === 'ClusterSecretStore')!;
  const sa = eso.find((o) => o.kind === 'ServiceAccount')!;

  it('renders ServiceAccount ssm-reader carrying the role, with no token mounted', () => {
    expect(eso.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toStrictEqual(['ClusterSecretStore/aws-ssm-parameter-store-monitoring', 'Role/ssm-reader-token', 'RoleBinding/ssm-reader-token', 'ServiceAccount/ssm-reader']);
    expect(sa).toStrictEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'ssm-reader', namespace: 'external-secrets', annotations: { 'eks.amazonaws.com/role-arn': ROLE } },
      automountServiceAccountToken: false,
    });
  });

  it('the controller may request tokens for ssm-reader only: a Role, not the chart\'s cluster-wide grant', () => {
    const byKind = (k: string) => eso.find((o) => o.kind === k)!;
    expect(byKind('Role')).toStrictEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'ssm-reader-token', namespace: 'external-secrets' },
      rules: [{ apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: ['ssm-reader'], verbs: ['create'] }],
    });
    expect(byKind('RoleBinding')).toStrictEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'ssm-reader-token', namespace: 'external-secrets' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'ssm-reader-token' },
      subjects: [{ kind: 'ServiceAccount', name: 'external-secrets', namespace: 'external-secrets' }],
    });
    const values = parseYamlStream(files.find((f) => f.path === 'values/external-secrets.yaml')!.content)[0] as Record<string, unknown>;
    expect([values.rbac, values.serviceAccount]).toStrictEqual([{ serviceAccountTokenCreate: false }, { name: 'external-secrets' }]);
  });

  it('the ClusterSecretStore names that ServiceAccount with its namespace', () => {
    expect(store.spec!.provider).toStrictEqual({
      aws: { service: 'ParameterStore', region: 'eu-west-1', auth: { jwt: { serviceAccountRef: { name: 'ssm-reader', namespace: 'external-secrets' } } } },
    });
  });

  it.runIf(existsSync(ESO_STORE_CRD) && existsSync(K8S_SCHEMAS))('both validate strictly (the store against the ESO 2.9.0 CRD)', () => {
    const v = loadKubernetesValidator(K8S_SCHEMAS, [ESO_STORE_CRD]);
    for (const o of [store, sa, ...eso.filter((x) => x.kind === 'Role' || x.kind === 'RoleBinding')]) expect(v.validate(o).map((i) => formatKubeIssue(o.kind, i))).toStrictEqual([]);
    // The strict check sees into the auth block.
    const bad = { ...store, spec: { ...store.spec, provider: { aws: { ...store.spec!.provider.aws, auth: { jwt: { serviceAccountRef: { name: 'ssm-reader', namespace: 'external-secrets', role: ROLE } } } } } } };
    expect(v.validate(bad).map((i) => formatKubeIssue('store', i)).join('\n')).toContain('role');
  });

  it('the rendered tree passes every check (AppProject destinations, references, schemas)', async () => {
    const tree = parseRenderedTree(new Map(files.map((f) => [`eso-irsa/${f.path}`, f.content])));
    expect((await checkRenderedTree(tree)).map(formatDiagnostic)).toStrictEqual([]);
    const project = objects(files, 'argocd/').find((o) => o.kind === 'AppProject' && o.metadata.name === 'platform')!;
    expect(project.spec!.destinations).toContainEqual({ server: 'https://kubernetes.default.svc', namespace: 'external-secrets' });
    expect(project.spec!.namespaceResourceBlacklist).toBeUndefined();
    expect(project.spec!.namespaceResourceWhitelist).toBeUndefined();
  });

  it("the environment's README says ESO uses its own role, not the instance profile", () => {
    const readme = files.find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain("the AWS Load Balancer\nController and the EBS CSI controller get the instance profile's\ncredentials from IMDS");
    expect(readme).toContain(`External Secrets reads SSM with its own role\n(IRSA): the ClusterSecretStore's JWT auth names ServiceAccount \`external-secrets/ssm-reader\`, annotated with\n\`${ROLE}\``);
  });

  it('a store reference without namespace, or to a ServiceAccount not rendered, is reported', async () => {
    const without = files.map((f) =>
      f.path === STORE_FILE ? { ...f, content: f.content.replace(/\n(\s+)namespace: external-secrets\n/, '\n') } : f,
    );
    expect(without.find((f) => f.path === STORE_FILE)!.content).not.toContain('namespace: external-secrets');
    const tree = (fs: typeof files) => parseRenderedTree(new Map(fs.map((f) => [`eso-irsa/${f.path}`, f.content])));
    expect((await checkRenderedTree(tree(without))).map(formatDiagnostic)).toStrictEqual([
      expect.stringContaining("the ClusterSecretStore's serviceAccountRef 'ssm-reader' has no namespace"),
    ]);
    const noSa = files.filter((f) => !f.path.startsWith('manifests/external-secrets/serviceaccount-'));
    expect(noSa.length).toBe(files.length - 1);
    expect((await checkRenderedTree(tree(noSa))).map(formatDiagnostic)).toStrictEqual([expect.stringContaining("ServiceAccount 'external-secrets/ssm-reader' is not rendered")]);
  });

  it('a values override renaming the controller\'s ServiceAccount (the Role binds it by name) is refused', () => {
    const r = prepare((t) => `${t}    values: { serviceAccount: { name: eso } }\n`);
    expect(errors(r)).toStrictEqual([expect.stringMatching(/^environments\/eso-irsa\.yaml:11:\d+  addons\.external-secrets\.values\.serviceAccount\.name: the Roles that let the controller request the tokens of the stores' ServiceAccounts \(ssm-reader-<namespace>, ssm-reader\) are bound to ServiceAccount external-secrets/)]);
  });

  it('a value that is not an IAM role ARN is refused', () => {
    const r = prepare((t) => t.replace(ROLE, 'arn:aws:iam::111111111111:user/eso'));
    expect(errors(r)).toStrictEqual(["environments/eso-irsa.yaml:10:19  addons.external-secrets.settings.iamRoleArn: 'arn:aws:iam::111111111111:user/eso' is not an IAM role ARN  (expected arn:aws:iam::111111111111:role/<name>)"]);
  });

  it("without a role, each namespace's store has a web identity of its own: ServiceAccount ssm-reader-<ns>, role <cluster>-external-secrets-<ns>", () => {
    const plain = objects(render((t) => t.replace(/addons:[\s\S]*$/, '')), 'manifests/external-secrets');
    expect(plain.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toStrictEqual([
      'ClusterSecretStore/aws-ssm-parameter-store-monitoring',
      'Role/ssm-reader-monitoring-token',
      'RoleBinding/ssm-reader-monitoring-token',
      'ServiceAccount/ssm-reader-monitoring',
    ]);
    // external-secrets v2.9.0 providers/v1/aws/auth/auth.go: the JWT auth reads the ServiceAccount's role-arn annotation.
    expect(plain.find((o) => o.kind === 'ServiceAccount')!.metadata.annotations).toStrictEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111111111111:role/fixture-external-secrets-monitoring' });
    expect(plain.find((o) => o.kind === 'ClusterSecretStore')!.spec!.provider).toStrictEqual({
      aws: { service: 'ParameterStore', region: 'eu-west-1', auth: { jwt: { serviceAccountRef: { name: 'ssm-reader-monitoring', namespace: 'external-secrets' } } } },
    });
  });
});

describe('instance-profile environments: the platform store assumes a role scoped to what it serves, never reads as the node', () => {
  it.each(['staging', 'prod'])("%s: each namespace's store has no auth block, a role of its own and no ServiceAccount is rendered for ESO", (env) => {
    const eso = objects(renderExample(env), 'manifests/external-secrets');
    expect(new Set(eso.map((o) => o.kind))).toStrictEqual(new Set(['ClusterSecretStore']));
    expect(eso.length).toBeGreaterThan(1);
    for (const s of eso) {
      const ns = s.spec!.conditions[0].namespaces[0];
      expect(Object.keys(s.spec!.provider.aws).sort()).toStrictEqual(['region', 'role', 'service']);
      expect(s.spec!.provider.aws.role).toMatch(new RegExp(`:role/odp-${env}-external-secrets-${ns}$`));
    }
  });
});
