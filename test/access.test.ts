/**
 * The access graph (generators/validate/access.ts): who can read each SSM parameter, by which route.
 * Upstream facts it relies on (cited there): ESO ClusterSecretStore conditions admit exactly the listed
 * namespaces (external-secrets v2.9.0 client_manager.go lines 227-278); a store without auth reads with
 * the controller's default credential chain and assumes `role` with it (providers/v1/aws/auth/auth.go
 * lines 74-130); the chart aggregates secretstores into `edit` (templates/rbac.yaml lines 311-343);
 * with IMDSv2 hop limit 1 a pod on the pod network gets no token (research/day2.md §15a).
 */
import { describe, expect, it } from 'vitest';
import { accessGraph, explainAccess, readerText, routesTo } from '../generators/validate/access.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { cli, fixtureSources, formatted, prepareExample, renderedExamples } from './helpers.js';

const EXAMPLES = ['dev', 'dev-k3s', 'prod', 'staging', 'staging-k3s'];

const prepared = (r: ReturnType<typeof prepareExample>) => {
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return r.prepared;
};

describe('every example environment: sensitive parameters are readable only by what needs them', () => {
  it.each(EXAMPLES)('%s', (env) => {
    const p = prepared(prepareExample(env));
    const g = accessGraph(p.resolved, p.model);
    const sensitive = g.parameters.filter((x) => x.sensitivity);
    for (const s of sensitive) {
      for (const r of routesTo(g, s.name)) {
        if (s.needs.some((n) => readerText(n) === readerText(r.reader))) continue;
        // Host-network pods (node-exporter, the cloud controller manager) wear the node role: rule
        // host-network-role judges them per pool (test/host-network.test.ts).
        if (r.route === 'host-network') continue;
        // The one residual: a node token the node role reads at boot, reached from the pod network of a
        // pool whose hop limit is 2 because the AWS controllers take the node's credentials there (a
        // warning of rule secret-access; never a store route, never an assumed role).
        expect({ param: s.name, route: r.route, assumed: r.assumed, sensitivity: s.sensitivity, reader: r.reader.kind }, r.steps.join(' → ')).toStrictEqual({
          param: s.name,
          route: 'imds',
          assumed: false,
          sensitivity: 'node-token',
          reader: 'namespace',
        });
      }
    }
    // No store admits a namespace to anything sensitive, and no namespace can write a namespaced store.
    expect(g.entries.filter((e) => e.route === 'namespaced-store')).toStrictEqual([]);
    for (const s of sensitive) expect(routesTo(g, s.name).filter((r) => r.route === 'store')).toStrictEqual([]);
    expect(p.model.name).toBe(env);
  });

  it('the K3s examples hold node tokens and (staging-k3s) the Kine password; servers have hop limit 1, so only host processes and host-network pods reach the server token', () => {
    const p = prepared(prepareExample('staging-k3s'));
    const g = accessGraph(p.resolved, p.model);
    const classes = Object.fromEntries(g.parameters.filter((x) => x.sensitivity).map((x) => [x.name, x.sensitivity]));
    expect(classes).toStrictEqual({
      '/odp/staging-k3s/k3s/token': 'node-token',
      // The pending token of a rotation (rotate-token.sh writes it; the servers' role reads and writes it).
      '/odp/staging-k3s/k3s/token-pending': 'node-token',
      '/odp/staging-k3s/k3s/agent-token': 'node-token',
      '/odp/staging-k3s/kine/password': 'datastore-password',
    });
    // On the pod network; the add-on pods on the servers' host network wear the role too (rule host-network-role).
    for (const name of ['/odp/staging-k3s/k3s/token', '/odp/staging-k3s/k3s/token-pending', '/odp/staging-k3s/kine/password'])
      expect(routesTo(g, name).map((r) => r.steps.join(' → '))).toStrictEqual([
        `host processes and host-network pods of the control planes → node role odp-staging-k3s-controlplane → ${name}`,
        `namespace monitoring → host network of pool server (prometheus-node-exporter) → node role odp-staging-k3s-controlplane → ${name}`,
        `namespace kube-system → host network of pool server (the AWS cloud controller manager) → node role odp-staging-k3s-controlplane → ${name}`,
      ]);
  });
});

describe('hub: the cluster registry', () => {
  const hub = () => {
    const { name, sources } = fixtureSources('valid', 'hub.yaml');
    const r = prepareEnvironment(name, sources);
    if (!r.prepared) throw new Error(formatted(r).join('\n'));
    return r.prepared;
  };

  it('only Argo CD\'s namespace reads the managed clusters\' credentials, through the dedicated store and its web identity', () => {
    const p = hub();
    const g = accessGraph(p.resolved, p.model);
    expect(routesTo(g, '/odp/hub/argocd/clusters/fleet-a/config').map((r) => r.steps.join(' → '))).toStrictEqual([
      'namespace argocd → ClusterSecretStore argocd-cluster-registry → role hub-argocd-cluster-registry (web identity of ServiceAccount external-secrets/argocd-cluster-registry) → /odp/hub/argocd/clusters/fleet-a/config',
    ]);
    // The platform stores admit one namespace each, and none is Argo CD's for the cluster Secrets.
    expect(g.entries.filter((e) => e.route === 'store' && e.via[0]!.startsWith('ClusterSecretStore aws-ssm-parameter-store')).map((e) => `${e.via[0]}: ${readerText(e.reader)}`)).toStrictEqual([
      'ClusterSecretStore aws-ssm-parameter-store-monitoring: namespace monitoring',
    ]);
  });

  it('--explain-access prints what the parameter is, who needs it, the identities and every route', () => {
    const p = hub();
    expect(explainAccess(p.resolved, p.model, '/odp/hub/argocd/clusters/fleet-b/config')).toBe(
      [
        'hub: /odp/hub/argocd/clusters/fleet-b/config',
        "  a cluster credential: Argo CD cluster Secret of managed environment fleet-b (bearer token and CA; the hub's ExternalSecret cluster-fleet-b reads it)",
        '  needed by: namespace argocd',
        '  identities that read it: role hub-argocd-cluster-registry (web identity of ServiceAccount external-secrets/argocd-cluster-registry)',
        '  routes:',
        '    - namespace argocd → ClusterSecretStore argocd-cluster-registry → role hub-argocd-cluster-registry (web identity of ServiceAccount external-secrets/argocd-cluster-registry) → /odp/hub/argocd/clusters/fleet-b/config  (created at argocd.manages[1])',
        '',
      ].join('\n'),
    );
  });
});

describe('npm run validate -- --explain-access', () => {
  it('marks the readers that do not need a node token (✗) and says where each route is created', () => {
    const r = cli('validate', renderedExamples(), '--explain-access', '/odp/dev-k3s/k3s/agent-token');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 4)).toStrictEqual([
      'dev-k3s: /odp/dev-k3s/k3s/agent-token',
      '  a node token: K3s agent token (read by every node at first boot)',
      '  needed by: host processes and host-network pods of the control planes, host processes and host-network pods of the workers, host processes and host-network pods of the workers of pool general',
      '  identities that read it: node role odp-dev-k3s-controlplane, node role odp-dev-k3s-worker, node role odp-dev-k3s-controllers',
    ]);
    // The AWS controllers run on pool general (aws.iam.controllersPool): only its pod network reaches IMDS, and
    // only from the namespaces that need it there (the others deny egress to IMDS: catalog/network-policies.ts).
    expect(lines).toContain(
      '    ✗ namespace external-secrets → pod network of pool general (IMDS hop limit 2) → node role odp-dev-k3s-controllers → /odp/dev-k3s/k3s/agent-token  (created at nodePools[1])',
    );
    // node-exporter, on every node's host network, does not need it either (rule host-network-role leaves the
    // agent token out: every node role reads it).
    expect(lines.filter((l) => l.includes('namespace monitoring'))).toStrictEqual([
      '    ✗ namespace monitoring → host network of pool server (prometheus-node-exporter) → node role odp-dev-k3s-controlplane → /odp/dev-k3s/k3s/agent-token  (created at nodePools[0])',
      '    ✗ namespace monitoring → host network of pool general (prometheus-node-exporter) → node role odp-dev-k3s-controllers → /odp/dev-k3s/k3s/agent-token  (created at nodePools[1])',
      '    ✗ namespace monitoring → host network of pool general-arm64 (prometheus-node-exporter) → node role odp-dev-k3s-worker → /odp/dev-k3s/k3s/agent-token  (created at nodePools[2])',
    ]);
    expect(lines.filter((l) => !l.includes('host network') && (l.includes('general-arm64') || (l.includes('nodePools[2]') && l.includes('✗'))))).toStrictEqual([]);
    expect(lines).toContain('    - host processes and host-network pods of the control planes → node role odp-dev-k3s-controlplane → /odp/dev-k3s/k3s/agent-token  (created at nodePools[0])');
    // Only the environment that uses it.
    expect(lines.filter((l) => /^\S+: \//.test(l))).toStrictEqual(['dev-k3s: /odp/dev-k3s/k3s/agent-token']);
  });

  it("says when a store reads a catalog default the environment file never writes (no position to name)", () => {
    const r = cli('validate', renderedExamples(), '--explain-access', '/odp/dev-k3s/grafana/admin-password');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain(
      '    - namespace monitoring → ClusterSecretStore aws-ssm-parameter-store-monitoring → role odp-dev-k3s-external-secrets-monitoring → /odp/dev-k3s/grafana/admin-password  (a default of add-on kube-prometheus-stack: Secret monitoring/grafana-admin key admin-password (ExternalSecret), not written in the environment file)',
    );
    expect(r.stdout).not.toContain('created at the document');
  });

  it('refuses a name that is not an SSM parameter name', () => {
    const r = cli('validate', renderedExamples(), '--explain-access', 'k3s/token');
    expect(r.code).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/--explain-access: 'k3s\/token' is not an SSM parameter name/);
  });
});
