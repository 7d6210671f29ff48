/** README sections of the Argo CD area: the add-ons table and the bootstrap runbook. */
import { resolveAddons } from '../../catalog/resolve.js';
import { compileTemplate } from '../../lib/templates.js';
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import { BOOTSTRAP_PATH } from '../argocd/bootstrap.js';
import { bootstrapUnits, deliveryPlan } from '../../plan/index.js';
import { ENVIRONMENT_LABEL, projectScopes } from '../argocd/objects.js';
import { argoContext } from '../argocd/render.js';
import { APPLICATION_SET_PATH, clusterSecretParameters, clusterSecretPath } from '../argocd/hub.js';
import { allAppSpecs } from '../argocd/sources.js';
import type { AppSpec } from '../argocd/spec.js';
import type { ReadmeSection } from './sections.js';

const table = compileTemplate(`Argo CD syncs {{sync}}. Applications are applied in sync waves (lower first): network and cloud
controller, then Argo CD{{#if csrApprover}} and the CSR approver{{/if}}, then operators with CRDs (cert-manager, External Secrets,
EBS CSI), then their consumers.

| Application | Chart | Version | Namespace | Wave |
|---|---|---|---|---|
{{#each apps}}| {{name}} | {{chart}} | {{version}} | {{code namespace}} | {{wave}} |
{{/each}}`);

const runbook = compileTemplate(`On a fresh cluster ({{#if talos}}Talos bootstrapped{{else}}{{product}} servers up{{/if}}, kubeconfig at hand), with \`helm\` and \`kubectl\`:

\`\`\`sh
sh {{script}}
\`\`\`

It installs, with helm and the same chart versions and values files the Applications use:
{{#each steps}}- **{{name}}** {{code version}} into {{code namespace}}
{{/each}}

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
no sync-wave annotation here: the root would wait for each wave to become Healthy, which a manual
Application never does until it is synced. So sync the root (it creates or updates every Application and
AppProject), then each wave in order, waiting for it to be Healthy before the next
(\`argocd app sync\` waits for the sync operation only):

\`\`\`sh
argocd app sync root
{{#each waves}}
# wave {{wave}}
argocd app sync {{apps}}
argocd app wait {{apps}} --health --timeout 900
{{/each}}
\`\`\`

Run \`argocd app diff NAME\` first to review a change. Later changes need only the Applications whose
files changed (\`argocd app list -l {{label}}={{env}}\` shows which are OutOfSync), still in wave order.
{{/if}}
`);

const kindName = (gk: string): string => (gk.startsWith('/') ? gk.slice(1) : gk);

/** The projects' contents, as the AppProjects list them. */
function projectRows(m: EnvironmentModel, specs: readonly AppSpec[]) {
  const list = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(', ') || '—';
  return projectScopes(argoContext(m), specs).map((p) => ({ name: p.name, description: p.description, apps: p.apps.join(', '), namespaces: list(p.namespaces), kinds: list(p.clusterResources.map(kindName)) }));
}

/** Application names per sync wave, lowest first. */
function waves(specs: readonly AppSpec[]): { wave: number; apps: string }[] {
  const by = new Map<number, string[]>();
  for (const s of specs) by.set(s.syncWave, [...(by.get(s.syncWave) ?? []), s.name]);
  return [...by.entries()].sort(([a], [b]) => a - b).map(([wave, apps]) => ({ wave, apps: apps.sort().join(' ') }));
}

export function argoCdSections(m: EnvironmentModel): ReadmeSection[] {
  if (m.gitops !== 'argocd') return [];
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
        csrApprover: specs.some((s) => s.name === 'kubelet-csr-approver'),
        sync: m.argocd.automated ? `automatically (prune: ${m.argocd.prune}, self-heal: ${m.argocd.selfHeal})` : 'manually (no automated sync)',
        apps: specs.map((s) => ({
          name: s.name,
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
        talos: m.cluster.distribution === 'talos',
        product: m.cluster.distribution === 'rke2' ? 'RKE2' : 'K3s',
        script: `${m.renderedDir}/${BOOTSTRAP_PATH}`,
        steps: bootstrapUnits(deliveryPlan(m)).map((u) => ({ name: u.name, version: u.chart.source.version, namespace: u.namespace })),
        argocd: `${m.renderedDir}/argocd`,
        projects: projectRows(m, specs),
        manual: !m.argocd.automated,
        label: ENVIRONMENT_LABEL,
        env: m.name,
        waves: waves(specs),
      }),
    });
  if (m.argocd.manages.length > 0 || m.argocd.hub) sections.push({ order: 42, title: 'Hub mode', inputs: [['argocd'], ['addons', 'argo-cd'], ['aws'], ['cluster'], ['name']], body: hubSection(m) });
  return sections;
}

/** The hub's ApplicationSet and cluster Secrets, or, in a managed environment, who manages it. */
function hubSection(m: EnvironmentModel): string {
  const ns = argoContext(m).argoNamespace;
  if (m.argocd.hub) {
    const p = clusterSecretParameters(m.argocd.hub.name, m.name);
    return [
      `The Argo CD of \`${m.argocd.hub.name}\` (namespace \`${ns}\`) manages this cluster; no Argo CD runs here and there is no`,
      `bootstrap script. Its ApplicationSet reads \`${m.renderedDir}/fleet.yaml\` and creates the root Application`,
      `\`${m.name}-root\`, which syncs the Applications (\`${m.name}-<add-on>\`) and AppProjects (\`${m.name}-<project>\`) into the`,
      `hub's \`${ns}\` namespace; they deploy to this cluster by name (\`destination.name: ${m.cluster.name}\`).`,
      '',
      `The hub reaches this cluster through the Argo CD cluster Secret its ExternalSecret \`cluster-${m.name}\` builds from the SSM`,
      `SecureStrings \`${p.name}\` (\`${m.cluster.name}\`), \`${p.server}\` (\`${m.cluster.endpoint}\`) and \`${p.config}\``,
      "(Argo CD's cluster config JSON: a bearer token of a ServiceAccount bound to cluster-admin here, and the cluster CA).",
      `The hub's nodes must reach \`${m.cluster.endpoint}\` (security groups and routing from the hub's VPC).`,
    ].join('\n');
  }
  const rows = m.argocd.manages.map((env) => {
    const p = clusterSecretParameters(m.name, env);
    return `| ${env} | \`${clusterSecretPath(env)}\` | \`${p.name}\`, \`${p.server}\`, \`${p.config}\` |`;
  });
  return [
    `This Argo CD manages ${m.argocd.manages.map((e) => `\`${e}\``).join(', ')}: \`${m.renderedDir}/${APPLICATION_SET_PATH}\` creates each one's root`,
    "Application from its `rendered/<env>/fleet.yaml` (project `platform`, never templated; deleting the ApplicationSet keeps the",
    'Applications and their resources; it only creates and updates Applications).',
    '',
    '| Managed environment | Cluster Secret (ExternalSecret) | SSM SecureStrings (name, server, config) |',
    '|---|---|---|',
    ...rows,
    '',
    `IAM: the External Secrets role of this environment needs \`ssm:GetParameter\` on`,
    `\`arn:aws:ssm:${m.aws.region}:${m.aws.accountId}:parameter/odp/${m.name}/argocd/clusters/*\` and \`kms:Decrypt\` on the key of those`,
    "SecureStrings. Each config holds a bearer token of a ServiceAccount bound to cluster-admin on the managed cluster (and its CA);",
    "the hub's nodes must reach each managed API server (security groups and routing between the VPCs).",
  ].join('\n');
}
