/** README sections of environments delivered by Flux: what Flux applies, bootstrap, pause, roll back. */
import { BOOTSTRAP_WAIT_NOTE } from '../../render/delivery/prelude.js';
import { compileTemplate } from '../../lib/templates.js';
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import { bootstrapUnits, deliveryPlan } from '../../plan/index.js';
import { readmeContext } from '../../render/readme/readme.js';
import type { ReadmeContext, ReadmeSection } from '../../render/readme/sections.js';
import { FLUX_BOOTSTRAP_PATH, gitCredentialParameters } from './bootstrap.js';
import { ALERTS_UNIT, FLUX_NAMESPACE, FLUX_SOURCE, FLUX_VERSION, fluxAlerts, gitRef, THIRD_PARTY_SA } from './objects.js';
import { alertmanagerUnit, fluxSteps, manifestFilesOf } from './render.js';
import { ABSENT_WINDOW } from '../../render/alerts.js';
import { METRICS_ABSENT_ALERT, SYNC_ALERT, SYNC_ALERT_WINDOW, SYNC_ALERTS_UNIT, SYNC_RUNBOOK, syncAlerts } from './sync-alerts.js';
import { engines, SYNC_POLICY_KEY } from '../registry.js';
import { AT_ONCE_MINUTES, KUSTOMIZATION_TIMEOUT, RELEASE_TIMEOUT, ROLLOUT_MINUTES, SECRET_SYNC_MINUTES } from './timeouts.js';

const table = compileTemplate(`Flux {{version}} (installed by the Flux Operator from \`flux/flux-instance.yaml\`) reconciles
{{code path}} from {{code ref}} of {{code repo}} {{sync}}. Each unit is one Flux Kustomization in
{{code namespace}} (\`flux/kustomizations/<name>.yaml\`) applying the overlay \`flux/units/<name>/\`: a chart
is a HelmRepository (or OCIRepository) and a HelmRelease pinned to the exact version, its values a ConfigMap
generated from \`values/<name>.yaml\` (the file the bootstrap's helm reads too; its hash suffix makes a values
change a HelmRelease change); extra manifests are a second Kustomization \`<name>-manifests\` that depends on
the chart's. \`dependsOn\` orders them: a Kustomization starts once those it depends on
are Ready (\`wait: true\`: every object it applied is healthy). Its timeout follows the kinds it applies, the longest:
{{kustomizationTimeout}} with a HelmRelease (the release's {{releaseTimeout}} and its chart's fetch), {{rolloutTimeout}} for a Deployment,
StatefulSet or DaemonSet (a Deployment's default progress deadline), {{secretTimeout}} for an ExternalSecret or secret store, {{atOnceTimeout}}
for objects healthy once they exist (Namespaces, RBAC, NetworkPolicies, ConfigMaps, Services, Flux Alerts and Providers,
PodMonitors, PrometheusRules, upgrade Plans, …: no condition says otherwise), {{kustomizationTimeout}} for a custom
resource the table does not know (its controller's Ready condition may take as long as a release). Namespaces are objects with their
Pod Security label, never pruned (\`kustomize.toolkit.fluxcd.io/prune: disabled\`).

Multitenancy lockdown (\`cluster.multitenant: true\`): no object refers to another namespace. Platform add-ons apply
as the Flux controllers; third-party charts' HelmReleases impersonate {{code thirdParty}} in their namespace (that
namespace and their declared cluster kinds only); workloads' Kustomizations impersonate \`tenant-<namespace>\` (their
namespace only).
{{#if alerts}}

Alerts: notification-controller sends every **error** event of the Kustomizations and HelmReleases in
{{code namespace}} (all Kustomizations and the platform add-ons' HelmReleases) to Alertmanager at
{{code alerts.address}}
(Provider {{code alerts.provider}}, Alert {{code alerts.alert}}, Kustomization {{code alerts.unit}}, which depends on nothing,
so it reports the first sync too). Each event arrives as a firing alert named \`Flux<Kind><Reason>\` with labels
\`kind\`, \`name\`, \`namespace\`, \`reason\`, \`severity\`, and no end time: it resolves after Alertmanager's
\`resolve_timeout\`. Under the lockdown an Alert sees only its own namespace: third-party charts' HelmReleases (in
their namespaces) and workloads' own Flux objects are not covered; \`flux get all -A\` shows them.
{{/if}}
{{#if syncAlert}}

Alert on a sync that does not end: \`{{syncAlert.name}}\` fires when a Kustomization or HelmRelease, in any namespace and
not suspended, has not been Ready for {{syncAlert.window}}: a release whose first install keeps failing (retried without
limit), a wait on a pool that has not joined, an upgrade whose retries are spent. It reads the Flux Operator's
\`flux_resource_info\` (refreshed every 5 minutes), which the PodMonitor \`flux-operator\` has Prometheus scrape; both are in
the Kustomization {{code syncAlert.unit}}, after kube-prometheus-stack. Its description says what to run
({{syncAlert.runbook}}). \`{{syncAlert.absent}}\` fires when Prometheus has had no \`flux_resource_info\` for
{{syncAlert.absentWindow}} (then no such alert can fire).
{{/if}}

| Kustomization | Chart | Version | Namespace | Depends on |
|---|---|---|---|---|
{{#each steps}}| {{name}} | {{chart}} | {{version}} | {{code namespace}} | {{deps}} |
{{/each}}

A change reaches the cluster when its pull request is merged: the GitRepository {{code source}} picks up the
new commit (every 5 minutes, or \`flux reconcile source git {{source}} -n {{namespace}}\`), the root Kustomization
applies \`flux/\`, and each Kustomization whose overlay or files changed applies them in dependency order.
{{#if manual}}

### Manual sync

Syncs are manual in this environment (\`{{syncKey}}.automated: false\`): every Kustomization is rendered with
\`suspend: true\`, so a merged change is applied only when an operator resumes the Kustomizations it touches,
in dependency order. \`flux resume\` reconciles and waits until Ready; the root sync sets \`suspend: true\` again
at its next run (within 5 minutes), so suspend it again right away:

\`\`\`sh
flux diff kustomization NAME -n {{namespace}} --path {{path}}/units/NAME   # review first
{{#each orderNames}}
flux resume kustomization {{.}} -n {{../namespace}} && flux suspend kustomization {{.}} -n {{../namespace}}
{{/each}}
\`\`\`
{{/if}}
`);

const runbook = compileTemplate(`On a fresh cluster ({{clusterReady}}, kubeconfig at hand), with \`helm\`, \`kubectl\` and the AWS CLI
(credentials that may read {{parameters}}):

\`\`\`sh
sh {{script}}
\`\`\`

It installs, with helm and the same chart versions and values files the HelmReleases use:
{{#each steps}}- **{{name}}** {{code version}} into {{code namespace}}
{{/each}}

${BOOTSTRAP_WAIT_NOTE}

then creates the Secret {{code secret}} in {{code namespace}} (the repository's credentials) from those SSM
parameters, and applies \`flux/flux-instance.yaml\`. The Flux Operator installs Flux, which syncs \`flux/\` and
takes over: the \`flux-operator\` HelmRelease adopts the operator's release (same release name and namespace),
and the ExternalSecret {{code secret}} keeps the credentials current once External Secrets runs. No \`flux
bootstrap\`: it would commit its own files, which \`npm run check\` reports as stale.

### Pause reconciliation

\`\`\`sh
kubectl -n {{namespace}} annotate fluxinstance flux fluxcd.controlplane.io/reconcile=disabled  # the operator stops re-applying the root sync
flux suspend kustomization --all -n {{namespace}}        # stop applying (the root {{code source}} too)
flux suspend helmrelease NAME -n NAMESPACE               # freeze one release (drift is not corrected)
flux resume kustomization --all -n {{namespace}}         # continue
kubectl -n {{namespace}} annotate fluxinstance flux fluxcd.controlplane.io/reconcile-
\`\`\`

### Roll back

Revert the change in Git (a pull request reverting the commit; rendered files are regenerated with
\`npm run synth\`): Flux applies the previous state like any change. A HelmRelease whose upgrade fails is rolled
back by helm-controller itself (\`upgrade.remediation.retries: 3\`, then the last successful release), except a chart
owning CRDs, which is never rolled back or uninstalled (\`strategy: RetryOnFailure\`: retried every 5 minutes until it
succeeds); \`flux get helmreleases -A\` shows it. A first install is retried without limit
(\`install.remediation.retries: -1\`), so a release waiting for a pool that joins late ends installed. To roll back before the revert is merged, suspend the Kustomization and the HelmRelease,
then \`helm rollback RELEASE REVISION -n NAMESPACE\`; resume after the revert is merged.
`);

export function fluxSections(m: EnvironmentModel, ctx: ReadmeContext = readmeContext(m)): ReadmeSection[] {
  const plan = deliveryPlan(m);
  const steps = fluxSteps(m, plan);
  const workloadInputs = m.workloads.flatMap((w) => [['workloads', { name: w.name }, 'namespace'] as InputPath]);
  const inputs: InputPath[] = [['addons'], [SYNC_POLICY_KEY], ['cluster'], ['git'], ['gitops'], ['nodePools'], ...workloadInputs];
  const sections: ReadmeSection[] = [
    {
      order: 40,
      title: 'Flux delivery',
      inputs,
      body: table({
        version: FLUX_VERSION,
        path: `${m.renderedDir}/flux`,
        ref: gitRef(m.git.targetRevision),
        repo: m.git.repoURL,
        syncKey: SYNC_POLICY_KEY,
        // Data, not substitutions: the build precompiles a template whose substitutions name only literal constants.
        kustomizationTimeout: KUSTOMIZATION_TIMEOUT,
        releaseTimeout: RELEASE_TIMEOUT,
        rolloutTimeout: `${ROLLOUT_MINUTES}m`,
        secretTimeout: `${SECRET_SYNC_MINUTES}m`,
        atOnceTimeout: `${AT_ONCE_MINUTES}m`,
        sync: m.sync.automated ? `(prune: ${m.sync.prune}, drift correction: ${m.sync.selfHeal ? 'on' : 'warn only'})` : 'but applies nothing until an operator resumes a Kustomization (manual sync)',
        namespace: FLUX_NAMESPACE,
        source: FLUX_SOURCE,
        thirdParty: THIRD_PARTY_SA,
        steps: steps.map((s) => ({
          name: s.name,
          chart: s.unit?.chart && s.part === 'main' ? `${s.unit.chart.source.name} (${s.unit.chart.source.repoURL})` : 'manifests',
          version: s.unit?.chart && s.part === 'main' ? s.unit.chart.source.version : '—',
          namespace: s.unit?.namespace ?? FLUX_NAMESPACE,
          deps: s.dependsOn.join(', ') || '—',
        })),
        alerts: alertsReadme(m, plan),
        manual: !m.sync.automated,
        syncAlert: alertmanagerUnit(plan) && syncAlerts(m) ? { name: SYNC_ALERT, window: SYNC_ALERT_WINDOW, unit: SYNC_ALERTS_UNIT, runbook: SYNC_RUNBOOK, absent: METRICS_ABSENT_ALERT, absentWindow: ABSENT_WINDOW } : undefined,
        orderNames: [...(alertmanagerUnit(plan) ? [ALERTS_UNIT] : []), ...steps.map((s) => s.name), ...(alertmanagerUnit(plan) && syncAlerts(m) ? [SYNC_ALERTS_UNIT] : [])],
      }),
    },
  ];
  if (plan.some((u) => u.name === 'flux-operator')) {
    const params = gitCredentialParameters(m);
    sections.push({
      order: 41,
      title: 'Bootstrap Flux',
      inputs,
      body: runbook({
        clusterReady: ctx.distribution.clusterReady,
        script: `${m.renderedDir}/${FLUX_BOOTSTRAP_PATH}`,
        parameters: params.map((p) => `\`${p.parameter}\``).join(', ') || 'nothing',
        steps: bootstrapUnits(plan).map((u) => ({ name: u.name, version: u.chart.source.version, namespace: u.namespace })),
        secret: 'flux-system',
        namespace: FLUX_NAMESPACE,
        source: FLUX_SOURCE,
      }),
    });
  }
  return sections;
}

/** What the README says about the flux-alerts unit (render.ts), or undefined without Alertmanager. */
function alertsReadme(m: EnvironmentModel, plan: ReturnType<typeof deliveryPlan>): { address: string; provider: string; alert: string; unit: string } | undefined {
  const am = alertmanagerUnit(plan);
  if (!am) return undefined;
  const [provider, alert] = fluxAlerts(m, { release: am.chart!.releaseName, namespace: am.namespace });
  return { address: String((provider!.spec as Record<string, unknown>).address), provider: provider!.metadata.name, alert: alert!.metadata.name, unit: ALERTS_UNIT };
}
