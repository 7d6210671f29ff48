/**
 * Argo CD's own catalog add-on (data): the chart that installs it, then manages itself.
 */
import { CRD, RBAC, type CatalogEntry, type ChartFacts } from '../../../catalog/types.js';
import { createsServices, crds, placementAt } from '../../../catalog/facts.js';
import { controllerMetricsInputs, controllerMetricsValues, keepSyncErrorFlag, syncErrorFlagRule } from '../sync-alerts.js';
import type { Rule } from '../../../validate/rules.js';
import { hubOf } from '../../../model/fleet.js';

/** argo-cd chart 10.1.1 (argoproj/argo-helm tag argo-cd-10.1.1): the argoproj.io CRDs (crds.install), Services, pods placed by global.tolerations/nodeSelector (values.yaml:129-133, default none). */
export const ARGO_CD_FACTS: ChartFacts = {
  version: '10.1.1',
  provides: () => crds('argoproj.io', ['AppProject', 'Application', 'ApplicationSet']),
  needs: () => [createsServices('argo-cd')],
  pods: (values) => [placementAt(values, 'Argo CD', 'global.')],
};

/**
 * Argo CD health of an Application (argo-cd v3.4.4 has none built in: resource_customizations/argoproj.io/
 * has no Application/health.lua, and gitops-engine/pkg/health/health.go:104-152 covers no Application),
 * so without it the root would not wait for one wave's Applications before the next. Stricter than the
 * one docs/operator-manual/health.md:29-59 documents (which copies status.health and ignores the sync):
 * a child whose last operation Failed or Errored is Degraded (the root's wave then fails instead of
 * waiting: sync_context.go:538-554), and a child is Healthy only once it is Synced and Healthy.
 */
export const APPLICATION_HEALTH_LUA = [
  'hs = {}',
  'hs.status = "Progressing"',
  'hs.message = "waiting for the first sync"',
  'if obj.status == nil then',
  '  return hs',
  'end',
  'local op = obj.status.operationState',
  'if op ~= nil and (op.phase == "Failed" or op.phase == "Error") then',
  '  hs.status = "Degraded"',
  '  hs.message = op.message or ("last sync " .. op.phase)',
  '  return hs',
  'end',
  'if obj.status.sync == nil or obj.status.sync.status ~= "Synced" then',
  '  hs.message = "waiting to be Synced"',
  '  return hs',
  'end',
  'if obj.status.health ~= nil and obj.status.health.status ~= nil then',
  '  hs.status = obj.status.health.status',
  '  hs.message = obj.status.health.message or ""',
  'end',
  'return hs',
  '',
].join('\n');

/**
 * A sync operation still waiting after this long is terminated and Failed (argo-cd v3.4.4
 * controller/appcontroller.go:1460-1465, from the operation's StartedAt, retries included; the default 0 never ends
 * one: cmd/argocd-application-controller/commands/argocd_application_controller.go:276). A terminated operation is not
 * retried (appcontroller.go:1538 `!terminating`), and automated sync does not start a revision whose sync failed
 * (:2253-2257, before self-heal at :2259): `argocd app sync` or any new commit starts it again. An hour: longer than
 * the root's first sync of every wave. Kept although a pool joining later than that leaves the root Failed: the flag
 * is the controller's, for every Application (no per-Application timeout at v3.4.4), and without it a sync waiting on
 * something that never turns Healthy would hold every later commit to its Application until `argocd app terminate-op`
 * (docs/concepts/design-notes.md, "A sync that does not end"). ../sync-alerts.ts alerts on either.
 */
export const SYNC_TIMEOUT_SECONDS = 3600;

const argoCdName = 'argo-cd';

/** The key of argocd-cm (configs.cm) holding the Application health Lua, and of argocd-cmd-params-cm (configs.params) holding the sync timeout. */
export const HEALTH_KEY = 'resource.customizations.health.argoproj.io_Application';
export const SYNC_TIMEOUT_KEY = 'controller.sync.timeout.seconds';
/** The argocd-cm key of the controller's refresh period (chart 10.1.1 values.yaml:215, default 120s). */
export const RECONCILIATION_KEY = 'timeout.reconciliation';

/**
 * The argo-cd values an environment may not set otherwise: maps merge, so naming one of these keys replaces the rendered
 * value alone, silently.
 * - The health Lua: the root's waves wait on it (without it an Application has no health at all, see
 *   APPLICATION_HEALTH_LUA), and ../waves.ts, ../motion.ts and the sync alerts rely on its rules. The split key wins over
 *   the legacy `resource.customizations` YAML (argo-cd v3.4.4 util/settings/settings.go:1016-1024 reads that first,
 *   :1104-1140 appendResourceOverridesFromSplitKeys then sets HealthLua per split key), so only this key can replace it.
 * - The sync timeout: the alert windows (../sync-alerts.ts SYNC_ALERT_WINDOW, ../fleet-alerts.ts) and the managed
 *   runbook's "an hour later" assume it; 0 never ends a waiting sync.
 * - The refresh period, `timeout.reconciliation`, is not rendered, but 0 turns the periodic refresh off (the controller's
 *   --app-resync from ARGOCD_RECONCILIATION_TIMEOUT, cmd/argocd-application-controller/commands/
 *   argocd_application_controller.go:140-145, 256: 0 is a hundred years): no new commit would be synced without a
 *   webhook, and the SyncError condition would never be re-evaluated.
 */
export const argoCdPinnedRule: Rule = ({ env, input, fleet }, report) => {
  if ((input.gitops ?? 'argocd') !== 'argocd') return;
  // A managed environment runs no Argo CD (argoCd.enabledByDefault; argocd-managed-install refuses one): its argo-cd
  // values are never rendered. Its Applications run in the hub's Argo CD, whose argocd-cm and argocd-cmd-params-cm come
  // from the hub's own argo-cd values, which this rule checks in the hub's file.
  if (fleet && hubOf(fleet, env.name)) return;
  const configs = (input.addons?.[argoCdName]?.values as { configs?: { cm?: Record<string, unknown>; params?: Record<string, unknown> } } | undefined)?.configs;
  const at = (map: 'cm' | 'params', key: string) => ['addons', argoCdName, 'values', 'configs', map, key];
  const pinned = [
    { map: 'cm' as const, key: HEALTH_KEY, value: APPLICATION_HEALTH_LUA, why: "the root waits for each wave's Applications through it (a child Healthy only once Synced and Healthy, Degraded once its sync Failed)", shown: 'the rendered health Lua (APPLICATION_HEALTH_LUA)' },
    { map: 'params' as const, key: SYNC_TIMEOUT_KEY, value: String(SYNC_TIMEOUT_SECONDS), why: 'the sync alerts and the runbooks count on a waiting sync ending after it', shown: `the rendered "${SYNC_TIMEOUT_SECONDS}"` },
  ];
  for (const p of pinned) {
    const map = configs?.[p.map];
    if (map === undefined || map === null || !(p.key in map)) continue;
    const v = map[p.key];
    if ((typeof v === 'string' || typeof v === 'number') && String(v) === p.value) continue;
    const shown = typeof v === 'string' && v.includes('\n') ? `a Lua of ${v.trim().split('\n').length} lines` : JSON.stringify(v);
    report('argocd-pinned-setting', at(p.map, p.key), `${shown} would replace ${p.shown}: ${p.why}`, {
      hint: `remove the key from the environment's argo-cd values (maps merge: naming it replaces the rendered value)`,
    });
  }
  const reconciliation = configs?.cm?.[RECONCILIATION_KEY];
  if (typeof reconciliation === 'string' || typeof reconciliation === 'number')
    if (/^0+(\.0+)?(ns|us|µs|ms|s|m|h)?$/.test(String(reconciliation).trim()))
      report('argocd-pinned-setting', at('cm', RECONCILIATION_KEY), `${JSON.stringify(reconciliation)} turns the controller's periodic refresh off: no commit is synced without a webhook, and the SyncError condition is never re-evaluated`, {
        hint: 'remove it (the chart default is 120s) or give a period such as 180s',
      });
};

export const argoCd: CatalogEntry = {
  name: argoCdName,
  description: 'Argo CD, managing itself after the bootstrap (same chart, same values file)',
  chart: { repoURL: 'https://argoproj.github.io/argo-helm', name: 'argo-cd', version: '10.1.1' },
  upgradeNotes: 'https://github.com/argoproj/argo-helm/blob/main/charts/argo-cd/README.md#changelog',
  chartKubeVersions: { '10.1.1': { constraint: '>=1.25.0-0', source: 'argoproj/argo-helm charts/argo-cd/Chart.yaml at argo-cd-10.1.1' } },
  namespace: 'argocd',
  syncWave: -2,
  enabledByDefault: (m) => m.gitops === 'argocd' && !m.fleet.hub,
  condition: 'with gitops: argocd (the default), unless a hub manages the environment',
  podSecurity: 'baseline',
  facts: ARGO_CD_FACTS,
  bootstrapOrder: 30,
  serverSideApply: true, // the ApplicationSet CRD (~1.4 MB) exceeds the client-side annotation limit
  // orphan: the GitOps engine: deleting its Application must not delete Argo CD (and with it every Application's controller).
  onDelete: 'orphan',
  clusterResources: [CRD, ...RBAC],
  determinism: [
  {
    chart: 'argo-cd',
    version: '10.1.1',
    template: 'templates/argocd-configs/argocd-secret.yaml (admin.passwordMtime)',
    functions: ['now'],
    path: ['configs', 'secret', 'argocdServerAdminPassword'],
    allowed: [undefined, ''],
    unless: [{ path: ['configs', 'secret', 'argocdServerAdminPasswordMtime'], notIn: [undefined, ''] }],
    fix: 'no configs.secret.argocdServerAdminPassword (chart default; Argo CD generates the initial admin password itself)',
  },
  ],
  // The chart passes these maps into argocd-cm, argocd-cmd-params-cm and argocd-rbac-cm verbatim: any key.
  openValuePaths: [['configs', 'cm'], ['configs', 'params'], ['configs', 'rbac']],
  // A hub with kube-prometheus-stack: the controller's metrics, which its fleet alert reads (../fleet-alerts.ts).
  extraInputs: () => controllerMetricsInputs.map((p) => [...p]),
  // An environment's own controller.extraArgs keeps the SyncError alert's flag (../sync-alerts.ts keepSyncErrorFlag).
  keepInValues: (values, { model }) => keepSyncErrorFlag(values, model),
  rules: {
    conditions: (ctx, report) => {
      syncErrorFlagRule(ctx, report);
      argoCdPinnedRule(ctx, report);
    },
  },
  values: ({ model }) => ({
    ...controllerMetricsValues(model),
    crds: { install: true, keep: true },
    dex: { enabled: false },
    configs: {
      cm: {
        [HEALTH_KEY]: APPLICATION_HEALTH_LUA,
      },
      params: {
        [SYNC_TIMEOUT_KEY]: String(SYNC_TIMEOUT_SECONDS),
        // Explicit: the hub's ApplicationSet policy (create-update, never delete) holds whatever
        // applicationsetcontroller.policy is set to; the default is `policy == ""` only
        // (cmd/argocd-applicationset-controller/commands/applicationset_controller.go:283-284).
        'applicationsetcontroller.enable.policy.override': 'true',
        // A hub rolling its managed environments in stages (argocd.rollingSync): off by default, and the
        // ApplicationSet's RollingSync strategy is ignored without it
        // (cmd/argocd-applicationset-controller/commands/applicationset_controller.go:292).
        ...(model.fleet.rollingSync ? { 'applicationsetcontroller.enable.progressive.syncs': 'true' } : {}),
      },
    },
  }),
};
