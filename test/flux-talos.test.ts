/**
 * The valid fixture flux-talos (Flux on Talos, IRSA, an arm64 pool, a tainted GPU pool, a StatefulSet with a volume
 * and Secrets from SSM), walked in motion: what its first sync applies in which order, against upstream facts.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';

const { name, sources } = fixtureSources('valid', 'flux-talos.yaml');
const prepared = prepareEnvironment(name, sources);
const files = prepared.prepared ? renderEnvironment(prepared.prepared) : [];
const dependsOn = (unit: string): string[] => {
  const f = files.find((x) => x.path === `flux/kustomizations/${unit}.yaml`);
  expect(f, unit).toBeDefined();
  return ((parse(f!.content) as { spec: { dependsOn?: { name: string }[] } }).spec.dependsOn ?? []).map((d) => d.name);
};

describe('flux-talos: the first sync', () => {
  it('renders', () => {
    expect(formatted(prepared).filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
  });

  // Its rendered tree passes validate's checks (first sync included): test/valid-rendered.test.ts. Its workloads'
  // Kustomizations applied their ExternalSecrets with wait: true and no healthCheckExprs: kstatus counts an
  // ExternalSecret Current at the first poll (fluxcd/cli-utils v1.2.1 pkg/kstatus/status/status.go:115-138).
  it('a workload with Secrets from SSM waits for its ExternalSecret to be Ready (healthCheckExprs)', () => {
    for (const unit of ['api', 'inference']) {
      const k = parse(files.find((x) => x.path === `flux/kustomizations/${unit}.yaml`)!.content) as { spec: { healthCheckExprs?: { apiVersion: string; kind: string }[] } };
      expect(k.spec.healthCheckExprs?.map((e) => `${e.apiVersion} ${e.kind}`), unit).toContain('external-secrets.io/v1 ExternalSecret');
    }
  });

  // The AWS Load Balancer Controller's Service webhook fails closed on every Service CREATE (chart 3.5.0, research
  // sync-semantics.md §13); kubelet-csr-approver 1.2.14 creates a metrics Service by default (values.yaml:41-42,
  // templates/service.yaml:1). Without the need it started at once and raced the controller's webhook.
  it('kubelet-csr-approver, whose chart creates a Service, waits for the Load Balancer Controller', () => {
    expect(dependsOn('kubelet-csr-approver')).toContain('aws-load-balancer-controller');
    expect(dependsOn('aws-load-balancer-controller')).not.toContain('kubelet-csr-approver');
  });

  it('kubelet-csr-approver with metrics.enable: false creates no Service and waits for nothing', () => {
    const s = new Map(sources);
    s.set('environments/flux-talos.yaml', `${s.get('environments/flux-talos.yaml')}addons:\n  kubelet-csr-approver:\n    values: { metrics: { enable: false } }\n`);
    const r = prepareEnvironment(name, s);
    expect(formatted(r).filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
    const f = renderEnvironment(r.prepared!).find((x) => x.path === 'flux/kustomizations/kubelet-csr-approver.yaml')!;
    expect((parse(f.content) as { spec: { dependsOn?: unknown[] } }).spec.dependsOn).toBeUndefined();
  });
});

describe('flux-talos: an add-on Secret replaced by name', () => {
  const withAddons = (yaml: string) => {
    const s = new Map(sources);
    s.set('environments/flux-talos.yaml', `${s.get('environments/flux-talos.yaml')}addons:\n${yaml}`);
    return formatted(prepareEnvironment(name, s)).filter((l) => !l.includes(': warning: '));
  };
  it('with every key of the add-on’s own Secret is accepted', () => {
    expect(withAddons('  kube-prometheus-stack:\n    secrets:\n      grafana-admin:\n        admin-user: { secret: /odp/flux-talos/grafana/user }\n        admin-password: { secret: /odp/flux-talos/grafana/password }\n')).toStrictEqual([]);
  });
  it('without one of them is refused at the Secret’s name (Grafana’s admin.userKey would be missing)', () => {
    expect(withAddons('  kube-prometheus-stack:\n    secrets:\n      grafana-admin:\n        admin-password: { secret: /odp/flux-talos/grafana/password }\n')).toStrictEqual([
      expect.stringMatching(/^environments\/flux-talos\.yaml:\d+:7 {2}addons\.kube-prometheus-stack\.secrets\.grafana-admin: 'grafana-admin' replaces the Secret grafana-admin that add-on kube-prometheus-stack delivers itself, without its key 'admin-user'/),
    ]);
  });
  it('a Secret of another name adds one', () => {
    expect(withAddons('  kube-prometheus-stack:\n    secrets:\n      grafana-smtp:\n        password: { secret: /odp/flux-talos/grafana/smtp }\n')).toStrictEqual([]);
  });
});

describe('flux-talos: image references', () => {
  const withImage = (image: string) => {
    const s = new Map(sources);
    s.set('environments/flux-talos.yaml', s.get('environments/flux-talos.yaml')!.replace('ghcr.io/opendev/api:2.7.0', image));
    return formatted(prepareEnvironment(name, s)).filter((l) => !l.includes(': warning: '));
  };
  // The runtime pulls by the digest and never resolves the tag (containerd core/remotes/docker/resolver.go,
  // dockerResolver.Resolve); the rendered check policy.pinned-images accepts it too. It was refused with
  // "uses the tag 'latest', which changes under the same name", whose hint asked for the digest it has.
  it('a digest pins the image even with the tag latest', () => {
    expect(withImage(`ghcr.io/opendev/api:latest@sha256:${'a'.repeat(64)}`)).toStrictEqual([]);
  });
  it('the tag latest without a digest is refused', () => {
    expect(withImage('ghcr.io/opendev/api:latest')).toStrictEqual([expect.stringContaining("uses the tag 'latest', which changes under the same name")]);
  });
});

describe('flux-talos: an object rendered twice, as validate reports it', () => {
  it('is reported in Flux words only (the Argo CD check, which named "no Application" twice, skips a tree without Applications)', async () => {
    const { checkRenderedTree } = await import('../generators/validate/rendered/registry.js');
    const { parseRenderedTree } = await import('../generators/validate/rendered/tree.js');
    const { formatDiagnostic } = await import('../generators/validate/diagnostics.js');
    const tree = new Map(files.map((f) => [`${name}/${f.path}`, f.content]));
    // A copy of the api workload's ExternalSecret among inference's manifests, in inference's overlay.
    tree.set(`${name}/manifests/inference/externalsecret-api-env.yaml`, tree.get(`${name}/manifests/api/externalsecret-api-env.yaml`)!);
    const overlay = `${name}/flux/units/inference/kustomization.yaml`;
    tree.set(overlay, tree.get(overlay)!.replace('resources:\n', 'resources:\n  - ../../../manifests/inference/externalsecret-api-env.yaml\n'));
    const found = (await checkRenderedTree(parseRenderedTree(tree))).filter((d) => d.rule.includes('duplicate') || d.message.includes('fighting')).map(formatDiagnostic);
    expect(found.some((l) => l.includes('Application'))).toBe(false);
    expect(found.some((l) => l.includes('ExternalSecret apps/api-env is delivered by Flux Kustomizations flux-system/api and flux-system/inference'))).toBe(true);
  });
});
