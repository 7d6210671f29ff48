/**
 * Argo CD's first sync, as the simulator (validate/motion/) runs it: the root Application applies its
 * children (Applications and other objects of its source directories) wave by wave; each child
 * Application applies its chart and manifests wave by wave. Read as argoproj/argo-cd v3.4.4 behaves
 * (gitops-engine in-tree at gitops-engine/). Each rule cites the code it models.
 */
import { posix } from 'node:path';
import { cap } from '../../plan/needs.js';
import { bootstrapReleases, chartFactsFor, objectItem, releaseItem, type EngineMotionResult, type MotionContext, type MotionRule, type SimItem, type SimUnit } from '../../validate/motion/context.js';
import { finding, isMap, k8sIdentity, type ParsedDoc, type ParsedFile } from '../../validate/rendered/tree.js';
import { inEnv } from '../../validate/rendered/policies.js';
import { BOOTSTRAP_PATH } from './bootstrap.js';
import { ARGO_CD_FACTS } from './addons/argo-cd.js';
import { FLEET_FILE } from './hub.js';
import { MANUAL_WAVE, ROOT_APP, SYNC_WAVE } from './objects.js';

export const ARGOCD_MOTION_RULES = {
  waves: {
    id: 'motion.argocd.waves',
    text: 'a sync applies one wave at a time and waits while a task of it runs; a task is done when its resource is Healthy or has no health check, fails when Degraded, and keeps waiting when Progressing, Suspended, Missing or Unknown',
    source: 'argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:538-582',
  },
  failedWave: {
    id: 'motion.argocd.failed-wave',
    text: 'a task that completed unsuccessfully fails the operation: the later waves are never applied',
    source: 'argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:619-625',
  },
  lastWave: {
    id: 'motion.argocd.last-wave',
    text: 'the last wave is never waited on: the operation succeeds once it is applied, even if its resources degrade later',
    source: 'argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:644-649, 688-697',
  },
  waveOrder: {
    id: 'motion.argocd.wave-annotation',
    text: 'a resource\'s wave is argocd.argoproj.io/sync-wave (strconv.Atoi), else helm.sh/hook-weight, else 0',
    source: 'argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/syncwaves/waves.go:12-21',
  },
  dryRun: {
    id: 'motion.argocd.dry-run',
    text: 'every task is dry-run first: a custom resource whose CRD is neither known nor in the same sync fails the whole operation, unless it carries SkipDryRunOnMissingResource=true',
    source: 'argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:1047-1068, 482-486',
  },
  appHealth: {
    id: 'motion.argocd.application-health',
    text: 'an Application has no built-in health: without a Lua override in argocd-cm its health is nil and a parent does not wait for it',
    source: 'argoproj/argo-cd v3.4.4 util/lua/lua.go:169-204, gitops-engine/pkg/health/health.go:104-152',
  },
  rootSelf: {
    id: 'motion.argocd.root-self',
    text: 'a root Application in its own source is a task of its own sync, judged by its own health (the aggregate of its children): it is excluded from its aggregation but not from its waves',
    source: 'argoproj/argo-cd v3.4.4 controller/sync.go:307-339, controller/health.go:50-54, controller/appcontroller.go:374-381',
  },
  missingProject: {
    id: 'motion.argocd.missing-project',
    text: 'an Application naming an AppProject that does not exist is Unknown: a parent\'s wave waits for it forever',
    source: 'argoproj/argo-cd v3.4.4 controller/appcontroller.go:2069-2074, 1784-1790',
  },
  hooks: {
    id: 'motion.argocd.hooks',
    text: 'a resource annotated argocd.argoproj.io/hook (or helm.sh/hook, except crd-install) is a hook: PreSync hooks run before every Sync wave, PostSync hooks after the last; helm pre-install/pre-upgrade map to PreSync, post-install/post-upgrade to PostSync; Skip and every other Helm hook type (test, pre-delete …) are never synced; a hook is always waited on, Degraded or Unknown fails it',
    source: 'argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/sync_phase.go:10-28, gitops-engine/pkg/sync/hook/helm/hook.go:5-9, gitops-engine/pkg/sync/hook/helm/type.go:27-32, gitops-engine/pkg/sync/sync_tasks.go:15-20, gitops-engine/pkg/sync/sync_context.go:350-373, 558-582',
  },
  hookDeletePolicy: {
    id: 'motion.argocd.hook-delete-policy',
    text: 'a hook with delete policy HookSucceeded (helm.sh/hook-delete-policy: hook-succeeded) is deleted once it succeeds: what it created is gone for every later wave; the default, BeforeHookCreation, keeps it until the next sync',
    source: 'argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/hook/delete_policy.go:12-24, gitops-engine/pkg/sync/sync_context.go:619-625',
  },
  retry: {
    id: 'motion.argocd.retry',
    text: 'an automated sync that fails is retried spec.syncPolicy.retry.limit times (default 5; negative: forever) with backoff duration × factor^n capped at maxDuration (default 5 s × 2, 3 min); then never again for the same revision; each retry syncs the first revision unless retry.refresh; a manual sync retries only when asked',
    source: 'argoproj/argo-cd v3.4.4 controller/appcontroller.go:1537-1551, 2231-2245, 2251-2262, pkg/apis/application/v1alpha1/types.go:1555-1562',
  },
  crdWave: {
    id: 'motion.argocd.crd-wave',
    text: 'a custom resource the root applies needs its CRD at its apply: a CRD not in the cluster before the sync must come with an Application of an earlier wave, which the root waits for until Healthy; in the same wave (or a later one) the apply finds no resource type and fails the root\'s operation, SkipDryRunOnMissingResource only skipping the dry run',
    source: 'argoproj/argo-cd v3.4.4 gitops-engine/pkg/sync/sync_context.go:1047-1064 (dry run skipped), 1667-1698 (apply by kind, failure), 669-690 (operation failed), 538-582 (an earlier wave waited on)',
  },
  externalSecretHealth: {
    id: 'motion.argocd.external-secret-health',
    text: 'an ExternalSecret is Degraded while ESO reports Ready=False (its store or its parameters missing), Healthy once Ready=True',
    source: 'argoproj/argo-cd v3.4.4 resource_customizations/external-secrets.io/ExternalSecret/health.lua:1-20',
  },
} satisfies Record<string, MotionRule>;

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const annotations = (o: Obj): Record<string, string> => (isMap(o.metadata) && isMap(o.metadata.annotations) ? (o.metadata.annotations as Record<string, string>) : {});

/** A resource's wave (waves.go:12-21): sync-wave, else helm.sh/hook-weight, else 0. */
export function waveOf(o: Obj, manual = false): number {
  for (const key of [...(manual ? [MANUAL_WAVE] : []), SYNC_WAVE, 'helm.sh/hook-weight']) {
    const v = annotations(o)[key];
    if (v !== undefined && /^[+-]?\d+$/.test(v.trim())) return Number(v);
  }
  return 0;
}

/** Argo CD's hook phases in sync order (sync_tasks.go:15-20); SyncFail runs only after a failed sync. */
const HOOK_PHASES = ['PreSync', 'Sync', 'PostSync'] as const;
const HELM_HOOK_PHASE: Record<string, 'PreSync' | 'PostSync'> = { 'pre-install': 'PreSync', 'pre-upgrade': 'PreSync', 'post-install': 'PostSync', 'post-upgrade': 'PostSync' };

/**
 * A resource's hook phase (sync_phase.go:10-28): undefined for a plain resource (Sync phase, no hook),
 * 'never' for a hook a successful first sync never applies (Skip, SyncFail only, Helm test/delete/rollback hooks).
 */
export function hookPhaseOf(o: Obj): { phase: (typeof HOOK_PHASES)[number] | 'never'; type: string; deletedOnSuccess: boolean } | undefined {
  const a = annotations(o);
  const argo = a['argocd.argoproj.io/hook'];
  const helm = a['helm.sh/hook'];
  if (argo === undefined && (helm === undefined || helm === 'crd-install')) return undefined;
  const types = (argo ?? helm!).split(',').map((t) => t.trim());
  const phases = argo !== undefined ? types.filter((t): t is (typeof HOOK_PHASES)[number] => (HOOK_PHASES as readonly string[]).includes(t)) : types.flatMap((t) => (HELM_HOOK_PHASE[t] ? [HELM_HOOK_PHASE[t]] : []));
  const policies = (a['argocd.argoproj.io/hook-delete-policy'] ?? a['helm.sh/hook-delete-policy'] ?? '').split(',').map((p) => p.trim());
  const deletedOnSuccess = policies.includes('HookSucceeded') || policies.includes('hook-succeeded');
  // Skip alone: not synced at all (hook.Skip); several phases: the first one it appears in.
  if (types.includes('Skip') || phases.length === 0) return { phase: 'never', type: types.join(','), deletedOnSuccess };
  return { phase: [...phases].sort((x, y) => HOOK_PHASES.indexOf(x) - HOOK_PHASES.indexOf(y))[0]!, type: types.join(','), deletedOnSuccess };
}

/** The retries of an Application's automated sync (appcontroller.go:2231-2245): retry.limit, default 5, negative forever; manual: none unless set. */
export function retriesOf(app: Obj, automated: boolean): number {
  const policy = isMap(app.spec) && isMap(app.spec.syncPolicy) ? app.spec.syncPolicy : {};
  const limit = isMap(policy.retry) && typeof policy.retry.limit === 'number' ? policy.retry.limit : automated ? 5 : 0;
  return limit < 0 ? Number.POSITIVE_INFINITY : limit;
}

interface Child {
  file: ParsedFile;
  doc: ParsedDoc;
  o: Obj;
  wave: number;
}

const APPLICATION_LUA_KEY = 'resource.customizations.health.argoproj.io_Application';

export function argocdMotion(ctx: MotionContext): EngineMotionResult | undefined {
  const { env, files } = ctx;
  const rootFile = files.get('argocd/application-root.yaml');
  const fleet = files.get(FLEET_FILE);
  if (!rootFile && !fleet) return undefined;
  const findings: EngineMotionResult['findings'] = [];
  const root = rootFile?.docs[0]?.value;
  const rootSources = isMap(root) && isMap(root.spec) && Array.isArray(root.spec.sources) ? root.spec.sources.filter(isMap) : [];
  const dirs = rootFile ? rootSources.flatMap((s) => (typeof s.path === 'string' ? [inEnv(env, s.path)] : [])).filter((d): d is string => d !== undefined) : ['apps', 'argocd'];
  // Directory sources are not recursive by default: the files directly in each directory.
  const automated = !rootFile || (isMap(root) && isMap(root.spec) && isMap(root.spec.syncPolicy) && root.spec.syncPolicy.automated !== undefined);
  // With manual syncs the runbook syncs the Applications wave by wave, each once the previous is Healthy.
  const children: Child[] = [];
  for (const f of files.values())
    if (dirs.includes(posix.dirname(f.path)) && f.path.endsWith('.yaml')) for (const d of f.docs) if (isMap(d.value) && k8sIdentity(d.value)) children.push({ file: f, doc: d, o: d.value, wave: waveOf(d.value, !automated) });
  // Application health: the Lua override of this environment's Argo CD (a managed one's is the hub's, judged there).
  const argoValues = files.get('values/argo-cd.yaml')?.docs[0]?.value;
  const lua = isMap(argoValues) && isMap(argoValues.configs) && isMap(argoValues.configs.cm) ? str(argoValues.configs.cm[APPLICATION_LUA_KEY]) : undefined;
  const appHealth = rootFile ? lua !== undefined : true;
  const failsOnFailedOp = rootFile ? (lua ?? '').includes('operationState') : true;
  const projects = new Set<string>();
  for (const f of files.values()) if (f.path.startsWith('argocd/')) for (const d of f.docs) if (isMap(d.value) && d.value.kind === 'AppProject') projects.add(String((d.value.metadata as Obj).name));
  const waves = [...new Set(children.map((c) => c.wave))].sort((a, b) => a - b);
  const last = waves.at(-1) ?? 0;
  const units: SimUnit[] = [];
  /** What each child Application brings (its chart's and manifests' provides). */
  const brings: { c: Child; provides: Set<string> }[] = [];
  const idOf = (c: Child): string => (c.o.kind === 'Application' ? String((c.o.metadata as Obj).name) : `${String(c.o.kind)} ${String((c.o.metadata as Obj).name)}`);
  for (const c of children) {
    const id = idOf(c);
    // The root in its own source: a task of its own operation, judged by its own aggregate health.
    if (c.o.kind === 'Application' && id === ROOT_APP) {
      if (automated && appHealth && c.wave < last)
        findings.push(
          finding(c.file, c.doc, ARGOCD_MOTION_RULES.rootSelf.id, ['metadata', 'annotations'], `the root Application is in wave ${c.wave} of its own source, before the last wave ${last}: every later wave waits for the root's own health, the aggregate of its children, so one Degraded child stops them for good (${ARGOCD_MOTION_RULES.rootSelf.source}; ${ARGOCD_MOTION_RULES.failedWave.source})`, {
            hint: `put the root in the last wave (${SYNC_WAVE}: "${last}"), which is never waited on (${ARGOCD_MOTION_RULES.lastWave.source}), or apply it only from the bootstrap`,
          }),
        );
      continue;
    }
    const gates = children.filter((x) => x.wave < c.wave && idOf(x) !== ROOT_APP).map((x) => ({ id: idOf(x), rule: `wave ${x.wave} < ${c.wave}, ${ARGOCD_MOTION_RULES.waves.id}` }));
    if (c.o.kind !== 'Application') {
      const item = objectItem(c.o, String((c.o.metadata as Obj).namespace ?? 'default'));
      if (c.o.kind === 'AppProject') item.provides.push(`AppProject ${String((c.o.metadata as Obj).name)}`);
      // A hub's ApplicationSet generates the managed roots in its template's project: without it the controller refuses
      // them ("application references project … which does not exist", applicationset_controller.go:596-610) and its
      // health is Degraded (resource_customizations/argoproj.io/ApplicationSet/health.lua:1-10, ErrorOccurred).
      if (c.o.kind === 'ApplicationSet') {
        const t = isMap(c.o.spec) && isMap(c.o.spec.template) && isMap(c.o.spec.template.spec) ? c.o.spec.template.spec : {};
        item.needs.push({ what: `AppProject ${str(t.project) ?? 'default'}`, why: `ApplicationSet ${String((c.o.metadata as Obj).name)}: the roots it generates name it (spec.template.spec.project; ${ARGOCD_MOTION_RULES.missingProject.id})` });
      }
      if (c.o.kind === 'ExternalSecret') {
        item.onUnmet = { fail: true, why: `is Degraded (${ARGOCD_MOTION_RULES.externalSecretHealth.id})` };
        const tpl = isMap(c.o.spec) && isMap(c.o.spec.target) && isMap(c.o.spec.target.template) && isMap(c.o.spec.target.template.metadata) && isMap(c.o.spec.target.template.metadata.labels) ? c.o.spec.target.template.metadata.labels : {};
        if (tpl['argocd.argoproj.io/secret-type'] === 'cluster') item.pendingUntil = `the SSM parameters its managed cluster's bootstrap writes (${String(tpl['odp.opendev.dev/environment'] ?? 'the managed environment')})`;
      }
      units.push({ id, file: c.file, doc: c.doc, gates, phases: [[item]], phasesWait: true, waitsForHealth: c.o.kind === 'ExternalSecret' || c.o.kind === 'ApplicationSet', phaseAtomic: true });
      continue;
    }
    const app = applicationPhases(ctx, c.o, projects, failsOnFailedOp, automated);
    findings.push(...app.findings);
    brings.push({ c, provides: new Set(app.phases.flat().flatMap((i) => i.provides)) });
    // Its pods with no node (a pool joining late): Degraded at the progress deadline, which fails the root's wave
    // (a later wave waits for it) and is retried as the root's operation is (motion.argocd.retry).
    if (automated && appHealth && failsOnFailedOp && c.wave < last) {
      const rootRetries = isMap(root) ? retriesOf(root, automated) : 0;
      const why = `turns Degraded at its progress deadline and fails the root's wave ${c.wave} (${ARGOCD_MOTION_RULES.failedWave.id}${rootRetries > 0 ? `, retried ${rootRetries} times: ${ARGOCD_MOTION_RULES.retry.id}` : ''})`;
      for (const i of app.phases.flat()) if (i.pods.length > 0) i.onUnplaced = { why, retries: rootRetries };
    }
    units.push({ id, file: c.file, doc: c.doc, gates, phases: app.phases, phasesWait: true, waitsForHealth: appHealth, phaseAtomic: true });
  }
  // A managed environment's Applications live in the hub's Argo CD, whose CRDs exist.
  // A standalone environment's bootstrap applies argocd/ (its AppProjects) before the root syncs.
  const base = [cap.namespace('argocd'), ...(rootFile ? [...projects].map((p) => `AppProject ${p}`) : ARGO_CD_FACTS.provides({}, 'argocd'))];
  const script = files.get(BOOTSTRAP_PATH)?.content;
  for (const r of script ? bootstrapReleases(script) : []) {
    const values = ctx.tree.files.find((f) => f.file === r.values)?.docs[0]?.value;
    base.push(cap.namespace(r.namespace), ...(chartFactsFor(r.chart, r.version)?.provides(isMap(values) ? values : {}, r.namespace) ?? []));
  }
  // The root's own dry run: its direct objects are validated before its first wave, and a CRD counts only when it
  // exists already or is among the root's own objects — not when an Application the root applies brings it.
  const own = new Set([...base, ...children.flatMap((c) => (c.o.kind === 'Application' ? [] : objectItem(c.o, 'default').provides))]);
  for (const c of children) {
    if (c.o.kind === 'Application' || (annotations(c.o)['argocd.argoproj.io/sync-options'] ?? '').includes('SkipDryRunOnMissingResource=true')) continue;
    const missing = objectItem(c.o, String((c.o.metadata as Obj).namespace ?? 'default')).needs.filter((n) => n.what.startsWith('CRD ') && !own.has(n.what));
    if (missing.length > 0)
      findings.push(
        finding(c.file, c.doc, ARGOCD_MOTION_RULES.dryRun.id, ['metadata', 'annotations'], `${idOf(c)} is validated with the root's other objects before its first wave, but its ${missing.map((n) => n.what).join(', ')} comes with an Application the root applies, not with the root's own objects: the root's whole operation fails on every retry and applies nothing (${ARGOCD_MOTION_RULES.dryRun.source})`, {
          hint: 'annotate it argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true, in a wave after the Application bringing the CRD',
        }),
      );
  }
  // A custom resource of the root's own, applied in a wave after the Application that brings its CRD, which the root
  // waited for (automated sync: with manual syncs the runbook syncs the whole root after every Application).
  if (automated && rootFile)
    for (const c of children) {
      if (c.o.kind === 'Application') continue;
      for (const n of objectItem(c.o, String((c.o.metadata as Obj).namespace ?? 'default')).needs) {
        if (!n.what.startsWith('CRD ') || own.has(n.what)) continue;
        const from = brings.filter((b) => b.provides.has(n.what));
        const late = from.filter((b) => b.c.wave >= c.wave);
        if (from.length > 0 && late.length === 0 && appHealth) continue;
        const why =
          from.length === 0
            ? `no Application of the root brings it`
            : !appHealth
              ? `the root does not wait for ${from.map((b) => idOf(b.c)).join(', ')} (no Application health in argocd-cm: ${ARGOCD_MOTION_RULES.appHealth.id})`
              : `it comes with ${late.map((b) => `${idOf(b.c)} (wave ${b.c.wave})`).join(', ')}, not before: the apply finds no resource type and fails the root's operation until a retry after that Application synced`;
        findings.push(
          finding(c.file, c.doc, ARGOCD_MOTION_RULES.crdWave.id, ['metadata', 'annotations'], `${idOf(c)} is applied by the root in wave ${c.wave} and needs ${n.what}: ${why} (${ARGOCD_MOTION_RULES.crdWave.source})`, {
            hint: `put the Application that brings ${n.what} in a wave before ${c.wave} (its unit's layer: engines/argocd/waves.ts rootObjectNeeds)`,
          }),
        );
      }
    }
  return { units, base, findings, coupling: ARGOCD_MOTION_RULES.failedWave };
}

/** The phases (waves) of one child Application: its chart's release and its manifests by their waves, and its project. */
function applicationPhases(ctx: MotionContext, app: Obj, projects: ReadonlySet<string>, failsOnFailedOp: boolean, automated: boolean): Pick<SimUnit, 'phases'> & { findings: EngineMotionResult['findings'] } {
  const findings: EngineMotionResult['findings'] = [];
  const appName = String((app.metadata as Obj).name);
  // A failed sync is retried (motion.argocd.retry): an item failing on an unmet need gets that many more rounds.
  const retries = retriesOf(app, automated);
  /** Hooks deleted once they succeed: their provides vanish after their phase. */
  const transient: { item: SimItem; file: ParsedFile; doc: ParsedDoc; label: string; key: number }[] = [];
  const spec = isMap(app.spec) ? app.spec : {};
  const dest = isMap(spec.destination) ? str(spec.destination.namespace) ?? 'default' : 'default';
  const sources = Array.isArray(spec.sources) ? spec.sources.filter(isMap) : isMap(spec.source) ? [spec.source] : [];
  const options = isMap(spec.syncPolicy) && Array.isArray(spec.syncPolicy.syncOptions) ? spec.syncPolicy.syncOptions : [];
  // Keyed by phase then wave (sync_tasks.go:80-110): PreSync waves, then Sync waves, then PostSync waves.
  const byWave = new Map<number, SimItem[]>();
  const PHASE_SPAN = 1_000_000;
  const add = (w: number, i: SimItem) => byWave.set(w, [...(byWave.get(w) ?? []), i]);
  const fail = failsOnFailedOp ? ({ fail: true, why: `is Degraded and fails the Application's sync (${ARGOCD_MOTION_RULES.failedWave.id}${retries > 0 ? `, retried ${retries === Number.POSITIVE_INFINITY ? 'forever' : `${retries} times`}: ${ARGOCD_MOTION_RULES.retry.id}` : ''})` } as const) : ({ fail: false } as const);
  const skipDryRun = new Set<SimItem>();
  const refs = new Map(sources.filter((s) => typeof s.ref === 'string').map((s) => [String(s.ref), s]));
  for (const s of sources) {
    if (typeof s.chart === 'string') {
      const helm = isMap(s.helm) ? s.helm : {};
      let values: Record<string, unknown> = {};
      for (const vf of Array.isArray(helm.valueFiles) ? helm.valueFiles : []) {
        const m = typeof vf === 'string' ? /^\$([^/]+)\/(.+)$/.exec(vf) : null;
        const v = m && refs.has(m[1]!) ? ctx.tree.files.find((f) => f.file === m[2])?.docs[0]?.value : undefined;
        if (isMap(v)) values = { ...values, ...v };
      }
      add(0, releaseItem(`chart of Application ${String((app.metadata as Obj).name)}`, s.chart, String(s.targetRevision), values, dest, { fail: false }));
    } else if (typeof s.path === 'string') {
      const dir = inEnv(ctx.env, s.path);
      for (const f of ctx.files.values())
        if (dir !== undefined && posix.dirname(f.path) === dir && f.path.endsWith('.yaml'))
          for (const d of f.docs) {
            if (!isMap(d.value) || !k8sIdentity(d.value)) continue;
            const o = d.value;
            const item = objectItem(o, dest);
            if (o.kind === 'ExternalSecret') item.onUnmet = fail;
            if (item.onUnmet.fail) item.retries = retries;
            // SkipDryRunOnMissingResource: its CRD is checked when it is applied, not at validation.
            if ((annotations(o)['argocd.argoproj.io/sync-options'] ?? '').includes('SkipDryRunOnMissingResource=true')) skipDryRun.add(item);
            const hook = hookPhaseOf(o);
            if (hook?.phase === 'never') {
              findings.push(finding(f, d, ARGOCD_MOTION_RULES.hooks.id, ['metadata', 'annotations'], `${item.label} in Application ${appName} is a hook of type ${hook.type}: a sync never applies it (${ARGOCD_MOTION_RULES.hooks.source})`, { severity: 'warning', hint: 'drop the hook annotation to sync it as a resource, or use PreSync, Sync or PostSync' }));
              continue;
            }
            const key = (hook ? HOOK_PHASES.indexOf(hook.phase as (typeof HOOK_PHASES)[number]) - 1 : 0) * PHASE_SPAN + waveOf(o);
            if (hook) {
              item.label = `${item.label} (${hook.phase} hook)`;
              // A hook is waited on even in the last wave (sync_context.go:558-582): its phase is a step like a wave.
              if (hook.deletedOnSuccess) transient.push({ item, file: f, doc: d, label: item.label, key });
            }
            add(key, item);
          }
    }
  }
  // CreateNamespace=true: the destination namespace is created before the first wave.
  const provided = options.includes('CreateNamespace=true') ? [cap.namespace(dest)] : [];
  const waves = [...byWave.keys()].sort((a, b) => a - b);
  const phases = waves.map((w) => byWave.get(w)!);
  // Validation of every task before the first wave (dry-run): CRDs neither known nor in this sync refuse the operation.
  const inSync = new Set(phases.flat().flatMap((i) => i.provides));
  const crdNeeds = phases.flat().filter((i) => !skipDryRun.has(i)).flatMap((i) => i.needs.filter((n) => n.what.startsWith('CRD ') && !inSync.has(n.what)));
  const project = str(spec.project) ?? 'default';
  const gate: SimItem = {
    label: `validation of Application ${String((app.metadata as Obj).name)}`,
    provides: provided,
    needs: crdNeeds.map((n) => ({ ...n, why: `${n.why}, validated before any wave (${ARGOCD_MOTION_RULES.dryRun.id})` })),
    pods: [],
    onUnmet: { fail: false },
  };
  // An Application of a missing AppProject is Unknown: a parent's wave waits for it forever.
  gate.needs.push({ what: `AppProject ${project}`, why: `Application ${String((app.metadata as Obj).name)}: spec.project (${ARGOCD_MOTION_RULES.missingProject.id})` });
  void projects;
  // A hook deleted once it succeeds provides nothing to the later waves (nor to other Applications): who needs it loses it.
  for (const t of transient) {
    const gone = t.item.provides.filter((p) => !p.startsWith('CRD '));
    const later = phases.flat().filter((i) => i !== t.item && i.needs.some((n) => gone.includes(n.what)) && waves[phases.findIndex((ph) => ph.includes(i))]! > t.key);
    t.item.provides = t.item.provides.filter((p) => !gone.includes(p));
    if (later.length > 0 || gone.length > 0)
      findings.push(
        finding(t.file, t.doc, ARGOCD_MOTION_RULES.hookDeletePolicy.id, ['metadata', 'annotations'], `${t.label} in Application ${appName} is deleted once it succeeds (HookSucceeded): ${gone.join(', ')} ${later.length > 0 ? `is gone before ${later.map((i) => i.label).join(', ')}, which need${later.length === 1 ? 's' : ''} it` : 'exists only while the hook runs'} (${ARGOCD_MOTION_RULES.hookDeletePolicy.source})`, {
          severity: later.length > 0 ? 'error' : 'warning',
          hint: 'keep it (hook-delete-policy BeforeHookCreation, the default) or make it a plain resource',
        }),
      );
  }
  return { phases: [[gate], ...phases], findings };
}
