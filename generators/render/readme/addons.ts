/** README sections of the Argo CD area: the add-ons table and the bootstrap runbook. */
import { resolveAddons } from '../../catalog/resolve.js';
import { compileTemplate } from '../../lib/templates.js';
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import { BOOTSTRAP_PATH, bootstrapSteps } from '../argocd/bootstrap.js';
import { allAppSpecs } from '../argocd/sources.js';
import type { ReadmeSection } from './sections.js';

const table = compileTemplate(`Argo CD syncs {{sync}}. Applications are applied in sync waves (lower first): network and cloud
controller, then Argo CD and the CSR approver, then operators with CRDs (cert-manager, External Secrets,
EBS CSI), then their consumers.

| Application | Chart | Version | Namespace | Wave |
|---|---|---|---|---|
{{#each apps}}| {{name}} | {{chart}} | {{version}} | {{code namespace}} | {{wave}} |
{{/each}}`);

const runbook = compileTemplate(`On a fresh cluster (Talos bootstrapped, kubeconfig at hand), with \`helm\` and \`kubectl\`:

\`\`\`sh
sh {{script}}
\`\`\`

It installs, with helm and the same chart versions and values files the Applications use:
{{#each steps}}- **{{name}}** {{code version}} into {{code namespace}}
{{/each}}

then applies \`{{argocd}}/\` (AppProject {{code project}} and the root Application). From then on Argo
CD manages itself (the \`argo-cd\` Application renders the same chart with the same values, so it adopts
the release) and syncs every other Application{{#if manual}}; in this environment syncs are manual:
\`argocd app sync -l argocd.argoproj.io/instance=root\` or the UI{{/if}}.
`);

export function argoCdSections(m: EnvironmentModel): ReadmeSection[] {
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
      inputs: [['addons'], ['argocd'], ['cluster', 'network', 'cni']],
      body: runbook({
        script: `${m.renderedDir}/${BOOTSTRAP_PATH}`,
        steps: bootstrapSteps(addons).map((a) => ({ name: a.name, version: a.chart!.version, namespace: a.namespace })),
        argocd: `${m.renderedDir}/argocd`,
        project: m.name,
        manual: !m.argocd.automated,
      }),
    });
  return sections;
}
