/**
 * The review comment's lead names every GitOps object a change touches, grouped by consequence (nodes upgraded,
 * access granted or changed, workloads started or stopped, configuration only): a golden of the lead for the
 * before/after pair of test/fixtures/diff-lead/, one assertion per group, and a property: no changed object is left
 * unmentioned, whatever kinds and changes are drawn.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffTrees } from '../generators/diff/diff.js';
import type { TreeDiff } from '../generators/diff/diff.js';
import { formatJson, formatMarkdown, formatText } from '../generators/diff/format.js';
import { toYaml } from '../generators/lib/yaml.js';
import { FIXTURES } from './helpers.js';

const ctx = { base: 'main', head: 'HEAD' };

/** A fixture side as the diff reads a rendered tree: `env/path` → content. */
function tree(side: string): Map<string, string> {
  const root = join(FIXTURES, 'diff-lead', side);
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  return new Map(walk(root).map((f) => [relative(root, f).split('\\').join('/'), readFileSync(f, 'utf8')]));
}

/** The lead: from its heading up to the next level-4 heading. */
function leadOf(text: string): string {
  const start = text.indexOf('#### What changes in the cluster');
  return text.slice(start, text.indexOf('\n#### ', start + 5) + 1);
}

/** Every object the diff's lead facts name, and how many of the lead's items name it (as `label`). */
function timesNamed(d: TreeDiff, lead: string): Map<string, number> {
  const items = lead.split('\n').filter((l) => /^(-|\d+\.) /.test(l));
  const labels = new Set(d.envs.flatMap((e) => [...e.lead.objects.map((o) => o.object), ...e.lead.permissions.map((p) => p.object), ...e.lead.rollouts.map((r) => r.object), ...e.lead.charts.map((c) => c.object)]));
  return new Map([...labels].map((x) => [x, items.filter((l) => l.includes(`\`${x}\``)).length]));
}

/** The lead's section titled `title`: its items. */
function section(lead: string, title: string): string[] {
  const start = lead.indexOf(`**${title}**`);
  if (start === -1) return [];
  const rest = lead.slice(start).split('\n').slice(1);
  const end = rest.findIndex((l) => l.startsWith('**'));
  return (end === -1 ? rest : rest.slice(0, end)).filter((l) => /^(-|1\.) /.test(l));
}

describe('golden: a change touching every consequence group', () => {
  const d = diffTrees(tree('before'), tree('after'));
  const text = formatMarkdown(d, ctx);
  const lead = leadOf(text);

  it('golden: the lead', async () => {
    await expect(lead).toMatchFileSnapshot('fixtures/diff-golden/lead-by-consequence.md');
  });

  it('the groups come in order of consequence: nodes, access, workloads, configuration', () => {
    const titles = ['Nodes upgraded by GitOps objects', 'Access granted or changed', 'Workloads whose pods are replaced', 'Workloads started or stopped', 'Configuration only'];
    const at = titles.map((t) => lead.indexOf(`**${t}**`));
    expect(at.every((x) => x > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toStrictEqual(at);
  });

  it('nodes: the Plan version bump upgrades the servers, one at a time, cordoned', () => {
    expect(section(lead, 'Nodes upgraded by GitOps objects')).toStrictEqual([
      '- `Plan system-upgrade/server-plan`: upgrades the nodes it selects (node-role.kubernetes.io/control-plane In true) v1.35.8+k3s1 → v1.35.9+k3s1, 1 at a time, cordoned (not drained)',
    ]);
  });

  it('access: the new ClusterRole and its binding, the widened Role, the new binding, the wider NetworkPolicy, the secret delivered to a namespace', () => {
    expect(section(lead, 'Access granted or changed')).toStrictEqual([
      '- `ClusterRole node-reader`: new: grants get,list on nodes to whoever is bound to it',
      '- `ClusterRoleBinding ci-node-reader`: new: gives ServiceAccount ci/ci ClusterRole node-reader cluster-wide',
      '- `ExternalSecret opendev/portal-db`: new: delivers secret portal-db in namespace opendev from ClusterSecretStore aws-ssm (/odp/lead/portal/db-password)',
      '- `NetworkPolicy opendev/portal-ingress`: allows more ingress: 1 rule added or widened',
      '- `Role opendev/deployer`: now also grants get on secrets',
      '- `RoleBinding opendev/ci-deployer`: new: gives ServiceAccount ci/ci Role deployer in namespace opendev',
    ]);
  });

  it('a new ClusterRole and ClusterRoleBinding are named once, with what they grant; the JSON still lists them as permissions', () => {
    expect(section(lead, 'New cluster-scoped permissions')).toStrictEqual([]);
    const json = JSON.parse(formatJson(d, ctx)) as { envs: { lead: { permissions: unknown[] } }[] };
    expect(json.envs[0]!.lead.permissions).toStrictEqual([
      { object: 'ClusterRole node-reader', change: 'added' },
      { object: 'ClusterRoleBinding ci-node-reader', change: 'added' },
    ]);
  });

  it('no object is named twice in the lead', () => {
    const named = timesNamed(d, lead);
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter(([, n]) => n !== 1)).toStrictEqual([]);
  });

  it('workloads: the pod template change, and the new Deployment', () => {
    expect(section(lead, 'Workloads whose pods are replaced')).toStrictEqual(['- `Deployment opendev/portal`: `portal` `ghcr.io/opendev/portal:1.4.2` → `ghcr.io/opendev/portal:1.5.0`']);
    expect(section(lead, 'Workloads started or stopped')).toStrictEqual(['- `Deployment opendev/worker`: new: its pods start']);
  });

  it('configuration only: the controller flag in Helm values, the ConfigMap, the alert, prune, dependsOn, the Service', () => {
    const items = section(lead, 'Configuration only');
    expect(items).toStrictEqual([
      '- `Application argocd/portal`: prune turned on: resources removed from Git are deleted from the cluster',
      '- `ConfigMap opendev/portal-config`: keys LOG_LEVEL changed (mounted: seen by running pods within about a minute; as environment variables: at the next pod start)',
      '- `Helm values values/cert-manager.yaml`: Helm values changed: extraArgs — the chart is rendered again; only pods whose template reads them are replaced',
      '- `Kustomization flux-system/monitoring`: dependsOn (none) → cert-manager: it is applied only once cert-manager is Ready',
      '- `PrometheusRule monitoring/portal`: alerts added: PortalSlow',
      '- `Service opendev/portal`: changed: spec.ports[name=http].port',
    ]);
  });

  it('the text report says the same, and the per-file diff stays below the lead', () => {
    const t = formatText(d, ctx);
    expect(t).toContain('  Access granted or changed:\n');
    expect(t).toContain('    - RoleBinding opendev/ci-deployer: new: gives ServiceAccount ci/ci Role deployer in namespace opendev\n');
    expect(text.indexOf('#### Changes by environment')).toBeGreaterThan(text.indexOf('**Configuration only**'));
  });

  it('kept short when nothing consequential changes: one item for one ConfigMap', () => {
    const before = new Map([['lead/manifests/portal/configmap.yaml', tree('before').get('lead/manifests/portal/configmap.yaml')!]]);
    const after = new Map([['lead/manifests/portal/configmap.yaml', tree('after').get('lead/manifests/portal/configmap.yaml')!]]);
    const l = leadOf(formatMarkdown(diffTrees(before, after), ctx));
    expect(l.split('\n').filter((x) => x.startsWith('- '))).toHaveLength(1);
    expect(l.split('\n').filter((x) => x.startsWith('**')).map((x) => /^\*\*([^*]+)\*\*/.exec(x)![1])).toStrictEqual(['Configuration only']);
  });
});

describe('what an engine or a distribution says of its own objects', () => {
  const one = (kind: string, before: unknown, after: unknown) => diffTrees(new Map([[`e/${kind}.yaml`, toYaml(before)]]), new Map([[`e/${kind}.yaml`, toYaml(after)]])).envs[0]!.lead.objects;
  const plan = (spec: Record<string, unknown>) => ({ apiVersion: 'upgrade.cattle.io/v1', kind: 'Plan', metadata: { name: 'agent-plan', namespace: 'system-upgrade' }, spec: { version: 'v1', concurrency: 2, nodeSelector: {}, ...spec } });

  it('a Plan: only its version, service account, secrets or selector upgrade nodes; another field shapes the next upgrade', () => {
    expect(one('plan', plan({}), plan({ prepare: { image: 'x' } }))).toStrictEqual([{ object: 'Plan system-upgrade/agent-plan', group: 'config', text: 'spec.prepare changed: used by its next upgrade; upgrades no node by itself' }]);
    expect(one('plan', plan({}), plan({ serviceAccountName: 'other' }))).toStrictEqual([
      { object: 'Plan system-upgrade/agent-plan', group: 'nodes', text: 'runs its upgrade again on every node it selects (every node): its hash reads the service account and secrets, 2 at a time, not cordoned' },
    ]);
    expect(one('plan', plan({}), plan({ nodeSelector: { matchLabels: { pool: 'gpu' } }, drain: { force: true } })).map((o) => [o.group, o.text])).toStrictEqual([
      ['nodes', 'now selects pool=gpu (was every node): a node newly selected runs its upgrade to v1'],
      ['config', 'spec.drain changed: used by its next upgrade; upgrades no node by itself'],
    ]);
  });

  it('an Application: automated sync turned off by `enabled: false` (null or absent counts as on)', () => {
    const app = (automated: unknown) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'a', namespace: 'argocd' }, spec: { syncPolicy: { automated } } });
    expect(one('app', app({ prune: true }), app({ prune: true, enabled: false })).map((o) => o.text)).toStrictEqual(['automated sync turned off: nothing is applied until someone syncs']);
    expect(one('app', app({ prune: true, enabled: false }), app({ prune: true, enabled: null })).map((o) => o.text)).toStrictEqual(['automated sync turned on: every new revision is applied without a person']);
  });

  it('a ClusterSecretStore: which namespaces may read the provider through it', () => {
    const store = (conditions?: unknown) => ({ apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: 'aws-ssm' }, spec: { provider: { aws: { service: 'ParameterStore' } }, ...(conditions ? { conditions } : {}) } });
    expect(one('store', store([{ namespaces: ['opendev'] }]), store())).toStrictEqual([
      { object: 'ClusterSecretStore aws-ssm', group: 'access', text: 'changed (spec.conditions): ExternalSecrets of every namespace read aws through it' },
    ]);
  });

  it('a Kustomization that applies as another service account is an access change', () => {
    const ks = (sa?: string) => ({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: 'k', namespace: 'flux-system' }, spec: { path: './p', prune: true, ...(sa ? { serviceAccountName: sa } : {}) } });
    expect(one('ks', ks('tenant'), ks())).toStrictEqual([{ object: 'Kustomization flux-system/k', group: 'access', text: "applies as service account tenant → (the controller): what it may change follows that account's RBAC" }]);
  });
});

describe('property: the lead names every changed GitOps object', () => {
  /** One object of a kind, version `n` of it (each version differs from the others). */
  const KINDS: Record<string, (name: string, n: number) => Record<string, unknown>> = {
    ConfigMap: (name, n) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data: { key: `v${n}` } }),
    Role: (name, n) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: 'ns' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', `verb${n}`] }] }),
    RoleBinding: (name, n) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: 'ns' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: Array.from({ length: n + 1 }, (_, i) => ({ kind: 'ServiceAccount', name: `sa${i}`, namespace: 'ns' })) }),
    ClusterRole: (name, n) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', `verb${n}`] }] }),
    NetworkPolicy: (name, n) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'ns' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: Array.from({ length: n }, (_, i) => ({ ports: [{ port: 1000 + i }] })) } }),
    ExternalSecret: (name, n) => ({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name, namespace: 'ns' }, spec: { secretStoreRef: { kind: 'ClusterSecretStore', name: 's' }, data: [{ secretKey: 'k', remoteRef: { key: `/p/${n}` } }] } }),
    PrometheusRule: (name, n) => ({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name, namespace: 'ns' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: `up > ${n}` }] }] } }),
    Deployment: (name, n) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'ns' }, spec: { replicas: n + 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: n % 2 ? 'img:1' : 'img:2' }] } } } }),
    Service: (name, n) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' }, spec: { ports: [{ name: 'http', port: 80 + n }] } }),
    Namespace: (name, n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': ['restricted', 'baseline', 'privileged', 'none'][n]! } } }),
    CustomResourceDefinition: (name, n) => ({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${name}.example.org` }, spec: { group: 'example.org', versions: [{ name: `v${n}`, served: true, storage: true }] } }),
    Application: (name, n) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace: 'argocd' }, spec: { destination: { namespace: 'ns' }, source: { path: `p${n}` }, syncPolicy: { automated: { prune: n % 2 === 0 } } } }),
    Kustomization: (name, n) => ({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name, namespace: 'flux-system' }, spec: { path: './p', prune: true, wait: n % 2 === 0, timeout: `${n + 1}m` } }),
    Plan: (name, n) => ({ apiVersion: 'upgrade.cattle.io/v1', kind: 'Plan', metadata: { name, namespace: 'system-upgrade' }, spec: { version: `v1.35.${n}`, concurrency: 1, nodeSelector: {} } }),
  };
  const label = (kind: string, name: string): string => {
    const o = KINDS[kind]!(name, 0);
    const m = o.metadata as { name: string; namespace?: string };
    return `${kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}`;
  };
  const change = fc.record({
    kind: fc.constantFrom(...Object.keys(KINDS), 'values'),
    // Base and head versions; absent: the object is added (no base) or removed (no head).
    from: fc.option(fc.nat(3), { nil: undefined }),
    to: fc.option(fc.nat(3), { nil: undefined }),
  });

  it('every added, removed or changed object (and Helm values file) is named in the lead', () => {
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 12 }), (changes) => {
        // The base tree has an unrelated object, so the environment is changed, not new or removed.
        const base = new Map([['e/manifests/keep.yaml', toYaml(KINDS.ConfigMap!('keep', 0))]]);
        const head = new Map(base);
        const expected: string[] = [];
        changes.forEach((c, i) => {
          // Same version on both sides, or on neither: nothing changes.
          if (c.from === c.to) return;
          const name = `o${i}`;
          const path = c.kind === 'values' ? `e/values/${name}.yaml` : `e/manifests/${name}.yaml`;
          // The values name their file: two files of one content would be a file renamed unchanged, no change.
          const doc = (n: number) => (c.kind === 'values' ? toYaml({ controller: { flag: n, name } }) : toYaml(KINDS[c.kind]!(name, n)));
          if (c.from !== undefined) base.set(path, doc(c.from));
          if (c.to !== undefined) head.set(path, doc(c.to));
          expected.push(c.kind === 'values' ? `values/${name}.yaml` : label(c.kind, name));
        });
        const d = diffTrees(base, head);
        const lead = leadOf(formatMarkdown(d, ctx));
        for (const x of expected) expect(lead, lead).toContain(`${x}\``);
        // Each object in one item only (a new ClusterRole: with what it grants, not again as a bare permission).
        expect([...timesNamed(d, lead)].filter(([, n]) => n > 1), lead).toStrictEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});

describe("a chart's object is named once, and every change of it is said", () => {
  const CHARTS = 'Charts installed, upgraded or removed';
  /** The lead of one environment whose `app.yaml` goes from `before` to `after` (absent: added or removed), beside an unchanged object. */
  const leadFor = (before: unknown, after: unknown): string => {
    const keep: [string, string] = ['e/manifests/keep.yaml', toYaml({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', namespace: 'ns' }, data: { k: 'v' } })];
    const side = (v: unknown) => new Map<string, string>([keep, ...(v === undefined ? [] : [['e/apps/app.yaml', toYaml(v)] as [string, string]])]);
    return leadOf(formatMarkdown(diffTrees(side(before), side(after)), ctx));
  };
  const sections = (lead: string): string[] => lead.split('\n').filter((l) => l.startsWith('**')).map((l) => /^\*\*([^*]+)\*\*/.exec(l)![1]!);
  const application = (version: string, wave = '1') => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'reloader', namespace: 'argocd', annotations: { 'argocd.argoproj.io/sync-wave': wave } },
    spec: {
      project: 'third-party',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'reloader' },
      source: { repoURL: 'https://stakater.github.io/stakater-charts', chart: 'reloader', targetRevision: version },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  });
  const helmRelease = (version: string, dependsOn: string[] = []) => ({
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: 'reloader', namespace: 'reloader' },
    spec: {
      interval: '10m',
      targetNamespace: 'reloader',
      chart: { spec: { chart: 'reloader', version, sourceRef: { kind: 'HelmRepository', name: 'reloader' } } },
      ...(dependsOn.length > 0 ? { dependsOn: dependsOn.map((name) => ({ name })) } : {}),
    },
  });

  it('a new Application with a chart: once, as the chart installed at its version, with how it syncs; not under configuration only', () => {
    const lead = leadFor(undefined, application('2.2.7'));
    expect(sections(lead)).toStrictEqual([CHARTS]);
    expect(section(lead, CHARTS)).toStrictEqual(['- `reloader` **new** at `2.2.7` (Application argocd/reloader, namespace reloader): new Application: synced automatically (prune on, self-heal on)']);
  });

  it('a new HelmRelease: once, as the chart installed at its version', () => {
    const lead = leadFor(undefined, helmRelease('2.2.7'));
    expect(sections(lead)).toStrictEqual([CHARTS]);
    expect(section(lead, CHARTS)).toStrictEqual(['- `reloader` **new** at `2.2.7` (HelmRelease reloader/reloader, namespace reloader)']);
  });

  it('a removed Application or HelmRelease: once, as the chart removed', () => {
    for (const [v, object] of [
      [application('2.2.7'), 'Application argocd/reloader'],
      [helmRelease('2.2.7'), 'HelmRelease reloader/reloader'],
    ] as const) {
      const lead = leadFor(v, undefined);
      expect(sections(lead)).toStrictEqual([CHARTS]);
      expect(section(lead, CHARTS)).toStrictEqual([`- \`reloader\` **removed** (was \`2.2.7\`) (${object}, namespace reloader)`]);
    }
  });

  it('chart version and sync wave changed together: both said, in the chart item', () => {
    const lead = leadFor(application('2.2.7', '1'), application('2.2.8', '3'));
    expect(sections(lead)).toStrictEqual([CHARTS]);
    expect(section(lead, CHARTS)).toStrictEqual(['- `reloader` `2.2.7` → `2.2.8` (Application argocd/reloader, namespace reloader): changed: metadata.annotations["argocd.argoproj.io/sync-wave"]']);
  });

  it('chart version and dependsOn changed together: both said, in the chart item', () => {
    const lead = leadFor(helmRelease('2.2.7'), helmRelease('2.2.8', ['cert-manager']));
    expect(sections(lead)).toStrictEqual([CHARTS]);
    expect(section(lead, CHARTS)).toStrictEqual(['- `reloader` `2.2.7` → `2.2.8` (HelmRelease reloader/reloader, namespace reloader): dependsOn (none) → cert-manager: it is applied only once cert-manager is Ready']);
  });

  it('the sync wave or dependsOn alone: said under configuration only, as before', () => {
    const wave = leadFor(application('2.2.7', '1'), application('2.2.7', '3'));
    expect(sections(wave)).toStrictEqual(['Configuration only']);
    expect(section(wave, 'Configuration only')).toStrictEqual(['- `Application argocd/reloader`: changed: metadata.annotations["argocd.argoproj.io/sync-wave"]']);
    const order = leadFor(helmRelease('2.2.7'), helmRelease('2.2.7', ['cert-manager']));
    expect(section(order, 'Configuration only')).toStrictEqual(['- `HelmRelease reloader/reloader`: dependsOn (none) → cert-manager: it is applied only once cert-manager is Ready']);
  });

  it("a sync policy line does not swallow the object's other changes", () => {
    const off = application('2.2.7', '3');
    const lead = leadFor(application('2.2.7', '1'), { ...off, spec: { ...off.spec, syncPolicy: { automated: { prune: false, selfHeal: true } } } });
    expect(section(lead, 'Configuration only')).toStrictEqual(['- `Application argocd/reloader`: prune turned off: resources removed from Git stay in the cluster; changed: metadata.annotations["argocd.argoproj.io/sync-wave"]']);
  });

  it('a pod template change does not swallow a change outside it (replicas), said in the same item', () => {
    const deploy = (image: string, replicas: number) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'portal', namespace: 'ns' },
      spec: { replicas, selector: { matchLabels: { app: 'portal' } }, template: { metadata: { labels: { app: 'portal' } }, spec: { containers: [{ name: 'portal', image }] } } },
    });
    const lead = leadFor(deploy('portal:1', 2), deploy('portal:2', 3));
    expect(sections(lead)).toStrictEqual(['Workloads whose pods are replaced']);
    expect(section(lead, 'Workloads whose pods are replaced')).toStrictEqual(['- `Deployment ns/portal`: `portal` `portal:1` → `portal:2`; changed: spec.replicas']);
  });

  it("a ConfigMap's keys line does not swallow its other changes (a label)", () => {
    const cm = (v: string, tier: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'portal', namespace: 'ns', labels: { tier } }, data: { LOG_LEVEL: v } });
    expect(section(leadFor(cm('info', 'a'), cm('debug', 'b')), 'Configuration only')).toStrictEqual([
      '- `ConfigMap ns/portal`: keys LOG_LEVEL changed (mounted: seen by running pods within about a minute; as environment variables: at the next pod start); changed: metadata.labels.tier',
    ]);
  });

  it('an object with lines of two groups is named once, in the more consequential section, with all its lines', () => {
    const ks = (sa: string, prune: boolean) => ({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', metadata: { name: 'k', namespace: 'flux-system' }, spec: { path: './p', prune, serviceAccountName: sa } });
    const lead = leadFor(ks('a', true), ks('b', false));
    expect(sections(lead)).toStrictEqual(['Access granted or changed']);
    expect(section(lead, 'Access granted or changed')).toStrictEqual([
      "- `Kustomization flux-system/k`: applies as service account a → b: what it may change follows that account's RBAC; prune turned off: objects removed from the source stay in the cluster",
    ]);
  });
});
