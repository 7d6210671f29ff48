/**
 * A managed environment's "Check on the hub" (rendered/<env>/argocd/check-hub.sh, engines/argocd/hub-check.ts), run with
 * `sh` against the argocd stub (test/support/argocd-stub.mjs, argo-cd v3.4.4) on the hub's world: the root is the
 * Application the hub's rendered ApplicationSet generates for the environment once its cluster Secret exists
 * (test/support/applicationset.ts), its objects the managed environment's rendered apps/ and argocd/ files. The hub's
 * automated sync of that root is the stub's app-of-apps sync: it applies the child Applications wave by wave, each child
 * syncs on its own, and a later wave waits for the earlier children's health — which exists only because the hub's
 * argocd-cm carries the Application health Lua (argo-cd v3.4.4 docs/operator-manual/health.md:29-33: none since 1.8;
 * gitops-engine/pkg/sync/sync_context.go:540-546: an object without health is not waited for).
 */
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { ARGOCD_CLI } from '../generators/engines/argocd/cli.js';
import { HUB_CHECK_BOUNDS, HUB_CHECK_PATH } from '../generators/engines/argocd/hub-check.js';
import { APPLICATION_HEALTH_LUA, HEALTH_KEY } from '../generators/engines/argocd/addons/argo-cd.js';
import { fixtureSources, formatted } from './helpers.js';
import { generateApplications, secretOf } from './support/applicationset.js';
import { runWithArgocdStub, stubObjects } from './support/argocd-run.js';

const LABEL = 'odp.opendev.dev/environment';
const { sources } = fixtureSources('valid', 'hub.yaml');
const render = (env: string, src = sources) => {
  const r = prepareEnvironment(env, src);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
};
type Files = ReturnType<typeof render>;
const doc = (files: Files, path: string) => parseYamlStream(files.find((f) => f.path === path)!.content)[0] as any;

const hub = render('hub');
const managed = render('fleet-a');
const manual = render('fleet-a', new Map(sources).set('environments/fleet-a.yaml', `${sources.get('environments/fleet-a.yaml')}\nargocd:\n  automated: false\n`));
const script = (files: Files) => files.find((f) => f.path === HUB_CHECK_PATH)!.content;

/** The root the hub's ApplicationSet generates for fleet-a once its cluster Secret exists. */
const generatedRoot = (() => {
  const repo = new Map(managed.map((f) => [`rendered/fleet-a/${f.path}`, f.content] as [string, string]));
  const secret = secretOf(doc(hub, 'apps/cluster-fleet-a.yaml'), { config: '{"bearerToken":"t","tlsClientConfig":{"insecure":false,"caData":"Y2E="}}' });
  const [root] = generateApplications(doc(hub, 'argocd/applicationset-fleet.yaml'), repo, [secret]);
  return root!;
})();
const ROOT = generatedRoot.metadata.name as string;

/** The hub's world: its Argo CD runs; fleet-a's cluster Secret is Ready and its root generated, not yet synced. */
function world(o: { ready?: boolean; root?: boolean; appHealth?: boolean; unhealthy?: string[]; crdFrom?: Record<string, string> } = {}) {
  const objects = stubObjects(managed);
  return {
    namespace: 'argocd',
    controller: true,
    automated: true,
    appHealth: o.appHealth ?? true,
    crdFrom: o.crdFrom ?? {},
    unhealthy: o.unhealthy ?? [],
    externalSecrets: { 'cluster-fleet-a': { ready: o.ready ?? true } },
    apps: (o.root ?? true ? { [ROOT]: { objects, labels: generatedRoot.metadata.labels } } : {}) as Record<string, any>,
  };
}

const run = (command: string, w: ReturnType<typeof world>) => runWithArgocdStub(command, w);
/** The hub's automated sync of the root (the controller's, modelled by the stub's app-of-apps sync), then the check. */
const synced = (w: ReturnType<typeof world>) => run(`argocd app sync ${ROOT} --timeout ${ARGOCD_CLI.waitTimeoutSeconds}`, w);
const check = (files: Files, w: ReturnType<typeof world>) => run(script(files), w);
const children = (w: ReturnType<typeof world>) => w.apps[ROOT].objects.filter((o: any) => o.kind === 'Application').map((o: any) => o.name as string);

describe('check-hub.sh: the hub finds fleet-a by the name its ApplicationSet generates and reads its sync and health', () => {
  it('the root it checks is the one the ApplicationSet generates (fleet-a-root), in the hub\'s Argo CD namespace; its README block runs it', () => {
    expect(ROOT).toBe('fleet-a-root');
    expect(script(managed)).toContain(`root='${ROOT}'`);
    expect(script(managed)).toContain("ns='argocd'");
    expect(managed.find((f) => f.path === 'README.md')!.content).toContain(`sh rendered/fleet-a/${HUB_CHECK_PATH}\n`);
  });

  it('registered, generated and synced by the hub: exit 0, each wait bounded; every child Application synced on its own, wave by wave', () => {
    const hubSync = synced(world());
    expect(hubSync.stderr).toBe('');
    expect(hubSync.status).toBe(0);
    expect(children(hubSync.world).length).toBeGreaterThan(3);
    for (const a of children(hubSync.world)) expect(hubSync.world.apps[a]?.synced, a).toBe(true);
    const r = check(managed, hubSync.world);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`fleet-a: ${ROOT} is Synced and Healthy on the hub hub`);
    expect(r.stdout).toContain(`argocd/${ROOT}  Synced  Healthy`);
    expect(r.log).toStrictEqual([
      expect.stringMatching(/^kubectl -n argocd annotate externalsecret cluster-fleet-a force-sync=\d+ --overwrite$/),
      `kubectl -n argocd wait externalsecret/cluster-fleet-a --for=condition=Ready --timeout=${HUB_CHECK_BOUNDS.secretSeconds}s`,
      `kubectl -n argocd wait application/${ROOT} --for=create --timeout=${HUB_CHECK_BOUNDS.rootSeconds}s`,
      `kubectl -n argocd get application ${ROOT} -o jsonpath={.status.sync.status}/{.status.health.status}/{.status.operationState.phase}`,
      `argocd app wait ${ROOT} --sync --health --timeout ${ARGOCD_CLI.waitTimeoutSeconds}`,
      `argocd app list -l ${LABEL}=fleet-a`,
    ]);
  });

  it('not registered (the ExternalSecret never Ready): exit 1 at the bound, naming register.sh; no argocd call', () => {
    const r = check(managed, world({ ready: false, root: false }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`fleet-a: the hub's ExternalSecret cluster-fleet-a is not Ready after ${HUB_CHECK_BOUNDS.secretSeconds}s, so the hub has no cluster Secret for fleet-a. Next: register the cluster (README, step 2) with fleet-a's kubeconfig: sh rendered/fleet-a/argocd/bootstrap/register.sh`);
    expect(r.log.some((l) => l.startsWith('argocd '))).toBe(false);
  });

  it('no root generated: exit 1, naming the ApplicationSet\'s conditions', () => {
    const r = check(managed, world({ root: false }));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `error: timed out waiting for the condition on applications/${ROOT}\nfleet-a: the hub has no Application ${ROOT} after ${HUB_CHECK_BOUNDS.rootSeconds}s: its ApplicationSet fleet has not generated it. Next: kubectl -n argocd get applicationset fleet -o jsonpath='{.status.conditions}' (it must have read rendered/fleet-a/fleet.yaml at the hub's revision)\n`,
    );
  });

  it('a root under another name (not what the ApplicationSet generates) is not found either', () => {
    const w = world();
    w.apps = { 'fleet-a': w.apps[ROOT] };
    expect(check(managed, w).status).toBe(1);
  });

  it("the root's first sync Failed (terminated while the hub could not reach the cluster): synced again, then Synced and Healthy", () => {
    const w = world();
    w.apps[ROOT].phase = 'Failed';
    const r = check(managed, w);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.log).toContain(`argocd app sync ${ROOT} --async`);
    expect(r.world.apps[ROOT].synced).toBe(true);
  });

  it('OutOfSync at the bound (a child never Healthy holds its wave): exit 1, the state, the Applications and the next command', () => {
    const child = children(world()).find((a: string) => a.endsWith('-cert-manager'))!;
    const w = synced(world({ unhealthy: [child] }));
    expect(w.status).toBe(20);
    const r = check(managed, w.world);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`fleet-a: ${ROOT} is OutOfSync and Progressing on the hub hub; its Applications:\n`);
    expect(r.stderr).toContain(`argocd/${child}  Synced  Progressing\n`);
    expect(r.stderr).toContain(`Next: argocd app diff ${ROOT} shows what it has not applied; argocd app sync ${ROOT} --timeout ${ARGOCD_CLI.waitTimeoutSeconds} applies it`);
  });

  it('Synced but not Healthy: exit 1, naming argocd app get for the Applications listed', () => {
    const w = synced(world()).world;
    w.unhealthy = [ROOT];
    const r = check(managed, w);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`fleet-a: ${ROOT} is Synced and Progressing on the hub hub`);
    expect(r.stderr).toContain('Next: argocd app get NAME, for each Application above that is not Synced and Healthy, says what it waits for');
  });

  it('with manual syncs: an unsynced root is reported with the syncs to run, not waited for', () => {
    expect(script(manual)).not.toContain('argocd app wait');
    const r = check(manual, world());
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Next: sync it wave by wave: the block after this script in rendered/fleet-a/README.md, "Check on the hub"');
    expect(r.log.filter((l) => l.startsWith('argocd app sync'))).toStrictEqual([]);
  });
});

describe("app of apps on the hub: the managed root's waves are ordered by the hub's Application health", () => {
  it("the hub's argocd-cm carries the Application health Lua (argo-cd has none since 1.8); the managed environment renders no Argo CD values of its own", () => {
    expect(doc(hub, 'values/argo-cd.yaml').configs.cm[HEALTH_KEY]).toBe(APPLICATION_HEALTH_LUA);
    expect(managed.some((f) => f.path === 'values/argo-cd.yaml')).toBe(false);
  });

  // A child of a later wave needing what a child of an earlier wave brings (a CRD group, as the waves are computed:
  // waves.ts), the earliest and latest children standing in for them.
  const ordered = () => {
    const w = world();
    const waves = w.apps[ROOT].objects.filter((o: any) => o.kind === 'Application').sort((a: any, b: any) => a.wave - b.wave);
    const [first, last] = [waves[0], waves.at(-1)];
    expect(last.wave).toBeGreaterThan(first.wave);
    return { first: first.name as string, last: last.name as string };
  };

  it('with the Lua: the later child syncs after the earlier one is Healthy, and succeeds', () => {
    const { first, last } = ordered();
    const w = world({ crdFrom: { 'example.io': first } });
    w.apps[last] = { objects: [{ group: 'example.io', kind: 'Thing', name: 't', namespace: 'x', wave: 0 }] };
    const r = synced(w);
    expect(r.status).toBe(0);
    expect(r.world.apps[last].synced).toBe(true);
  });

  it('without it (what argo-cd does by default): every child syncs at once, the later child fails on the missing CRD while the root reports Synced', () => {
    const { first, last } = ordered();
    const w = world({ appHealth: false, crdFrom: { 'example.io': first } });
    w.apps[last] = { objects: [{ group: 'example.io', kind: 'Thing', name: 't', namespace: 'x', wave: 0 }] };
    const r = synced(w);
    expect(r.status).toBe(0);
    expect(r.world.apps[ROOT].synced).toBe(true);
    expect(r.world.apps[last].phase).toBe('Failed');
  });
});
