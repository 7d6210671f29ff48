/**
 * The rendered fixes of issue 19 that are not ordering (which the simulator tests cover,
 * test/motion.test.ts): health of External Secrets objects under Flux, what must survive an
 * uninstall or a prune, and the drift a chart's own webhook causes.
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { renderExample } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = any;
const docOf = (env: string, path: string): Obj => {
  const f = renderExample(env).find((x) => x.path === path);
  if (!f) throw new Error(`${env}: no ${path}`);
  return parseYamlStream(f.content)[0];
};

describe('issue 19: health, survival and drift in the rendered tree', () => {
  it('Flux: every Kustomization applying External Secrets objects judges them by their Ready condition (healthCheckExprs), the others do not', () => {
    const files = renderExample('staging-k3s').filter((f) => f.path.startsWith('flux/kustomizations/'));
    const withExprs = files.filter((f) => 'healthCheckExprs' in (parseYamlStream(f.content)[0] as Obj).spec).map((f) => f.path).sort();
    expect(withExprs).toStrictEqual(['flux/kustomizations/external-secrets-store-flux-system.yaml', 'flux/kustomizations/external-secrets-store-monitoring.yaml', 'flux/kustomizations/flux-operator-manifests.yaml', 'flux/kustomizations/kube-prometheus-stack-prerequisites.yaml']);
    const exprs = docOf('staging-k3s', 'flux/kustomizations/kube-prometheus-stack-prerequisites.yaml').spec.healthCheckExprs as Obj[];
    expect(exprs.map((e) => `${e.apiVersion} ${e.kind}`)).toStrictEqual(['external-secrets.io/v1 ExternalSecret', 'external-secrets.io/v1 ClusterSecretStore', 'external-secrets.io/v1 SecretStore']);
    expect(exprs[0].current).toContain("c.type == 'Ready' && c.status == 'True'");
    expect(exprs[0].failed).toContain("c.status == 'False'");
  });

  it('Flux: a chart owning CRDs retries a failed install or upgrade (RetryOnFailure, no remediation: no uninstall, no rollback); the others install with unlimited remediated retries and upgrade with 3', () => {
    const releases = renderExample('staging-k3s').filter((f) => /^flux\/units\/[^/]+\/helmrelease-/.test(f.path)).map((f) => parseYamlStream(f.content)[0] as Obj);
    const retry = { name: 'RetryOnFailure', retryInterval: '5m' };
    const byStrategy = (s: 'retry' | 'remediate') => releases.filter((r) => (s === 'retry') === (r.spec.install.strategy !== undefined)).map((r) => r.metadata.name).sort();
    expect(byStrategy('retry')).toStrictEqual(['aws-load-balancer-controller', 'cert-manager', 'external-secrets', 'flux-operator', 'kube-prometheus-stack']);
    for (const r of releases) {
      const ownsCrds = r.spec.install.crds === 'Create';
      for (const action of ['install', 'upgrade']) {
        if (ownsCrds) {
          expect(r.spec[action].strategy, `${r.metadata.name} ${action}`).toStrictEqual(retry);
          // The CRD's rule: remediation would be ignored under RetryOnFailure (fluxcd/helm-controller internal/reconcile/atomic_release.go:471-513 @ v1.6.1); none is rendered.
          expect(r.spec[action].remediation).toBeUndefined();
        } else expect(r.spec[action], `${r.metadata.name} ${action}`).toMatchObject({ remediation: { retries: action === 'install' ? -1 : 3 } });
      }
    }
  });

  it('Argo CD: an Application adopting a release the bootstrap installed with helm migrates helm\'s fields (the CSA-migration annotation, only effective with ServerSideApply=true); no other has it', () => {
    const MIGRATION = 'argocd.argoproj.io/client-side-apply-migration-manager';
    for (const [env, adopted] of [['prod', ['argo-cd', 'aws-cloud-controller-manager', 'cilium']], ['staging', ['argo-cd', 'aws-cloud-controller-manager']]] as const) {
      const apps = renderExample(env).filter((f) => f.path.startsWith('apps/')).map((f) => parseYamlStream(f.content)[0] as Obj);
      expect(apps.filter((a) => a.metadata.annotations?.[MIGRATION] !== undefined).map((a) => a.metadata.name).sort(), env).toStrictEqual([...adopted]);
      for (const a of apps.filter((x) => adopted.includes(x.metadata.name))) {
        expect(a.metadata.annotations[MIGRATION]).toBe('helm');
        expect(a.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
      }
    }
  });

  it('External Secrets CRDs are kept on uninstall (both engines)', () => {
    for (const env of ['staging', 'staging-k3s']) expect(docOf(env, 'values/external-secrets.yaml').crds).toStrictEqual({ createSecretStore: false, annotations: { 'helm.sh/resource-policy': 'keep' } });
  });

  it('Flux: the repository credential outlives its ExternalSecret (creationPolicy Orphan) and is never pruned', () => {
    const es = docOf('staging-k3s', 'manifests/flux-operator/externalsecret-flux-system.yaml');
    expect(es.spec.target.creationPolicy).toBe('Orphan');
    expect(es.metadata.annotations).toStrictEqual({ 'kustomize.toolkit.fluxcd.io/prune': 'disabled' });
    // Other add-ons' Secrets stay owned by their ExternalSecret.
    expect(docOf('staging-k3s', 'manifests/kube-prometheus-stack/externalsecret-grafana-admin.yaml').spec.target.creationPolicy).toBe('Owner');
  });

  it('kube-prometheus-stack: the annotation its PrometheusRule webhook adds is not drift (Flux ignore, Argo CD ignoreDifferences)', () => {
    const hr = docOf('staging-k3s', 'flux/units/kube-prometheus-stack/helmrelease-kube-prometheus-stack.yaml');
    expect(hr.spec.driftDetection.ignore).toStrictEqual([{ paths: ['/metadata/annotations/prometheus-operator-validated'], target: { group: 'monitoring.coreos.com', kind: 'PrometheusRule' } }]);
    const app = docOf('staging', 'apps/kube-prometheus-stack.yaml');
    expect(app.spec.ignoreDifferences).toStrictEqual([{ group: 'monitoring.coreos.com', kind: 'PrometheusRule', jsonPointers: ['/metadata/annotations/prometheus-operator-validated'] }]);
  });
});
