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
import { allAppSpecs } from '../generators/engines/argocd/sources.js';
import { namesByWave } from '../generators/engines/argocd/waves.js';
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
const manualSources = new Map(sources).set('environments/fleet-a.yaml', `${sources.get('environments/fleet-a.yaml')}\nargocd:\n  automated: false\n`);
const manual = render('fleet-a', manualSources);
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
function world(o: { ready?: boolean; root?: boolean; appHealth?: boolean; unhealthy?: string[]; crdFrom?: Record<string, string>; files?: Files; automated?: boolean } = {}) {
  const objects = stubObjects(o.files ?? managed);
  return {
    namespace: 'argocd',
    controller: true,
    automated: o.automated ?? true,
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

  it('with manual syncs: the root (synced by the hub) applies every Application at once; following the check\'s Next, wave by wave, ends Synced and Healthy', () => {
    expect(script(manual)).not.toMatch(/^argocd app wait/m);
    // Not synced yet: the root first.
    const w = world({ files: manual, automated: false });
    const before = check(manual, w);
    expect(before.status).toBe(1);
    expect(before.stderr).toContain(`Next: argocd app sync ${ROOT} --timeout ${ARGOCD_CLI.waitTimeoutSeconds} (it applies the Applications), then each wave in order: the block after this script in rendered/fleet-a/README.md, "Check on the hub"`);
    expect(before.log.filter((l) => l.startsWith('argocd app sync'))).toStrictEqual([]);
    // The hub's automated sync of the root: with manual syncs its Applications carry no Argo CD sync wave (objects.ts), so
    // the root applies them in its last wave, which gitops-engine does not wait on (waves.ts), and ends; none is synced.
    let next = synced(w);
    expect(next.status).toBe(0);
    const apps = children(next.world);
    expect(apps.length).toBeGreaterThan(3);
    for (const a of apps) expect(next.world.apps[a].synced, a).toBeUndefined();
    // The check names the earliest wave not Synced and Healthy: the first, then (that one synced) the second.
    const specs = prepareEnvironment('fleet-a', manualSources).prepared!.model;
    const expected = namesByWave(allAppSpecs(specs)).map((x) => ({ wave: x.wave, apps: x.names.map((n) => `fleet-a-${n}`) }));
    expect(expected.length).toBeGreaterThan(2);
    for (const step of expected.slice(0, 2)) {
      const r = check(manual, next.world);
      expect(r.status).toBe(1);
      const m = /Next: sync wave (-?\d+) first \(its Applications are not Synced and Healthy; a later wave may need what they bring\): argocd app sync (.+) --timeout 900, then argocd app wait \2 --health --timeout 900;/.exec(r.stderr);
      expect({ wave: Number(m?.[1]), apps: m?.[2]?.split(' ') }, r.stderr).toStrictEqual(step);
      next = run(`argocd app sync ${m![2]} --timeout ${ARGOCD_CLI.waitTimeoutSeconds}`, next.world);
      expect(next.status).toBe(0);
    }
    expect(expected[0]!.apps).toContain('fleet-a-cert-manager');
    // The later waves as the README's block syncs them: then the check passes.
    next = run(expected.slice(2).map((x) => `argocd app sync ${x.apps.join(' ')} --timeout ${ARGOCD_CLI.waitTimeoutSeconds}`).join('\n'), next.world);
    const done = check(manual, next.world);
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
  });

  it('the manual-sync case where the waves block: Argo CD sync waves on Applications nothing syncs automatically hold the root at its first wave; the check names the Application to sync first', () => {
    // The root's objects as rendered with automated sync (Argo CD sync waves), its Applications not synced automatically
    // (manual syncs; or their automated sync denied, as by a freeze window): gitops-engine keeps the first wave's tasks
    // running until Healthy (sync_context.go Sync(): only the last wave succeeds once applied), and the hub's health Lua
    // (addons/argo-cd.ts APPLICATION_HEALTH_LUA) keeps an Application that was never synced Progressing.
    const w = world({ automated: false });
    const hubSync = synced(w);
    expect(hubSync.status).toBe(20);
    const first = namesByWave(allAppSpecs(prepareEnvironment('fleet-a', sources).prepared!.model))[0]!;
    const held = first.names.map((n) => `fleet-a-${n}`);
    expect(hubSync.world.apps[ROOT].phase).toBe('Running');
    expect(hubSync.stderr).toContain(`timed out (${ARGOCD_CLI.waitTimeoutSeconds}s) waiting for app \\"${ROOT}\\" match desired state`);
    const r = check(managed, hubSync.world);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`Next: wave ${first.wave} holds the root's later waves, and ${held.join(' ')} is not Synced (nothing syncs it automatically now: argocd app get NAME says why): sync it first: argocd app sync ${held.join(' ')} --timeout ${ARGOCD_CLI.waitTimeoutSeconds}; then run this check again`);
    // Synced as named, the first wave is Healthy: the next check names the next wave.
    const after = run(`argocd app sync ${held.join(' ')} --timeout ${ARGOCD_CLI.waitTimeoutSeconds}`, hubSync.world);
    expect(after.status).toBe(0);
    expect(check(managed, after.world).stderr).not.toContain(`wave ${first.wave} holds`);
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
