/**
 * Hub decommission (issues 19 and 25): rendered/<env>/argocd/decommission.sh run against a stub kubectl
 * that behaves as Argo CD does (argoproj/argo-cd v3.4.4):
 * - the ApplicationSet (policy create-update) re-creates a root it still generates and puts its spec
 *   back (applicationset_controller.go:760-775); it never deletes one (:153-163, :355-357);
 * - a root with automated sync re-creates the Applications of its source that are missing (self-heal);
 * - an Application with resources-finalizer.argocd.argoproj.io deletes its resources before it goes,
 *   one without is removed and leaves them (types.go:3359-3361, appcontroller.go:1262-1299); with its
 *   cluster Secret gone the finalizer is dropped and nothing is deleted (controller/appcontroller.go:1214-1226);
 * - an Application that exists keeps its resources in the cluster (it keeps syncing).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { fixtureSources, formatted } from './helpers.js';
import { resolveEnvironment } from '../generators/load/loader.js';
import { upgradePlan } from '../generators/upgrade-plan/plan.js';

const FINALIZER = 'resources-finalizer.argocd.argoproj.io';
const ENV = 'fleet-b';

const { sources } = fixtureSources('valid', 'hub.yaml');
const renderedFiles = (env: string, src = sources) => {
  const r = prepareEnvironment(env, src);
  if (!r.prepared) throw new Error(formatted(r).join('\n'));
  return renderEnvironment(r.prepared);
};

/** The stub kubectl: state in a JSON file, Argo CD's controllers reconciling before and after every call. */
const STUB = String.raw`
const fs = require('fs');
const file = process.env.STUB_STATE;
const s = JSON.parse(fs.readFileSync(file, 'utf8'));
const log = (x) => s.log.push(x);
const root = s.root;
function reconcile() {
  // The ApplicationSet: a generated root is created, and its spec follows the template (automated sync back on).
  if (s.appsetFiles && s.appsetFiles.includes(s.fleetFile)) {
    if (!s.apps[root]) { s.apps[root] = { finalizers: [], automated: true, env: s.env }; log('appset created ' + root); }
    else if (!s.apps[root].automated) { s.apps[root].automated = true; log('appset restored automated sync of ' + root); }
  }
  // The root's self-heal: what its source holds is re-created.
  if (s.apps[root] && s.apps[root].automated) {
    for (const [name, a] of Object.entries(s.desired)) if (!s.apps[name]) { s.apps[name] = { ...a, automated: true, env: s.env }; log('root re-created ' + name); }
    for (const p of s.desiredProjects) if (!s.projects.includes(p)) { s.projects.push(p); log('root re-created AppProject ' + p); }
  }
  // Every Application keeps syncing its resources.
  for (const [name, a] of Object.entries(s.apps)) for (const r of a.resources || []) if (!s.cluster.includes(r)) { s.cluster.push(r); log(name + ' synced ' + r); }
}
const argv = process.argv.slice(2);
const kubeconfig = argv.includes('--kubeconfig') ? argv[argv.indexOf('--kubeconfig') + 1] : undefined;
const args = argv.filter((a, i, all) => a !== '-n' && all[i - 1] !== '-n' && a !== '--kubeconfig' && all[i - 1] !== '--kubeconfig');
const out = (x) => process.stdout.write(x);
const done = (code) => { fs.writeFileSync(file, JSON.stringify(s)); process.exit(code); };
// As kubectl reports them (exit 1, kubernetes/kubectl pkg/cmd/util/helpers.go:54 @ v0.34.0): no connection, or RBAC refusing the read.
if (s.hubDown && !kubeconfig) { process.stderr.write('The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n'); done(1); }
reconcile();
const [verb, kind, name] = args;
const opt = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const plural = { secret: 'secrets', externalsecret: 'externalsecrets.external-secrets.io', application: 'applications.argoproj.io' }[kind] || kind;
if (verb === 'get' && (s.forbidden || []).includes(kind)) { process.stderr.write('Error from server (Forbidden): ' + plural + ' "' + name + '" is forbidden: User "ops" cannot get resource "' + plural.split('.')[0] + '" in API group "" in the namespace "argocd"\n'); done(1); }
// kubectl get NAME: NotFound is exit 1 with this message, unless --ignore-not-found, which prints nothing and exits 0
// (kubernetes/kubectl pkg/cmd/get/get.go:477-479, 625-629 @ v0.34.0).
const absent = () => { if (args.includes('--ignore-not-found')) done(0); process.stderr.write('Error from server (NotFound): ' + plural + ' "' + name + '" not found\n'); done(1); };
// The ApplicationSet as the hub renders it (a matrix of the git files generator and a cluster generator), read with
// kubectl's JSONPath: each {…} of the template evaluated, [*] over every item, the results joined by spaces.
if (verb === 'get' && kind === 'applicationset') {
  if (!s.appsetFiles) absent();
  const set = { spec: { generators: [{ matrix: { generators: [{ git: { files: s.appsetFiles.map((path) => ({ path })) } }, { clusters: {} }] } }] } };
  const evaluate = (expr) => expr.split('.').filter(Boolean).reduce((xs, seg) => {
    const [key, star] = [seg.replace('[*]', ''), seg.endsWith('[*]')];
    return xs.flatMap((x) => (x && typeof x === 'object' && key in x ? (star ? x[key] : [x[key]]) : []));
  }, [set]);
  out(opt('-o').replace(/^jsonpath=/, '').replace(/\{([^}]*)\}/g, (_, expr) => evaluate(expr).join(' ')));
  done(0);
}
if (verb === 'get' && kind === 'secret') { if (!s.clusterSecret) absent(); out('secret/' + name); done(0); }
if (verb === 'get' && kind === 'externalsecret') { if (!s.externalSecret) absent(); out('externalsecret.external-secrets.io/' + name); done(0); }
// The managed cluster (its kubeconfig): deleting the hub's identity there.
if (verb === 'delete' && kind === '-f') {
  if (!kubeconfig) { process.stderr.write('stub kubectl: delete -f on the hub'); done(1); }
  if (!fs.existsSync(name)) { process.stderr.write('error: the path "' + name + '" does not exist'); done(1); }
  log('deleted -f ' + name + ' on ' + kubeconfig); done(0);
}
if (verb === 'get' && kind === 'application') {
  const a = s.apps[name];
  if (!a) absent();
  if (opt('-o') === 'name') { out('application.argoproj.io/' + name); done(0); }
  // The root's operationState.phase: the phases given, one a read, then Succeeded; or the read fails as kubectl does.
  if (s.phaseFails) { process.stderr.write('The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n'); done(1); }
  if ((s.phases || []).length > 0) { const p = s.phases.shift(); log('phase ' + p); out(p); done(0); }
  out('Succeeded'); done(0);
}
if (verb === 'get' && kind === 'applications') {
  const env = opt('-l').split('=')[1];
  out(Object.entries(s.apps).filter(([, a]) => a.env === env).map(([n]) => n + '\n').join('')); done(0);
}
if (verb === 'patch' && kind === 'application') {
  const a = s.apps[name]; if (!a) { process.stderr.write('NotFound'); done(1); }
  const p = JSON.parse(opt('-p'));
  if (p.spec && p.spec.syncPolicy && p.spec.syncPolicy.automated === null) { a.automated = false; log('automated off ' + name); }
  if (p.metadata && 'finalizers' in p.metadata) { a.finalizers = p.metadata.finalizers || []; log('finalizers ' + name + ' ' + JSON.stringify(a.finalizers)); }
  reconcile(); done(0);
}
if (verb === 'delete' && kind === 'application') {
  const a = s.apps[name]; if (!a) { process.stderr.write('NotFound'); done(1); }
  if (a.finalizers.includes('${FINALIZER}') && s.clusterSecret) { s.cluster = s.cluster.filter((r) => !(a.resources || []).includes(r)); log('deleted ' + name + ' cascade'); }
  else log('deleted ' + name + (a.finalizers.includes('${FINALIZER}') ? ' finalizer dropped (no cluster)' : ' orphan'));
  delete s.apps[name];
  reconcile(); done(0);
}
if (verb === 'delete' && kind === 'appproject') { s.projects = s.projects.filter((p) => p !== name); log('deleted AppProject ' + name); reconcile(); done(0); }
process.stderr.write('stub kubectl: unexpected ' + args.join(' ')); done(1);
`;

const AWS_STUB = String.raw`
const fs = require('fs');
const file = process.env.STUB_STATE;
const s = JSON.parse(fs.readFileSync(file, 'utf8'));
s.log.push('aws ' + process.argv.slice(2).join(' '));
fs.writeFileSync(file, JSON.stringify(s));
`;

interface Run {
  status: number | null;
  stderr: string;
  state: { log: string[]; apps: Record<string, unknown>; cluster: string[]; projects: string[] };
}

describe(`decommission.sh of a managed environment (fixture hub managing ${ENV})`, () => {
  const files = renderedFiles(ENV);
  const apps = files
    .filter((f) => f.path.startsWith('apps/'))
    .map((f) => parseYamlStream(f.content)[0] as any)
    .map((o) => ({ name: o.metadata.name as string, wave: Number(o.metadata.annotations['argocd.argoproj.io/sync-wave'] ?? o.metadata.annotations['odp.opendev.dev/manual-sync-wave']), cascades: (o.metadata.finalizers ?? []).includes(FINALIZER) }));
  const projects = files.filter((f) => f.path.startsWith('argocd/appproject-')).map((f) => (parseYamlStream(f.content)[0] as any).metadata.name as string);
  const root = `${ENV}-root`;

  function run(mode: string[], setup: { appsetFiles?: string[] | null; clusterSecret?: boolean; externalSecret?: boolean; rootAutomated?: boolean; gone?: boolean; kubeconfig?: boolean; hubDown?: boolean; forbidden?: string[]; phases?: string[]; phaseFails?: boolean } = {}, direct?: string[]): Run {
    const dir = mkdtempSync(join(tmpdir(), 'odp-decommission-'));
    try {
      const repo = join(dir, 'repo');
      for (const f of files) {
        mkdirSync(dirname(join(repo, `rendered/${ENV}`, f.path)), { recursive: true });
        writeFileSync(join(repo, `rendered/${ENV}`, f.path), f.content);
      }
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'kubectl'), `#!${process.execPath}\n${STUB}`, { mode: 0o755 });
      // The stub aws CLI: records the call (ssm delete-parameters deletes what exists and succeeds).
      writeFileSync(join(bin, 'aws'), `#!${process.execPath}\n${AWS_STUB}`, { mode: 0o755 });
      // No waiting in a test: the wait loop's sleep returns at once.
      writeFileSync(join(bin, 'sleep'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      writeFileSync(join(dir, 'managed.kubeconfig'), 'apiVersion: v1\nkind: Config\n');
      // The cluster: one resource per Application; every Application live with its rendered finalizers.
      const desired = Object.fromEntries(apps.map((a) => [a.name, { finalizers: a.cascades ? [FINALIZER] : [], resources: [`${a.name}/resource`] }]));
      const state = {
        env: ENV,
        root,
        fleetFile: `rendered/${ENV}/fleet.yaml`,
        appsetFiles: setup.appsetFiles === undefined ? ['rendered/fleet-a/fleet.yaml'] : setup.appsetFiles,
        clusterSecret: setup.clusterSecret ?? true,
        hubDown: setup.hubDown ?? false,
        forbidden: setup.forbidden ?? [],
        phases: setup.phases ?? [],
        phaseFails: setup.phaseFails ?? false,
        externalSecret: setup.externalSecret ?? setup.clusterSecret ?? true,
        desired,
        desiredProjects: projects,
        apps: setup.gone ? {} : { [root]: { finalizers: [], automated: setup.rootAutomated ?? true, env: ENV }, ...Object.fromEntries(Object.entries(desired).map(([n, a]) => [n, { ...a, automated: true, env: ENV }])) },
        projects: setup.gone ? [] : [...projects],
        cluster: apps.map((a) => `${a.name}/resource`),
        log: [] as string[],
      };
      const stateFile = join(dir, 'state.json');
      writeFileSync(stateFile, JSON.stringify(state));
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, STUB_STATE: stateFile, ...(setup.kubeconfig === false ? {} : { MANAGED_KUBECONFIG: join(dir, 'managed.kubeconfig') }) };
      if (setup.kubeconfig === false) delete env.MANAGED_KUBECONFIG;
      // Run from the repository's root, as the README says (`sh rendered/<env>/argocd/decommission.sh …`).
      const r = direct
        ? spawnSync(join(bin, 'kubectl'), direct, { env, encoding: 'utf8' })
        : spawnSync('sh', [`rendered/${ENV}/argocd/decommission.sh`, ...mode], { env, encoding: 'utf8', cwd: repo });
      return { status: r.status, stderr: r.stderr, state: JSON.parse(readFileSync(stateFile, 'utf8')) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const deletions = (log: string[]) => log.filter((l) => l.startsWith('deleted ') && !l.startsWith('deleted AppProject')).map((l) => l.split(' ')[1]!);

  it('the stub is faithful: deleting an Application under an automated root brings it back, and a generated root comes back too', () => {
    const child = apps.find((a) => !a.cascades)!.name;
    expect(run([], {}, ['-n', 'argocd', 'delete', 'application', child]).state.log).toStrictEqual([`deleted ${child} orphan`, `root re-created ${child}`]);
    expect(run([], { appsetFiles: [`rendered/${ENV}/fleet.yaml`] }, ['-n', 'argocd', 'delete', 'application', root]).state.log).toStrictEqual([`deleted ${root} orphan`, `appset created ${root}`]);
  });

  it('keep: the root stops first, then every Application goes, highest wave first, without its resources; AppProjects, then the root, last; nothing comes back', () => {
    const r = run(['keep']);
    expect(r.status, r.stderr).toBe(0);
    const log = r.state.log;
    expect(log[0]).toBe(`automated off ${root}`);
    expect(log.filter((l) => / re-created |appset |synced /.test(l))).toStrictEqual([]);
    const order = deletions(log);
    expect(order.at(-1)).toBe(root);
    const children = order.slice(0, -1);
    expect([...children].sort()).toStrictEqual(apps.map((a) => a.name).sort());
    const wave = new Map(apps.map((a) => [a.name, a.wave]));
    expect(children.map((c) => wave.get(c)!)).toStrictEqual([...children.map((c) => wave.get(c)!)].sort((a, b) => b - a));
    expect(new Set(wave.values()).size).toBeGreaterThan(1);
    // Every Application was non-cascading; the AppProjects went after the last Application and before the root.
    expect(log.filter((l) => l.startsWith('deleted ') && !l.includes('AppProject')).every((l) => l.endsWith(' orphan'))).toBe(true);
    const firstProject = log.findIndex((l) => l.startsWith('deleted AppProject'));
    expect(firstProject).toBeGreaterThan(log.indexOf(`deleted ${children.at(-1)} orphan`));
    expect(firstProject).toBeLessThan(log.indexOf(`deleted ${root} orphan`));
    // Nothing of the environment is left on the hub (so nothing syncs), and everything it deployed still runs.
    expect([r.state.apps, r.state.projects]).toStrictEqual([{}, []]);
    expect(r.state.cluster.sort()).toStrictEqual(apps.map((a) => `${a.name}/resource`).sort());
  });

  it('delete: Applications rendered with the finalizer delete what they deployed; those without leave it (the cluster keeps its infrastructure)', () => {
    const r = run(['delete']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.state.apps).toStrictEqual({});
    expect(r.state.cluster.sort()).toStrictEqual(apps.filter((a) => !a.cascades).map((a) => `${a.name}/resource`).sort());
    expect(apps.some((a) => a.cascades) && apps.some((a) => !a.cascades)).toBe(true);
    expect(r.state.log.filter((l) => / re-created |appset /.test(l))).toStrictEqual([]);
  });

  it('refuses while the ApplicationSet still generates the root (it would restore the root\'s automated sync), before changing anything', () => {
    const r = run(['keep'], { appsetFiles: ['rendered/fleet-a/fleet.yaml', `rendered/${ENV}/fleet.yaml`] });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the ApplicationSet 'fleet' still generates '${ENV}-root' from 'rendered/${ENV}/fleet.yaml': move ${ENV} from argocd.manages to argocd.decommission`);
    expect(r.state.log).toStrictEqual([]);
  });

  it('delete refuses without the cluster Secret (Argo CD would drop the finalizers and delete nothing); keep does not need it', () => {
    const r = run(['delete'], { clusterSecret: false });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`the hub's cluster Secret 'cluster-${ENV}' is missing`);
    expect(r.state.log).toStrictEqual([]);
    expect(run(['keep'], { clusterSecret: false }).status).toBe(0);
  });

  it('step 3 waits while the root\'s sync is Running, and a kubectl that cannot read its phase stops the script (not "not Running")', () => {
    // Running twice, then Succeeded: the Applications go only after the wait.
    const waited = run(['keep'], { phases: ['Running', 'Running'] });
    expect(waited.status, waited.stderr).toBe(0);
    const log = waited.state.log;
    expect(log.slice(0, 3)).toStrictEqual([`automated off ${root}`, 'phase Running', 'phase Running']);
    expect(deletions(log).length).toBe(apps.length + 1);
    // The phase read fails (the hub drops the connection after the patch): before, the loop read that as "not Running" and went on deleting.
    const failing = run(['keep'], { phaseFails: true });
    expect(failing.status).toBe(1);
    expect(failing.stderr).toContain('The connection to the server 127.0.0.1:6443 was refused');
    expect(failing.stderr).toContain(`cannot read application ${root} on the hub (kubectl failed above)`);
    expect(failing.state.log).toStrictEqual([`automated off ${root}`]);
  });

  it('delete tells a missing Secret (NotFound) from a kubectl that cannot read it (forbidden, the hub unreachable): only the first is "missing"', () => {
    // A real kubectl stops here: NotFound with --ignore-not-found prints nothing (exit 0); Forbidden or no connection exit 1.
    for (const setup of [{ forbidden: ['secret'] }, { hubDown: true }]) {
      const r = run(['delete'], setup);
      expect(r.status).toBe(1);
      expect(r.stderr).not.toContain('is missing');
      expect(r.state.log).toStrictEqual([]);
    }
    const forbidden = run(['delete'], { forbidden: ['secret'] });
    expect(forbidden.stderr).toContain('Error from server (Forbidden): secrets "cluster-fleet-b" is forbidden');
    expect(forbidden.stderr).toContain("cannot read secret cluster-fleet-b on the hub (kubectl failed above): check the hub's kubeconfig and access");
    // An Application lookup that fails mid-run stops the script instead of skipping the Application as gone.
    const apps = run(['keep'], { forbidden: ['application'] });
    expect(apps.status).toBe(1);
    expect(apps.stderr).toContain('cannot read application');
    expect(apps.state.log).toStrictEqual([]);
    // forget: a forbidden read of the ExternalSecret is not "pruned".
    const forget = run(['forget'], { gone: true, clusterSecret: false, externalSecret: false, forbidden: ['externalsecret'] });
    expect(forget.status).toBe(1);
    expect(forget.state.log).toStrictEqual([]);
  });

  it('the mode is explicit: no argument or another word exits 2 with the usage', () => {
    for (const args of [[], ['cascade']]) {
      const r = run(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('keep|delete|forget');
      expect(r.state.log).toStrictEqual([]);
    }
  });

  it('forget, once the hub pruned the cluster Secret: deletes its SSM parameters in the hub\'s account, then the hub\'s identity with the managed kubeconfig', () => {
    const r = run(['forget'], { gone: true, clusterSecret: false });
    expect(r.status, r.stderr).toBe(0);
    // name and server too: register.sh no longer writes them, but registrations before it did (nothing reads them); deleting
    // a parameter that does not exist is no error for delete-parameters (it lists it under InvalidParameters).
    expect(r.state.log).toStrictEqual([
      `aws ssm delete-parameters --region eu-west-1 --names /odp/hub/argocd/clusters/${ENV}/name /odp/hub/argocd/clusters/${ENV}/server /odp/hub/argocd/clusters/${ENV}/config`,
      expect.stringMatching(new RegExp(`^deleted -f rendered/${ENV}/argocd/bootstrap/hub-access\\.yaml on /.*/managed\\.kubeconfig$`)),
    ]);
  });

  it('forget refuses, before deleting anything, while Applications remain, while the hub has the ExternalSecret or Secret, or without the managed kubeconfig', () => {
    const cases: [Parameters<typeof run>[1], string][] = [
      [{ clusterSecret: false }, 'Applications of fleet-b are still on the hub: run sh rendered/fleet-b/argocd/decommission.sh keep or delete first'],
      [{ gone: true }, "the hub still has the ExternalSecret or cluster Secret 'cluster-fleet-b'"],
      [{ gone: true, clusterSecret: false, externalSecret: true }, "the hub still has the ExternalSecret or cluster Secret 'cluster-fleet-b'"],
      [{ gone: true, clusterSecret: false, kubeconfig: false }, "set MANAGED_KUBECONFIG to the path of fleet-b's kubeconfig"],
    ];
    // A kubectl that fails (the hub unreachable) is not "nothing left": the script stops there.
    const failing = run(['forget'], { gone: true, clusterSecret: false, hubDown: true });
    expect(failing.status).toBe(1);
    expect(failing.state.log).toStrictEqual([]);
    for (const [setup, message] of cases) {
      const r = run(['forget'], setup);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(message);
      expect(r.state.log.filter((l) => l.startsWith('aws ') || l.startsWith('deleted -f'))).toStrictEqual([]);
    }
  });

  it('a re-run after it finished changes nothing and succeeds', () => {
    // State after a finished run: no root, no Applications, no AppProjects.
    const r = run(['delete'], { gone: true });
    expect(r.status, r.stderr).toBe(0);
    expect(r.state.log).toStrictEqual(projects.map((p) => `deleted AppProject ${p}`));
    const script = files.find((f) => f.path === 'argocd/decommission.sh')!.content;
    expect(script).toMatch(/^set -eu$/m);
    execFileSync('sh', ['-n', '-c', script]);
  });
});

describe(`the managed README's *Leave the hub* and decommission.sh render one list of steps (${ENV})`, () => {
  const files = renderedFiles(ENV);
  const readme = files.find((f) => f.path === 'README.md')!.content;
  const section = readme.slice(readme.indexOf('### 5. Leave the hub'));
  const script = files.find((f) => f.path === 'argocd/decommission.sh')!.content;
  // The README's runs (`command`: …) and the script header's (#      command) — in order.
  const readmeRuns = [...section.matchAll(/^ {3}- `([^`]+)`: /gm)].map((x) => x[1]);
  const scriptRuns = [...script.matchAll(/^# {6}(\S.*)$/gm)].map((x) => x[1]);
  const modes = script.match(/^ {2}([a-z |]+)\) ;;$/m)![1]!.split(' | ');

  it('the README lists every mode the script has, forget included, with the same commands in the same order', () => {
    expect(readmeRuns).toStrictEqual(scriptRuns);
    expect(readmeRuns.map((c) => c!.split(' ').at(-1))).toStrictEqual(modes);
    expect(readmeRuns).toContain(`MANAGED_KUBECONFIG=<${ENV}'s kubeconfig> sh rendered/${ENV}/argocd/decommission.sh forget`);
  });

  it('the steps between the runs (the two commits of the hub) are the same text, numbered alike', () => {
    const readmeSteps = [...section.matchAll(/^(\d)\. (.*?)[.:]$/gm)].map((x) => `${x[1]} ${x[2]!.toLowerCase()}`);
    const scriptSteps = [...script.slice(0, script.indexOf('\nset -eu\n')).matchAll(/^# (\d)\. (.*?):?$/gm)].map((x) => `${x[1]} ${x[2]!.toLowerCase()}`);
    expect(readmeSteps).toHaveLength(4);
    expect(readmeSteps).toStrictEqual(scriptSteps);
  });
});

describe('the hub while an environment is let go (argocd.decommission)', () => {
  const leaving = new Map(sources);
  leaving.set('environments/hub.yaml', sources.get('environments/hub.yaml')!.replace('manages: [fleet-a, fleet-b]', 'manages: [fleet-a]\n  decommission: [fleet-b]'));
  const hub = renderedFiles('hub', leaving);
  const doc = (p: string) => parseYamlStream(hub.find((f) => f.path === p)!.content)[0] as any;

  it('the ApplicationSet no longer generates it, the hub keeps its cluster Secret, and it still renders as managed', () => {
    expect(doc('argocd/applicationset-fleet.yaml').spec.generators[0].matrix.generators[0].git.files).toStrictEqual([{ path: 'rendered/fleet-a/fleet.yaml' }]);
    expect(hub.map((f) => f.path).filter((p) => p.startsWith('apps/cluster-')).sort()).toStrictEqual(['apps/cluster-fleet-a.yaml', 'apps/cluster-fleet-b.yaml']);
    const managed = renderedFiles('fleet-b', leaving).map((f) => f.path);
    expect(managed).toContain('fleet.yaml');
    expect(managed).toContain('argocd/decommission.sh');
    expect(managed).not.toContain('argocd/application-root.yaml');
  });

  it('the hub README runs the script between the two commits', () => {
    const readme = hub.find((f) => f.path === 'README.md')!.content;
    const section = readme.slice(readme.indexOf('## Decommission a managed environment'));
    expect(section).toContain('sh rendered/fleet-b/argocd/decommission.sh keep');
    expect(section).toContain('sh rendered/fleet-b/argocd/decommission.sh delete');
    expect(section).toContain("`MANAGED_KUBECONFIG=<the environment's kubeconfig> sh <script> forget`");
  });
});

describe('npm run plan on a hub: an environment leaves in two commits, with its script between', () => {
  const withHub = (text: string) => new Map(sources).set('environments/hub.yaml', sources.get('environments/hub.yaml')!.replace('manages: [fleet-a, fleet-b]', text));
  const plan = (base: Map<string, string>, head: Map<string, string>) => {
    const h = prepareEnvironment('hub', head);
    if (!h.prepared) throw new Error(formatted(h).join('\n'));
    return upgradePlan(resolveEnvironment('hub', base).env!.data, h.prepared.model, h.prepared.data).steps.filter((s) => s.gate.startsWith('decommission'));
  };
  const managed = withHub('manages: [fleet-a, fleet-b]');
  const leaving = withHub('manages: [fleet-a]\n  decommission: [fleet-b]');
  const gone = withHub('manages: [fleet-a]');

  it('refuses removing it from argocd.manages in one step, naming the root that would stay', () => {
    expect(plan(managed, gone)).toStrictEqual([expect.objectContaining({ title: 'fleet-b leaves argocd.manages', verdict: 'refused', reason: expect.stringContaining('the ApplicationSet (create-update) never deletes fleet-b-root') })]);
  });

  it('the first commit says which script to run once the hub synced; the second, what to check before merging', () => {
    expect(plan(managed, leaving)).toStrictEqual([expect.objectContaining({ title: 'fleet-b: argocd.manages → argocd.decommission', verdict: 'caution', reason: expect.stringContaining('run `sh rendered/fleet-b/argocd/decommission.sh keep` or `delete`') })]);
    expect(plan(leaving, gone)).toStrictEqual([expect.objectContaining({ title: 'fleet-b leaves argocd.decommission', verdict: 'caution', reason: expect.stringContaining('`kubectl -n argocd get applications -l odp.opendev.dev/environment=fleet-b` on hub lists nothing') })]);
    expect(plan(managed, managed)).toStrictEqual([]);
  });
});
