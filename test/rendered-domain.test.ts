import { describe, expect, it } from 'vitest';
import { parseYamlStream, toYamlStream } from '../generators/lib/yaml.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubernetesValidator } from '../generators/validate/kubernetes.js';
import { kubernetesSchemaChecker, kubernetesSchemaCheckerWith } from '../generators/validate/rendered/kubernetes.js';
import { checkRenderedTree, fileCheckers } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { renderExample, SHARED } from './helpers.js';

/** prod's rendered files as the validator sees them, with one file edited. */
async function findingsAfter(path: string, edit: (docs: any[]) => void): Promise<string[]> {
  const files = new Map(renderExample('prod').map((f) => [`prod/${f.path}`, f.content]));
  const docs = parseYamlStream(files.get(`prod/${path}`)!) as any[];
  edit(docs);
  files.set(`prod/${path}`, toYamlStream(docs));
  const findings = await checkRenderedTree(parseRenderedTree(files));
  return findings.filter((d) => d.severity === 'error').map(formatDiagnostic);
}

describe('rendered-tree checkers of the domains', () => {
  it('the unedited prod tree has no finding', async () => {
    expect(await findingsAfter('apps/api.yaml', () => {})).toStrictEqual([]);
  });

  it('Talos rules: etcd and a denied apiserver flag on a worker', async () => {
    const found = await findingsAfter('talos/prod-gpu-1.yaml', (docs) => {
      docs[0].cluster.etcd = { advertisedSubnets: ['10.30.0.0/16'] };
      docs[0].cluster.apiServer = { extraArgs: { 'etcd-servers': 'https://elsewhere:2379' } };
    });
    expect(found).toContainEqual(expect.stringMatching(/^rendered\/prod\/talos\/prod-gpu-1\.yaml:\d+:\d+  cluster\.etcd: cluster\.etcd is only for control-plane machines/));
    expect(found).toContainEqual(expect.stringMatching(/^rendered\/prod\/talos\/prod-gpu-1\.yaml:\d+:\d+  cluster\.apiServer\.extraArgs\.etcd-servers: kube-apiserver flag 'etcd-servers' is managed by Talos/));
  });

  it('Pod Security Standards restricted on every pod template', async () => {
    const found = await findingsAfter('manifests/api/deployment-api.yaml', (docs) => {
      docs[0].spec.template.spec.containers[0].securityContext.privileged = true;
    });
    expect(found).toContainEqual(expect.stringMatching(/^rendered\/prod\/manifests\/api\/deployment-api\.yaml:\d+:\d+  spec\.template\.spec\.containers\[0\]\.securityContext\.privileged: Deployment api: .*\(Pod Security Standards restricted\)$/));
  });

  it('the Talos ServiceAccount of the etcd backup takes Talos roles only', async () => {
    const found = await findingsAfter('manifests/etcd-backup/serviceaccount-talos-backup-secrets.yaml', (docs) => {
      docs[0].spec.roles = ['os:etcd:backup', 'cluster-admin'];
    });
    expect(found).toStrictEqual([
      expect.stringMatching(/^rendered\/prod\/manifests\/etcd-backup\/serviceaccount-talos-backup-secrets\.yaml:\d+:\d+  spec\.roles\[1\]: ServiceAccount talos-backup-secrets: 'cluster-admin' is not a Talos role/),
    ]);
  });
});

describe("a StatefulSet's governing Service", () => {
  it('selects the pods of its StatefulSet (no cdk8s address label the pods do not carry)', () => {
    const files = new Map(renderExample('prod').map((f) => [f.path, f.content]));
    const [set] = parseYamlStream(files.get('manifests/inference/statefulset-inference.yaml')!) as any[];
    const [svc] = parseYamlStream(files.get(`manifests/inference/service-${set.spec.serviceName}.yaml`)!) as any[];
    expect(svc.spec.clusterIP).toBe('None');
    expect(svc.spec.selector).toStrictEqual({ 'app.kubernetes.io/name': 'inference' });
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(set.spec.template.metadata.labels[k]).toBe(v);
  });
});

describe('cross-references between areas', () => {
  it('an ExternalSecret naming a store, a claim naming a StorageClass and a pod naming a RuntimeClass that are not rendered', async () => {
    const store = await findingsAfter('manifests/api/externalsecret-api-env.yaml', (docs) => {
      docs[0].spec.secretStoreRef.name = 'aws-parameter-store';
    });
    expect(store).toStrictEqual([
      expect.stringMatching(/^rendered\/prod\/manifests\/api\/externalsecret-api-env\.yaml:\d+:\d+  spec\.secretStoreRef\.name: ClusterSecretStore 'aws-parameter-store' is not rendered in this environment  \(ClusterSecretStore objects here: aws-ssm-parameter-store-monitoring, aws-ssm-parameter-store-opendev\)$/),
    ]);
    // Another namespace's store: rendered, but its conditions do not admit opendev (ESO refuses it:
    // external-secrets v2.9.0 pkg/controllers/secretstore/client_manager.go:132, 227-278).
    const other = await findingsAfter('manifests/api/externalsecret-api-env.yaml', (docs) => {
      docs[0].spec.secretStoreRef.name = 'aws-ssm-parameter-store-monitoring';
    });
    expect(other).toStrictEqual([
      "rendered/prod/manifests/api/externalsecret-api-env.yaml:21:11  spec.secretStoreRef.name: ClusterSecretStore 'aws-ssm-parameter-store-monitoring' does not admit namespace 'opendev' (its conditions: monitoring): ESO refuses the ExternalSecret  (name the store of its namespace, aws-ssm-parameter-store-opendev)",
    ]);
    const sc = await findingsAfter('manifests/inference/statefulset-inference.yaml', (docs) => {
      docs[0].spec.volumeClaimTemplates[0].spec.storageClassName = 'gp3-encrypted';
      docs[0].spec.template.spec.runtimeClassName = 'nvidia-cdi';
    });
    expect(sc).toStrictEqual([
      expect.stringMatching(/volumeClaimTemplates\[0\]\.spec\.storageClassName: StorageClass 'gp3-encrypted' is not rendered in this environment  \(StorageClass objects here: gp3\)$/),
      expect.stringMatching(/spec\.template\.spec\.runtimeClassName: RuntimeClass 'nvidia-cdi' is not rendered in this environment  \(RuntimeClass objects here: nvidia\)$/),
    ]);
  });
});

describe('validate against the OpenAPI schemas of an exact Kubernetes version (--kubernetes-schemas)', () => {
  const DIR = join(SHARED, 'upstream', 'kubernetes', '1.34');
  it.runIf(existsSync(DIR))('the kinds the directory holds are checked against it, strictly', async () => {
    const checkers = fileCheckers().map((c) => (c === kubernetesSchemaChecker ? kubernetesSchemaCheckerWith(loadKubernetesValidator(DIR)) : c));
    const files = new Map(renderExample('prod').map((f) => [`prod/${f.path}`, f.content]));
    expect((await checkRenderedTree(parseRenderedTree(files), checkers)).filter((d) => d.severity === 'error')).toStrictEqual([]);
    const docs = parseYamlStream(files.get('prod/manifests/api/deployment-api.yaml')!) as any[];
    docs[0].spec.replica = 3;
    files.set('prod/manifests/api/deployment-api.yaml', toYamlStream(docs));
    const found = (await checkRenderedTree(parseRenderedTree(files), checkers)).map(formatDiagnostic);
    expect(found).toStrictEqual([expect.stringMatching(/^rendered\/prod\/manifests\/api\/deployment-api\.yaml:\d+:\d+  spec\.replica: Deployment api: unknown field 'replica'$/)]);
  });
});
