/** README section: the environment's workloads (where they run, how they are reached). */
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import { STORAGE_CLASS } from '../../plan/workload-constants.js';
import { namespaceStoreName } from '../../catalog/secret-stores.js';
import type { ReadmeSection } from './sections.js';
import { networkPolicyEnforcer } from '../../catalog/network-policies.js';
import { distributions, distributionOf } from '../../distributions/registry.js';
import { engineOf } from '../../engines/registry.js';

const table = compileTemplate(`Each workload is one {{delivery}} delivering \`manifests/<workload>/\`. Namespaces enforce Pod
Security Standards \`restricted\` and deny all traffic except DNS and what each workload declares
(NetworkPolicies \`default-deny\`, \`allow-dns\` and one per workload), enforced by {{enforcer}}.
Secrets come from SSM Parameter Store through the namespace's own ClusterSecretStore {{code store}}; volumes use the
StorageClass {{code storageClass}}.

| Workload | Namespace | Kind | Image | Placement | Reached at |
|---|---|---|---|---|---|
{{#each workloads}}| {{name}} | {{namespace}} | {{kind}} | {{code image}} | {{placement}} | {{reach}} |
{{/each}}`);

export { networkPolicyEnforcer };

export function workloadSections(m: EnvironmentModel): ReadmeSection[] {
  if (m.workloads.length === 0) return [];
  const workloads = [...m.workloads].sort((a, b) => a.name.localeCompare(b.name));
  return [
    {
      order: 60,
      title: 'Workloads',
      inputs: [
        ['cluster', 'distribution'],
        ['cluster', 'network', 'cni'],
        // What the enforcer text reads, for any distribution (the distribution itself is an input).
        ...distributions().flatMap((d) => d.facts.networkPolicyInputs ?? []),
        ['gitops'],
        ...workloads.flatMap((w): ReadmeSection['inputs'] => [
        ['workloads', { name: w.name }, 'namespace'],
        ['workloads', { name: w.name }, 'kind'],
        ['workloads', { name: w.name }, 'image'],
        ['workloads', { name: w.name }, 'placement'],
        ['workloads', { name: w.name }, 'ingress'],
        ['workloads', { name: w.name }, 'schedule'],
        ]),
      ],
      body: table({
        // The network-policy-enforcement rule refuses workloads where nothing enforces them.
        enforcer: networkPolicyEnforcer(m) ?? 'nothing (refused by validation)',
        delivery: engineOf(m).text.workloadDelivery,
        store: namespaceStoreName('<namespace>'),
        storageClass: STORAGE_CLASS,
        workloads: workloads.map((w) => ({
          name: w.name,
          namespace: w.namespace,
          kind: w.kind === 'cronjob' ? `cronjob (\`${w.schedule}\` UTC)` : w.kind,
          image: w.image,
          placement: [w.placement.arch, w.placement.gpu ? `${w.placement.gpu}× GPU` : '', w.placement.pool ? `pool ${w.placement.pool}` : ''].filter(Boolean).join(', '),
          reach: w.ingress ? `\`${w.ingress.certificateArn ? 'https' : 'http'}://${w.ingress.host}${w.ingress.path}\` (${w.ingress.scheme} ALB)` : '—',
        })),
      }),
    },
  ];
}
