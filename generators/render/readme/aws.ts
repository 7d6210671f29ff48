/**
 * README section every distribution shares: what the EC2 instances and the VPC subnets need for the
 * add-ons to work — the IMDS hop limit for pods that use the instance profile — and which subnets
 * each ALB is placed in, with the tags load balancers without explicit subnets are discovered by.
 */
import { ESO_SSM_SERVICE_ACCOUNT } from '../../catalog/external-secrets.js';
import { etcdBackupRoleArn, irsaRoleArn } from '../../catalog/irsa.js';
import { distributionOf } from '../../distributions/registry.js';
import { resolveAddons } from '../../catalog/resolve.js';
import { imdsNamespaces, networkPolicyEnforcer, networkPolicyEnforcerInputs } from '../../catalog/network-policies.js';
import { compileTemplate } from '../../lib/templates.js';
import type { InputPath } from '../../lib/paths.js';
import { albSubnets } from '../../model/aws.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { ReadmeSection, SectionProvider } from './sections.js';

export const EC2_SECTION_TITLE = 'EC2 instances and subnets';

const body = compileTemplate(`**Instance metadata (IMDSv2).** The AWS layer (section *AWS layer*) launches every instance with
IMDSv2 required and the hop limit each node role needs (its table gives it per node and pool): 2
where a pod on the pod network uses the node's credentials — {{#if esoIrsa}}the AWS Load Balancer
Controller{{#if etcdBackup}}, the EBS CSI controller, the etcd backup ({{backupProgram}}){{else}} and the EBS CSI controller{{/if}}{{else}}External Secrets, the AWS
Load Balancer Controller, the EBS CSI controller{{#if etcdBackup}}, the etcd backup ({{backupProgram}}){{/if}}{{/if}} get the instance profile's
credentials from IMDS, and an IMDSv2 token response crosses one more network hop to reach a pod —,
1 elsewhere.{{#if esoRole}} External Secrets reads SSM with its own role
(IRSA): the ClusterSecretStore's JWT auth names ServiceAccount {{code esoServiceAccount}}, annotated with
{{code esoRole}}; ESO requests that ServiceAccount's token and calls STS AssumeRoleWithWebIdentity itself.
Every namespace's store shares that one role, so each can read the others' secrets (\`settings.iamRoleArn\`).{{else}}{{#if esoIrsa}}
External Secrets reads SSM with roles of its own (IRSA): each namespace's ClusterSecretStore names
ServiceAccount \`{{esoServiceAccount}}-<namespace>\`, annotated with the role
\`{{cluster}}-external-secrets-<namespace>\` that reads only that namespace's parameters; ESO requests that
ServiceAccount's token and calls STS AssumeRoleWithWebIdentity itself.{{/if}}{{/if}}{{#if etcdBackupRole}}
The etcd backup assumes {{code etcdBackupRole}} with its projected token (IRSA).{{/if}}
Workload pods cannot reach IMDS (their NetworkPolicies deny egress by default and except
169.254.169.254 from any declared CIDR). On nodes with hop limit 2 the add-on pods of the namespaces
that need the node's credentials ({{imdsKept}}) can{{#if imdsDenied}}; every other add-on namespace denies
egress to 169.254.169.254/32 (NetworkPolicy \`odp-deny-imds\`){{else}}, and so can every other add-on pod
there: nothing enforces NetworkPolicies on this cluster{{/if}}. So the node roles hold only what runs there
(section *AWS layer*, IAM).

**Subnets and load balancers.** Each Ingress names its ALB's subnets
(\`alb.ingress.kubernetes.io/subnets\`): the subnets of its scheme's tier — public for
internet-facing, private for internal — one per Availability Zone, at least two zones (validation
refuses fewer). The tier is \`public: true\` in \`aws.vpc.subnets\`; mark only subnets whose route
table sends 0.0.0.0/0 to an internet gateway. VPC {{code vpc}}:

| Subnet | Zone | CIDR | Tier | ALBs placed here | Tags |
|---|---|---|---|---|---|
{{#each subnets}}| {{name}} | {{zone}} | {{code cidr}} | {{tier}} | {{albs}} | \`kubernetes.io/cluster/{{../cluster}}=shared\`, \`{{roleTag}}\` |
{{/each}}

{{#if schemes.length}}This environment's ingresses use: {{join schemes ", "}}.{{else}}No workload of this environment has an ingress yet.{{/if}}
The Load Balancer Controller does not read the tags for these ALBs (explicit subnets skip its
subnet discovery), but tag the subnets as shown all the same: a load balancer without explicit
subnets (a \`Service\` of type \`LoadBalancer\`, from the controller or the AWS cloud controller
manager) is placed by discovery, which goes by these tags.

**Node security groups.** See *Node security groups*: the ports between the nodes, from the same
table the templates are generated from.

**Outbound access from private subnets.** The nodes live in private subnets and have no public
addresses, yet they pull images from public registries (the charts' and the workloads': registry.k8s.io,
quay.io, ghcr.io, docker.io, public.ecr.aws …){{egress}}; the
add-ons call AWS APIs (EC2, Elastic Load Balancing, STS, SSM{{#if etcdBackupAny}}, S3{{/if}}). Give each
private subnet's route table a route 0.0.0.0/0 to a NAT gateway (in a public subnet), or, without
internet egress, VPC endpoints for the AWS APIs (interface endpoints for ec2, elasticloadbalancing,
sts, ssm{{#if etcdBackupAny}}, and the S3 gateway endpoint{{/if}}) plus a registry mirror for every
image{{offlineEgress}}: without either, nodes boot but no pod
image pulls.
`);

export const ec2Sections: SectionProvider = (m: EnvironmentModel): ReadmeSection[] => {
  // Roles of add-ons (addons.<name>.settings.iamRoleArn) count with aws.iam.mode irsa only; without
  // IRSA validation refuses them, so for a valid environment this section follows ['addons'] alone.
  const settingsOf = (name: string) => m.addons.find((a) => a.name === name)?.settings;
  const esoRole = irsaRoleArn(m, settingsOf('external-secrets'));
  const backupAddon = resolveAddons(m).find((a) => a.name === 'etcd-backup');
  const backup = backupAddon !== undefined;
  const etcdBackupRole = backup ? etcdBackupRoleArn(m) : undefined;
  const egress = distributionOf(m).readme.egress;
  const schemes = [...new Set(m.workloads.flatMap((w) => (w.ingress ? [w.ingress.scheme] : [])))].sort();
  return [
    {
      order: 19,
      title: EC2_SECTION_TITLE,
      inputs: [['aws', 'vpc'], ['aws', 'iam'], ['cluster', 'name'], ['cluster', 'datastore'], ['cluster', 'distribution'], ['cluster', 'network'], ['addons'], ...networkPolicyEnforcerInputs(m), ...m.workloads.map((w): InputPath => ['workloads', { name: w.name }, 'ingress'])],
      body: body({
        esoRole,
        // With IRSA every store has a web identity (catalog/secret-stores.ts): ESO needs no node credentials.
        esoIrsa: m.aws.iam.mode === 'irsa' && resolveAddons(m).some((a) => a.name === 'external-secrets'),
        esoServiceAccount: `${resolveAddons(m).find((a) => a.name === 'external-secrets')?.namespace ?? 'external-secrets'}/${ESO_SSM_SERVICE_ACCOUNT}`,
        etcdBackup: backup && !etcdBackupRole,
        etcdBackupAny: backup,
        backupProgram: backupAddon?.catalog?.program ?? 'etcd-backup',
        egress: egress?.online ?? '',
        offlineEgress: egress?.offline ?? '',
        etcdBackupRole: backup ? etcdBackupRole : undefined,
        imdsKept: [...imdsNamespaces(resolveAddons(m))].filter((n) => n === 'kube-system' || resolveAddons(m).some((a) => a.namespace === n)).sort().join(', '),
        imdsDenied: networkPolicyEnforcer(m) !== undefined,
        vpc: m.aws.vpc.id,
        cluster: m.cluster.name,
        subnets: m.aws.vpc.subnets.map((s) => ({
          ...s,
          tier: s.public ? 'public' : 'private',
          roleTag: s.public ? 'kubernetes.io/role/elb=1' : 'kubernetes.io/role/internal-elb=1',
          albs: schemes.filter((scheme) => albSubnets(m.aws.vpc.subnets, scheme).includes(s)).join(', ') || '—',
        })),
        schemes,
      }),
    },
  ];
};
