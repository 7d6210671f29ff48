/**
 * README section both distributions share: what the EC2 instances and the VPC subnets need for the
 * add-ons to work — the IMDS hop limit for pods that use the instance profile, and the subnet tags
 * the AWS Load Balancer Controller discovers subnets by.
 */
import { resolveAddons } from '../../catalog/resolve.js';
import { compileTemplate } from '../../lib/templates.js';
import type { InputPath } from '../../lib/paths.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { ReadmeSection, SectionProvider } from './sections.js';

export const EC2_SECTION_TITLE = 'EC2 instances and subnets';

const body = compileTemplate(`**Instance metadata (IMDSv2): set the hop limit to 2 on every instance.** External Secrets, the AWS
Load Balancer Controller, the EBS CSI controller{{#if etcdBackup}}, the etcd backup (talos-backup){{/if}} run in the pod network and get
the instance profile's credentials from IMDS; an IMDSv2 token response crosses one more network hop
to reach a pod, so with the default hop limit of 1 (AMIs registered from raw disk images, as here,
get it) they time out and fail without credentials. Launch with

\`\`\`sh
aws ec2 run-instances … --metadata-options HttpTokens=required,HttpPutResponseHopLimit=2,HttpEndpoint=enabled
\`\`\`

(or \`MetadataOptions\` in the launch template of an auto-scaled pool; for a running instance:
\`aws ec2 modify-instance-metadata-options --instance-id ID --http-put-response-hop-limit 2 --http-tokens required\`).

**Subnet tags.** The AWS Load Balancer Controller picks the subnets of a load balancer by tag, in
VPC {{code vpc}}:

| Subnet | Zone | CIDR | Tags |
|---|---|---|---|
{{#each subnets}}| {{name}} | {{zone}} | {{code cidr}} | \`kubernetes.io/cluster/{{../cluster}}=shared\`, and \`kubernetes.io/role/internal-elb=1\` (private) or \`kubernetes.io/role/elb=1\` (public) |
{{/each}}

Internet-facing load balancers need at least two public subnets (route to an internet gateway) in
different zones tagged \`kubernetes.io/role/elb=1\`; internal ones private subnets tagged
\`kubernetes.io/role/internal-elb=1\`. {{#if schemes.length}}This environment's ingresses use: {{join schemes ", "}}.{{else}}No workload of this environment has an ingress yet.{{/if}}
The environment file does not say which subnets are public, so this is not checked: tag them
before the first ingress syncs, or the controller reports that it cannot find subnets.
`);

export const ec2Sections: SectionProvider = (m: EnvironmentModel): ReadmeSection[] => {
  const schemes = [...new Set(m.workloads.flatMap((w) => (w.ingress ? [w.ingress.scheme] : [])))].sort();
  return [
    {
      order: 19,
      title: EC2_SECTION_TITLE,
      inputs: [['aws', 'vpc'], ['cluster', 'name'], ['cluster', 'datastore'], ['addons'], ...m.workloads.map((w): InputPath => ['workloads', { name: w.name }, 'ingress'])],
      body: body({
        etcdBackup: resolveAddons(m).some((a) => a.name === 'etcd-backup'),
        vpc: m.aws.vpc.id,
        cluster: m.cluster.name,
        subnets: m.aws.vpc.subnets,
        schemes,
      }),
    },
  ];
};
