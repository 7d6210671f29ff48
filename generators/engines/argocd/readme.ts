/** README sections of the Argo CD area: the add-ons table and the bootstrap runbook. */
import { BOOTSTRAP_WAIT_NOTE } from '../../render/delivery/prelude.js';
import { resolveAddons } from '../../catalog/resolve.js';
import { compileTemplate } from '../../lib/templates.js';
import { hubApiCidr } from '../../infra/aws/stacks.js';
import { apiLoadBalancerOf } from '../../infra/aws/plan.js';
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import { BOOTSTRAP_PATH } from './bootstrap.js';
import { bootstrapUnits, deliveryPlan } from '../../plan/index.js';
import { applicationName, ENVIRONMENT_LABEL, projectScopes } from './objects.js';
import { argoContext } from './render.js';
import { CLUSTER_REGISTRY_STORE, CLUSTER_SECRET_GROUP, APPLICATION_SET_PATH, clusterSecretParameters, HUB_TOKEN_WARNING_DAYS, ROOT_WHEN_REGISTERED, clusterSecretPath, registered, rollingSync, siblingDir } from './hub.js';
import { clusterSecretName, DECOMMISSION_PATH, decommissionOrder, decommissionScript, hubFileOf, leaveSteps } from './decommission.js';
import { storeRoleName } from '../../catalog/secret-stores.js';
import { ABSENT_WINDOW } from '../../render/alerts.js';
import { ARGOCD_APP_CONDITION, ARGOCD_METRICS_PATH, METRICS_ABSENT_ALERT, MONITORING_GROUP, SYNC_ALERT, SYNC_ERROR_ALERT, SYNC_ERROR_CONDITION, SYNC_ERROR_WINDOW, SYNC_ALERT_WINDOW, SYNC_ALERTS_PATH, SYNC_RUNBOOK, syncAlerts } from './sync-alerts.js';
import { FLEET_ALERT, FLEET_ALERT_WINDOW, FLEET_ALERTS_PATH, FLEET_SECRET_METRICS_PATH, FLEET_SYNC_ERROR_ALERT, FLEET_TOKEN_ALERT, FLEET_TOKEN_ALERT_WINDOW, fleetAlerts } from './fleet-alerts.js';
import { HUB_ACCESS, HUB_ACCESS_PATH, HUB_REGISTER_PATH, HUB_TOKEN_DAYS, hubAccessScope } from './managed.js';
import { allAppSpecs } from './sources.js';
import { ARGOCD_CLI } from './cli.js';
import { HUB_CHECK_BOUNDS, HUB_CHECK_PATH } from './hub-check.js';
import type { AppSpec } from './spec.js';
import { namesByWave } from './waves.js';
import { readmeContext } from '../../render/readme/readme.js';
import type { ReadmeContext, ReadmeSection } from '../../render/readme/sections.js';

const table = compileTemplate(`Argo CD syncs {{sync}}. Applications are applied in sync waves (lower first), each in the wave
after the Applications providing what it needs (CRDs, webhooks, namespaces, secrets) and as late as what needs it
allows (the delivery graph, plan/graph.ts), so one nothing waits for is in the last wave.{{#if adopted}}
The bootstrap script below installs {{adopted}} first, with helm and the same charts and values; their
Applications adopt those releases.{{/if}}

| Application | Chart | Version | Namespace | Wave |
|---|---|---|---|---|
{{#each apps}}| {{name}} | {{chart}} | {{version}} | {{code namespace}} | {{wave}} |
{{/each}}{{#if syncAlert}}

Alert on a sync that does not end: \`{{syncAlert.path}}\` fires \`{{syncAlert.name}}\` when one of this environment's
Applications has not been Synced (with automated sync) and Healthy for {{syncAlert.window}}: a sync failing again and again
(retried without limit, every 5 minutes at most), a wave waiting on a pool that has not joined, or a sync that ended Failed
and is not retried (terminated at \`controller.sync.timeout.seconds\`, an hour after it began). It reads
\`argocd_app_info\`, which the controller serves (\`controller.metrics.enabled\`) and the ServiceMonitor
\`{{syncAlert.metrics}}\` has Prometheus scrape. Its description says what to run ({{syncAlert.runbook}}).
\`{{syncAlert.absent}}\` fires when Prometheus has had no \`argocd_app_info\` for {{syncAlert.absentWindow}} (then no such alert can fire).
\`{{syncAlert.syncError}}\` fires sooner, after {{syncAlert.syncErrorWindow}}, for one with the \`SyncError\` condition (a sync that ended Failed and
that automated sync does not retry): it reads \`argocd_app_condition\`, which the controller exports with
\`{{syncAlert.syncErrorFlag}}\` (\`controller.extraArgs\` in the argo-cd values).
{{/if}}`);

const runbook = compileTemplate(`On a fresh cluster ({{clusterReady}}, kubeconfig at hand), with \`helm\` and \`kubectl\`:

\`\`\`sh
sh {{script}}
\`\`\`

It installs, with helm and the same chart versions and values files the Applications use:
{{#each steps}}- **{{name}}** {{code version}} into {{code namespace}}
{{/each}}

${BOOTSTRAP_WAIT_NOTE}

then applies \`{{argocd}}/\` (the AppProjects and the root Application). From then on Argo CD manages
itself (the \`argo-cd\` Application renders the same chart with the same values, so it adopts the
release){{#if manual}}.{{else}} and syncs every other Application, wave by wave: the root waits for each
wave's Applications to be Healthy before it applies the next.{{/if}}

AppProjects (no wildcards; each lists exactly the repositories, namespaces and cluster-scoped kinds of
its Applications):

| Project | Purpose | Applications | Namespaces | Cluster-scoped kinds |
|---|---|---|---|---|
{{#each projects}}| {{code name}} | {{description}} | {{apps}} | {{namespaces}} | {{kinds}} |
{{/each}}
{{#if manual}}

### Manual sync

Syncs are manual in this environment (\`argocd.automated: false\`). Every Application carries the label
\`{{label}}={{env}}\` (list them with \`argocd app list -l {{label}}={{env}}\`). The Applications have
no sync-wave annotation here{{#if excluded}}, nor have the root's own {{objects}}{{/if}}: the root would wait for each wave to become Healthy, which a manual
Application never does until it is synced. So sync the root (it creates or updates every Application and
AppProject), then each wave in order, waiting for it to be Healthy before the next
(\`argocd app sync\` waits for the sync operation only){{#if excluded}}. The root's first sync leaves out its
{{#each excluded}}{{#unless @first}} and its {{/unless}}\`{{group}}\` objects (their CRDs come with {{app}}, wave {{wave}}){{/each}}: applied
before, they would fail it. It names what it leaves out, and the CLI matches that against the resources the
controller has read for the root (\`argocd app get root --refresh\` waits for them: right after the bootstrap it may not have read
them yet, and a filter matching nothing is refused). The root's last sync applies them{{/if}}.
Every step is bounded: a sync or wait that has not ended after {{waitMinutes}} minutes prints the Application's state and exits
20 (its operation runs on: \`argocd app get NAME\` says what it waits for; fix that, then go on from that step){{#if excluded}}; the
refresh waits {{refreshMinutes}} minutes at most for the application controller{{/if}}. Paste the block into \`sh -e\` to stop at the first
failure:

\`\`\`sh
{{#if excluded}}argocd app get root --refresh --timeout {{refreshTimeout}} > /dev/null
[ -n "$(kubectl -n {{ns}} get application root -o 'jsonpath={.status.resources[*].kind}')" ] || { echo "root: the application controller has not read the root's resources within {{refreshMinutes}} minutes; check it runs (kubectl -n {{ns}} get pods -l app.kubernetes.io/name=argocd-application-controller), then start this block again" >&2; false; }
argocd app sync root{{#each excluded}} --resource '!{{group}}:*:*'{{/each}} --timeout {{waitTimeout}}
{{else}}argocd app sync root --timeout {{waitTimeout}}
{{/if}}
{{#each waves}}
# wave {{wave}}
argocd app sync {{apps}} --timeout {{../waitTimeout}}
argocd app wait {{apps}} --health --timeout {{../waitTimeout}}
{{/each}}
{{#if excluded}}# the root's {{objects}}, now that their CRDs exist
argocd app sync root --timeout {{waitTimeout}}
{{/if}}
\`\`\`

Run \`argocd app diff NAME\` first to review a change. Later changes need only the Applications whose
files changed (\`argocd app list -l {{label}}={{env}}\` shows which are OutOfSync), still in wave order.
{{/if}}
`);

const managedRunbook = compileTemplate(`The Argo CD of \`{{hub}}\` (namespace \`{{ns}}\`) manages this cluster; no Argo CD runs here. The hub's ApplicationSet
\`fleet\` reads \`{{dir}}/fleet.yaml\` from {{repo}} at \`{{revision}}\` and creates the root Application \`{{env}}-root\`, which
syncs the Applications (\`{{env}}-<add-on>\`) and AppProjects (\`{{env}}-<project>\`) into the hub's \`{{ns}}\` namespace; they
deploy to this cluster by name (\`destination.name: {{cluster}}\`), through the hub's Argo CD cluster Secret \`cluster-{{env}}\`.
The ApplicationSet creates \`{{env}}-root\` only once that Secret exists, i.e. once this cluster is registered (step 2): it
pairs each fleet file with the cluster Secrets labelled with its environment ({{registeredSource}}), and
a new cluster Secret makes the controller generate again at once. Before, the hub has no root for this environment, and no
Application that would name a cluster it does not know (their sync and health would be Unknown, argo-cd v3.4.4
\`controller/appcontroller.go:1784-1789\`).{{#unless manual}} Once the root exists, its first sync waits at its first wave until the
hub reaches this API server; an hour later (\`controller.sync.timeout.seconds\`) it is terminated, and Argo CD retries neither a
terminated sync (\`appcontroller.go:1460-1465, 1538\`) nor, automatically, a commit whose sync failed (\`:2251-2262\`): if the
network or certificate (step 3) took longer than that, the root waits for the next commit, or for the sync that *Check on the hub*
(below) starts.{{/unless}}

### 1. Bootstrap the cluster

On a fresh cluster ({{clusterReady}}, kubeconfig at hand), with \`helm\`, \`kubectl\` and the AWS CLI v2 (credentials of
account {{code account}}, where the hub's parameters live):

\`\`\`sh
sh {{script}}
\`\`\`

It installs, with helm and the same chart versions, release names and values files as the hub's Applications, so the
hub's first sync adopts these releases instead of fighting them:
{{#each steps}}- **{{name}}** {{code version}} into {{code namespace}} (Application {{code app}})
{{/each}}

then applies \`{{access}}\`: the ServiceAccount {{code serviceAccount}}, the identity the hub's Argo CD signs in as. It is
not bound to \`cluster-admin\` but to what this environment's AppProjects allow: the ClusterRole {{code clusterRole}} reads
every kind (Argo CD's cluster cache lists and watches every kind the API serves, and a forbidden list fails the whole
cache: argo-cd v3.4.4 \`gitops-engine/pkg/cache/cluster.go:1094-1110\`) and writes only the cluster-scoped kinds of the
projects ({{clusterKinds}}){{#if rbac}}, with \`bind\` and \`escalate\` on roles, which the charts' own RBAC needs (an
identity that writes RBAC can grant itself more: the AppProjects stay the boundary){{/if}}; every namespaced kind only in
the projects' destination namespaces ({{namespaces}}: a RoleBinding each to {{code namespacedRole}}; the file creates
those namespaces, with the Pod Security level the Application sets).

### 2. Register the cluster with the hub

The script then writes the fields of the hub's Argo CD cluster Secret as SSM parameters (account {{code account}}, region
{{code region}}); the hub's ExternalSecret \`cluster-{{env}}\` (\`{{hubDir}}/{{clusterSecretFile}}\`) turns them into the Secret
\`cluster-{{env}}\` labelled \`argocd.argoproj.io/secret-type: cluster\`:

| SSM parameter | Type | Value |
|---|---|---|
| {{code configParameter}} | SecureString | the cluster Secret's \`config\` (Argo CD declarative setup), below: the one parameter the hub reads |

The Secret's \`name\` ({{code cluster}}, what the Applications' \`destination.name\` refers to) and \`server\` ({{code endpoint}})
are pinned by the hub from this environment's file. A registration made before that also wrote {{code nameParameter}} and
{{code serverParameter}}: nothing reads them; *Leave the hub* deletes them with the config.

\`\`\`json
{
  "bearerToken": "<the token of {{serviceAccount}}, decoded>",
  "tlsClientConfig": { "insecure": false, "caData": "<the cluster CA: base64 of its PEM, as the token Secret's ca.crt holds it>" },
  "expiresAt": "<the token's expiry as the API server granted it, UTC, e.g. 2027-03-07T03:00:00Z: the hub checks it>"
}
\`\`\`

Bearer token and CA, because \`awsAuthConfig\` (\`argocd-k8s-auth aws\`) issues EKS tokens, which a {{product}} API server
does not accept. The token is short-lived, not a legacy token Secret: \`{{register}}\` (run by the bootstrap) mints it with
\`kubectl create token\` (TokenRequest), asking for {{days}} days, and writes the parameter. The API server may grant less
(its \`--service-account-max-token-expiration\` caps the lifetime): the script prints the expiry it granted and by when to run
it again ({{warnDays}} days before that expiry, when the hub starts warning), and refuses a token granted for {{warnDays}} days or
less (the hub would not take it). **Rotate it** by running that script again by then, with this cluster's kubeconfig and the
same AWS credentials (a token that expires disconnects the hub from this cluster: its Applications show the cluster as
failed); refresh the ExternalSecret as below.
Nothing runs the rotation for you: it needs write access to the hub's account, which nothing in this cluster has. To unregister, follow *Leave the hub* below.

**What to watch on the hub:** the script stores the token's expiry (as the API server granted it) as \`expiresAt\` in the
config; {{warnDays}} days before it, the hub's ExternalSecret \`cluster-{{env}}\` turns not Ready (reason \`SecretSyncedError\`,
message "the hub's token for {{env}} expires within {{warnDays}} days … run \`{{register}}\`"), which Argo CD shows as Degraded on the
hub's root; the cluster Secret is kept as it is meanwhile, and the token works until it expires. No Prometheus alert is
rendered for it: alert on the hub's root or that ExternalSecret's health (\`kubectl -n {{ns}} get externalsecret cluster-{{env}}\`).

### 3. Network

The hub's Argo CD (application controller, server and ApplicationSet controller) connects from the hub's nodes to
{{code endpoint}}.
{{#if apiLoadBalancer}}
That name is this cluster's API load balancer (README, *AWS layer*): its security group admits TCP {{port}} from this
VPC ({{code vpcCidr}}){{#if hubCidr}} and, on that port only, from the hub's VPC ({{code hubCidr}}, the hub's \`aws.vpc.cidr\`){{/if}};
the control planes' security group admits the API port from the load balancer's group, so nothing is opened on the
control planes for the hub.
{{#if hubCidr}}
Not created by the AWS layer: the route between the two VPCs (peering or a transit gateway, routes both ways) and the
hub's resolution of {{code host}} (associate this cluster's private hosted zone with the hub's VPC).
{{else}}
The hub runs in this VPC, which the load balancer admits and where {{code host}} resolves.
{{/if}}
{{else}}
That is an address, not a name: the AWS layer creates no API load balancer and admits the hub nowhere. Allow TCP
{{port}} from the hub's nodes in the control planes' security group yourself, and route the hub's VPC to this one
(peering or a transit gateway) unless they are the same.
{{/if}}
The API server certificate must be valid for that name (\`caData\` is checked against it; \`insecure\` stays false).

### 4. Check on the hub

With the hub's kubeconfig and the \`argocd\` CLI signed in to the hub's Argo CD (the hub must have synced the commit that lists
\`{{env}}\` in \`argocd.manages\`):

\`\`\`sh
sh {{check}}
\`\`\`

It stops at the first thing missing and names the command to run next (exit 1); every wait in it is bounded:
1. the hub's ExternalSecret \`cluster-{{env}}\`, refreshed now, Ready within {{secretSeconds}} seconds (else the cluster is not
   registered: step 2, or \`kubectl -n {{ns}} describe externalsecret cluster-{{env}}\` says why);
2. the root \`{{env}}-root\`, the name the ApplicationSet \`fleet\`'s template gives it, within {{rootSeconds}} seconds (it exists once
   the cluster Secret does; else the ApplicationSet's conditions say whether it read \`{{dir}}/fleet.yaml\`);
3. {{#if manual}}the root's sync and health, read once: syncs are manual here (\`argocd.automated: false\`), so an OutOfSync root is
   reported with its sync, then the earliest wave whose Applications are not Synced and Healthy with the commands that sync
   it first; the syncs below run every wave in order, then run the check again:

\`\`\`sh
argocd app sync {{env}}-root --timeout {{waitTimeout}}
{{#each waves}}
# wave {{wave}}
argocd app sync {{apps}} --timeout {{../waitTimeout}}
argocd app wait {{apps}} --health --timeout {{../waitTimeout}}
{{/each}}
\`\`\`
{{else}}the root Synced and Healthy within {{waitMinutes}} minutes. A root whose last sync Failed is synced again first: if the
   hub could not reach this cluster for an hour after the root appeared, that first sync was terminated and nothing retries it.
   A wave held by an Application that is not Synced (nothing syncs it automatically while, say, a freeze window denies it): it
   names that Application, to sync first. Not Synced: it names \`argocd app diff\` and \`argocd app sync\`; Synced but not
   Healthy: the Applications to ask
   (\`argocd app get NAME\`). The root syncs every Application, wave by wave (if the hub itself syncs manually,
   \`argocd app sync {{env}}-root\` first); a later wave starts once the earlier wave's Applications are Healthy, which the
   hub's \`argocd-cm\` defines (\`resource.customizations.health.argoproj.io_Application\`: an Application has no health of its
   own since Argo CD 1.8, and a wave of objects without health is not waited for).
{{/if}}

\`argocd cluster get {{endpoint}}\` shows the connection state (\`Successful\` once the hub's controller reached the API server with the
token; \`Unknown\` until an Application deploys there).

The hub's alert \`{{fleetAlert}}\` (environment \`{{env}}\`; rendered where the hub runs kube-prometheus-stack) points here:
\`{{env}}-root\` has not been Synced and Healthy for {{fleetWindow}}. \`argocd app get {{env}}-root\` says which; with the hub's
\`argocd.rollingSync\`, an OutOfSync root may only be waiting for an earlier stage's environment, which fires too.

### 5. Leave the hub

The hub's README, *Decommission a managed environment*, explains each step; \`{{decommission}}\` runs them, each mode
refusing to start before the step ahead of it is done:

{{#each leave}}
{{n}}. {{capitalized}}{{#if runs.length}}:{{else}}.{{/if}}
{{#each runs}}
   - {{code command}}: {{does}}.
{{/each}}
{{/each}}

\`delete\` deletes what these Applications deployed: {{deleted}}; and leaves running what these deployed (rendered without
the resources finalizer): {{kept}}.
`);

const kindName = (gk: string): string => (gk.startsWith('/') ? gk.slice(1) : gk);

/** The projects' contents, as the AppProjects list them. */
function projectRows(m: EnvironmentModel, specs: readonly AppSpec[]) {
  const list = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(', ') || '—';
  return projectScopes(argoContext(m), specs).map((p) => ({ name: p.name, description: p.description, apps: p.apps.join(', '), namespaces: list(p.namespaces), kinds: list(p.clusterResources.map(kindName)) }));
}

/** Application names per sync wave, lowest first. */
const waves = (specs: readonly AppSpec[]): { wave: number; apps: string }[] => namesByWave(specs).map((w) => ({ wave: w.wave, apps: w.names.join(' ') }));

/** The runbooks' bounds on the CLI's waits (./cli.ts). */
const cliBounds = {
  waitTimeout: ARGOCD_CLI.waitTimeoutSeconds,
  waitMinutes: ARGOCD_CLI.waitTimeoutSeconds / 60,
  refreshTimeout: ARGOCD_CLI.refreshTimeoutSeconds,
  refreshMinutes: ARGOCD_CLI.refreshTimeoutSeconds / 60,
};

export function argoCdSections(m: EnvironmentModel, ctx: ReadmeContext = readmeContext(m)): ReadmeSection[] {
  const addons = resolveAddons(m);
  const specs = allAppSpecs(m);
  const argo = addons.find((a) => a.name === 'argo-cd');
  const sections: ReadmeSection[] = [
    {
      order: 40,
      title: 'Argo CD applications',
      // Workloads appear by name and namespace only, so a workload's other settings leave this file alone.
      inputs: [['addons'], ['argocd'], ['cluster'], ['nodePools'], ...m.workloads.flatMap((w) => [['workloads', { name: w.name }, 'namespace'] as InputPath])],
      body: table({
        adopted: specs.filter((s) => s.adoptsHelmRelease).map((s) => s.name).join(', '),
        sync: m.sync.automated ? `automatically (prune: ${m.sync.prune}, self-heal: ${m.sync.selfHeal})` : 'manually (no automated sync)',
        syncAlert: syncAlerts(m) ? { path: `${m.renderedDir}/${SYNC_ALERTS_PATH}`, name: SYNC_ALERT, window: SYNC_ALERT_WINDOW, metrics: `${m.renderedDir}/${ARGOCD_METRICS_PATH}`, runbook: SYNC_RUNBOOK, absent: METRICS_ABSENT_ALERT, absentWindow: ABSENT_WINDOW, syncError: SYNC_ERROR_ALERT, syncErrorWindow: SYNC_ERROR_WINDOW, syncErrorFlag: `${ARGOCD_APP_CONDITION.flag}=${SYNC_ERROR_CONDITION}` } : undefined,
        // In the order Argo CD applies them: by wave, then by name.
        apps: [...specs].sort((a, b) => a.syncWave - b.syncWave || a.name.localeCompare(b.name)).map((s) => ({
          name: applicationName(argoContext(m), s.name),
          chart: s.chart ? `${s.chart.name} (${s.chart.repoURL})` : 'manifests',
          version: s.chart ? s.chart.version : '—',
          namespace: s.namespace,
          wave: s.syncWave,
        })),
      }),
    },
  ];
  if (argo)
    sections.push({
      order: 41,
      title: 'Bootstrap Argo CD',
      inputs: [['addons'], ['argocd'], ['cluster', 'network', 'cni'], ...m.workloads.flatMap((w) => [['workloads', { name: w.name }, 'namespace'] as InputPath])],
      body: runbook({
        clusterReady: ctx.distribution.clusterReady,
        script: `${m.renderedDir}/${BOOTSTRAP_PATH}`,
        steps: bootstrapUnits(deliveryPlan(m)).map((u) => ({ name: u.name, version: u.chart.source.version, namespace: u.namespace })),
        argocd: `${m.renderedDir}/argocd`,
        projects: projectRows(m, specs),
        manual: !m.sync.automated,
        label: ENVIRONMENT_LABEL,
        env: m.name,
        waves: waves(specs),
        ns: argoContext(m).argoNamespace,
        ...cliBounds,
        ...manualRootExclusions(m, specs),
      }),
    });
  if (m.fleet.hub)
    sections.push({ order: 41, title: `Bootstrap and join the hub \`${m.fleet.hub.name}\``, inputs: [['addons'], ['argocd'], ['cluster'], ['git'], ['name'], ...m.workloads.flatMap((w) => [['workloads', { name: w.name }, 'namespace'] as InputPath])], body: managedSection(m, m.fleet.hub, specs, ctx) });
  if (registered(m).length > 0) {
    sections.push({ order: 42, title: 'Hub mode', inputs: [['argocd'], ['addons', 'argo-cd'], ['aws'], ['cluster'], ['name']], body: hubSection(m) });
    sections.push({ order: 43, title: 'Decommission a managed environment', inputs: [['argocd'], ['addons', 'argo-cd'], ['name']], body: decommissionSection(m) });
  }
  return sections;
}

/**
 * With manual syncs, what the root's first sync leaves out: the API groups of its own custom resources whose CRDs an
 * Application brings (./waves.ts rootObjectNeeds) — the monitoring objects (./sync-alerts.ts, ./fleet-alerts.ts) and a
 * hub's cluster ExternalSecrets (./hub.ts clusterSecret). `--resource '!GROUP:*:*'`, repeatable, every exclusion
 * applying (argo-cd v3.4.4 cmd/argocd/commands/app.go:1965-2009 parseSelectedResources, util/argo/argo.go:969-1004
 * IncludeResource), expanded over the root's status.resources (app.go:2639-2655), refused when it matches nothing
 * (:2348-2353); `app get --refresh` returns once the controller refreshed the root (server/application/application.go:798-883).
 */
function manualRootExclusions(m: EnvironmentModel, specs: readonly AppSpec[]): { excluded?: { group: string; app: string; wave?: number }[]; objects?: string } {
  const wave = (name: string) => specs.find((s) => s.name === name)?.syncWave;
  const monitoring = syncAlerts(m) || fleetAlerts(m);
  const hub = registered(m).length > 0;
  const excluded = [...(monitoring ? [{ group: MONITORING_GROUP, app: 'kube-prometheus-stack', wave: wave('kube-prometheus-stack') }] : []), ...(hub ? [{ group: CLUSTER_SECRET_GROUP, app: 'external-secrets', wave: wave('external-secrets') }] : [])];
  if (excluded.length === 0) return {};
  const names = [...(monitoring ? (fleetAlerts(m) ? ['ServiceMonitor', 'PodMonitor', 'PrometheusRules'] : ['ServiceMonitor', 'PrometheusRule']) : []), ...(hub ? ['cluster ExternalSecrets'] : [])];
  const objects = `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
  return { excluded, objects };
}

/** A managed environment's runbook: its own bootstrap, registration with the hub, network, checks. */
function managedSection(m: EnvironmentModel, hub: NonNullable<EnvironmentModel['fleet']['hub']>, specs: readonly AppSpec[], readme: ReadmeContext): string {
  const ctx = argoContext(m);
  const p = clusterSecretParameters(hub.name, m.name);
  const access = hubAccessScope(ctx, specs);
  return managedRunbook({
    hub: hub.name,
    ns: ctx.argoNamespace,
    dir: m.renderedDir,
    hubDir: siblingDir(m, hub.name),
    clusterSecretFile: clusterSecretPath(m.name),
    repo: m.git.repoURL,
    revision: m.git.targetRevision,
    env: m.name,
    cluster: m.cluster.name,
    endpoint: m.cluster.endpoint,
    host: m.cluster.endpointHost,
    port: m.cluster.endpointPort,
    // What the AWS layer opens for the hub (infra/aws/stacks.ts securityGroups): the API load balancer's
    // group admits the hub's VPC on the API port; no load balancer (an address endpoint): nothing.
    apiLoadBalancer: apiLoadBalancerOf(m),
    vpcCidr: m.aws.vpc.cidr,
    hubCidr: hubApiCidr(m) ?? '',
    clusterReady: readme.distribution.clusterReady,
    product: readme.distribution.title,
    account: hub.accountId,
    region: hub.region,
    script: `${m.renderedDir}/${BOOTSTRAP_PATH}`,
    access: `${m.renderedDir}/${HUB_ACCESS_PATH}`,
    serviceAccount: `${HUB_ACCESS.namespace}/${HUB_ACCESS.serviceAccount}`,
    clusterRole: HUB_ACCESS.clusterRole,
    namespacedRole: HUB_ACCESS.namespacedRole,
    clusterKinds: access.clusterResources.map((k) => `\`${kindName(k)}\``).join(', ') || 'none',
    rbac: access.clusterResources.some((k) => k.startsWith('rbac.authorization.k8s.io/')),
    namespaces: access.namespaces.map((n) => `\`${n.name}\``).join(', '),
    register: `${m.renderedDir}/${HUB_REGISTER_PATH}`,
    days: HUB_TOKEN_DAYS,
    warnDays: HUB_TOKEN_WARNING_DAYS,
    steps: bootstrapUnits(deliveryPlan(m)).map((u) => ({ name: u.name, version: u.chart.source.version, namespace: u.namespace, app: applicationName(ctx, u.name) })),
    nameParameter: p.name,
    serverParameter: p.server,
    configParameter: p.config,
    manual: !m.sync.automated,
    ...cliBounds,
    ...HUB_CHECK_BOUNDS,
    check: `${m.renderedDir}/${HUB_CHECK_PATH}`,
    waves: waves(specs).map((w) => ({ wave: w.wave, apps: w.apps.split(' ').map((a) => applicationName(ctx, a)).join(' ') })),
    label: ENVIRONMENT_LABEL,
    fleetAlert: FLEET_ALERT,
    fleetWindow: FLEET_ALERT_WINDOW,
    registeredSource: ROOT_WHEN_REGISTERED.source.replace('argoproj/argo-cd v3.4.4 ', 'argo-cd v3.4.4 '),
    decommission: `${m.renderedDir}/${DECOMMISSION_PATH}`,
    leave: leaveSteps({ env: m.name, cluster: m.cluster.name, self: `${m.renderedDir}/${DECOMMISSION_PATH}`, hubFile: hubFileOf(hub.name), clusterSecret: clusterSecretName(m.name) }).map((s, i) => ({
      ...s,
      n: i + 1,
      capitalized: s.what.charAt(0).toUpperCase() + s.what.slice(1),
    })),
    deleted: decommissionKinds(m).deleted.map((a) => `\`${a}\``).join(', ') || 'none',
    kept: decommissionKinds(m).kept.map((a) => `\`${a}\``).join(', ') || 'none',
  });
}

/** The hub's ApplicationSet and cluster Secrets. */
function hubSection(m: EnvironmentModel): string {
  const rows = registered(m).map((env) => {
    const p = clusterSecretParameters(m.name, env);
    return `| ${env} | \`${clusterSecretPath(env)}\` | \`${p.config}\` |`;
  });
  return [
    `This Argo CD manages ${m.fleet.manages.map((e) => `\`${e}\``).join(', ') || 'no environment'}${m.fleet.decommission.length > 0 ? ` (and is letting go of ${m.fleet.decommission.map((e) => `\`${e}\``).join(', ')})` : ''}: \`${m.renderedDir}/${APPLICATION_SET_PATH}\` creates each one's root`,
    "Application from its `rendered/<env>/fleet.yaml` once this hub has its cluster Secret (a matrix with a cluster generator: no root,",
    "and so no Application naming an unknown cluster, before the environment's bootstrap registered it), in the AppProject `fleet` (never templated): this repository, the namespace",
    `\`${argoContext(m).argoNamespace}\` of this cluster, the kinds Application and AppProject only (no cluster-scoped kind), so a managed environment's`,
    'tree can write nothing else through its root. The ApplicationSet only creates and updates Applications: removing an',
    'environment from `argocd.manages` leaves its root in place and syncing (see *Decommission a managed environment*). Deleting',
    "the ApplicationSet may leave the roots or not (Kubernetes' garbage collector follows their ownerReferences unless the",
    'controller removes them first); their Applications stay and keep syncing either way.',
    ...(m.fleet.rollingSync
      ? [
          '',
          `The roots roll in stages (\`argocd.rollingSync\`: RollingSync, \`applicationsetcontroller.enable.progressive.syncs\`): ${rollingStages(m)}; the`,
          'ApplicationSet controller syncs them (they have no automated sync), a stage once the previous one is Healthy and Synced. It gates',
          'changes to the Applications (chart versions, sources); values files and manifests reach every environment at once.',
        ]
      : []),
    ...(fleetAlerts(m)
      ? [
          '',
          `Alert: \`${m.renderedDir}/${FLEET_ALERTS_PATH}\` fires \`${FLEET_ALERT}\` when a root is not Synced and Healthy for ${FLEET_ALERT_WINDOW}, labelled with its`,
          "environment (a stalled RollingSync stage fires with the environments waiting behind it); the runbook is that environment's README,",
          '*Check on the hub*. It reads `argocd_app_info`, which the controller serves here (`controller.metrics.enabled`) and the',
          `ServiceMonitor \`${m.renderedDir}/${ARGOCD_METRICS_PATH}\` has Prometheus scrape. \`${FLEET_TOKEN_ALERT}\` fires when a cluster ExternalSecret has`,
          `not been Ready for ${FLEET_TOKEN_ALERT_WINDOW}: the managed environment's token expires within ${HUB_TOKEN_WARNING_DAYS} days (below), or its SSM parameter cannot`,
          `be read. It reads External Secrets' \`externalsecret_status_condition\`, which the PodMonitor \`${m.renderedDir}/${FLEET_SECRET_METRICS_PATH}\``,
          'has Prometheus scrape from its controller.',
          `\`${FLEET_SYNC_ERROR_ALERT}\` fires after ${SYNC_ERROR_WINDOW} for a managed environment's Application or root with the \`${SYNC_ERROR_CONDITION}\` condition (its`,
          `last sync ended Failed and automated sync does not retry it), labelled with its environment: \`${ARGOCD_APP_CONDITION.name}\`, as for this hub's own.`,
        ]
      : []),
    '',
    '| Managed environment | Cluster Secret (ExternalSecret) | SSM parameters it reads (config: SecureString; name and server are pinned from the managed file) |',
    '|---|---|---|',
    ...rows,
    '',
    `IAM: the ExternalSecrets read through the ClusterSecretStore \`${CLUSTER_REGISTRY_STORE}\`, which admits only Argo CD's namespace and reads with the`,
    `role \`${storeRoleName(m, CLUSTER_REGISTRY_STORE)}\` (the AWS layer creates it): \`ssm:GetParameter\` on`,
    `\`arn:aws:ssm:${m.aws.region}:${m.aws.accountId}:parameter/odp/${m.name}/argocd/clusters/*\` only (add \`kms:Decrypt\` on the key of the`,
    `config SecureStrings if it is not the default aws/ssm key). Each config holds a bearer token (TokenRequest, ${HUB_TOKEN_DAYS} days asked, the API server may grant less) of a ServiceAccount bound to what the`,
    "managed environment's AppProjects allow, not cluster-admin (its README, *Bootstrap and join the hub*), and its CA;",
    `${HUB_TOKEN_WARNING_DAYS} days before a token expires (\`expiresAt\` in its config) its ExternalSecret turns not Ready, naming the managed environment's \`register.sh\`;`,
    "the managed environment's bootstrap script writes it (its README, *Bootstrap and join the hub*). The hub's nodes must reach",
    "each managed API server: a managed environment's AWS layer admits this hub's VPC on its API load balancer's port (an endpoint",
    'given as an address has no load balancer: its README says what to open); the routing between the VPCs is not created.',
  ].join('\n');
}

/** How a hub lets a managed environment go: two commits with the environment's decommission script between them. */
function decommissionSection(m: EnvironmentModel): string {
  const ns = argoContext(m).argoNamespace;
  const rows = registered(m).map((env) => `| \`${env}\`${m.fleet.decommission.includes(env) ? ' (in `argocd.decommission`)' : ''} | \`sh ${decommissionScript(m, env)} keep\` | \`sh ${decommissionScript(m, env)} delete\` |`);
  return [
    "An environment leaves this hub in two commits with its script in between, never by removing it from `argocd.manages`",
    "alone. The ApplicationSet's policy is `create-update`: it never deletes a root, neither when an environment stops being",
    'generated nor when the ApplicationSet itself is deleted (argo-cd v3.4.4',
    '`applicationset/controllers/applicationset_controller.go:153-163, 355-357`). The root `<env>-root` would stay, syncing',
    'automatically, re-creating every Application deleted under it; and the environment, no longer managed, renders an Argo CD',
    `of its own, whose root and Applications that orphaned root would then sync into \`${ns}\` here.`,
    '',
    "1. Move the environment from `argocd.manages` to `argocd.decommission` in this environment's file; synth, merge, and let",
    `   this hub sync. The ApplicationSet stops generating \`<env>-root\`, so it no longer restores it (a generated`,
    "   Application follows the template); the hub keeps the cluster Secret `cluster-<env>`, which a cascading deletion needs",
    '   (without it Argo CD drops the finalizers and deletes nothing).',
    "2. With this hub's kubeconfig, run the environment's script with the mode chosen explicitly. It turns the root's",
    '   automated sync off, deletes the Applications highest sync wave first (each gone before the next), checks that none',
    '   of the environment is left, deletes its AppProjects, then the root; it stops at the first failure (`set -eu`).',
    "   - `keep`: every Application loses its finalizer first: everything deployed on the cluster stays, unmanaged.",
    '   - `delete`: Applications rendered with `resources-finalizer.argocd.argoproj.io` delete what they deployed',
    "     (foreground, highest wave first); those rendered without it (add-ons whose catalog `onDelete` is `orphan`: the",
    "     cluster's own infrastructure) are removed and leave it running. The managed environment's README lists which.",
    '3. Remove the environment from `argocd.decommission`; synth, merge. The hub prunes its ExternalSecret and cluster Secret.',
    "   Once it synced, from the repository's root: `MANAGED_KUBECONFIG=<the environment's kubeconfig> sh <script> forget`.",
    "   It refuses while Applications of the environment or the ExternalSecret or Secret `cluster-<env>` remain here, then",
    "   deletes the Secret's SSM parameters in this hub's account and, with that kubeconfig, the hub's identity there",
    '   (`argocd/bootstrap/hub-access.yaml`).',
    '',
    '| Environment | Let go, workloads kept | Delete what the hub deployed |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}

/** A managed environment's Applications by what its decommission script's `delete` mode does to their resources. */
export function decommissionKinds(m: EnvironmentModel): { deleted: string[]; kept: string[] } {
  const steps = decommissionOrder(argoContext(m), allAppSpecs(m));
  return { deleted: steps.filter((s) => s.cascades).map((s) => s.app), kept: steps.filter((s) => !s.cascades).map((s) => s.app) };
}

/** The RollingSync stages, in order, as text. */
function rollingStages(m: EnvironmentModel): string {
  const steps = (rollingSync(m).rollingSync as { steps: { matchExpressions: { values: string[] }[]; maxUpdate?: unknown }[] }).steps;
  return steps.map((st, i) => `stage ${i + 1}: ${st.matchExpressions[0]!.values.map((e) => `\`${e}\``).join(', ')}${st.maxUpdate !== undefined ? ` (${String(st.maxUpdate)} at a time)` : ''}`).join('; ');
}
