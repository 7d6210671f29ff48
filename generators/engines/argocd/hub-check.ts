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
import { ENVIRONMENT_LABEL } from './objects.js';

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
report() { # what the root is, its Applications, and what to run next
  s=$(state)
  echo "{{env}}: $root is \${s%%/*} and $(printf '%s' "$s" | cut -d/ -f2) on the hub {{hub}}; its Applications:" >&2
  argocd app list -l {{selector}} >&2
  echo "Next: $1" >&2
  exit 1
}
# 3. Its sync and health.
{{#if manual}}
# Syncs are manual here (argocd.automated: false): nothing syncs the root but you.
case "$(state)" in
  Synced/Healthy/*) ;;
  *) report "sync it wave by wave: the block after this script in {{readme}}, \\"Check on the hub\\"" ;;
esac
{{else}}
# A root whose last sync Failed (terminated at the sync timeout while the hub could not reach the cluster) is not
# retried, nor is its commit synced again automatically: start it again.
case "$(state)" in
  */Failed | */Error) argocd app sync "$root" --async >/dev/null ;;
esac
argocd app wait "$root" --sync --health --timeout {{waitTimeout}} >/dev/null || case "$(state)" in
  OutOfSync/*) report "argocd app diff $root shows what it has not applied; argocd app sync $root --timeout {{waitTimeout}} applies it (with the hub's argocd.rollingSync, after the earlier stage's environments)" ;;
  *) report "argocd app get NAME, for each Application above that is not Synced and Healthy, says what it waits for" ;;
esac
{{/if}}
echo "{{env}}: $root is Synced and Healthy on the hub {{hub}}"
argocd app list -l {{selector}}
`))(vars);

/** rendered/<env>/argocd/check-hub.sh of a managed environment. */
export function renderHubCheck(model: EnvironmentModel, registerScript: string): RenderedFile[] {
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
    ...HUB_CHECK_BOUNDS,
  });
  return [{ path: HUB_CHECK_PATH, content, inputs: [['argocd'], ['cluster'], ['name']] }];
}
