/**
 * Letting a hub's managed environment go without orphaning anything: rendered/<env>/argocd/decommission.sh
 * (run with the hub's kubeconfig) removes the environment's Applications before its root, highest sync
 * wave first, then its AppProjects, then the root. Upstream behaviour it relies on (argoproj/argo-cd
 * v3.4.4; /work research sync-semantics.md A4, A5):
 *
 * - The hub's ApplicationSet has policy `create-update`: it never deletes a root, neither when an
 *   element stops being generated nor when the ApplicationSet is deleted (it removes the ownerReferences
 *   first): applicationset/controllers/applicationset_controller.go:153-163, 355-357. So removing an
 *   environment from `manages` leaves `<env>-root` in place and still syncing (automated, selfHeal):
 *   it re-creates any Application deleted under it. Only once the environment is no longer generated
 *   (it moved to `decommission`) does the ApplicationSet stop updating that root, so the script's patch
 *   turning its automated sync off holds; while it is generated, the controller would put it back
 *   (the template replaces the live spec: applicationset_controller.go:760-775).
 * - An Application with `resources-finalizer.argocd.argoproj.io` deletes its resources before it goes
 *   (foreground, highest wave first, skipping `Delete=false` and `helm.sh/resource-policy: keep`);
 *   without the finalizer the API server removes it and its resources stay:
 *   pkg/apis/application/v1alpha1/types.go:3359-3361, controller/appcontroller.go:1170-1179, 1262-1299.
 *   `kubectl delete` never adds the finalizer (`argocd app delete` does, by default:
 *   server/application/application.go:1170-1183), so the script uses kubectl and sets each
 *   Application's finalizers itself: the mode is explicit, whatever the live objects carry.
 *   Non-cascading and cascading deletion with kubectl: docs/user-guide/app_deletion.md.
 * - Deleting the ApplicationSet (a hub whose last managed environment moves to `decommission` renders none)
 *   may or may not delete the roots: it has no finalizer unless a reverse progressive deletion is set
 *   (applicationset_controller.go:188-195), so Kubernetes' garbage collector may follow the roots'
 *   ownerReferences before the controller removes them (:153-163). The script works either way: without
 *   a root, nothing re-creates the Applications it deletes.
 * - A cascading deletion needs the destination cluster: when its cluster Secret is gone the finalizer
 *   is dropped and nothing is deleted: the application controller's finalizeApplicationDeletion removes the
 *   finalizers of an Application whose destination cluster it cannot find and lets it go (controller/appcontroller.go:1214-1226;
 *   the ApplicationSet controller does the same for its own Applications, the roots: applicationset_controller.go:857-872,
 *   removeFinalizerOnInvalidDestination). Nothing is stuck, everything is orphaned. The script checks the Secret before a `delete` run, and the hub
 *   keeps rendering it while the environment is in `decommission`.
 */
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../../render/types.js';
import { shQuote } from '../../render/delivery/bootstrap.js';
import { FLEET_FILE, APPLICATION_SET_NAME, siblingDir } from './hub.js';
import { applicationName, ENVIRONMENT_LABEL, projectScopes, RESOURCES_FINALIZER, type ArgoContext } from './objects.js';
import type { AppSpec } from './spec.js';
import type { PlanStep } from '../../upgrade-plan/plan.js';
import { SYNC_POLICY_KEY } from '../registry.js';
import { argoCdNamespace } from './render.js';

export const DECOMMISSION_PATH = 'argocd/decommission.sh';
/** The root the hub's ApplicationSet creates for a managed environment. */
export const managedRoot = (env: string): string => `${env}-root`;
/** The hub's cluster Secret of a managed environment (the ExternalSecret's target). */
export const clusterSecretName = (env: string): string => `cluster-${env}`;

export interface DecommissionStep {
  /** Application name (prefixed). */
  app: string;
  wave: number;
  /** Rendered with the resources finalizer: deletes its resources in `delete` mode. */
  cascades: boolean;
}

/** The managed environment's Applications, in the order the script deletes them: highest wave first, then by name. */
export function decommissionOrder(ctx: ArgoContext, specs: readonly AppSpec[]): DecommissionStep[] {
  return specs
    .map((s) => ({ app: applicationName(ctx, s.name), wave: s.syncWave, cascades: s.onDelete !== 'orphan' }))
    .sort((a, b) => b.wave - a.wave || a.app.localeCompare(b.app));
}

/** How the script and the README name the hub's environment file. */
export const hubFileOf = (hub: string): string => `the environment file of ${hub}`;

/** A mode of decommission.sh. */
export type DecommissionMode = 'keep' | 'delete' | 'forget';

/** One step of letting a managed environment go: a change to the hub's file, or a run of the script (one of its modes). */
export interface LeaveStep {
  /** What to do, in words (no newline). */
  what: string;
  /** The script's runs this step offers (one of them), with what each does. */
  runs: { mode: DecommissionMode; command: string; does: string }[];
}

/**
 * The steps of letting a managed environment go, in order: the one list that the script's header and the managed
 * README's *Leave the hub* both render, so they cannot disagree (test/hub-decommission.test.ts compares them).
 */
export function leaveSteps(f: { env: string; cluster: string; self: string; hubFile: string; clusterSecret: string }): LeaveStep[] {
  return [
    { what: `move ${f.env} from argocd.manages to argocd.decommission in ${f.hubFile}; synth, merge, and let the hub sync that commit (its ApplicationSet stops generating ${managedRoot(f.env)})`, runs: [] },
    {
      what: "with the hub's kubeconfig, run one of",
      runs: [
        { mode: 'keep', command: `sh ${f.self} keep`, does: `the hub lets go: every Application is removed without its resources (no finalizer); everything deployed on ${f.cluster} stays, unmanaged` },
        { mode: 'delete', command: `sh ${f.self} delete`, does: "Applications rendered with the resources finalizer delete what they deployed first; those rendered without it (the cluster's own infrastructure) are removed and leave it running" },
      ],
    },
    { what: `remove ${f.env} from argocd.decommission in ${f.hubFile}; synth, merge, and let the hub sync (it prunes the ExternalSecret and cluster Secret ${f.clusterSecret})`, runs: [] },
    {
      what: "from the repository's root, run",
      runs: [
        {
          mode: 'forget',
          command: `MANAGED_KUBECONFIG=<${f.env}'s kubeconfig> sh ${f.self} forget`,
          does: `deletes the cluster Secret's SSM parameters in the hub's account and the hub's identity on ${f.cluster} (refuses while Applications of ${f.env}, or the ExternalSecret or Secret ${f.clusterSecret}, remain on the hub)`,
        },
      ],
    },
  ];
}

let compiled: ReturnType<typeof compileTemplate> | undefined;
const script = (vars: Record<string, unknown>): string =>
  (compiled ??= compileTemplate(`#!/bin/sh
# The hub {{hub}} lets go of {{env}}: delete {{env}}'s Applications (highest sync wave first), its AppProjects, then its
# root {{root}}, so nothing of {{env}} keeps syncing from the hub, and at last the hub's parameters and identity of {{env}}.
# The steps (this script runs the modes; each refuses to run before the step ahead of it is done):
{{#each leave}}
# {{n}}. {{what}}{{#if runs.length}}:{{/if}}
{{#each runs}}
#      {{command}}
#        {{does}}
{{/each}}
{{/each}}
set -eu
MODE=\${1:-}
case "$MODE" in
  keep | delete | forget) ;;
  *) echo "usage: sh {{self}} keep|delete|forget (keep: leave {{env}}'s workloads running; delete: delete what the cascading Applications deployed; forget, once the hub pruned {{clusterSecret}}: delete its parameters and the hub's identity on {{cluster}})" >&2; exit 2 ;;
esac
NS={{ns}}

# Whether an object is on the hub. With --ignore-not-found, kubectl get prints nothing and exits 0 for NotFound only
# (kubernetes/kubectl pkg/cmd/get/get.go:477-479, 625-629 @ v0.34.0); any other failure (the API unreachable, forbidden, another
# kubeconfig) exits 1 (pkg/cmd/util/helpers.go:54 @ v0.34.0) and stops the script here instead of reading as "not there".
# hubget sets $out to what kubectl prints of an object (empty when NotFound), or stops; found says whether it exists.
hubget() { # kind, name, output format
  out=$(kubectl -n "$NS" get "$1" "$2" --ignore-not-found -o "$3") || { echo "cannot read $1 $2 on the hub (kubectl failed above): check the hub's kubeconfig and access, then run this again" >&2; exit 1; }
}
found() { # kind, name
  hubget "$1" "$2" name
  [ -n "$out" ]
}

# 7. forget: only once keep or delete finished and the hub pruned the cluster Secret; each check before anything is deleted.
# Each lookup is an assignment or found (above), so that a failing kubectl (another kubeconfig, no connection) stops the
# script instead of reading as "nothing left".
if [ "$MODE" = forget ]; then
  apps=$(kubectl -n "$NS" get applications -l {{selector}} -o name)
  if [ -n "$apps" ]; then
    echo "Applications of {{env}} are still on the hub: run sh {{self}} keep or delete first" >&2; exit 1
  fi
  if found externalsecret {{clusterSecret}} || found secret {{clusterSecret}}; then
    echo "the hub still has the ExternalSecret or cluster Secret {{clusterSecret}}: remove {{env}} from argocd.decommission in {{hubFile}}, synth, merge, let the hub sync (it prunes them), then run this again" >&2; exit 1
  fi
  [ -f {{access}} ] || { echo "{{access}} is not here: run this from the repository's root, at the commit that rendered it" >&2; exit 1; }
  [ -n "\${MANAGED_KUBECONFIG:-}" ] && [ -f "$MANAGED_KUBECONFIG" ] || { echo "set MANAGED_KUBECONFIG to the path of {{env}}'s kubeconfig (the hub's identity is deleted there)" >&2; exit 1; }
  aws ssm delete-parameters --region {{region}} --names {{parameters}}
  kubectl --kubeconfig "$MANAGED_KUBECONFIG" delete -f {{access}} --ignore-not-found
  echo "the hub {{hub}}'s parameters and identity of {{env}} are deleted"
  exit 0
fi

# 1. The hub's ApplicationSet no longer generates {{root}}: while it does, it re-creates the root and puts its automated sync back.
# The fleet files sit in the matrix (hub.ts applicationSet); a git generator at the top is read too (a hub rendered before it).
generated=$(kubectl -n "$NS" get applicationset {{appset}} --ignore-not-found -o 'jsonpath={.spec.generators[*].matrix.generators[*].git.files[*].path} {.spec.generators[*].git.files[*].path}')
case " $generated " in
  *" "{{fleetFile}}" "*) echo "the ApplicationSet {{appset}} still generates {{root}} from {{fleetFile}}: move {{env}} from argocd.manages to argocd.decommission in {{hubFile}}, synth, merge, let the hub sync, then run this again" >&2; exit 1 ;;
esac

# 2. A cascading deletion needs the cluster: without its cluster Secret, Argo CD drops the finalizers and deletes nothing.
if [ "$MODE" = delete ] && ! found secret {{clusterSecret}}; then
  echo "the hub's cluster Secret {{clusterSecret}} is missing: Argo CD cannot delete anything on {{cluster}}; keep {{env}} in argocd.decommission until it is back (its ExternalSecret {{clusterSecret}}), or run with keep" >&2
  exit 1
fi

# 3. Stop the root: without automated sync it no longer re-creates the Applications deleted below.
if found application {{root}}; then
  kubectl -n "$NS" patch application {{root}} --type merge -p '{"spec": {"syncPolicy": {"automated": null} } }'
  # Its running sync, if any, finishes first. A kubectl that cannot read stops here (hubget), not taken for "not Running".
  i=0
  while hubget application {{root}} 'jsonpath={.status.operationState.phase}' && [ "$out" = Running ]; do
    i=$((i + 1)); [ "$i" -le 60 ] || { echo "{{root}} is still syncing after 5 minutes: terminate it (argocd app terminate-op {{root}}) and run this again" >&2; exit 1; }
    sleep 5
  done
fi

# 4. The Applications, highest sync wave first (the order Argo CD's own cascade takes), each gone before the next.
remove() { # name, finalizers (JSON list)
  found application "$1" || return 0
  kubectl -n "$NS" patch application "$1" --type merge -p "{\\"metadata\\": {\\"finalizers\\": $2} }"
  echo "deleting Application $1 ($MODE)"
  kubectl -n "$NS" delete application "$1" --wait=true --timeout=15m
}
{{#each steps}}
{{#if cascades}}if [ "$MODE" = delete ]; then remove {{app}} '["{{../finalizer}}"]'; else remove {{app}} null; fi   # wave {{wave}}
{{else}}remove {{app}} null   # wave {{wave}}: rendered without the finalizer, its resources stay in either mode
{{/if}}
{{/each}}

# 5. Nothing of {{env}} left but its root: an Application this script does not know means the hub runs another commit.
names=$(kubectl -n "$NS" get applications -l {{selector}} -o 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}')
left=$(printf '%s\\n' "$names" | grep -vx {{root}} || true)
if [ -n "$left" ]; then
  echo "Applications of {{env}} this script does not know are still on the hub: $(echo $left); regenerate it from the commit the hub synced (npm run synth) and run it again" >&2
  exit 1
fi

# 6. The AppProjects, then the root (rendered without the finalizer; cleared in case someone added it).
{{#each projects}}
kubectl -n "$NS" delete appproject {{this}} --ignore-not-found --wait=true --timeout=5m
{{/each}}
if found application {{root}}; then
  kubectl -n "$NS" patch application {{root}} --type merge -p '{"metadata": {"finalizers": null} }'
  kubectl -n "$NS" delete application {{root}} --wait=true --timeout=5m
fi

echo "the hub {{hub}} no longer manages {{env}} ($MODE). Next: remove {{env}} from argocd.decommission in {{hubFile}}, synth and merge"
echo "(the hub prunes its ExternalSecret and cluster Secret {{clusterSecret}}); once it synced, from the repository's root:"
echo "  MANAGED_KUBECONFIG=<{{env}}'s kubeconfig> sh {{self}} forget"
`))(vars);

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** SSM parameter names: a path of letters, digits and _.-/ (AWS: "Creating Systems Manager parameters", naming constraints). */
const SSM_PARAMETER = /^\/[A-Za-z0-9_.\-/]+$/;
const RENDERED_PATH = /^[A-Za-z0-9_.\-/]+$/;

export interface DecommissionFacts {
  hub: string;
  hubFile: string;
  region: string;
  parameters: string[];
  access: string;
}

/** rendered/<env>/argocd/decommission.sh of a managed environment. */
export function renderDecommission(ctx: ArgoContext, specs: readonly AppSpec[], facts: DecommissionFacts): RenderedFile {
  const m: EnvironmentModel = ctx.model;
  const steps = decommissionOrder(ctx, specs);
  // Values reaching the shell are quoted below and their shape checked here (the schema admits no other; a renderer invariant).
  if (!AWS_REGION.test(facts.region)) throw new Error(`decommission.sh: region '${facts.region}' is not an AWS region name`);
  for (const p of facts.parameters) if (!SSM_PARAMETER.test(p)) throw new Error(`decommission.sh: '${p}' is not an SSM parameter name`);
  if (!RENDERED_PATH.test(facts.access)) throw new Error(`decommission.sh: '${facts.access}' is not a rendered path`);
  const self = `${m.renderedDir}/${DECOMMISSION_PATH}`;
  const content = script({
    leave: leaveSteps({ env: m.name, cluster: m.cluster.name, self, hubFile: facts.hubFile, clusterSecret: clusterSecretName(m.name) }).map((s, i) => ({ ...s, n: i + 1 })),
    hub: facts.hub,
    env: m.name,
    cluster: m.cluster.name,
    self,
    ns: shQuote(ctx.argoNamespace),
    root: shQuote(managedRoot(m.name)),
    appset: shQuote(APPLICATION_SET_NAME),
    fleetFile: shQuote(`${m.renderedDir}/${FLEET_FILE}`),
    hubFile: facts.hubFile,
    clusterSecret: shQuote(clusterSecretName(m.name)),
    steps: steps.map((s) => ({ ...s, app: shQuote(s.app) })),
    finalizer: RESOURCES_FINALIZER,
    selector: shQuote(`${ENVIRONMENT_LABEL}=${m.name}`),
    projects: projectScopes(ctx, specs).map((p) => shQuote(`${ctx.prefix}${p.name}`)),
    region: shQuote(facts.region),
    parameters: facts.parameters.map(shQuote).join(' '),
    access: shQuote(facts.access),
  });
  return { path: DECOMMISSION_PATH, content, inputs: [['addons'], ['argocd'], ['cluster', 'name'], ['name'], ['workloads']] };
}

/** Where the hub's README points: the script of each environment it lets go or manages. */
export const decommissionScript = (hub: EnvironmentModel, env: string): string => `${siblingDir(hub, env)}/${DECOMMISSION_PATH}`;

const listAt = (data: Record<string, unknown> | undefined, key: string): string[] => {
  const sync = data?.[SYNC_POLICY_KEY];
  const v = typeof sync === 'object' && sync !== null ? (sync as Record<string, unknown>)[key] : undefined;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

/**
 * `npm run plan` on a hub: an environment leaving `manages` must pass through `decommission`, with its
 * script run in between. Leaving in one step is refused (the ApplicationSet never deletes the root, which
 * keeps syncing: applicationset_controller.go:153-163, 355-357); each of the two steps says what to run and check.
 */
export function fleetPlanSteps(base: Record<string, unknown> | undefined, head: EnvironmentModel): PlanStep[] {
  if (!base) return [];
  const wasManaged = listAt(base, 'manages');
  const wasLeaving = listAt(base, 'decommission');
  const steps: PlanStep[] = [];
  const script = (env: string) => decommissionScript(head, env);
  for (const env of wasManaged.filter((e) => !head.fleet.manages.includes(e))) {
    if (head.fleet.decommission.includes(env))
      steps.push({
        title: `${env}: argocd.manages → argocd.decommission`,
        gate: 'decommission',
        verdict: 'caution',
        reason: `once ${head.name} synced this commit (its ApplicationSet no longer generates ${managedRoot(env)}), run \`sh ${script(env)} keep\` or \`delete\` with ${head.name}'s kubeconfig; then remove ${env} from argocd.decommission`,
      });
    else
      steps.push({
        title: `${env} leaves argocd.manages`,
        gate: 'decommission',
        verdict: 'refused',
        reason: `in one step: the ApplicationSet (create-update) never deletes ${managedRoot(env)}, which keeps syncing rendered/${env}/apps and argocd, and ${env}, no longer managed, renders its own root and Applications there, which that root would sync into ${head.name}'s Argo CD; move ${env} to argocd.decommission first and run \`sh ${script(env)}\` (README of ${head.name}, "Decommission a managed environment")`,
      });
  }
  for (const env of wasLeaving.filter((e) => !head.fleet.decommission.includes(e) && !head.fleet.manages.includes(e)))
    steps.push({
      title: `${env} leaves argocd.decommission`,
      gate: 'decommission script ran',
      verdict: 'caution',
      reason: `merge only once \`sh ${script(env)}\` finished: \`kubectl -n ${argoCdNamespace(head)} get applications -l ${ENVIRONMENT_LABEL}=${env}\` on ${head.name} lists nothing; this commit prunes the cluster Secret ${clusterSecretName(env)}, after which a cascading deletion deletes nothing; once ${head.name} synced it, run \`MANAGED_KUBECONFIG=<${env}'s kubeconfig> sh ${script(env)} forget\` (deletes its SSM parameters and the hub's identity on ${env})`,
    });
  return steps;
}
