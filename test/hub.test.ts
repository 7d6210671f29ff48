/**
 * Hub mode (fixture valid/hub.yaml managing fleet-a and fleet-b): the roots' `fleet` AppProject, the hub's
 * identity on the managed clusters (issue 25: not cluster-admin), and RollingSync by promotion stage (issue 21).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { resourceOf } from '../generators/engines/argocd/managed.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { formatDiagnostic } from '../generators/validate/diagnostics.js';
import { checkMotion } from '../generators/validate/motion/index.js';
import { fixtureSources, formatted } from './helpers.js';
import { generateApplications, secretOf } from './support/applicationset.js';
import { executeGoTemplate } from './support/go-template.js';

const { sources } = fixtureSources('valid', 'hub.yaml');
const render = (env: string, src = sources) => {
  const r = prepareEnvironment(env, src);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
};
const docs = (files: ReturnType<typeof render>, prefix: string) => files.filter((f) => f.path.startsWith(prefix) && f.path.endsWith('.yaml')).flatMap((f) => parseYamlStream(f.content) as any[]);
const doc = (files: ReturnType<typeof render>, path: string) => parseYamlStream(files.find((f) => f.path === path)!.content)[0] as any;

describe('the fleet AppProject of the managed roots', () => {
  const hub = render('hub');

  it('allows Applications and AppProjects only, in Argo CD\'s namespace of the hub\'s cluster, from this repository; the ApplicationSet uses it', () => {
    const p = doc(hub, 'argocd/appproject-fleet.yaml');
    expect(p.spec).toStrictEqual({
      clusterResourceWhitelist: [],
      destinations: [{ namespace: 'argocd', server: 'https://kubernetes.default.svc' }],
      namespaceResourceWhitelist: [
        { group: 'argoproj.io', kind: 'Application' },
        { group: 'argoproj.io', kind: 'AppProject' },
      ],
      sourceRepos: ['https://github.com/opendev/odp-gitops.git'],
    });
    expect(doc(hub, 'argocd/applicationset-fleet.yaml').spec.template.spec.project).toBe('fleet');
    // What the roots sync (rendered/<env>/apps and argocd) holds only those kinds.
    for (const env of ['fleet-a', 'fleet-b']) {
      const files = render(env);
      expect([...new Set([...docs(files, 'apps/'), ...docs(files, 'argocd/appproject-')].map((o) => `${o.apiVersion.split('/')[0]}/${o.kind}`))].sort()).toStrictEqual(['argoproj.io/AppProject', 'argoproj.io/Application']);
    }
  });

  it('the ApplicationSet policy override is explicit in the hub\'s Argo CD values', () => {
    const values = doc(hub, 'values/argo-cd.yaml');
    expect(values.configs.params['applicationsetcontroller.enable.policy.override']).toBe('true');
  });

  it('the cluster ExternalSecrets skip the root\'s dry run (External Secrets\' CRDs come with a child Application), and the simulator refuses them without it', () => {
    // argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:1047-1068 (a CRD counts only among the sync's own objects,
    // hasCRDOfGroupKind :1491-1498), :482-486 (one invalid task fails the whole operation).
    const es = doc(hub, 'apps/cluster-fleet-a.yaml');
    // The root's last wave (5): kube-prometheus-stack, which the root's monitoring objects need, is a wave before it
    // (engines/argocd/waves.ts rootObjectNeeds); it was in the last wave, 3, with them.
    expect(es.metadata.annotations).toStrictEqual({ 'argocd.argoproj.io/sync-wave': '5', 'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true' });
    expect(doc(hub, 'argocd/application-root.yaml').metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('5');
    expect(doc(hub, 'apps/kube-prometheus-stack.yaml').metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('4');
    const model = prepareEnvironment('hub', sources).prepared!.model;
    const tree = (files: typeof hub) => parseRenderedTree(new Map(files.map((f) => [`hub/${f.path}`, f.content] as [string, string])));
    const dryRun = (files: typeof hub) => checkMotion(tree(files), [model]).map(formatDiagnostic).filter((l) => l.includes('motion.argocd.dry-run') || l.includes('validated with the root'));
    expect(dryRun(hub)).toStrictEqual([]);
    const stripped = hub.map((f) => (f.path.startsWith('apps/cluster-') ? { ...f, content: f.content.replace(/^\s+argocd\.argoproj\.io\/sync-options: .*\n/m, '') } : f));
    expect(dryRun(stripped)).toStrictEqual(['fleet-a', 'fleet-b'].map((e) => expect.stringContaining(`ExternalSecret cluster-${e} is validated with the root's other objects before its first wave, but its CRD`)));
  });

  it('the cluster Secrets pin name and server from the managed files: only the config (and an { ssm } endpoint) comes from SSM', () => {
    // Whoever may write a managed cluster's parameters could otherwise name another cluster or the hub itself: a
    // cluster Secret with server https://kubernetes.default.svc replaces the hub's in-cluster connection (argo-cd v3.4.4
    // util/db/cluster.go:87-98).
    // config: the parameter verbatim, behind the token's expiry check (hub.ts expiryCheck, tested below).
    expect(doc(hub, 'apps/cluster-fleet-a.yaml').spec.target.template.data).toStrictEqual({ name: 'fleet-a', server: 'https://api.fleet-a.internal:6443', config: expect.stringMatching(/^\{\{ \$c := fromJson \.config \}\}.*\{\{ \.config \}\}$/) });
    const fromSsm = new Map(sources);
    fromSsm.set('environments/fleet-a.yaml', sources.get('environments/fleet-a.yaml')!.replace('endpoint: https://api.fleet-a.internal:6443', 'endpoint: { ssm: /odp/fixture/api/endpoint }'));
    // An { ssm } endpoint is pinned to its value in the managed environment's lock (test/fixtures/_fixture.ssm.lock.json),
    // not read from the parameter when the ExternalSecret refreshes.
    const es = doc(render('hub', fromSsm), 'apps/cluster-fleet-a.yaml');
    expect(es.spec.target.template.data).toStrictEqual({ name: 'fleet-a', server: 'https://api.fixture.internal:6443', config: expect.stringMatching(/\{\{ \.config \}\}$/) });
    // Only what the template reads is fetched: the pinned name and server parameters are not.
    expect(es.spec.data).toStrictEqual([{ secretKey: 'config', remoteRef: { key: '/odp/hub/argocd/clusters/fleet-a/config' } }]);
    expect(doc(hub, 'apps/cluster-fleet-b.yaml').spec.data.map((d: any) => d.secretKey)).toStrictEqual(['config']);
    // Every key the template names is fetched or pinned, and every fetched key is used.
    for (const e of [es, doc(hub, 'apps/cluster-fleet-b.yaml')]) {
      const used = Object.values(e.spec.target.template.data as Record<string, string>).flatMap((v) => [...v.matchAll(/\{\{ \.(\w+) \}\}/g)].map((x) => x[1]));
      expect(e.spec.data.map((d: any) => d.secretKey).sort()).toStrictEqual([...new Set(used)].sort());
    }
  });

  it('an { ssm } endpoint not locked in the managed environment\'s lock refuses the hub at its manages entry, naming the refresh', () => {
    const unlocked = new Map(sources);
    unlocked.set('environments/fleet-a.yaml', sources.get('environments/fleet-a.yaml')!.replace('endpoint: https://api.fleet-a.internal:6443', 'endpoint: { ssm: /odp/fleet-a/api/endpoint }'));
    const r = prepareEnvironment('hub', unlocked);
    expect(r.prepared).toBeUndefined();
    expect(formatted(r).filter((l) => l.includes('argocd-managed-endpoint-unlocked') || l.includes('not locked in environments/fleet-a'))).toStrictEqual([
      expect.stringMatching(/^environments\/hub\.yaml:\d+:\d+ {2}argocd\.manages\[0\]: 'fleet-a' has cluster\.endpoint \{ ssm: \/odp\/fleet-a\/api\/endpoint \}, which is not locked in environments\/fleet-a\.ssm\.lock\.json.*\(run npm run synth -- --env fleet-a --refresh-ssm and commit the lock it writes\)$/),
    ]);
    // Locked: pinned like a literal (a new Map: the fleet index is cached per sources object).
    const locked = new Map(unlocked);
    const lock = JSON.parse(locked.get('environments/fleet-a.ssm.lock.json')!);
    lock.parameters['/odp/fleet-a/api/endpoint'] = { value: 'https://api.fleet-a.from-ssm.internal:6443', type: 'String', version: 1, lastModified: '2026-11-20T09:00:00.000Z' };
    locked.set('environments/fleet-a.ssm.lock.json', JSON.stringify(lock));
    expect(doc(render('hub', locked), 'apps/cluster-fleet-a.yaml').spec.target.template.data.server).toBe('https://api.fleet-a.from-ssm.internal:6443');
  });

  it('a managed endpoint naming the in-cluster API server (written or locked) is refused: its Secret would replace the hub\'s own cluster', () => {
    // argo-cd v3.4.4 util/db/cluster.go:87-98: a cluster Secret whose server is https://kubernetes.default.svc replaces the in-cluster one.
    const lockedTo = (value: string, endpoint = '{ ssm: /odp/fleet-a/api/endpoint }') => {
      const src = new Map(sources);
      src.set('environments/fleet-a.yaml', sources.get('environments/fleet-a.yaml')!.replace('endpoint: https://api.fleet-a.internal:6443', `endpoint: ${endpoint}`));
      const lock = JSON.parse(src.get('environments/fleet-a.ssm.lock.json')!);
      lock.parameters['/odp/fleet-a/api/endpoint'] = { value, type: 'String', version: 2, lastModified: '2026-11-20T09:00:00.000Z' };
      src.set('environments/fleet-a.ssm.lock.json', JSON.stringify(lock));
      return formatted(prepareEnvironment('hub', src)).filter((l) => l.includes('the address of the hub\'s own cluster'));
    };
    expect(lockedTo('https://kubernetes.default.svc')).toStrictEqual([
      expect.stringContaining("argocd.manages[0]: 'fleet-a' has cluster.endpoint https://kubernetes.default.svc (the value of /odp/fleet-a/api/endpoint in environments/fleet-a.ssm.lock.json), the address of the hub's own cluster"),
    ]);
    expect(lockedTo('https://kubernetes.default.svc.cluster.local:443/')).toHaveLength(1);
    expect(lockedTo('https://x', 'https://KUBERNETES.default.svc')).toStrictEqual([expect.stringContaining("'fleet-a' has cluster.endpoint https://KUBERNETES.default.svc, the address")]);
    expect(lockedTo('https://kubernetes.example.com:6443')).toStrictEqual([]);
  });

  it('validate refuses an ApplicationSet whose roots\' AppProject is not rendered, and the first-sync simulator names it', async () => {
    const all = new Map([
      ...hub.filter((f) => f.path !== 'argocd/appproject-fleet.yaml').map((f) => [`hub/${f.path}`, f.content] as [string, string]),
      ...['fleet-a', 'fleet-b'].flatMap((e) => render(e).map((f) => [`${e}/${f.path}`, f.content] as [string, string])),
    ]);
    const tree = parseRenderedTree(all);
    const out = (await checkRenderedTree(tree)).map(formatDiagnostic);
    expect(out.filter((l) => l.includes('ApplicationSet fleet generates'))).toStrictEqual([
      expect.stringContaining("spec.template.spec.project: ApplicationSet fleet generates Applications of AppProject 'fleet', which is not rendered in this environment"),
    ]);
    const r = prepareEnvironment('hub', sources);
    const motion = checkMotion(tree, [r.prepared!.model]).map(formatDiagnostic);
    expect(motion.some((l) => l.includes('AppProject fleet'))).toBe(true);
    // With the project, neither complains.
    const good = parseRenderedTree(new Map([...all, ['hub/argocd/appproject-fleet.yaml', hub.find((f) => f.path === 'argocd/appproject-fleet.yaml')!.content]]));
    expect(checkMotion(good, [r.prepared!.model]).map(formatDiagnostic).filter((l) => l.includes('AppProject fleet'))).toStrictEqual([]);
  });
});

describe('the hub\'s identity on a managed cluster (argocd/bootstrap/hub-access.yaml)', () => {
  it.each(['fleet-a', 'fleet-b'])('%s: not cluster-admin; writes exactly the cluster-scoped kinds its AppProjects allow, every namespaced kind only in their destination namespaces', (env) => {
    const files = render(env);
    const access = docs(files, 'argocd/bootstrap/hub-access.yaml');
    const projects = docs(files, 'argocd/appproject-');
    expect(access.filter((o) => o.roleRef?.name === 'cluster-admin' || o.kind === 'Secret')).toStrictEqual([]);
    const role = access.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'argocd-manager');
    // Read everything: Argo CD's cluster cache lists and watches every kind (a forbidden list fails the cache).
    expect(role.rules[0]).toStrictEqual({ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] });
    const written = role.rules.slice(1).filter((r: any) => r.verbs.includes('create')).flatMap((r: any) => r.resources.map((x: string) => `${r.apiGroups[0]}/${x}`)).sort();
    const allowed = [...new Set(projects.flatMap((p) => p.spec.clusterResourceWhitelist.map((k: any) => `${k.group}/${resourceOf(k.kind)}`)))].sort();
    expect(written).toStrictEqual(allowed);
    expect(written).not.toContain('/nodes');
    // No wildcard write cluster-wide.
    expect(role.rules.slice(1).every((r: any) => !r.resources.includes('*') && !r.apiGroups.includes('*'))).toBe(true);
    const binding = access.find((o) => o.kind === 'ClusterRoleBinding');
    expect([binding.roleRef.name, binding.subjects]).toStrictEqual(['argocd-manager', [{ kind: 'ServiceAccount', name: 'argocd-manager', namespace: 'kube-system' }]]);
    // Namespaced writes: a RoleBinding in each destination namespace of the projects, none elsewhere.
    const namespaces = [...new Set(projects.flatMap((p) => p.spec.destinations.map((d: any) => d.namespace)))].sort();
    const bindings = access.filter((o) => o.kind === 'RoleBinding');
    expect(bindings.map((b) => b.metadata.namespace).sort()).toStrictEqual(namespaces);
    expect(new Set(bindings.map((b) => b.roleRef.name))).toStrictEqual(new Set(['argocd-manager-namespaced']));
    // The namespaces a RoleBinding needs exist first (kube-system always does), labelled as the Application would.
    expect(access.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).sort()).toStrictEqual(namespaces.filter((n) => n !== 'kube-system'));
    const apps = docs(files, 'apps/');
    for (const ns of access.filter((o) => o.kind === 'Namespace')) {
      const app = apps.find((a) => a.spec.destination.namespace === ns.metadata.name && a.spec.syncPolicy.managedNamespaceMetadata);
      if (app) expect(ns.metadata.labels).toStrictEqual(app.spec.syncPolicy.managedNamespaceMetadata.labels);
    }
  });

  it('resource names of kinds: regular plurals and the one irregular CRD', () => {
    expect(['CustomResourceDefinition', 'IngressClass', 'StorageClass', 'IngressClassParams', 'APIService', 'Namespace', 'PriorityClass'].map(resourceOf)).toStrictEqual([
      'customresourcedefinitions', 'ingressclasses', 'storageclasses', 'ingressclassparams', 'apiservices', 'namespaces', 'priorityclasses',
    ]);
  });

  it('register.sh mints a TokenRequest token with a lifetime and states the rotation', () => {
    const script = render('fleet-b').find((f) => f.path === 'argocd/bootstrap/register.sh')!.content;
    expect(script).toContain("kubectl -n 'kube-system' create token 'argocd-manager' --duration=2160h -o 'jsonpath={.status.expirationTimestamp}{\"\\n\"}{.status.token}' >\"$TMP/issued\"");
    // The rotation advice comes from the expiry the API server granted, not from the 90 days asked (hub.test.ts, below).
    expect(script).toContain('# Rotation: it prints the expiry the API server granted and by when to run it again (14 days before that expiry');
    expect(script).not.toMatch(/every \d+ days/);
    // Only the config parameter is written; the name and server parameters of older registrations are named, not written.
    expect(script.split('\n').filter((l) => l.startsWith('put '))).toStrictEqual([expect.stringMatching(/^put '\/odp\/hub\/argocd\/clusters\/fleet-b\/config' SecureString /)]);
    expect(script).toMatch(/^set -eu$/m);
    const readme = render('fleet-b').find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain('**Rotate it** by running that script again by then');
    expect(readme).toContain('the script prints the expiry it granted and by when to run\nit again (14 days before that expiry');
    expect(readme).not.toContain('every 30 days');
    expect(readme).not.toContain('bound to `cluster-admin`,');
  });
});

/*
 * The hub's first sync with 0, 1 and all managed clusters registered, the ApplicationSet evaluated as argo-cd v3.4.4's
 * controller does (test/support/applicationset.ts; hub.ts ROOT_WHEN_REGISTERED):
 * - the hub's root syncs its waves; the cluster ExternalSecrets (last wave, never waited on) are Ready only for the
 *   clusters whose bootstrap wrote the config parameter: External Secrets creates the Secret then, not before;
 * - the ApplicationSet (last wave) yields a root for a fleet file only while a cluster Secret labelled with that
 *   environment exists; with none it generates nothing and is Healthy (ResourcesUpToDate), so nothing waits;
 * - a cluster registered later: its Secret appears, the controller requeues the ApplicationSet
 *   (clustereventhandler.go:53-100) and the root is created then, its first sync starting with its cluster known.
 * So no generated root ever has an Application whose destination cluster the hub does not know.
 */
describe('the ApplicationSet generates a managed root only once its cluster is registered (the hub\'s first sync with 0, 1 and every cluster registered)', () => {
  const hub = render('hub');
  const set = doc(hub, 'argocd/applicationset-fleet.yaml');
  const managed = ['fleet-a', 'fleet-b'];
  const trees = new Map(managed.map((e) => [e, render(e)]));
  const repo = new Map([...trees].flatMap(([e, files]) => files.map((f) => [`rendered/${e}/${f.path}`, f.content] as [string, string])));
  // The Secret External Secrets creates for a registered cluster, from the hub's rendered ExternalSecret.
  const secret = (env: string) => secretOf(doc(hub, `apps/cluster-${env}.yaml`), { config: '{"bearerToken":"t","tlsClientConfig":{"insecure":false,"caData":"Y2E="}}' });
  const generate = (registered: string[], files = repo) => generateApplications(set, files, registered.map(secret));

  it.each([[[]], [['fleet-a']], [['fleet-b']], [['fleet-a', 'fleet-b']]])('registered %j: a root for exactly those, each as the template says', (registered: string[]) => {
    const roots = generate(registered);
    expect(roots.map((r) => r.metadata.name)).toStrictEqual(registered.map((e) => `${e}-root`));
    for (const [i, env] of registered.entries()) {
      expect(roots[i]!.metadata.labels).toStrictEqual({ 'odp.opendev.dev/environment': env });
      expect(roots[i]!.spec.project).toBe('fleet');
      expect(roots[i]!.spec.destination).toStrictEqual({ server: 'https://kubernetes.default.svc', namespace: 'argocd' });
      expect(roots[i]!.spec.sources.map((x: any) => x.path)).toStrictEqual([`rendered/${env}/apps`, `rendered/${env}/argocd`]);
    }
  });

  it('no generated root syncs an Application whose destination cluster the hub does not know', () => {
    for (const registered of [[], ['fleet-a'], ['fleet-b'], managed]) {
      const known = new Set(registered.map((e) => secret(e).data.name));
      const destinations = generate(registered).flatMap((root) => {
        const env = root.metadata.labels['odp.opendev.dev/environment'] as string;
        return docs(trees.get(env)!, 'apps/').filter((o) => o.kind === 'Application').map((a) => a.spec.destination.name as string);
      });
      expect(destinations.filter((d) => !known.has(d))).toStrictEqual([]);
      expect(destinations.length > 0).toBe(registered.length > 0);
    }
    // Before this change (a git files generator alone) every fleet file yielded its root, registered or not.
    const plain = { ...set, spec: { ...set.spec, generators: [set.spec.generators[0].matrix.generators[0]] } };
    expect(generateApplications(plain, repo, []).map((r) => r.metadata.name)).toStrictEqual(['fleet-a-root', 'fleet-b-root']);
  });

  it('the selector is the fleet file\'s directory, not a value the file chooses; other cluster Secrets and the in-cluster entry never match', () => {
    expect(set.spec.generators[0].matrix.generators[1]).toStrictEqual({ clusters: { selector: { matchLabels: { 'odp.opendev.dev/environment': '{{.path.basename}}' } } } });
    // fleet-a's file claiming to be fleet-b: fleet-b's Secret still generates only from rendered/fleet-b.
    const spoofed = new Map(repo).set('rendered/fleet-a/fleet.yaml', repo.get('rendered/fleet-a/fleet.yaml')!.replace('environment: fleet-a', 'environment: fleet-b'));
    expect(generate(['fleet-b'], spoofed).map((r) => r.spec.sources[0].path)).toStrictEqual(['rendered/fleet-b/apps']);
    // A cluster Secret of something else in Argo CD's namespace (no environment label) generates nothing.
    const other = { metadata: { name: 'other', namespace: 'argocd', labels: { 'argocd.argoproj.io/secret-type': 'cluster' } }, data: { name: 'other', server: 'https://other:6443' } };
    expect(generateApplications(set, repo, [other])).toStrictEqual([]);
  });

  it('the roots keep their RollingSync stage label, and each stage selects the generated roots of its environments', () => {
    const staged = new Map(sources);
    staged.set('environments/hub.yaml', sources.get('environments/hub.yaml')!.replace('manages: [fleet-a, fleet-b]', 'manages: [fleet-a, fleet-b]\n  rollingSync: { maxUpdate: 1 }'));
    staged.set('environments/fleet-b.yaml', `${sources.get('environments/fleet-b.yaml')!}\npromotion:\n  from: fleet-a\n`);
    const rolling = doc(render('hub', staged), 'argocd/applicationset-fleet.yaml');
    const roots = generateApplications(rolling, repo, managed.map(secret));
    const steps = rolling.spec.strategy.rollingSync.steps as any[];
    expect(roots.map((r) => steps.findIndex((st) => st.matchExpressions.every((m: any) => m.values.includes(r.metadata.labels[m.key]))))).toStrictEqual([0, 1]);
  });

  it('the hub\'s own first sync is unchanged: the ApplicationSet stays in the last wave, which nothing waits for', () => {
    expect(set.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(doc(hub, 'apps/cluster-fleet-a.yaml').metadata.annotations['argocd.argoproj.io/sync-wave']);
    const model = prepareEnvironment('hub', sources).prepared!.model;
    const tree = parseRenderedTree(new Map(hub.map((f) => [`hub/${f.path}`, f.content] as [string, string])));
    expect(checkMotion(tree, [model]).map(formatDiagnostic).filter((l) => l.includes('ApplicationSet'))).toStrictEqual([]);
  });
});

/*
 * The hub's token of a managed cluster expires (register.sh mints it for 90 days): 14 days before, the hub's ExternalSecret
 * cluster-<env> fails its template, so External Secrets keeps the Secret (the token still works) and marks the
 * ExternalSecret Ready=False with the message (external-secrets v2.9.0 externalsecret_controller.go:460-498, 580-583);
 * Argo CD shows it Degraded. The template runs here through test/support/go-template.ts (ESO's functions, hub.ts expiryCheck).
 */
describe('the hub sees a managed cluster\'s token expire (register.sh stores its expiry, the ExternalSecret checks it)', () => {
  const hub = render('hub');
  const template = doc(hub, 'apps/cluster-fleet-a.yaml').spec.target.template.data.config as string;
  const now = new Date('2027-01-10T12:00:00Z');
  const config = (expiresAt?: unknown) => JSON.stringify({ bearerToken: 'eyJ.tok.en', tlsClientConfig: { insecure: false, caData: 'UEVN' }, ...(expiresAt === undefined ? {} : { expiresAt }) });
  const run = (c: string) => executeGoTemplate(template, { config: c }, now);

  it('more than 14 days left: the config passes through verbatim', () => {
    for (const at of ['2027-01-24T12:00:00Z', '2027-04-10T12:00:00Z']) expect(run(config(at))).toBe(config(at));
  });

  it('14 days or less, or expired: the template fails with the message naming register.sh (the ExternalSecret turns not Ready)', () => {
    for (const at of ['2027-01-24T11:59:59Z', '2027-01-20T00:00:00Z', '2026-12-01T00:00:00Z'])
      expect(() => run(config(at))).toThrow("the hub's token for fleet-a expires within 14 days (expiresAt in its config): run rendered/fleet-a/argocd/bootstrap/register.sh with fleet-a's kubeconfig to rotate it");
  });

  it('a config without expiresAt (registered before it), not a string, or not JSON passes unchecked', () => {
    for (const c of [config(), config(1767225600), 'not json', '[1]']) expect(run(c)).toBe(c);
  });

  it('register.sh stores the expiry the API server granted (TokenRequest status.expirationTimestamp) in the config, and refuses a missing one', () => {
    const script = render('fleet-a').find((f) => f.path === 'argocd/bootstrap/register.sh')!.content;
    const dir = mkdtempSync(join(tmpdir(), 'hub-register-'));
    try {
      const go = (issued: string) => {
        writeFileSync(join(dir, 'kubectl'), `#!/bin/sh
case "$*" in
  *'create token argocd-manager --duration=2160h -o jsonpath={.status.expirationTimestamp}'*'{.status.token}') printf '%s' '${issued}' ;;
  *'get configmap kube-root-ca.crt'*) printf 'PEM' ;;
  *) echo "unexpected kubectl $*" >&2; exit 1 ;;
esac
`, { mode: 0o755 });
        writeFileSync(join(dir, 'aws'), `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in --name) n=$2 ;; --value) v=$2 ;; esac; shift; done
echo "$n" >>'${join(dir, 'names')}'
case "$n" in */config) cp "\${v#file://}" '${join(dir, 'config')}' ;; esac
`, { mode: 0o755 });
        // register.sh's clock (date -u +FORMAT), fixed at the test's now.
        writeFileSync(join(dir, 'date'), `#!/bin/sh
[ "$*" = '-u +%Y-%m-%dT%H:%M:%SZ' ] && { echo ${now.toISOString().replace('.000Z', 'Z')}; exit 0; }
exec /bin/date "$@"
`, { mode: 0o755 });
        rmSync(join(dir, 'names'), { force: true });
        rmSync(join(dir, 'config'), { force: true });
        return spawnSync('sh', ['-c', script], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' });
      };
      const ok = go('2027-04-10T12:00:00Z\neyJ.tok.en');
      expect(ok.status, ok.stderr).toBe(0);
      const written = readFileSync(join(dir, 'config'), 'utf8');
      expect(JSON.parse(written)).toStrictEqual({ bearerToken: 'eyJ.tok.en', tlsClientConfig: { insecure: false, caData: Buffer.from('PEM').toString('base64') }, expiresAt: '2027-04-10T12:00:00Z' });
      expect(ok.stdout).toContain('the token is valid until 2027-04-10T12:00:00Z (as the API server granted it)');
      // 2027-01-10T12:00:00Z to 2027-04-10T12:00:00Z is 90 days: run again within 90 - 14 days.
      expect(ok.stdout).toContain('within 76 days (the hub\'s ExternalSecret cluster-fleet-a warns from 14 days before the expiry)');
      expect(readFileSync(join(dir, 'names'), 'utf8')).toBe('/odp/hub/argocd/clusters/fleet-a/config\n');
      // An API server capping the lifetime (--service-account-max-token-expiration): the advice follows what it granted.
      const capped = go('2027-02-09T12:00:00Z\neyJ.tok.en');
      expect(capped.status, capped.stderr).toBe(0);
      expect(capped.stdout).toContain('valid until 2027-02-09T12:00:00Z');
      expect(capped.stdout).toContain('within 16 days');
      // Granted 14 days or less: the hub's template would fail on it at once (the Secret never created or replaced): refused, nothing written.
      for (const short of ['2027-01-24T12:00:00Z', '2027-01-24T11:59:59Z', '2027-01-11T12:00:00Z']) {
        const r = go(`${short}\neyJ.tok.en`);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`the API server granted a token valid until ${short} only (less than 14 days`);
        expect(existsSync(join(dir, 'config'))).toBe(false);
        expect(existsSync(join(dir, 'names'))).toBe(false);
      }
      // What the hub's template does with such a config: it fails (a second under 14 days; at exactly 14 it fails a refresh later).
      expect(() => executeGoTemplate(template, { config: config('2027-01-24T11:59:59Z') }, now)).toThrow('expires within 14 days');
      // What it wrote passes the hub's check today, and fails it 14 days before that date.
      expect(executeGoTemplate(template, { config: written }, now)).toBe(written);
      expect(() => executeGoTemplate(template, { config: written }, new Date('2027-03-28T00:00:00Z'))).toThrow('expires within 14 days');
      for (const bad of ['\neyJ.tok.en', '2027-04-10 12:00:00\neyJ.tok.en', '2027-04-10T12:00:00+02:00\neyJ.tok.en']) {
        const r = go(bad);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('kubectl create token returned no expiry in UTC');
        expect(existsSync(join(dir, 'config'))).toBe(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a managed root whose first sync timed out before the hub reached the cluster (README, "Check on the hub")', () => {
  /*
   * An Application whose destination cluster the hub cannot reach (network, certificate) has sync and health Unknown (argo-cd v3.4.4
   * controller/appcontroller.go:1784-1789); the hub's Application health reads that as Progressing, so the root's
   * first wave waits; after controller.sync.timeout.seconds the operation is terminated (:1460-1465), not retried
   * (:1538), and auto-sync skips the commit whose sync failed (:2251-2262). The check restarts it only then: argocd/check-hub.sh,
   * run against the argocd stub in test/argocd-hub-check.test.ts.
   */
  const readme = render('fleet-a').find((f) => f.path === 'README.md')!.content;
  it('the README says why the root waits, with the upstream lines', () => {
    expect(readme).toContain('The ApplicationSet creates `fleet-a-root` only once that Secret exists, i.e. once this cluster is registered (step 2)');
    expect(readme).toContain('Once the root exists, its first sync waits at its first wave until the\nhub reaches this API server; an hour later (`controller.sync.timeout.seconds`) it is terminated');
  });
});

/*
 * Checked against Argo CD's progressive-sync docs (argoproj/argo-cd v3.4.4
 * docs/operator-manual/applicationset/Progressive-Syncs.md): enabled by
 * `applicationsetcontroller.enable.progressive.syncs: "true"` in argocd-cmd-params-cm (:19-25; argo-helm
 * argo-cd-10.1.1 charts/argo-cd/templates/argocd-applicationset/deployment.yaml:160 reads that key from
 * configs.params); `type: RollingSync` with steps of `matchExpressions` over the generated Applications'
 * labels (:53-60, the example :160-215 labels them from the template as here), each step waiting for every
 * Application of the previous one to be Healthy (:62), `maxUpdate` an integer or a percentage (:63);
 * autosync removed from the generated Applications (:65); an Application no step selects is never
 * synced (:68), so every managed environment is in a step (stage 0 without a chain).
 */
describe('RollingSync (argocd.rollingSync, opt-in): the hub rolls its managed environments by promotion stage', () => {
  const staged = new Map(sources);
  staged.set('environments/hub.yaml', sources.get('environments/hub.yaml')!.replace('manages: [fleet-a, fleet-b]', 'manages: [fleet-a, fleet-b]\n  rollingSync: { maxUpdate: 1 }'));
  staged.set('environments/fleet-b.yaml', `${sources.get('environments/fleet-b.yaml')!}\npromotion:\n  from: fleet-a\n`);

  it('off by default: no strategy, the roots sync automatically, no progressive-sync flag', () => {
    const hub = render('hub');
    const set = doc(hub, 'argocd/applicationset-fleet.yaml');
    expect(set.spec.strategy).toBeUndefined();
    expect(set.spec.template.spec.syncPolicy.automated).toStrictEqual({ prune: true, selfHeal: true });
    expect(doc(hub, 'values/argo-cd.yaml').configs.params['applicationsetcontroller.enable.progressive.syncs']).toBeUndefined();
  });

  it('on: one step per promotion stage (fleet-b is promoted from fleet-a), selected by the environment label, maxUpdate; the controller flag; the roots without automated sync', () => {
    const hub = render('hub', staged);
    const set = doc(hub, 'argocd/applicationset-fleet.yaml');
    expect(set.spec.strategy).toStrictEqual({
      type: 'RollingSync',
      rollingSync: {
        steps: [
          { matchExpressions: [{ key: 'odp.opendev.dev/environment', operator: 'In', values: ['fleet-a'] }], maxUpdate: 1 },
          { matchExpressions: [{ key: 'odp.opendev.dev/environment', operator: 'In', values: ['fleet-b'] }], maxUpdate: 1 },
        ],
      },
    });
    expect(set.spec.template.metadata.labels['odp.opendev.dev/environment']).toBe('{{.environment}}');
    expect(set.spec.template.spec.syncPolicy.automated).toBeUndefined();
    expect(doc(hub, 'values/argo-cd.yaml').configs.params['applicationsetcontroller.enable.progressive.syncs']).toBe('true');
    expect(hub.find((f) => f.path === 'README.md')!.content).toContain('stage 1: `fleet-a` (1 at a time); stage 2: `fleet-b` (1 at a time)');
  });

  it('environments without a chain between them share one step', () => {
    const flat = new Map(staged);
    flat.set('environments/fleet-b.yaml', sources.get('environments/fleet-b.yaml')!);
    const steps = doc(render('hub', flat), 'argocd/applicationset-fleet.yaml').spec.strategy.rollingSync.steps;
    expect(steps.map((s: any) => s.matchExpressions[0].values)).toStrictEqual([['fleet-a', 'fleet-b']]);
  });

  it('every managed environment is selected by exactly one step (an unselected Application is never synced: Progressive-Syncs.md:68)', () => {
    const set = doc(render('hub', staged), 'argocd/applicationset-fleet.yaml');
    const selected = set.spec.strategy.rollingSync.steps.flatMap((s: any) => s.matchExpressions.flatMap((e: any) => (e.operator === 'In' ? e.values : [])));
    expect([...selected].sort()).toStrictEqual(['fleet-a', 'fleet-b']);
    expect(set.spec.template.metadata.labels).toHaveProperty(['odp.opendev.dev/environment']);
  });
});

describe("a managed environment's argo-cd settings (argocd-managed-unused): the hub's Argo CD runs its objects", () => {
  // A base shared by the hub and fleet-a, with argo-cd values the hub's Argo CD uses.
  const BASE = "name: _argo\nextends: _fixture\naddons:\n  argo-cd:\n    values:\n      configs: { cm: { timeout.reconciliation: 180s } }\n";
  const withBase = (fleetA: (s: string) => string) =>
    new Map(sources)
      .set('environments/_argo.yaml', BASE)
      .set('environments/hub.yaml', sources.get('environments/hub.yaml')!.replace(/^extends: _fixture$/m, 'extends: _argo'))
      .set('environments/fleet-a.yaml', fleetA(sources.get('environments/fleet-a.yaml')!.replace(/^extends: _fixture$/m, 'extends: _argo')));
  const unused = (src: Map<string, string>) => formatted(prepareEnvironment('fleet-a', src)).filter((l) => l.includes('argo-cd.values'));

  it('inherited from a base shared with the hub: one warning naming the key and why; the hub renders the values, fleet-a renders the same as without them', () => {
    const src = withBase((s) => s);
    expect(unused(src)).toStrictEqual([
      "environments/_argo.yaml:5:5  addons.argo-cd.values: warning: inherited from environments/_argo.yaml, it has no effect here: the hub hub runs this environment's Argo CD objects in its own Argo CD: no argo-cd is installed here, so this setting (values: { configs }) is never rendered  (it stays in environments/_argo.yaml for the environments that run their own Argo CD; `addons: { argo-cd: { values: null } }` here silences this)",
    ]);
    expect(doc(render('hub', src), 'values/argo-cd.yaml').configs.cm['timeout.reconciliation']).toBe('180s');
    // Removed in the managed file: silent, and fleet-a's rendered tree is the same.
    const removed = withBase((s) => s.replace('argo-cd: { enabled: false }', 'argo-cd: { enabled: false, values: null }'));
    expect(unused(removed)).toStrictEqual([]);
    const files = (s: Map<string, string>) => render('fleet-a', s).map((f) => [f.path, f.content]);
    expect(files(src)).toStrictEqual(files(removed));
  });

  it("written in the managed environment's own file: refused (an error, nothing rendered)", () => {
    const src = new Map(sources).set('environments/fleet-a.yaml', sources.get('environments/fleet-a.yaml')!.replace('argo-cd: { enabled: false }', 'argo-cd: { enabled: false, namespace: argo }'));
    const r = prepareEnvironment('fleet-a', src);
    expect(r.prepared).toBeUndefined();
    expect(formatted(r).filter((l) => l.includes('argocd') || l.includes('argo-cd'))).toStrictEqual([
      `environments/fleet-a.yaml:10:30  addons.argo-cd.namespace: the hub hub runs this environment's Argo CD objects in its own Argo CD: no argo-cd is installed here, so this setting (namespace: "argo") is never rendered; the hub's Argo CD takes its namespace from environments/hub.yaml  (remove addons.argo-cd.namespace here (addons.argo-cd may only say enabled: false); to change the hub's Argo CD, set it in environments/hub.yaml)`,
    ]);
  });
});
