#!/usr/bin/env node
/**
 * A stub of the `argocd` CLI (and of the one `kubectl` read the runbooks pair with it) that behaves as argo-cd v3.4.4
 * (f3d8afac) does for the subcommands the rendered runbooks use, over a world file (ARGOCD_STUB_WORLD, JSON, rewritten
 * after each call; every call appended to ARGOCD_STUB_LOG). Run as `node argocd-stub.mjs argocd|kubectl ARGS…`.
 *
 * World: { namespace, controller: bool (the application controller runs), crdFrom: { <API group>: <Application> },
 *   unhealthy: [<Application never Healthy>], apps: { <name>: { objects?: [{ group, kind, name, namespace, wave }],
 *   resources?: [...] (status.resources: what the controller has read), synced?, healthy? } } }.
 *
 * Upstream, cmd/argocd/commands/app.go unless named:
 * - `--timeout` defaults to 0, no bound (:3181): a wait that would never end without one is reported by the stub as
 *   "argocd stub: unbounded wait" (exit 124) instead of hanging; with one, it ends as the CLI does at its bound.
 * - `app get NAME --refresh [--timeout N]` (:342-515): returns once the controller has refreshed (the root's
 *   status.resources are then read); at the bound it abandons the refresh and prints the Application unrefreshed, exit 0
 *   (:405-445).
 * - `app sync NAME… [--resource [!]GROUP:KIND:NAME]… [--prune] [--async] [--timeout N]` (:2132-2506): the filter is
 *   parsed (:1966-2009; malformed: exit 20) and expanded over status.resources, every exclusion applying
 *   (util/argo/argo.go:969-1004, types.go:1373-1381 '*' matches any); nothing matching: "No matching app resources found
 *   for resource filter: …", exit 1 (:2348-2353). Without --async the CLI waits for the operation (:2470-2473): the
 *   operation applies its objects wave by wave (gitops-engine pkg/sync/sync_context.go: a wave after another waits
 *   until the earlier wave's objects are Healthy, :538-583; an Application is Healthy here only once synced, the
 *   rendered health Lua); an object whose CRD's Application has not been synced fails the apply and the operation
 *   (:1667-1698, 669-690): "Operation has completed with phase: Failed", exit 1 (:2475-2476). A whole-app sync that
 *   leaves resources to prune without --prune: "N resources require pruning", exit 1 (:2477-2481).
 * - `app wait NAME… [--health] [--sync] [--timeout N]` (:2025-2100): at the bound "timed out (Ns) waiting for app
 *   "NAME" match desired state", exit 20 (:2967; util/errors/errors.go:13, 34-38).
 * - An Application that does not exist: `rpc error: code = NotFound desc = applications.argoproj.io "NAME" not found`,
 *   exit 20 (CheckError on the API's answer).
 * - The controller not running: no refresh ends and no operation starts (only the waits' bounds end them).
 * - App of apps (world.automated: the children's automated sync): the root's sync only applies a child Application object;
 *   the child then syncs on its own (its controller's automated sync, controller/appcontroller.go autoSync), and the
 *   root's next wave waits until the child is Healthy. Whether it waits at all depends on argocd-cm: an Application has
 *   no built-in health since argo-cd 1.8 (docs/operator-manual/health.md:29-33), and a task whose object has no health
 *   "automatically success[es]" (gitops-engine/pkg/sync/sync_context.go:540-546), so with world.appHealth false the next
 *   wave starts at once, whatever the child's state. world.appHealth true (the default): the rendered health Lua
 *   (addons/argo-cd.ts APPLICATION_HEALTH_LUA), Healthy once Synced, Degraded once its sync Failed (a failed wave).
 * - `argocd app list -l KEY=VALUE`: NAME, SYNC STATUS and HEALTH STATUS columns of the Applications so labelled (app.go
 *   printApplicationTable; fewer columns than upstream).
 * - `kubectl -n NS get applications -l KEY=VALUE -o jsonpath={range .items[*]}{.metadata.name}/{.status.sync.status}/
 *   {.status.health.status}{"\n"}{end}`: one line per Application so labelled (Kubernetes list order: by name).
 * - `kubectl -n NS get application NAME -o jsonpath=…` of {.status.resources[*].kind} (the kinds read, space-separated),
 *   {.status.sync.status}, {.status.health.status}, {.status.operationState.phase}, with the text between them as written.
 * - `kubectl -n NS annotate externalsecret NAME force-sync=… --overwrite`, `kubectl -n NS wait externalsecret/NAME
 *   --for=condition=Ready --timeout=Ns` and `kubectl -n NS wait application/NAME --for=create --timeout=Ns` over
 *   world.externalSecrets ({ <name>: { ready } }) and world.apps; at the bound, kubectl's "error: timed out waiting for
 *   the condition on …", exit 1 (kubectl wait has a default bound of 30s: k8s.io/kubectl pkg/cmd/wait/wait.go).
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const [tool, ...args] = process.argv.slice(2);
const worldFile = process.env.ARGOCD_STUB_WORLD;
const world = JSON.parse(readFileSync(worldFile, 'utf8'));
if (process.env.ARGOCD_STUB_LOG) appendFileSync(process.env.ARGOCD_STUB_LOG, `${tool} ${args.join(' ')}\n`);
const save = () => writeFileSync(worldFile, JSON.stringify(world, null, 2));
const exit = (code, message) => {
  save();
  if (message) process.stderr.write(`${message}\n`);
  process.exit(code);
};
// logrus' text format on a pipe (log.Fatal / errors.CheckError).
const fatal = (code, msg) => exit(code, `time="2026-12-07T12:00:00Z" level=fatal msg=${JSON.stringify(msg)}`);
const notFound = (name) => fatal(20, `rpc error: code = NotFound desc = applications.argoproj.io "${name}" not found`);
/** An Application's status.health: Healthy once synced (unless world.unhealthy names it), Degraded once its operation Failed. */
const healthOf = (name) => {
  const a = world.apps[name];
  if (a?.phase === 'Failed' || a?.phase === 'Error') return 'Degraded';
  return a?.synced && !(world.unhealthy ?? []).includes(name) ? 'Healthy' : 'Progressing';
};
const unbounded = (what) => exit(124, `argocd stub: unbounded wait: ${what} never ends and no --timeout bounds it`);

if (tool === 'kubectl') {
  const nsAt = args.indexOf('-n');
  const ns = args[nsAt + 1];
  const rest = args.filter((_, i) => i !== nsAt && i !== nsAt + 1);
  if (ns !== world.namespace) exit(2, `argocd stub (kubectl): not modelled: ${args.join(' ')}`);
  const FIELDS = { '{.status.resources[*].kind}': (a) => (a.resources ?? []).map((r) => r.kind).join(' '), '{.status.sync.status}': (a) => (a.synced ? 'Synced' : 'OutOfSync'), '{.status.health.status}': (a) => healthOf(a.name), '{.status.operationState.phase}': (a) => a.phase ?? '' };
  const get = /^get application (\S+) -o jsonpath=(.+)$/.exec(rest.join(' '));
  if (get) {
    // The template: its {…} fields, the text between them as written.
    const fields = get[2].match(/\{[^}]*\}/g) ?? [];
    if (!fields.every((f) => f in FIELDS)) exit(2, `argocd stub (kubectl): not modelled: ${args.join(' ')}`);
    const app = world.apps[get[1]];
    if (!app) exit(1, `Error from server (NotFound): applications.argoproj.io "${get[1]}" not found`);
    process.stdout.write(get[2].replace(/\{[^}]*\}/g, (f) => FIELDS[f]({ ...app, name: get[1] })));
    exit(0);
  }
  // The labelled Applications, one per line, as kubectl's jsonpath range prints them ({"\n"}: a newline).
  const listing = /^get applications -l ([^=\s]+)=(\S+) -o jsonpath=\{range \.items\[\*\]\}\{\.metadata\.name\}\/\{\.status\.sync\.status\}\/\{\.status\.health\.status\}\{"\\n"\}\{end\}$/.exec(rest.join(' '));
  if (listing) {
    for (const [name, a] of Object.entries(world.apps)) if (a.labels?.[listing[1]] === listing[2]) process.stdout.write(`${name}/${FIELDS['{.status.sync.status}'](a)}/${healthOf(name)}\n`);
    exit(0);
  }
  const annotate = /^annotate externalsecret (\S+) force-sync=\d+ --overwrite$/.exec(rest.join(' '));
  if (annotate) {
    if (!world.externalSecrets?.[annotate[1]]) exit(1, `Error from server (NotFound): externalsecrets.external-secrets.io "${annotate[1]}" not found`);
    process.stdout.write(`externalsecret.external-secrets.io/${annotate[1]} annotated\n`);
    exit(0);
  }
  const wait = /^wait (externalsecret|application)\/(\S+) --for=(condition=Ready|create) --timeout=\d+s$/.exec(rest.join(' '));
  if (wait) {
    const [, kind, name, cond] = wait;
    const resource = kind === 'externalsecret' ? 'externalsecrets' : 'applications';
    const found = kind === 'externalsecret' ? world.externalSecrets?.[name] : world.apps[name];
    if (cond === 'create') {
      if (!found) exit(1, `error: timed out waiting for the condition on ${resource}/${name}`);
      exit(0);
    }
    if (!found) exit(1, `Error from server (NotFound): ${resource}.external-secrets.io "${name}" not found`);
    if (!found.ready) exit(1, `error: timed out waiting for the condition on ${resource}/${name}`);
    process.stdout.write(`externalsecret.external-secrets.io/${name} condition met\n`);
    exit(0);
  }
  exit(2, `argocd stub (kubectl): not modelled: ${args.join(' ')}`);
}
if (tool !== 'argocd' || args[0] !== 'app') exit(2, `argocd stub: not modelled: ${tool} ${args.join(' ')}`);

const sub = args[1];
const names = [];
const flags = { selector: undefined, resource: [], timeout: 0, refresh: false, prune: false, async: false, health: false, sync: false };
for (let i = 2; i < args.length; i++) {
  const a = args[i];
  if (a === '--resource') flags.resource.push(args[++i]);
  else if (a === '--timeout') flags.timeout = Number(args[++i]);
  else if (a === '--refresh') flags.refresh = true;
  else if (a === '-l' || a === '--selector') flags.selector = args[++i];
  else if (a === '--prune') flags.prune = true;
  else if (a === '--async') flags.async = true;
  else if (a === '--health') flags.health = true;
  else if (a === '--sync') flags.sync = true;
  else if (a === '-o' || a === '--output') i++;
  else if (a.startsWith('-')) exit(1, `Error: unknown flag: ${a}`);
  else names.push(a);
}
if (!Number.isInteger(flags.timeout) || flags.timeout < 0) exit(1, `Error: invalid argument for "--timeout" flag`);
const timedOut = (name) => fatal(20, `timed out (${flags.timeout}s) waiting for app "${name}" match desired state`);
/** A wait that never ends: the CLI's bound ends it, or nothing does. */
const never = (name, what) => (flags.timeout > 0 ? timedOut(name) : unbounded(what));
const appOf = (name) => world.apps[name] ?? notFound(name);
const healthy = (name) => healthOf(name) === 'Healthy';
const print = (name) => process.stdout.write(`Name:               ${world.namespace}/${name}\nSync Status:        ${world.apps[name].synced ? 'Synced' : 'OutOfSync'}\nHealth Status:      ${healthOf(name)}\n`);

if (sub === 'list') {
  const [key, value] = (flags.selector ?? '=').split('=');
  process.stdout.write('NAME  SYNC STATUS  HEALTH STATUS\n');
  for (const [name, a] of Object.entries(world.apps)) if (flags.selector === undefined || a.labels?.[key] === value) process.stdout.write(`${world.namespace}/${name}  ${a.synced ? 'Synced' : 'OutOfSync'}  ${healthOf(name)}\n`);
  exit(0);
}

if (sub === 'get') {
  if (names.length !== 1) exit(1, 'argocd stub: app get takes one name');
  const app = appOf(names[0]);
  if (flags.refresh) {
    if (world.controller) app.resources = (app.objects ?? []).map(({ group, kind, name, namespace }) => ({ group, kind, name, namespace }));
    else if (flags.timeout === 0) unbounded(`the refresh of ${names[0]} (the application controller does not run)`);
  }
  print(names[0]);
  exit(0);
}

if (sub === 'wait') {
  for (const name of names) {
    appOf(name);
    if ((flags.health && !healthy(name)) || (flags.sync && !world.apps[name].synced)) never(name, `argocd app wait ${name}`);
    print(name);
  }
  exit(0);
}

/** Children's automated syncs, all at once: a child whose objects' CRD comes with an Application not yet synced Fails (:1667-1698, 669-690). */
const childSyncs = (children) => {
  const synced = new Set(Object.keys(world.apps).filter((n) => world.apps[n].synced));
  for (const name of children) {
    const child = world.apps[name];
    if ((child.objects ?? []).some((c) => world.crdFrom?.[c.group] !== undefined && !synced.has(world.crdFrom[c.group]))) child.phase = 'Failed';
    else Object.assign(child, { synced: true, phase: 'Succeeded' });
  }
};

if (sub === 'sync') {
  const filter = flags.resource.map((r) => {
    const exclude = r.startsWith('!');
    const fields = (exclude ? r.slice(1) : r).split(':');
    if (fields.length !== 3) fatal(20, `resource should have GROUP:KIND:NAME, but instead got: ${exclude ? r.slice(1) : r}`);
    return { group: fields[0], kind: fields[1], name: fields[2], exclude };
  });
  const matches = (f, o) => (f.group === '*' || f.group === o.group) && (f.kind === '*' || f.kind === o.kind) && (f.name === '*' || f.name === o.name);
  const included = (o) => {
    const includes = filter.filter((f) => !f.exclude);
    if (includes.length > 0 && !includes.some((f) => matches(f, o))) return false;
    return !filter.some((f) => f.exclude && matches(f, o));
  };
  for (const name of names) {
    const app = appOf(name);
    let selected = app.objects ?? [];
    if (filter.length > 0) {
      const keys = new Set((app.resources ?? []).filter(included).map((r) => `${r.group}/${r.kind}/${r.namespace}/${r.name}`));
      if (keys.size === 0) fatal(1, `No matching app resources found for resource filter: ${flags.resource.join(', ')}`);
      selected = selected.filter((o) => keys.has(`${o.group}/${o.kind}/${o.namespace}/${o.name}`));
    }
    if (!world.controller) {
      if (flags.async) continue;
      never(name, `the sync of ${name} (the application controller does not run)`);
    }
    const waves = [...new Set(selected.map((o) => o.wave))].sort((a, b) => a - b);
    let failed = false;
    /** Child Applications whose own (automated) sync the root's applies started. */
    const started = [];
    for (const [i, wave] of waves.entries()) {
      const objects = selected.filter((o) => o.wave === wave);
      for (const o of objects) {
        const from = world.crdFrom?.[o.group];
        if (from !== undefined && !world.apps[from]?.synced) failed = true;
        else if (o.kind === 'Application' && o.group === 'argoproj.io') {
          // The root applies the child Application object; with automated sync the child then syncs on its own.
          const child = (world.apps[o.name] ??= { objects: [], ...(o.labels ? { labels: o.labels } : {}) });
          if (world.automated && !child.synced) started.push(o.name);
        }
      }
      // Each child's own sync. With Application health the root waits for this wave's children before the next, so a
      // child of a later wave syncs after them; without it every child's sync runs at once, none seeing the others'.
      if (world.appHealth !== false) childSyncs(started.splice(0));
      if (failed) break;
      // A later wave waits for this one's Applications to be Healthy, when argocd-cm gives an Application a health
      // (sync_context.go:540-546: no health, no wait); a Degraded one fails the wave (:548-551).
      if (i < waves.length - 1 && world.appHealth !== false) {
        if (objects.some((o) => o.kind === 'Application' && healthOf(o.name) === 'Degraded')) {
          failed = true;
          break;
        }
        const waiting = objects.filter((o) => o.kind === 'Application' && !healthy(o.name));
        if (waiting.length > 0) {
          app.phase = 'Running';
          if (flags.async) break;
          never(name, `the sync of ${name} at wave ${wave} (waiting for ${waiting.map((o) => o.name).join(' ')} to be Healthy)`);
        }
      }
    }
    childSyncs(started.splice(0));
    // --async: the operation runs on in the controller as it would have; the CLI only does not wait for it (:2470-2473).
    if (app.phase === 'Running' && flags.async) continue;
    if (failed) {
      app.phase = 'Failed';
      if (flags.async) continue;
      fatal(1, 'Operation has completed with phase: Failed');
    }
    if (filter.length === 0) {
      if ((app.extraneous ?? 0) > 0 && !flags.prune) fatal(1, `${app.extraneous} resources require pruning`);
      app.synced = true;
    }
    app.phase = 'Succeeded';
    if (flags.async) continue;
    print(name);
  }
  exit(0);
}
exit(2, `argocd stub: not modelled: app ${sub}`);
