/**
 * README sections of the AWS layer: what the stacks hold (nodes, roles, buckets, IRSA), the port
 * table (ports.ts, the same rows the security groups are built from), and the runbook from an empty
 * account with the VPC to running nodes — every step a rendered script or an exact command line
 * (test/aws-runbook.test.ts walks them).
 */
import type { ReadmeSection } from '../../render/readme/sections.js';
import type { EnvironmentModel } from '../../model/types.js';
import { AWS_DIR, awsPath, connectionCommand, deploymentFile, gitRepository, gitSyncStackCommand, NODE_UPDATE_WAIT, STACK_FILES, STACK_UPDATE_WAIT } from './deploy.js';
import { KUBECTL_REQUEST_TIMEOUT } from '../../lib/kubectl-timeout.js';
import { awsPlan, type AwsPlan } from './plan.js';
import { controllersHost } from '../../catalog/placement.js';
import { GROUP_TEXT, PEER_TEXT, portTable, portText } from './ports.js';
import { hubApiCidr, MANAGED_POLICY_LIMIT, nodeLogicalId } from './stacks.js';
import { TERMINATING_HOOK } from './drain.js';
import { maxHealthyPercentage, rollWords } from './roll.js';
import { NODE_TERMINATION } from '../../catalog/aws-node-termination-handler.js';
import { CLUSTER_LOCK } from '../../lib/cluster-lock.js';
import { DRAIN_TIMEOUT_MAX } from '../../lib/node-drain.js';

export const AWS_SECTION_TITLE = 'AWS layer (CloudFormation)';
export const PORTS_SECTION_TITLE = 'Node security groups';

const code = (s: string | number): string => `\`${String(s).replace(/`/g, '\\`')}\``;
const cell = (s: string): string => s.replace(/\|/g, '\\|');
const fence = (title: string, lines: string[]): string => ['```sh', `# ${title}`, ...lines, '```'].join('\n');

/** The runbook's steps, in order: each a title and its shell lines (what the test walks). */
export interface AwsStep {
  title: string;
  lines: string[];
  /** Written-down steps that are not commands (a console click), shown before the lines. */
  note?: string;
}

export function awsRunbookSteps(p: AwsPlan): AwsStep[] {
  const m = p.model;
  const steps: AwsStep[] = [
    { title: `The SSM String parameters the environment references, where missing (values from the lock)`, lines: [`sh ${awsPath(m, 'ssm-parameters.sh')}`] },
    { title: `Once, as an administrator: the deployment role, the Git sync role and the template bucket (stack ${p.names.gitSyncStack})`, lines: [gitSyncStackCommand(p)] },
    { title: `Identity and network (stack ${p.names.baseStack})`, lines: [`sh ${awsPath(m, 'deploy.sh')} base`] },
  ];
  const registrations = p.images.filter((i) => i.registration);
  steps.push({
    title: registrations.length > 0 ? 'Images: register each node class’s AMI, then lock the AMI ids' : 'Images: lock the AMI ids of the node classes (public SSM parameters)',
    lines: [...registrations.map((i) => `sh ${awsPath(m, `images/${i.cls.name}.sh`)}`), `npm run synth -- --env ${m.name} --refresh-ssm`, `git add environments/${m.name}.ssm.lock.json ${m.renderedDir} && git commit -m "${m.name}: lock the node images"`],
  });
  steps.push({ title: `Nodes (stack ${p.names.nodesStack})`, lines: [`sh ${awsPath(m, 'deploy.sh')} nodes`] });
  const repo = gitRepository(m.git.repoURL);
  steps.push({
    title: 'Optional, once: Git sync (AWS updates both stacks when a merge changes their files)',
    note: `The connection's handshake with ${repo.provider ?? 'the Git provider'} is finished in the console (Developer Tools → Settings → Connections → the pending connection → Update pending connection); its status must be Available before the second command.`,
    lines: [connectionCommand(p), `sh ${awsPath(m, 'enable-git-sync.sh')} <the connection's ARN>`],
  });
  return steps;
}

/** Where the credentialed controllers run, in words (catalog/placement.ts controllersHost). */
function pinnedText(p: AwsPlan): string {
  const h = controllersHost(p.model);
  if (h.kind === 'unpinned') return `are not pinned: ${h.why}, so they stay off the control planes and may run on any untainted worker pool, each with hop limit 2 and their permissions; name one worker pool in \`aws.iam.controllersPool\` to pin them there and give every other pool hop limit 1.`;
  return `are pinned by nodeSelector and tolerations to one place, ${h.kind === 'pool' ? `pool ${h.pool.name} (\`aws.iam.controllersPool\`)` : 'the control planes (set `aws.iam.controllersPool` to name a worker pool instead)'}: only it gets hop limit 2 and their permissions.`;
}

/** Each pool's roll batch (./roll.ts), e.g. "pool workers (10 nodes, 110 %) one instance at a time". */
function rollText(p: AwsPlan): string {
  const pools = p.pools.filter((pp) => pp.pool.count !== undefined).map((pp) => {
    const n = pp.pool.count!;
    const max = maxHealthyPercentage(n);
    return `pool ${pp.pool.name} (${n} node${n === 1 ? '' : 's'}, ${max} %) rolls ${rollWords(n, max)}`;
  });
  return pools.length === 0 ? 'a pool rolls one instance at a time' : `${pools.join('; ')} — the next replacement launches once an old instance has gone`;
}

function nodesTable(p: AwsPlan): string {
  const m = p.model;
  const rows = ['| Node / pool | Resource | Type | Address / size | Subnet | Image | IAM role | IMDS hop limit |', '|---|---|---|---|---|---|---|---|'];
  for (const pp of p.pools) {
    const img = `${code(pp.image.parameterName)}${pp.image.imageId ? ` = ${code(pp.image.imageId)}` : ' (not locked yet)'}`;
    const role = p.roles.find((r) => r.kind === pp.role)!.name;
    for (const ni of pp.nodeImages) {
      const n = ni.node;
      const nimg = `${code(ni.parameterName)}${ni.imageId ? ` = ${code(ni.imageId)}` : ' (not locked yet)'}${ni.pinned ? (ni.imageId !== pp.image.imageId && pp.image.imageId ? ` (pinned; class ${pp.image.cls.name} is now ${code(pp.image.imageId)})` : ' (pinned)') : ''}`;
      rows.push(`| ${n.name} | instance | ${pp.pool.instanceType} | ${code(n.ip)} | ${n.subnet?.name ?? '—'} | ${nimg} | ${code(role)} | ${pp.hopLimit} |`);
    }
    if (pp.pool.count !== undefined)
      rows.push(`| ${pp.pool.name} (pool) | launch template + auto-scaling group ${code(p.names.pool(pp.pool))} | ${pp.pool.instanceType} | ${pp.pool.count} | ${pp.subnets.map((s) => s.name).join(', ')} | ${img} | ${code(role)} | ${pp.hopLimit} |`);
  }
  const why = [...new Map(p.pools.map((pp) => [`${pp.group === 'controlplane' ? 'control planes' : `pool ${pp.pool.name}`}`, `${pp.hopLimit}: ${pp.hopWhy}`])).entries()].map(([k, v]) => `- ${k}: hop limit ${v}.`);
  const nu = p.facts.nodeUpdate(m);
  return [
    rows.join('\n'),
    '',
    `IMDSv2 is required everywhere (\`HttpTokens: required\`). The hop limit is 1 where nothing on the pod network needs the node's credentials: an IMDSv2 token crosses one more hop to reach a pod, so with 1 only host processes and host-network pods (the cloud controller, ${m.cluster.distribution}'s own services) get credentials. The add-ons that call AWS with the node's credentials from the pod network (the AWS Load Balancer Controller, the EBS CSI controller, the Node Termination Handler, External Secrets when it assumes store roles) ${pinnedText(p)} The EBS CSI node plugin, on every node, reads the instance id and zone from the Node object (\`node.metadataSources: kubernetes\`), not from IMDS. Changing a hop limit is in place for an instance (\`ModifyInstanceMetadataOptions\`, no interruption) and a new launch template version for a pool, which rolls it (below).`,
    ...why,
    '',
    `A fixed node keeps the AMI it was created with (the lock's \`nodeImages\`, recorded by \`--refresh-ssm\`): an instance cannot change its image without being replaced, so a newer image of its class reaches the pools (instance refresh) but never replaces a running node by itself. To replace one node with its class's current image, delete its entry in \`environments/${m.name}.ssm.lock.json\`, refresh, and review the diff (one node per merge).`,
    ...(p.pools.some((pp) => pp.pool.nodes.length > 0)
      ? [
          `A fixed node's instance type is its own parameter of the nodes stack (\`Node<Name>InstanceType\`, valued in \`${deploymentFile('nodes')}\` with its pool's \`instanceType\`). A new type stops the instance, changes the type and starts it; CloudFormation would do that without a drain and move on to the next node once the instance runs, not once its node is Ready. So \`sh ${awsPath(m, 'deploy.sh')} nodes\` refuses an update that changes a fixed node's type, and \`sh ${awsPath(m, 'deploy.sh')} node-update <node>\` changes one node alone, from the branch under review, before the merge: it updates the stack with its own template (\`update-stack --use-previous-template\`: whatever else the branch changes is not deployed) and only this node's type parameter (every other parameter keeps its value); it takes the cluster-wide lock (the Lease \`${CLUSTER_LOCK.namespace}/${CLUSTER_LOCK.name}\`, which the runbook's other node changes take too: one at a time), ${nu.access.length > 0 ? 'reaches the cluster the distribution\'s way (it says how when it cannot), ' : ''}checks that every control plane is Ready, the API server's \`/readyz\` is ok and ${nu.gate}, drains the node (\`kubectl drain\`: PodDisruptionBudgets hold; at most \`ODP_DRAIN_TIMEOUT\`, 5m, which may not exceed ${DRAIN_TIMEOUT_MAX}; a drain that does not finish leaves the node uncordoned and untouched), waits until the Node has a new boot id and is Ready (a control plane: the whole gate again${nu.stable > 1 ? `, ${nu.stable} polls in a row` : ''}; at most ${(NODE_UPDATE_WAIT.tries * NODE_UPDATE_WAIT.seconds) / 60} minutes, after which the node stays cordoned), then uncordons it. The stack update is polled every ${STACK_UPDATE_WAIT.seconds} s for at most ${(STACK_UPDATE_WAIT.tries * STACK_UPDATE_WAIT.seconds) / 60} minutes with the lock renewed meanwhile, and a rolled-back or failed update stops the run; every kubectl request gives up after ${KUBECTL_REQUEST_TIMEOUT}; any exit after the drain leaves the node cordoned and prints what to check before \`kubectl uncordon\` (the stack update ended, the instance running, the Node Ready) and that command. One node after another, control planes first (\`deploy.sh nodes\` lists them); the merge then stops nothing. ${p.pools.some((pp) => pp.pool.nodes.some((n) => p.facts.userData(m, m.configTargets.find((t) => t.node?.name === n.name)!) !== undefined)) ? `A fixed node's user data (its boot script) has no such step: \`deploy.sh nodes\` names each fixed node whose user data the update changes, with its drain command, before it deploys (CloudFormation stops and starts it undrained; the new user data does not run on that start, a replacement instance boots with it), and refuses a control plane's together with another node's unless \`ODP_CONFIRM_USER_DATA\` names exactly those nodes, each cordoned (drained) already unless \`ODP_USER_DATA_UNDRAINED=1\`. ` : ''}With Git sync on, a merge that skips these steps is applied undrained.`,
        ]
      : []),
    ...[replaceText(p)].filter((t) => t !== ''),
    `Every node ${p.facts.fixedNodeConfig}. Auto-scaled pools: ${p.facts.poolJoin.why}.`,
    `Leaving the cluster: ${p.facts.poolTermination.hook ? 'a termination lifecycle hook' : 'nothing to do before termination'} — ${p.facts.poolTermination.why}.`,
    ...[drainText(p)].filter((t) => t !== ''),
    `A changed launch template (image, instance type, user data, metadata options) rolls its pool through an instance refresh (\`UpdatePolicy: AutoScalingInstanceRefresh\`, 100 % minimum healthy: each replacement is in service before an old instance goes${p.facts.poolJoin.kind === 'user-data' ? ', in service meaning running: the group checks EC2 health only' : `, and in service only once it joined the cluster: the launch lifecycle hook \`${p.facts.poolJoin.hookName}\` holds it until then, and a replacement that cannot join is terminated, never counted`}, and the old one goes through the termination hook above); \`npm run diff\` names the pools and nodes a change replaces. Maximum healthy is 100 % plus one instance's share: ${rollText(p)}. \`sh ${awsPath(m, 'deploy.sh')} roll-pool <pool>\` starts the same refresh by hand, replacing every instance: after a change of a pool's subnet (which no refresh follows), or when a failed refresh, rolled back with its stack update, left a pool split between two launch template versions.`,
  ].join('\n');
}

/**
 * Replacing a lost fixed node: the generation in the instance's logical id (stacks.ts nodeLogicalId) is raised
 * in the environment file, a reviewed change Git sync applies like any other; the distribution names the
 * cluster side (facts.replaceNode). Empty without fixed nodes.
 */
function replaceText(p: AwsPlan): string {
  const m = p.model;
  const nodes = p.pools.flatMap((pp) => pp.pool.nodes);
  if (nodes.length === 0) return '';
  const example = nodes[0]!;
  return [
    `**Replacing a lost fixed node** (its instance terminated, or broken beyond a reboot): a plain redeploy changes nothing (the stack still holds the old instance's id), and the image lock replaces a node only when its image changed. One node per merge:`,
    '',
    `1. If its instance still exists, terminate it: \`sh ${awsPath(m, 'deploy.sh')} terminate-node <node>\` (reads the instance id from the nodes stack's output, lifts the instance's termination protection — control planes carry it, so that no console click or stray \`aws ec2 terminate-instances\` ends a datastore member — terminates the instance and waits until it is terminated; an instance already gone is left as it is). Deleting the nodes stack meets the same protection: \`sh ${awsPath(m, 'deploy.sh')} lift-protection\` lifts it from every instance the stack holds, before the deletion. Its network interface and root volume go with it (both delete on termination), which frees the node's address.`,
    `2. The cluster side, before the new instance boots:`,
    ...nodes.map((n) => `   - ${code(n.name)}: ${p.facts.replaceNode(m, n)}.`),
    `3. Raise the node's \`replacement\` by one in \`environments/${m.name}.yaml\` (\`nodePools[].nodes[].replacement\`, absent counts as 0), \`npm run synth\`, review and merge (Git sync updates the nodes stack; without it \`sh ${awsPath(m, 'deploy.sh')} nodes\`). The number is part of the instance's logical id (${code(example.name)} → ${code(`${nodeLogicalId({ ...example, replacement: undefined })}R1`)}): CloudFormation creates a new instance with the same name, address, subnet, instance profile, pinned AMI and user data, then deletes the old resource in the update's cleanup (terminating an instance that is already terminated succeeds). While the old instance still holds the address, EC2 refuses the new one and the update rolls back, changing nothing.`,
    '',
  ].join('\n');
}

/** How a pool instance's Node is drained before EC2 terminates it (./drain.ts, catalog/aws-node-termination-handler.ts). */
function drainText(p: AwsPlan): string {
  const m = p.model;
  if (!p.pools.some((pp) => pp.pool.count !== undefined)) return '';
  if (!p.drainsPools) return 'Draining: none. `addons.aws-node-termination-handler` is disabled: an auto-scaling group terminates its instances (instance refresh, scale-in, Spot interruption, an operator\'s terminate) without cordoning or draining their Nodes, and PodDisruptionBudgets are not consulted.';
  const h = TERMINATING_HOOK;
  // An untagged instance's event is dropped and its message deleted, the action never completed (NTH v1.25.6
  // pkg/monitor/sqsevent/sqs-monitor.go:266-269, 283-289): the hook's timeout decides.
  return [
    `Draining: every instance a pool's auto-scaling group terminates — an instance refresh after a launch-template change, scale-in, a Spot interruption or rebalance the group acts on, \`aws autoscaling terminate-instance-in-auto-scaling-group\` — waits in \`Terminating:Wait\` under the hook ${code(h.name)} (\`EC2_INSTANCE_TERMINATING\`, ${h.heartbeatSeconds} s, then ${h.defaultResult}). EventBridge sends the event to the SQS queue ${code(NODE_TERMINATION.queueName(m))}; the AWS Node Termination Handler (add-on \`aws-node-termination-handler\`, Queue Processor mode, on the controllers' node role) cordons the instance's Node and evicts its pods through the eviction API, so PodDisruptionBudgets hold, then completes the action and EC2 terminates the instance. It also drains on Spot interruption warnings, rebalance recommendations, state changes and scheduled events of instances tagged ${code(NODE_TERMINATION.managedTag(m))} (the groups propagate it at launch).`,
    `Limits: a drain the budgets hold longer than ${NODE_TERMINATION.drainSeconds} s fails and is retried from the queue, but the hook lets EC2 go on after ${h.heartbeatSeconds} s: a budget never blocks a termination for longer. Until the handler runs (the first deploy, before the engine has synced it) or while it is down, terminations wait the ${h.heartbeatSeconds} s and go on undrained. Instances launched before the tag existed carry none: the handler drops their events, so their terminations too wait the ${h.heartbeatSeconds} s and go on undrained, until a roll has replaced them, or until they are tagged once: \`sh ${awsPath(m, 'deploy.sh')} drain-tags\`. \`sh ${awsPath(m, 'deploy.sh')} nodes\` runs that step itself before it updates an existing nodes stack; with Git sync (the merge updates the stack) run it before merging a change that brings the hook to running instances — \`npm run plan\` names such a change first; fixed nodes (EC2 instances outside the groups) are never drained by it.`,
  ].join('\n');
}

function iamTable(p: AwsPlan): string {
  const rows = ['| Role | Runs with it | Managed policies |', '|---|---|---|'];
  for (const r of p.roles) rows.push(`| ${code(r.name)} (instance profile of the same name) | ${r.kind === 'controlplane' ? 'control planes' : r.kind === 'controllers' ? `workers of pool ${p.model.aws.iam.controllersPool} (aws.iam.controllersPool: the AWS controllers run there)` : r.kind === 'gpu' ? 'GPU workers' : 'workers'} | ${r.grants.map((g) => `${code(`${r.name}-${g.id}`)}: ${cell(g.who)}`).join('<br>') || 'none: nothing on these nodes calls AWS with their credentials'} |`);
  const irsa = p.irsa
    ? [
        '',
        // IAM CreateOpenIDConnectProvider: ThumbprintList is optional; without it IAM retrieves the top intermediate
        // CA thumbprint of the IdP's server certificate (API reference, ThumbprintList). For JWKS hosted on S3, AWS
        // verifies through its library of trusted root CAs (UpdateOpenIDConnectProviderThumbprint, note).
        `IRSA: OIDC provider ${code(p.irsa.issuer)} (audience \`sts.amazonaws.com\`; no thumbprint given: IAM reads the issuer host's certificate when the base stack creates the provider, so that host must answer HTTPS by then — an S3 bucket's endpoint always does; a CloudFront distribution must exist first). One role per ServiceAccount, assumable only with that ServiceAccount's token:`,
        '',
        '| Role ARN (as the rendered values reference it) | ServiceAccount | For |',
        '|---|---|---|',
        ...p.irsa.roles.map((r) => `| ${code(r.arn)} | ${code(`system:serviceaccount:${r.namespace}:${r.serviceAccount}`)} | ${cell(r.who)} |`),
      ]
    : [];
  return [
    rows.join('\n'),
    '',
    `Every write action names the resources of this environment's account and region (its SSM parameters, its buckets and key, the resources the controllers tag with the cluster's name); \`*\` remains only on read actions and on actions AWS cannot scope. Policies are split at IAM's ${MANAGED_POLICY_LIMIT}-character limit.`,
    ...irsa,
  ].join('\n');
}

function bucketsTable(p: AwsPlan): string {
  if (p.buckets.length === 0) return '';
  const rows = ['| Bucket | For | Encryption | Retention |', '|---|---|---|---|'];
  for (const b of p.buckets) rows.push(`| ${code(b.name)} | ${b.purpose} | SSE-KMS, ${b.kmsKeyId ? code(b.kmsKeyId) : `the environment key ${code(p.names.keyAlias)}`} | ${cell(b.retention)} |`);
  return [rows.join('\n'), '', 'Each: versioning on, public access blocked, objects owned by the bucket owner, a policy denying any request without TLS, incomplete multipart uploads aborted after a day. Buckets and the key are retained when the stack is deleted. A bucket that already exists must be imported into the stack (`aws cloudformation create-change-set --change-set-type IMPORT`) instead of created.'].join('\n');
}

function awsBody(p: AwsPlan): string {
  const m = p.model;
  const stacks = [
    '| Stack | Template | Git sync deployment file | Holds |',
    '|---|---|---|---|',
    `| ${code(p.names.gitSyncStack)} | [${code(`${AWS_DIR}/${STACK_FILES.gitSync}`)}](${AWS_DIR}/${STACK_FILES.gitSync}) | — (an administrator deploys it once) | the deployment role (CloudFormation's service role of the two stacks below), the Git sync role, the template bucket |`,
    `| ${code(p.names.baseStack)} | [${code(`${AWS_DIR}/${STACK_FILES.base}`)}](${AWS_DIR}/${STACK_FILES.base}) | ${code(`${AWS_DIR}/${deploymentFile('base')}`)} | ${p.environmentKey ? 'the environment key, ' : ''}buckets, node roles and instance profiles${p.irsa ? ', the OIDC provider and IRSA roles' : ''}, security groups${p.apiLoadBalancer ? `, the private API load balancer and the private hosted zone ${code(m.cluster.endpointHost)}` : ''} |`,
    `| ${code(p.names.nodesStack)} | [${code(`${AWS_DIR}/${STACK_FILES.nodes}`)}](${AWS_DIR}/${STACK_FILES.nodes}) | ${code(`${AWS_DIR}/${deploymentFile('nodes')}`)} | the fixed nodes (instances with their addresses), the pools (launch templates and auto-scaling groups) |`,
  ].join('\n');
  const api = p.apiLoadBalancer
    ? `The endpoint ${code(m.cluster.endpoint)}: an internal network load balancer ${code(p.names.loadBalancer)} in the control planes' subnets (cross-zone), one TCP listener and target group per port (${p.facts
        .endpointPorts(m)
        .map((e) => `${e.port} ${e.name}`)
        .join(', ')}) with the control planes' addresses as IP targets and TCP health checks; its security group admits the VPC (${code(m.aws.vpc.cidr)})${hubApiCidr(m) ? ` and, on port ${m.cluster.endpointPort} only, the VPC of the hub ${code(m.fleet.hub!.name)} (${code(hubApiCidr(m)!)}), whose engine manages this cluster. The route between the two VPCs (VPC peering or a transit gateway, with routes both ways) and the hub's resolution of ${code(m.cluster.endpointHost)} (associate this private hosted zone with the hub's VPC, or register the cluster by address) are not created here: set them up before registering with the hub` : ''}. DNS: a private hosted zone named exactly ${code(m.cluster.endpointHost)}, associated with VPC ${code(m.aws.vpc.id)}, with one alias record to the load balancer — it answers for that one name, so no other name of the parent domain is shadowed inside the VPC.`
    : `The endpoint ${code(m.cluster.endpoint)} is an address, not a name: no load balancer or DNS record is created.`;
  const runbook = awsRunbookSteps(p)
    .map((s, i) => `${i + 1}. ${s.title}${s.note ? `. ${s.note}` : ''}\n\n${fence(s.title, s.lines)}`)
    .join('\n\n');
  return `Everything that makes the nodes exist, as CloudFormation derived from the same model as the node configs: existing VPC ${code(m.aws.vpc.id)} and subnets (from the SSM lock), created per environment in three stacks. Stacks export their outputs as ${code(`${p.names.exportPrefix}:<Name>`)}; the nodes stack reads the base stack's.

${stacks}

### Nodes

${nodesTable(p)}

### API endpoint

${api}

### IAM

${iamTable(p)}

${bucketsTable(p)}

### Runbook: an empty account with the VPC → running nodes

Run from the repository root with the account's credentials. The plain \`aws cloudformation deploy\` of \`deploy.sh\` creates the stacks (with the deployment role as their service role) and is the alternative to Git sync; once Git sync is on, a merged change of a stack's template or deployment file updates it.

${runbook}

Then the nodes' own runbook (below) configures and bootstraps the cluster.`;
}

function portsBody(m: EnvironmentModel, p: AwsPlan): string {
  const rows = ['| Port | Open on | From | Component | Why | Source |', '|---|---|---|---|---|---|'];
  for (const r of portTable(m)) rows.push(`| ${portText(r)} | ${r.targets.map((t) => GROUP_TEXT[t]).join(', ')} | ${r.peers.map((x) => (x === 'operators' && m.aws.vpc.operatorCidrs.length > 0 ? `operators (VPC CIDR, ${m.aws.vpc.operatorCidrs.join(', ')})` : PEER_TEXT[x])).join(', ')} | ${cell(r.component)} | ${cell(r.purpose)} | ${cell(r.source)} |`);
  return `Security groups ${Object.values(p.names.securityGroup).map(code).join(', ')} (base stack): each node's interface has exactly one of the node groups, tagged \`kubernetes.io/cluster/${m.cluster.name}\`. Every rule is its own \`AWS::EC2::SecurityGroupIngress\`, generated from this table — nothing else is open, and nothing from \`0.0.0.0/0\`:

${rows.join('\n')}

NodePorts are not in the table: the AWS Load Balancer Controller opens exactly its target groups' NodePorts, from its own backend security group, on the tagged group (and, being separate resources, the template's rules never revoke them).`;
}

export function awsSections(m: EnvironmentModel): ReadmeSection[] {
  const p = awsPlan(m, m.aws.images);
  return [
    { order: 18, title: AWS_SECTION_TITLE, inputs: [['aws'], ['cluster'], ['nodePools'], ['addons'], ['workloads'], ['git'], ['name']], body: awsBody(p) },
    { order: 19.5, title: PORTS_SECTION_TITLE, inputs: [['aws', 'vpc'], ['cluster'], ['nodePools'], ['addons']], body: portsBody(m, p) },
  ];
}
