import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRenderedDir } from '../generators/diff/sources.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { modelModule, validateObject } from '../generators/validate/k8s-models.js';
import { checkRenderedTree, documentsChecker, fileCheckers } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { parseImage } from '../generators/validate/rendered/policies.js';
import { listFiles } from '../generators/write/writer.js';
import { FIXTURES, renderedExamples, SHARED } from './helpers.js';

const read = (dir: string): Map<string, string> => new Map(listFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
const GOOD = join(FIXTURES, 'rendered-good');
const BAD = join(FIXTURES, 'rendered-bad');

async function check(files: Map<string, string>): Promise<string[]> {
  return (await checkRenderedTree(parseRenderedTree(files))).map((d) => `${formatDiagnostic(d)}  [${d.rule}]`);
}

describe('rendered-tree validation', () => {
  it('the rendered example tree passes', async () => {
    expect(await check(readRenderedDir(renderedExamples()))).toStrictEqual([]);
  });

  it('the good fixture tree (Argo CD, Flux, ESO, Prometheus Operator, cert-manager objects) passes', async () => {
    expect(await check(read(GOOD))).toStrictEqual([]);
  });

  /** Each bad fixture overlays the good tree with one broken file and must fail on its policy only. */
  const EXPECTED: Record<string, string[]> = {
    'application-project': [
      "rendered/fix/manifests/portal/configmap-argocd-cm.yaml:6:14  metadata.namespace: Application portal (AppProject fix) would write to namespace 'argocd', which its project does not allow",
    ],
    'applicationset-files': [
      "rendered/fix/argocd/applicationset-fleet.yaml:17:25  spec.generators[0].matrix.generators[0].git.files[0].path: ApplicationSet fleet: git files generator path 'rendered/fixmanagd/fleet.yaml' matches no file in the rendered tree, so it generates no Application  (did you mean 'rendered/fixmanaged/fleet.yaml'?)",
    ],
    'application-paths': ["rendered/fix/apps/portal.yaml:11:11  spec.source.path: source path 'rendered/fix/manifests/portl' does not exist in the rendered tree"],
    'appproject-wildcard': ["rendered/fix/argocd/appproject.yaml:10:7  spec.sourceRepos[1]: wildcard '*' in AppProject fix"],
    'container-requests': ["rendered/fix/manifests/portal/deployment-portal.yaml:32:13  spec.template.spec.containers[0].resources: container 'portal' has no cpu request"],
    'gpu-device-plugin': [
      'rendered/fix/k3s/general.yaml:8:1  node-label: node config k3s/general.yaml has no GPU but is selected by the nvidia-device-plugin DaemonSet (rendered/fix/values/nvidia-device-plugin.yaml), which then runs and fails there  (only GPU pools may carry nvidia.com/gpu.present=true)',
      'rendered/fix/k3s/gpu.yaml:14:5  node-taint[1]: GPU node config k3s/gpu.yaml has taint dedicated=ml:NoExecute, which the nvidia-device-plugin DaemonSet does not tolerate',
      'rendered/fix/talos/gpu-1.yaml:72:3  machine.nodeLabels: GPU node config talos/gpu-1.yaml is not selected by the nvidia-device-plugin DaemonSet (nodeSelector and node affinity of rendered/fix/values/nvidia-device-plugin.yaml), so the node never offers nvidia.com/gpu  (GPU nodes must carry nvidia.com/gpu.present=true',
    ],
    determinism: [
      "rendered/fix/values/cilium.yaml:7:15  hubble.tls.auto.method: \"helm\" lets chart cilium 1.18.0 render templates/_helpers.tpl (cilium.ca.setup), templates/cilium-ca-secret.yaml, templates/hubble/tls-helm/*.yaml with lookup/genCA/genSignedCert, whose output changes on every render (permanently OutOfSync under Argo CD); expected \"cronJob\" or \"certmanager\"  (hubble.tls.auto.method: cronJob",
    ],
    'duplicate-objects': ['rendered/fix/manifests/portal/service-portal.yaml:4:9  metadata.name: Service portal/portal is also rendered in rendered/fix/manifests/portal/service-portal-copy.yaml'],
    'flux-cross-namespace': [
      "rendered/fixflux/flux/units/podinfo-manifests/alert-flux-errors.yaml:15:18  spec.eventSources[1].namespace: Alert flux-system/flux-errors: eventSources[1] refers to namespace 'podinfo'",
      "rendered/fixflux/flux/units/podinfo/helmrelease-podinfo.yaml:19:20  spec.chart.spec.sourceRef.namespace: HelmRelease flux-system/podinfo: chart sourceRef refers to namespace 'podinfo'",
    ],
    'flux-duplicate-objects': ['rendered/fixflux/flux/units/podinfo/helmrelease-podinfo.yaml:4:9  metadata.name: HelmRelease flux-system/podinfo is delivered by Flux Kustomizations flux-system/podinfo-manifests and flux-system/podinfo'],
    'flux-paths': ["rendered/fixflux/flux/kustomizations/podinfo.yaml:8:9  spec.path: Kustomization podinfo: path './rendered/fixflux/talos' lies outside rendered/fixflux/flux/"],
    'flux-pinned-charts': [
      "rendered/fixflux/flux/flux-instance.yaml:10:15  spec.distribution.artifact: FluxInstance flux: manifests artifact 'oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests' is not pinned (no tag: :latest), so it moves with every operator release",
      "rendered/fixflux/flux/units/podinfo/helmrelease-podinfo.yaml:15:16  spec.chart.spec.version: HelmRelease podinfo: chart 'podinfo' is not pinned to an exact version ('6.x')",
    ],
    'flux-references': [
      "rendered/fixflux/flux/units/podinfo-manifests/alert-flux-errors.yaml:8:11  spec.providerRef.name: Alert flux-system/flux-errors: providerRef Provider 'alertmanger' is not rendered in namespace 'flux-system' of this environment",
      "rendered/fixflux/flux/kustomizations/podinfo-manifests.yaml:16:13  spec.dependsOn[0].name: Kustomization flux-system/podinfo-manifests: dependsOn Kustomization 'podinf' is not rendered in namespace 'flux-system' of this environment",
    ],
    'k8s-schema-flux': [
      "rendered/fixflux/flux/flux-instance.yaml:16:5  spec.cluster.multiTenant: FluxInstance flux: unknown field 'multiTenant' (not in the fluxcd.controlplane.io/v1 FluxInstance schema)",
      "rendered/fixflux/flux/units/podinfo/helmrelease-podinfo.yaml:19:3  spec.valueFrom: HelmRelease podinfo: unknown field 'valueFrom' (not in the helm.toolkit.fluxcd.io/v2 HelmRelease schema)",
    ],
    'k8s-schema': ["rendered/fix/manifests/portal/deployment-portal.yaml:9:3  spec.replica: Deployment portal: unknown field 'replica' (not in the apps/v1 Deployment schema)"],
    // The hub's ApplicationSet against the ApplicationSet CRD schema (@kubernetes-models/argo-cd, generated from it).
    'k8s-schema-applicationset': [
      'rendered/fix/argocd/applicationset-fleet.yaml:18:23  spec.syncPolicy.applicationsSync: ApplicationSet fleet: must be one of: create-only, create-update, create-delete, sync',
      "rendered/fix/argocd/applicationset-fleet.yaml:8:3  spec.goTemplates: ApplicationSet fleet: unknown field 'goTemplates' (not in the argoproj.io/v1alpha1 ApplicationSet schema)  (did you mean 'goTemplate'?)",
    ],
    'k8s-schema-crd': [
      'rendered/fix/manifests/portal/externalsecret-portal-db.yaml:14:18  spec.data[0].secretKey: ExternalSecret portal-db: expected string',
      "rendered/fix/manifests/portal/externalsecret-portal-db.yaml:7:3  spec.refreshIntervall: ExternalSecret portal-db: unknown field 'refreshIntervall'",
    ],
    'no-secrets': [
      'rendered/fix/values/cert-manager.yaml:8:16  aws.accessKeyId: secret-shaped value (AWS access key id)',
      "rendered/fix/values/cert-manager.yaml:9:20  aws.secretAccessKey: secret-shaped value (high-entropy value in the secret-named field 'secretAccessKey')",
    ],
    'pinned-charts': ["rendered/fix/apps/cert-manager.yaml:11:23  spec.sources[0].targetRevision: chart 'cert-manager' is not pinned to an exact version ('v1.19.*')"],
    'pinned-images': ["rendered/fix/manifests/portal/deployment-portal.yaml:21:18  spec.template.spec.containers[0].image: image 'ghcr.io/opendev/portal:latest' uses the tag latest"],
    'pss-labels': ['rendered/fix/manifests/portal/namespace-portal.yaml:4:3  metadata.labels: Namespace portal has no valid pod-security.kubernetes.io/enforce label'],
    // A selector label the pods do not carry (cdk8s-plus' address label on a StatefulSet's governing Service).
    'service-selectors': ["rendered/fix/manifests/portal/service-portal.yaml:8:5  spec.selector: Service portal/portal selects no pod rendered in namespace 'portal' (selector app.kubernetes.io/name=portal, cdk8s.io/metadata.addr=workload-statefulset-c8826968): it would have no endpoints"],
    references: ["rendered/fix/manifests/portal/externalsecret-portal-db.yaml:10:11  spec.secretStoreRef.name: ClusterSecretStore 'aws-ssm-store' is not rendered in this environment"],
    // The AWS layer (generators/infra/aws/check.ts): the CloudFormation specification, IAM data, references, security groups, IMDS, deployment files.
    'aws-spec': [
      "rendered/fix/aws/base.yaml:19:7  Resources.WorkerSecurityGroup.Properties: WorkerSecurityGroup (AWS::EC2::SecurityGroup): missing required property 'GroupDescription'",
      'rendered/fix/aws/base.yaml:29:17  Resources.IngressControlPlaneFromWorkerTcp6443.Properties.FromPort: IngressControlPlaneFromWorkerTcp6443 (AWS::EC2::SecurityGroupIngress): expected integer, got string "all"',
      "rendered/fix/aws/base.yaml:31:7  Resources.IngressControlPlaneFromWorkerTcp6443.Properties.Descripton: IngressControlPlaneFromWorkerTcp6443 (AWS::EC2::SecurityGroupIngress): unknown property 'Descripton'  (did you mean 'Description'?)",
      "rendered/fix/aws/base.yaml:67:11  Resources.WorkerLaunchTemplate.Type: WorkerLaunchTemplate: unknown resource type 'AWS::EC2::LaunchTemplates'  (did you mean 'AWS::EC2::LaunchTemplate'?)",
    ],
    'aws-iam': [
      "rendered/fix/aws/base.yaml:65:22  Resources.WorkerRoleBootSecretsPolicy.Properties.PolicyDocument.Statement[1].Action[0]: IAM action 'ec2:DescribeInstance' does not exist  (did you mean 'ec2:DescribeInstances'?)",
      "rendered/fix/aws/base.yaml:65:44  Resources.WorkerRoleBootSecretsPolicy.Properties.PolicyDocument.Statement[1].Action[1]: write action 'ec2:TerminateInstances' is allowed on resource '*'",
    ],
    'aws-security-group': [
      'rendered/fix/aws/base.yaml:27:30  Resources.IngressControlPlaneFromWorkerTcp6443.Properties.SourceSecurityGroupId: SourceSecurityGroupId "sg-0123456789abcdef0" is not a security group of this template',
      'rendered/fix/aws/base.yaml:37:15  Resources.IngressWorkerFromOperatorsTcp50000.Properties.CidrIp: ingress from 0.0.0.0/0: nodes and the API load balancer are private',
    ],
    'aws-imds': ["rendered/fix/aws/base.yaml:76:23  Resources.WorkerLaunchTemplate.Properties.LaunchTemplateData.MetadataOptions.HttpTokens: WorkerLaunchTemplate: IMDSv2 is not required (MetadataOptions.HttpTokens must be 'required')"],
    'aws-reference': [
      "rendered/fix/aws/base.yaml:57:16  Resources.WorkerRoleBootSecretsPolicy.Properties.Roles[0].Ref: Ref to 'WorkersRole', which this template does not define  (did you mean 'WorkerRole'?)",
      'rendered/fix/aws/base.yaml:82:41  Outputs.WorkerSecurityGroupId.Value["Fn::GetAtt"][1]: \'WorkerSecurityGroup\' has no attribute \'Arn\'  (attributes: GroupId, VpcId, Id)',
    ],
    'aws-deployment': ["rendered/fix/aws/base.deployment.yaml:3:3  parameters.ImageAmd4: parameter 'ImageAmd4' is not declared by rendered/fix/aws/base.yaml  (did you mean 'ImageAmd64'?)"],
  };

  it('every bad fixture has expectations', () => {
    expect(readdirSync(BAD).filter((f) => f !== 'README.md').sort()).toStrictEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('bad fixture %s fails with its finding(s) only', async (name, expected) => {
    const lines = await check(new Map([...read(GOOD), ...read(join(BAD, name))]));
    expect(lines.length).toBe(expected.length);
    for (const e of expected) expect(lines.some((l) => l.startsWith(e)), `expected a finding starting with\n  ${e}\ngot\n  ${lines.join('\n  ')}`).toBe(true);
    // The AWS fixtures fire the aws.* rule of each finding (aws-iam: aws.iam-action and aws.iam-wildcard).
    if (name.startsWith('aws-')) expect(lines.every((l) => /\[aws\.[a-z-]+\]$/.test(l) && l.includes(`[aws.${name.slice(4).replace(/-.*/, '')}`))).toBe(true);
    else {
      const rule = name.startsWith('k8s-schema') ? 'k8s.schema' : `policy.${name}`;
      expect(lines.every((l) => l.endsWith(`[${rule}]`))).toBe(true);
    }
  });

  it('a workload namespace without any Namespace object or managed metadata is reported', async () => {
    const files = read(GOOD);
    files.delete('fix/manifests/portal/namespace-portal.yaml');
    expect(await check(files)).toStrictEqual([
      "rendered/fix/manifests/portal/deployment-portal.yaml:5:14  metadata.namespace: Deployment portal runs in namespace 'portal', which has no Pod Security Standards label  (render a Namespace portal labelled pod-security.kubernetes.io/enforce, or set it in the Application's syncPolicy.managedNamespaceMetadata)  [policy.pss-labels]",
    ]);
  });

  it('an Application creating its namespace without a Pod Security level is reported', async () => {
    const files = read(GOOD);
    const app = files.get('fix/apps/cert-manager.yaml')!;
    files.set('fix/apps/cert-manager.yaml', app.replace(/    managedNamespaceMetadata:\n      labels:\n        pod-security\.kubernetes\.io\/enforce: restricted\n/, ''));
    expect(await check(files)).toStrictEqual([
      "rendered/fix/apps/cert-manager.yaml:23:7  spec.syncPolicy.syncOptions: Application cert-manager creates namespace 'cert-manager' without a Pod Security Standards level  (set syncPolicy.managedNamespaceMetadata.labels[\"pod-security.kubernetes.io/enforce\"] (the environment's addons.<name>.podSecurity))  [policy.pss-labels]",
    ]);
  });

  it('a YAML error is positioned', async () => {
    expect(await check(new Map([['fix/manifests/x/a.yaml', 'a: 1\na: 2\n']]))).toStrictEqual([expect.stringMatching(/^rendered\/fix\/manifests\/x\/a\.yaml:2:1 {2}\(document\): YAML .*\[rendered\.yaml\]$/)]);
  });

  it('the documents-checker adapter positions findings of a plugged-in checker (Talos, K3s)', async () => {
    const talos = documentsChecker('talos', /^talos\/[^/]+\.yaml$/, (file, docs) =>
      docs.flatMap((d, i) => ((d as { machine?: { type?: string } }).machine?.type === 'worker' ? [{ rule: 'talos.test', doc: i, path: ['machine', 'type'], message: `${file}: worker` }] : [])),
    );
    const files = new Map([['fix/talos/w1.yaml', 'version: v1alpha1\nmachine:\n  type: worker\n---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\n']]);
    const ds = await checkRenderedTree(parseRenderedTree(files), [...fileCheckers().filter((c) => c.name !== 'talos-rules'), talos]);
    expect(ds.map(formatDiagnostic)).toStrictEqual(['rendered/fix/talos/w1.yaml:3:9  machine.type: talos/w1.yaml: worker']);
  });
});

describe('strict schemas from kubernetes-models', () => {
  it('maps apiVersion/kind to model modules', () => {
    expect([modelModule('v1', 'Service'), modelModule('apps/v1', 'Deployment'), modelModule('networking.k8s.io/v1', 'Ingress'), modelModule('argoproj.io/v1alpha1', 'AppProject'), modelModule('talos.dev/v1alpha1', 'ServiceAccount'), modelModule('../x', 'Y')]).toStrictEqual([
      'kubernetes-models/v1/Service',
      'kubernetes-models/apps/v1/Deployment',
      'kubernetes-models/networking.k8s.io/v1/Ingress',
      '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject',
      undefined,
      undefined,
    ]);
  });

  it('unknown kinds have no schema; maps (labels) and free-form fields are not flagged', async () => {
    expect(await validateObject({ apiVersion: 'talos.dev/v1alpha1', kind: 'ServiceAccount', metadata: { name: 'x' } })).toBeUndefined();
    expect(await validateObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { anything: 'goes' } }, data: { 'any.key': 'v' } })).toStrictEqual([]);
    expect(await validateObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'x' }, spec: { project: 'p', destination: {}, source: { repoURL: 'r', helm: { valuesObject: { free: { form: 1 } } } } } })).toStrictEqual([]);
  });

  const upstream = join(SHARED, 'upstream', 'kubernetes', '1.34', 'apis__apps__v1_openapi.json');
  it.skipIf(!existsSync(upstream))('accepts every field the upstream Kubernetes 1.34 schema declares for Deployment, PodSpec and Container, and only those', async () => {
    const schemas = (JSON.parse(readFileSync(upstream, 'utf8')) as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } }).components.schemas;
    const props = (n: string): string[] => Object.keys(schemas[n]!.properties);
    const allNull = (n: string): Record<string, null> => Object.fromEntries(props(n).map((k) => [k, null]));
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { ...allNull('io.k8s.api.apps.v1.DeploymentSpec'), selector: {}, template: { spec: { ...allNull('io.k8s.api.core.v1.PodSpec'), containers: [{ ...allNull('io.k8s.api.core.v1.Container'), name: 'c', bogus: 1 }] } } },
    };
    const unknown = (await validateObject(obj))!.filter((e) => e.message.startsWith('unknown field')).map((e) => e.path.join('.'));
    expect(unknown).toStrictEqual(['spec.template.spec.containers.0.bogus']);
  });
});

describe('image references', () => {
  it('parses tags and digests', () => {
    expect([parseImage('nginx'), parseImage('localhost:5000/a/b:1.2'), parseImage('a@sha256:abc'), parseImage('a:1@sha256:abc')]).toStrictEqual([
      { name: 'nginx', digest: undefined },
      { name: 'localhost:5000/a/b', tag: '1.2', digest: undefined },
      { name: 'a', digest: 'sha256:abc' },
      { name: 'a', tag: '1', digest: 'sha256:abc' },
    ]);
  });
});
