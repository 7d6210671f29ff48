/**
 * A managed environment's check from its hub (README, "Check on the hub"): rendered/<env>/argocd/check-hub.sh, run with
 * the hub's kubeconfig and the argocd CLI signed in to the hub's Argo CD. It reads, in order, what the hub needs to
 * manage the environment, and stops at the first that is missing, naming the command to run next (exit 1):
 * 1. the hub's cluster Secret: its ExternalSecret cluster-<env> refreshed now and Ready (register.sh wrote the config);
 * 2. the root Application the hub's ApplicationSet generates for the environment, by the name its template gives it
 *    (hub.ts applicationSet, template.metadata.name `{{.environment}}-root` = managedRoot(env); test/support/
 *    applicationset.ts evaluates it), which exists only once that Secret does (hub.ts ROOT_WHEN_REGISTERED);
 * 3. the root's sync and health. With automated sync a root whose last sync Failed (terminated at the sync timeout
 *    while the hub could not reach the cluster: argo-cd v3.4.4 controller/appcontroller.go:1460-1465, not retried, :1538,
 *    nor its commit re-synced automatically, :2251-2262) is synced again, then waited for, Synced and Healthy, within
 *    ARGOCD_CLI.waitTimeoutSeconds; with manual syncs its state is read once and an unsynced root names the syncs to run.
 * 4. What to sync first: the Applications in the waves the root applies them in (waves.ts namesByWave). The root waits for
 *    each wave to be Healthy before the next (gitops-engine/pkg/sync/sync_context.go Sync(): a wave's tasks stay running
 *    until Healthy; only the last wave succeeds once applied, waves.ts), and an Application is Healthy only once Synced
 *    (the hub's health Lua, addons/argo-cd.ts APPLICATION_HEALTH_LUA; none of its own since argo-cd 1.8). An Application
 *    nothing syncs automatically (manual syncs; a freeze window's deny: appcontroller.go autoSync skips it) holds its wave
 *    for ever: with manual syncs the check names the earliest wave not Synced and Healthy, with automated ones the
 *    Application not Synced that holds the root, each with the sync to run first.
 * Every wait is bounded (kubectl wait --timeout, argocd app wait --timeout: ./cli.ts); test/argocd-hub-check.test.ts runs
 * it against test/support/argocd-stub.mjs.
 */
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../../render/types.js';
import { shQuote } from '../../render/delivery/bootstrap.js';
import { ARGOCD_CLI } from './cli.js';
import { clusterSecretName, managedRoot } from './decommission.js';
import { APPLICATION_SET_NAME } from './hub.js';
import { applicationName, ENVIRONMENT_LABEL } from './objects.js';
import type { AppSpec } from './spec.js';
import { argoContext } from './render.js';
import { namesByWave } from './waves.js';

export const HUB_CHECK_PATH = 'argocd/check-hub.sh';

/** The script's kubectl bounds: External Secrets refreshes within seconds once asked; the ApplicationSet generates at once. */
export const HUB_CHECK_BOUNDS = { secretSeconds: 300, rootSeconds: 120 } as const;

let compiled: ReturnType<typeof compileTemplate> | undefined;
const script = (vars: Parameters<ReturnType<typeof compileTemplate>>[0]): string => (compiled ??= compileTemplate(`#!/bin/sh
# Check from the hub {{hub}} that its Argo CD manages {{env}} ({{cluster}}): the cluster Secret {{secretName}}, the root
# Application {{rootName}} its ApplicationSet {{appset}} generates, and that root's sync and health. Run with the hub's kubeconfig
# and the argocd CLI signed in to the hub's Argo CD, once the hub synced the commit listing {{env}} in argocd.manages:  sh {{self}}
# Every wait is bounded; the first thing missing is named with the command to run next (exit 1).
set -eu
ns={{ns}}
root={{root}}
secret={{secret}}
# 1. The hub's cluster Secret: External Secrets reads the config register.sh wrote (asked now, not within the hour).
kubectl -n "$ns" annotate externalsecret "$secret" force-sync="$(date +%s)" --overwrite >/dev/null
if ! kubectl -n "$ns" wait "externalsecret/$secret" --for=condition=Ready --timeout={{secretSeconds}}s >/dev/null; then
  echo "{{env}}: the hub's ExternalSecret $secret is not Ready after {{secretSeconds}}s, so the hub has no cluster Secret for {{cluster}}. Next: register the cluster (README, step 2) with {{env}}'s kubeconfig: sh {{register}}; kubectl -n $ns describe externalsecret $secret says why it is not Ready" >&2
  exit 1
fi
# 2. The root the ApplicationSet generates (its template's name) once the cluster Secret exists.
if ! kubectl -n "$ns" wait "application/$root" --for=create --timeout={{rootSeconds}}s >/dev/null; then
  echo "{{env}}: the hub has no Application $root after {{rootSeconds}}s: its ApplicationSet {{appset}} has not generated it. Next: kubectl -n $ns get applicationset {{appset}} -o jsonpath='{.status.conditions}' (it must have read {{fleetFile}} at the hub's revision)" >&2
  exit 1
fi
state() { kubectl -n "$ns" get application "$root" -o 'jsonpath={.status.sync.status}/{.status.health.status}/{.status.operationState.phase}'; }
# The environment's Applications, one per line: NAME/SYNC/HEALTH.
states() { kubectl -n "$ns" get applications -l {{selector}} -o 'jsonpath={range .items[*]}{.metadata.name}/{.status.sync.status}/{.status.health.status}{"\\n"}{end}'; }
# Of the Applications named after $1 and $2, those whose SYNC/HEALTH in the listing $2 does not match the pattern $1
# (one not listed included).
not_at() {
  want=$1; list=$2; shift 2
  for app in "$@"; do
    case "$(printf '%s\\n' "$list" | awk -F/ -v n="$app" '$1 == n { print $2 "/" $3 }')" in
      $want) ;;
      *) printf ' %s' "$app" ;;
    esac
  done
}
# The earliest wave with Applications not Synced and Healthy, as "WAVE APP...": the root applies the Applications in
# these waves and waits for each wave to be Healthy (the hub's health Lua: Healthy only once Synced) before the next,
# so that wave holds every later one{{#if manual}}; with manual syncs it is the wave to sync next{{/if}}.
held() {
  l=$(states)
{{#each waves}}
  w=$(not_at 'Synced/Healthy' "$l" {{names}}); [ -z "$w" ] || { echo "{{wave}}$w"; return 0; }
{{/each}}
}
report() { # what the root is, its Applications, and what to run next
  s=$(state)
  echo "{{env}}: $root is \${s%%/*} and $(printf '%s' "$s" | cut -d/ -f2) on the hub {{hub}}; its Applications:" >&2
  argocd app list -l {{selector}} >&2
  echo "Next: $1" >&2
  exit 1
}
# 3. Its sync and health.
{{#if manual}}
# Syncs are manual here (argocd.automated: false): nothing syncs the Applications but you, wave by wave.
case "$(state)" in
  Synced/*) ;;
  *) report "argocd app sync $root --timeout {{waitTimeout}} (it applies the Applications), then each wave in order: the block after this script in {{readme}}, \\"Check on the hub\\"" ;;
esac
h=$(held)
[ -z "$h" ] || report "sync wave \${h%% *} first (its Applications are not Synced and Healthy; a later wave may need what they bring): argocd app sync \${h#* } --timeout {{waitTimeout}}, then argocd app wait \${h#* } --health --timeout {{waitTimeout}}; then the later waves (the block after this script in {{readme}}, \\"Check on the hub\\"), or run this check again"
case "$(state)" in
  Synced/Healthy/*) ;;
  *) report "argocd app get $root says which of its objects is not Healthy" ;;
esac
{{else}}
# A root whose last sync Failed (terminated at the sync timeout while the hub could not reach the cluster) is not
# retried, nor is its commit synced again automatically: start it again.
case "$(state)" in
  */Failed | */Error) argocd app sync "$root" --async >/dev/null ;;
esac
if ! argocd app wait "$root" --sync --health --timeout {{waitTimeout}} >/dev/null; then
  # A wave held by an Application that is not synced (its automated sync held, e.g. by a freeze window's deny, or a sync
  # that ended Failed and is not retried): the root waits for it until the sync timeout; sync it first.
  h=$(held)
  u=$(if [ -n "$h" ]; then not_at 'Synced/*' "$(states)" \${h#* }; fi)
  [ -z "$u" ] || report "wave \${h%% *} holds the root's later waves, and$u is not Synced (nothing syncs it automatically now: argocd app get NAME says why): sync it first: argocd app sync$u --timeout {{waitTimeout}}; then run this check again"
  case "$(state)" in
    OutOfSync/*) report "argocd app diff $root shows what it has not applied; argocd app sync $root --timeout {{waitTimeout}} applies it (with the hub's argocd.rollingSync, after the earlier stage's environments)" ;;
    *) report "argocd app get NAME, for each Application above that is not Synced and Healthy\${h:+ (wave \${h%% *} first:\${h#* })}, says what it waits for" ;;
  esac
fi
{{/if}}
echo "{{env}}: $root is Synced and Healthy on the hub {{hub}}"
argocd app list -l {{selector}}
`))(vars);

/** rendered/<env>/argocd/check-hub.sh of a managed environment. */
export function renderHubCheck(model: EnvironmentModel, specs: readonly AppSpec[], registerScript: string): RenderedFile[] {
  const hub = model.fleet.hub;
  if (!hub) return [];
  const root = managedRoot(model.name);
  const secret = clusterSecretName(model.name);
  const content = script({
    env: model.name,
    cluster: model.cluster.name,
    hub: hub.name,
    self: `${model.renderedDir}/${HUB_CHECK_PATH}`,
    register: `${model.renderedDir}/${registerScript}`,
    readme: `${model.renderedDir}/README.md`,
    fleetFile: `${model.renderedDir}/fleet.yaml`,
    appset: APPLICATION_SET_NAME,
    ns: shQuote(hub.namespace),
    root: shQuote(root),
    rootName: root,
    secret: shQuote(secret),
    secretName: secret,
    selector: shQuote(`${ENVIRONMENT_LABEL}=${model.name}`),
    manual: !model.sync.automated,
    waitTimeout: ARGOCD_CLI.waitTimeoutSeconds,
    waves: namesByWave(specs).map((w) => ({ wave: w.wave, names: w.names.map((n) => shQuote(applicationName(argoContext(model), n))).join(' ') })),
    ...HUB_CHECK_BOUNDS,
  });
  // The Applications and their waves come from the add-ons and workloads: the whole environment.
  return [{ path: HUB_CHECK_PATH, content }];
}
