/**
 * Flux's first sync, as the simulator (validate/motion/) runs it: one unit per Flux Kustomization
 * of the rendered tree, read as kustomize-controller, helm-controller and kstatus behave at Flux 2.9.0
 * (kustomize-controller v1.9.1, helm-controller v1.6.1, fluxcd/pkg ssa v0.76.1 / runtime v0.110.1,
 * fluxcd/cli-utils v1.2.1: v1.2.2 is not in the snapshot). Each rule cites the code it models.
 */
import { posix } from 'node:path';
import { finding, isMap, k8sIdentity, type ParsedDoc, type ParsedFile } from '../../validate/rendered/tree.js';
import type { Diagnostic } from '../../validate/diagnostics.js';
import { bootstrapReleases, chartFactsFor, objectItem, releaseItem, type EngineMotionResult, type MotionContext, type MotionRule, type SimItem, type SimUnit } from '../../validate/motion/context.js';
import { cap } from '../../plan/needs.js';
import { FLUX_BOOTSTRAP_PATH } from './bootstrap.js';
import { indexEnv, overlayFiles } from './checks.js';
import { ESO_GROUP, FLUX_NAMESPACE } from './objects.js';
import { kindKey, kindWaitMinutes, kustomizationTimeoutMs, releaseTimeoutMs } from './timeouts.js';

export const FLUX_MOTION_RULES = {
  dependsOn: {
    id: 'motion.flux.depends-on',
    text: 'a Kustomization is applied once every Kustomization it dependsOn exists and is Ready (no cycle detection: a cycle waits forever, re-checked every 30 s)',
    source: 'fluxcd/kustomize-controller v1.9.1 internal/controller/kustomization_controller.go:551-627, 257-262',
  },
  wait: {
    id: 'motion.flux.wait',
    text: 'with wait: true (or healthChecks) a Kustomization is Ready once every object it applied is Current; without, right after applying',
    source: 'fluxcd/kustomize-controller v1.9.1 internal/controller/kustomization_controller.go:1018-1021, 1037-1066',
  },
  firstPoll: {
    id: 'motion.flux.kstatus-first-poll',
    text: 'kstatus polls at once and counts an object without status conditions Current: an ExternalSecret ESO has not reconciled yet passes wait: true unless healthCheckExprs judge it',
    source: 'fluxcd/cli-utils v1.2.1 pkg/kstatus/status/status.go:115-138, pkg/kstatus/polling/engine/engine.go:157-168',
  },
  healthCheckExprs: {
    id: 'motion.flux.health-check-exprs',
    text: 'healthCheckExprs for a group replace kstatus for its objects: current when the expression holds, InProgress otherwise (an error on a missing status counts Unknown, and the wait goes on)',
    source: 'fluxcd/pkg runtime/v0.110.1 runtime/cel/status_evaluator.go:95-125',
  },
  stage: {
    id: 'motion.flux.stage-dry-run',
    text: 'every object of a stage is dry-run server-side (admission webhooks included) before any is applied: one refused object (no CRD yet, a webhook failing closed) blocks its whole stage',
    source: 'fluxcd/pkg ssa/v0.76.1 ssa/manager_apply.go:252-332, 364-388',
  },
  helmStall: {
    id: 'motion.flux.helm-install-stall',
    text: 'a HelmRelease install that fails with the default strategy stalls once its remediation retries (default none) are spent (RetriesExceeded, a terminal error): it is never retried again, even once what it needed exists; RetryOnFailure retries forever',
    source: 'fluxcd/helm-controller v1.6.1 internal/reconcile/atomic_release.go:471-513, internal/controller/helmrelease_controller.go:437-446',
  },
  prune: {
    id: 'motion.flux.prune',
    text: 'an object a Kustomization applies is its own (its labels) and is pruned when it leaves the tree, unless kustomize.toolkit.fluxcd.io/prune: disabled; one the cluster ships itself is then co-owned, and removing it from Git deletes the cluster\'s own',
    source: 'fluxcd/kustomize-controller v1.9.1 internal/controller/kustomization_controller.go:492-509, 1401-1416',
  },
  crdDependsOn: {
    id: 'motion.flux.crd-depends-on',
    text: 'a custom resource a Kustomization applies needs its CRD at the dry run of its stage: a CRD neither installed before Flux nor among the Kustomization\'s own objects (applied in the first stage) must come from a Kustomization in its dependsOn chain that waits (wait: true or healthChecks) for what brings it — a HelmRelease is Ready once its install, CRDs first, succeeded; otherwise the dry run refuses the whole stage until a later retry',
    source: 'fluxcd/kustomize-controller v1.9.1 internal/controller/kustomization_controller.go:551-627 (dependsOn Ready), 1018-1021, 1037-1066 (wait); fluxcd/pkg ssa/v0.76.1 ssa/manager_apply.go:252-332, 364-388 (stages, dry run); fluxcd/helm-controller v1.6.1 internal/reconcile/atomic_release.go:471-513 (install, then Ready)',
  },
  timeoutCoversRelease: {
    id: 'motion.flux.timeout-covers-release',
    text: "a Kustomization's health check (wait: true) starts right after its apply, a HelmRelease's install or upgrade clock only once its chart is fetched: a Kustomization whose timeout is not longer than a release's it waits for fails (HealthCheckFailed, an error event) while the release is still within its own, and recovers at the next retry",
    source: 'fluxcd/kustomize-controller v1.9.1 internal/controller/kustomization_controller.go:511-522, 1059-1075, api/v1/kustomization_types.go:383-392; fluxcd/helm-controller v1.6.1 internal/controller/helmrelease_controller.go:298-305, api/v2/helmrelease_types.go:633-638, 914-919, 1584-1589',
  },
  unlimitedRetries: {
    id: 'motion.flux.unlimited-retries',
    text: "a HelmRelease retried without limit (remediation.retries < 0, or the RetryOnFailure strategy: the rendered install of every chart) is Reconciling between its attempts, which kstatus counts InProgress, so no Kustomization timeout covers them all: the timeout covers one attempt and its chart's fetch, the Kustomization fails (HealthCheckFailed, an error event) at each timeout that passes, and the release goes on retrying; the rendered upgrades are bounded (3 retries, then Stalled on the last release that worked), except RetryOnFailure's",
    source: 'fluxcd/helm-controller v1.6.1 internal/reconcile/atomic_release.go:235-242, 471-513, api/v2/helmrelease_types.go:694-699; fluxcd/cli-utils v1.2.1 pkg/kstatus/status/generic.go:50-52; fluxcd/kustomize-controller v1.9.1 internal/controller/kustomization_controller.go:1059-1075',
  },
  timeoutFollowsObjects: {
    id: 'motion.flux.timeout-follows-objects',
    text: "a Kustomization's health check (wait: true) waits its timeout for every object it applied, and fails at once when kstatus counts one Failed (fail-fast): a timeout longer than its kinds need reports a stuck object late (a warning), one shorter fails while an object is still within its own time (an error); a HelmRelease's bound is motion.flux.timeout-covers-release's",
    source: 'fluxcd/kustomize-controller v1.9.1 internal/controller/kustomization_controller.go:1008-1016, 1059-1066, main.go:273-276; fluxcd/cli-utils v1.2.1 pkg/kstatus/status/status.go:102-139, core.go:22-38',
  },
  pruneUnit: {
    id: 'motion.flux.prune-unit',
    text: 'deleting a Kustomization (removed from the tree) prunes its whole inventory when deletionPolicy is Delete or WaitForTermination, or MirrorPrune (the default) with prune: true: a CRD or Namespace it applies goes, and with it every object of other units that lives in it',
    source: 'fluxcd/kustomize-controller v1.9.1 internal/controller/kustomization_controller.go:1157-1176, 1401-1416',
  },
} satisfies Record<string, MotionRule>;

/**
 * The CRDs the FluxInstance installs (Flux 2.9.0's controllers, ../shared/upstream/crds/flux/v2.9.0)
 * before it syncs anything, per component it lists (each component's manifest carries its CRDs:
 * flux-operator v0.58.1 config/data/flux/v2.9.0/<component>.yaml); the operator applies and waits
 * for them before the sync Kustomization runs (O12.8: internal/controller/fluxinstance_controller.go:567-579).
 */
const FLUX_COMPONENT_CRDS: Record<string, string[]> = {
  'source-controller': ['Bucket', 'GitRepository', 'HelmChart', 'HelmRepository', 'OCIRepository'].map((k) => cap.crd('source.toolkit.fluxcd.io', k)),
  'kustomize-controller': [cap.crd('kustomize.toolkit.fluxcd.io', 'Kustomization')],
  'helm-controller': [cap.crd('helm.toolkit.fluxcd.io', 'HelmRelease')],
  'notification-controller': ['Alert', 'Provider', 'Receiver'].map((k) => cap.crd('notification.toolkit.fluxcd.io', k)),
};
/** The rendered FluxInstance's components (env-relative flux/flux-instance.yaml); all four when it cannot be read. */
function fluxCrds(ctx: MotionContext): string[] {
  const fi = ctx.files.get(FLUX_INSTANCE_PATH)?.docs[0]?.value;
  const listed = isMap(fi) && isMap(fi.spec) && Array.isArray(fi.spec.components) ? fi.spec.components.map(String) : Object.keys(FLUX_COMPONENT_CRDS);
  return listed.flatMap((c) => FLUX_COMPONENT_CRDS[c] ?? []);
}
const FLUX_INSTANCE_PATH = 'flux/flux-instance.yaml';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const spec = (v: Obj): Obj => (isMap(v.spec) ? v.spec : {});

/** The groups a Kustomization's healthCheckExprs judge (only the group of apiVersion is matched: runtime/cel/status_reader.go:47-50). */
function exprGroups(k: Obj): Set<string> {
  const list = Array.isArray(spec(k).healthCheckExprs) ? (spec(k).healthCheckExprs as unknown[]) : [];
  return new Set(list.filter(isMap).map((e) => String(e.apiVersion ?? '').split('/')[0]!));
}

/** Prune exclusions (kustomization_controller.go:1401-1416; label or annotation, case-insensitive: ssa/utils/meta.go:61-70). */
function pruneDisabled(o: Obj): boolean {
  const m = isMap(o.metadata) ? o.metadata : {};
  const marks = { ...(isMap(m.labels) ? m.labels : {}), ...(isMap(m.annotations) ? m.annotations : {}) } as Record<string, unknown>;
  const is = (k: string, v: string) => String(marks[`kustomize.toolkit.fluxcd.io/${k}`] ?? '').toLowerCase() === v;
  return is('prune', 'disabled') || is('reconcile', 'disabled') || is('ssa', 'ignore');
}

/**
 * How a HelmRelease's failed install is retried: `forever` (the RetryOnFailure strategy, or negative remediation
 * retries: "a negative integer equals to unlimited retries", api/v2/helmrelease_types.go:698), or that many
 * remediated retries, after which it stalls
 * (RetriesExhausted → ErrExceededMaxRetries, fluxcd/helm-controller v1.6.1 internal/reconcile/atomic_release.go:509-513, Stalled RetriesExceeded at :204-207).
 */
function retries(hr: Obj): number {
  const install = isMap(spec(hr).install) ? (spec(hr).install as Obj) : {};
  const strategy = isMap(install.strategy) ? str(install.strategy.name) : undefined;
  const remediation = isMap(install.remediation) ? install.remediation : {};
  if (strategy === 'RetryOnFailure') return Number.POSITIVE_INFINITY;
  const n = typeof remediation.retries === 'number' ? remediation.retries : 0;
  return n < 0 ? Number.POSITIVE_INFINITY : n;
}

export function fluxMotion(ctx: MotionContext): EngineMotionResult | undefined {
  const ix = indexEnv(ctx.tree, ctx.env);
  const kustomizations = ix.locs.filter((l) => l.v.kind === 'Kustomization' && String(l.v.apiVersion).startsWith('kustomize.toolkit.fluxcd.io/'));
  if (kustomizations.length === 0) return undefined;
  const units: SimUnit[] = [];
  const findings: Diagnostic[] = [];
  /** CRDs and Namespaces a unit's deletion prunes (motion.flux.prune-unit). */
  const pruneOnDelete: { unit: string; file: ParsedFile; doc: ParsedDoc; provides: string[] }[] = [];
  const valuesOf = (dir: string): Record<string, unknown> => {
    const k = ix.files.get(`${dir}/kustomization.yaml`)?.docs[0]?.value;
    const gen = isMap(k) && Array.isArray(k.configMapGenerator) ? k.configMapGenerator.filter(isMap) : [];
    for (const g of gen)
      for (const f of Array.isArray(g.files) ? g.files : []) {
        if (typeof f !== 'string' || !f.startsWith('values.yaml=')) continue;
        const v = ix.files.get(posix.normalize(posix.join(dir, f.slice('values.yaml='.length))))?.docs[0]?.value;
        if (isMap(v)) return v;
      }
    return {};
  };
  for (const l of kustomizations) {
    const k = l.v;
    const name = String((k.metadata as Obj).name);
    const s = spec(k);
    const rel = typeof s.path === 'string' ? posix.normalize(s.path.replace(/^\.\//, '')).replace(new RegExp(`^rendered/${ctx.env}/`), '') : '';
    const exprs = exprGroups(k);
    const waits = s.wait === true || (Array.isArray(s.healthChecks) && s.healthChecks.length > 0);
    const items: SimItem[] = [];
    const sa = str(s.serviceAccountName);
    if (sa && sa !== 'kustomize-controller') items.push({ label: `impersonation of ServiceAccount ${FLUX_NAMESPACE}/${sa}`, provides: [], needs: [{ what: cap.serviceAccount(FLUX_NAMESPACE, sa), why: `Kustomization ${name}: serviceAccountName` }], pods: [], onUnmet: { fail: false } });
    for (const f of overlayFiles(ix, rel)) {
      for (const d of ix.files.get(f)!.docs) {
        const o = d.value;
        const id = k8sIdentity(o);
        if (!id || !isMap(o)) continue;
        const ns = id.namespace ?? str(s.targetNamespace) ?? 'default';
        if (id.kind === 'HelmRelease') {
          const hs = spec(o);
          const chartSpec = isMap(hs.chart) && isMap(hs.chart.spec) ? hs.chart.spec : undefined;
          let chart = chartSpec ? str(chartSpec.chart) : undefined;
          let version = chartSpec ? str(chartSpec.version) : undefined;
          if (!chart && isMap(hs.chartRef)) {
            const src = ix.locs.find((x) => x.v.kind === 'OCIRepository' && (x.v.metadata as Obj)?.name === (hs.chartRef as Obj).name);
            const url = src ? str(spec(src.v).url) : undefined;
            chart = url?.split('/').pop();
            version = src && isMap(spec(src.v).ref) ? str((spec(src.v).ref as Obj).tag) : undefined;
          }
          const target = str(hs.targetNamespace) ?? ns;
          const kt = kustomizationTimeoutMs(s);
          const rt = releaseTimeoutMs(hs);
          if (waits && kt !== undefined && rt !== undefined && kt <= rt)
            findings.push(
              finding(l.file, l.doc, FLUX_MOTION_RULES.timeoutCoversRelease.id, s.timeout !== undefined ? ['spec', 'timeout'] : ['spec'], `Kustomization ${name} waits ${kt / 60_000}m (timeout) for HelmRelease ${ns}/${id.name}, whose install or upgrade may take ${rt / 60_000}m once its chart is fetched: it fails while the release is still within its time (${FLUX_MOTION_RULES.timeoutCoversRelease.source})`, {
                hint: 'give the Kustomization a longer timeout than its releases (npm run synth renders the release\'s time plus the chart\'s fetch, generators/engines/flux/timeouts.ts)',
              }),
            );
          const n = retries(o);
          const item = releaseItem(`HelmRelease ${ns}/${id.name}`, chart ?? '?', version ?? '?', valuesOf(rel), target, n === Number.POSITIVE_INFINITY ? { fail: false } : { fail: true, why: `stalls${n > 0 ? ` after ${n} remediated retries` : ''} (${FLUX_MOTION_RULES.helmStall.id}: ${FLUX_MOTION_RULES.helmStall.source})` });
          if (n > 0 && n !== Number.POSITIVE_INFINITY) item.retries = n;
          item.needs.push({ what: cap.namespace(target), why: `HelmRelease ${id.name}: targetNamespace` });
          if (chart && version && !chartFactsFor(chart, version)) void 0;
          items.push(item);
          continue;
        }
        const item = objectItem(o, ns);
        const group = id.apiVersion.includes('/') ? id.apiVersion.slice(0, id.apiVersion.lastIndexOf('/')) : '';
        // kstatus reads Ready conditions, but an object ESO has not reconciled yet has none and is Current at the first poll.
        if (group === ESO_GROUP && !exprs.has(group)) item.healthyAtOnce = true;
        items.push(item);
      }
    }
    const bound = waits ? timeoutBound(ix, rel, name, l, s) : undefined;
    if (bound) findings.push(bound);
    // wait: true over External Secrets objects without healthCheckExprs for their group: Ready at once, Secret or not.
    const unjudged = items.filter((i) => i.healthyAtOnce && /^(ExternalSecret|ClusterSecretStore|SecretStore) /.test(i.label));
    if (s.wait === true && unjudged.length > 0)
      findings.push(
        finding(l.file, l.doc, FLUX_MOTION_RULES.firstPoll.id, ['spec'], `Kustomization ${name} waits (wait: true) on ${unjudged.map((i) => i.label).join(', ')}, which kstatus counts Current at its first poll, before External Secrets has reconciled it (no status.observedGeneration): the unit is Ready whether or not the Secret exists, and its dependents start without it (${FLUX_MOTION_RULES.firstPoll.source})`, {
          hint: `add spec.healthCheckExprs for ${ESO_GROUP} (Ready condition; ${FLUX_MOTION_RULES.healthCheckExprs.source}): npm run synth renders them`,
        }),
      );
    // Prune (motion.flux.prune): an object the cluster had before, now owned by this unit, goes when it leaves the tree.
    const prunes = s.prune === true;
    const deletionPrunes = ['Delete', 'WaitForTermination'].includes(String(s.deletionPolicy)) || ((s.deletionPolicy ?? 'MirrorPrune') === 'MirrorPrune' && prunes);
    for (const f of overlayFiles(ix, rel))
      for (const d of ix.files.get(f)!.docs) {
        const o = d.value;
        const id = k8sIdentity(o);
        if (!id || !isMap(o) || pruneDisabled(o)) continue;
        const provided = objectItem(o, id.namespace ?? str(s.targetNamespace) ?? 'default').provides;
        const shipped = provided.filter((p) => ctx.cluster?.has(p));
        if (prunes && shipped.length > 0)
          findings.push(
            finding(ix.files.get(f)!, d, FLUX_MOTION_RULES.prune.id, ['metadata'], `Kustomization ${name} (prune: true) takes over ${shipped.join(', ')}, which the cluster ships itself: removing it from ${f} deletes the cluster's own (${FLUX_MOTION_RULES.prune.source})`, {
              severity: 'warning',
              hint: 'drop it from the tree (the cluster has it), or annotate it kustomize.toolkit.fluxcd.io/prune: disabled',
            }),
          );
        if (deletionPrunes && (id.kind === 'CustomResourceDefinition' || id.kind === 'Namespace')) pruneOnDelete.push({ unit: name, file: ix.files.get(f)!, doc: d, provides: provided.filter((p) => !ctx.cluster?.has(p)) });
      }
    units.push({
      id: name,
      file: l.file,
      doc: l.doc,
      gates: (Array.isArray(s.dependsOn) ? s.dependsOn : []).filter(isMap).map((d) => ({ id: String(d.name), rule: `dependsOn, ${FLUX_MOTION_RULES.dependsOn.id}` })),
      phases: [items],
      phasesWait: true,
      waitsForHealth: waits,
      phaseAtomic: true,
    });
  }
  // A unit whose deletion prunes a CRD or Namespace that other units' objects need: they go with it.
  for (const p of pruneOnDelete) {
    const users = units.filter((u) => u.id !== p.unit && u.phases.flat().some((i) => i.needs.some((n) => p.provides.includes(n.what)))).map((u) => u.id);
    if (users.length === 0) continue;
    findings.push(
      finding(p.file, p.doc, FLUX_MOTION_RULES.pruneUnit.id, ['metadata'], `deleting Kustomization ${p.unit} (prune: true, deletionPolicy MirrorPrune or Delete) deletes ${p.provides.join(', ')}, which ${users.join(', ')} ${users.length === 1 ? 'needs' : 'need'}: their objects go with it (${FLUX_MOTION_RULES.pruneUnit.source})`, {
        severity: 'warning',
        hint: 'annotate it kustomize.toolkit.fluxcd.io/prune: disabled (it then outlives the unit), or set the unit\'s deletionPolicy: Orphan',
      }),
    );
  }
  // What the bootstrap installed before Flux ran: its namespace, the controllers' identities, its releases' capabilities.
  const base = [cap.namespace(FLUX_NAMESPACE), cap.serviceAccount(FLUX_NAMESPACE, 'kustomize-controller'), cap.serviceAccount(FLUX_NAMESPACE, 'helm-controller'), ...fluxCrds(ctx)];
  const script = ctx.files.get(FLUX_BOOTSTRAP_PATH)?.content;
  for (const r of script ? bootstrapReleases(script) : []) {
    const values = ctx.tree.files.find((f) => f.file === r.values)?.docs[0]?.value;
    base.push(cap.namespace(r.namespace), ...(chartFactsFor(r.chart, r.version)?.provides(isMap(values) ? values : {}, r.namespace) ?? []));
  }
  findings.push(...crdDependsOn(units, new Set([...base, ...(ctx.cluster ?? [])])));
  return { units, base, findings };
}

/**
 * motion.flux.timeout-follows-objects: a waiting Kustomization's timeout against the longest wait of the kinds its overlay
 * applies (./timeouts.ts KIND_WAITS). Longer: a warning (a failure reported late); shorter than its kinds other than a
 * HelmRelease need: an error (a release's shorter bound is timeout-covers-release's finding).
 */
function timeoutBound(ix: ReturnType<typeof indexEnv>, rel: string, name: string, l: { file: ParsedFile; doc: ParsedDoc }, s: Obj): Diagnostic | undefined {
  const kt = kustomizationTimeoutMs(s);
  const kinds = new Set<string>();
  for (const f of overlayFiles(ix, rel))
    for (const d of ix.files.get(f)!.docs) {
      const id = k8sIdentity(d.value);
      if (id) kinds.add(kindKey(id.apiVersion, id.kind));
    }
  if (kt === undefined || kinds.size === 0) return undefined;
  const longest = (ks: string[]): [string, number] => ks.map((k) => [k, kindWaitMinutes(k) * 60_000] as [string, number]).reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0]);
  const [most, need] = longest([...kinds]);
  const [other, otherNeed] = longest([...kinds].filter((k) => k !== 'helm.toolkit.fluxcd.io/HelmRelease'));
  const at = s.timeout !== undefined ? ['spec', 'timeout'] : ['spec'];
  const hint = 'npm run synth renders the timeout its kinds need (generators/engines/flux/timeouts.ts KIND_WAITS)';
  if (kt < otherNeed)
    return finding(l.file, l.doc, FLUX_MOTION_RULES.timeoutFollowsObjects.id, at, `Kustomization ${name} waits ${kt / 60_000}m (timeout) for its objects, and an object of kind ${other} may take ${otherNeed / 60_000}m: it fails while that object is still within its time (${FLUX_MOTION_RULES.timeoutFollowsObjects.source})`, { hint });
  if (kt > need)
    return finding(l.file, l.doc, FLUX_MOTION_RULES.timeoutFollowsObjects.id, at, `Kustomization ${name} waits ${kt / 60_000}m (timeout) for objects that need at most ${need / 60_000}m (${most}): a stuck one is reported ${(kt - need) / 60_000}m late (${FLUX_MOTION_RULES.timeoutFollowsObjects.source})`, { severity: 'warning', hint });
  return undefined;
}

/**
 * motion.flux.crd-depends-on: each custom resource's CRD is there before the Kustomization applying it is, by its
 * dependsOn chain alone (not by the order the controllers happen to reconcile in): installed before Flux, among its
 * own objects (a CRD is applied in the first stage), or brought by a Kustomization it (transitively) depends on that
 * waits for it to be Ready.
 */
function crdDependsOn(units: readonly SimUnit[], base: ReadonlySet<string>): Diagnostic[] {
  const byId = new Map(units.map((u) => [u.id, u]));
  const chain = (id: string, seen = new Set<string>()): Set<string> => {
    for (const g of byId.get(id)?.gates ?? []) if (!seen.has(g.id)) chain(g.id, seen.add(g.id));
    return seen;
  };
  const out: Diagnostic[] = [];
  for (const u of units) {
    const before = chain(u.id);
    const own = new Set(u.phases.flat().filter((i) => i.label.startsWith('CustomResourceDefinition ')).flatMap((i) => i.provides));
    const missing = new Map<string, string[]>();
    for (const i of u.phases.flat())
      for (const n of i.needs) {
        if (!n.what.startsWith('CRD ') || base.has(n.what) || own.has(n.what) || missing.has(n.what)) continue;
        const from = units.filter((x) => x.id !== u.id && x.phases.flat().some((y) => y.provides.includes(n.what)));
        if (from.some((x) => before.has(x.id) && x.waitsForHealth)) continue;
        missing.set(n.what, [i.label, from.length === 0 ? 'nothing brings it' : `it comes with ${from.map((x) => `${x.id}${!before.has(x.id) ? ', not in its dependsOn chain' : ', which does not wait (wait: true or healthChecks)'}`).join('; ')}`]);
      }
    for (const [what, [label, why]] of missing)
      out.push(
        finding(u.file!, u.doc!, FLUX_MOTION_RULES.crdDependsOn.id, ['spec', 'dependsOn'], `Kustomization ${u.id} applies ${label}, which needs ${what}: ${why} (${FLUX_MOTION_RULES.crdDependsOn.source})`, {
          hint: 'add the Kustomization that brings the CRD to its dependsOn (the delivery graph does: npm run synth), with wait: true there',
        }),
      );
  }
  return out;
}
