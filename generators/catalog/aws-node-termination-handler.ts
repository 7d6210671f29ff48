/**
 * Catalog entry (data): the AWS Node Termination Handler in Queue Processor mode, which cordons and
 * drains a pool instance's Node through the eviction API before EC2 terminates it.
 *
 * aws-node-termination-handler chart 0.27.6 (app v1.25.6; aws/aws-node-termination-handler tag v1.25.6 at
 * 77ca841, config/helm/aws-node-termination-handler; published as `oci://public.ecr.aws/aws-ec2/helm`):
 * - Queue Processor mode (`enableSqsTerminationDraining`, values.yaml:141): one Deployment
 *   (templates/deployment.yaml:1, replicas 1, values.yaml:148) reads the SQS queue `queueURL` in
 *   `awsRegion` (values.yaml:176-179); the AWS side (queue, EventBridge rules, the pools'
 *   EC2_INSTANCE_TERMINATING hook, the tag) is infra/aws/drain.ts;
 * - it acts only on instances carrying `managedTag` (values.yaml:188-194; pkg/monitor/sqsevent/sqs-monitor.go:433-441
 *   reads the instance's tags, :266-269 drops and deletes the message of an untagged one). The tag is
 *   per cluster here and only the pools' groups propagate it: the account-wide rules bring every
 *   instance's events to each cluster's queue, and the tag drops the other clusters' at once (without
 *   it a foreign instance's Node is not found by provider ID and the message is retried, handler.go:35-45)
 *   and keeps the fixed nodes out (infra/aws/drain.ts says why the cluster's own
 *   kubernetes.io/cluster key would not: scheduled changes would cordon the control planes for good);
 * - `useProviderId` (values.yaml:197): the Node is found by spec.providerID (`aws:///<az>/<instance>`,
 *   sqs-monitor.go:419-421; pkg/interruptionevent/internal/common/handler.go:35-45), which the AWS cloud
 *   controller manager sets on every distribution, instead of by the instance's private DNS name, which
 *   a distribution's node name need not be;
 * - the drain is kubectl's drain.Helper (pkg/node/node.go:743-754): evictions (PodDisruptionBudgets
 *   hold), DaemonSet pods left, its own pod filtered out (filterPodForDeletion, :750), for at most
 *   `nodeTerminationGracePeriod` seconds (:752; values.yaml:106, default 120). The lifecycle action is
 *   completed (CONTINUE) only after a drain that succeeded (pkg/interruptionevent/draincordon/handler.go:112-124,
 *   the PostDrainTask of pkg/monitor/sqsevent/asg-lifecycle-event.go:104-115); a drain that a PDB holds
 *   past that timeout fails, the message stays in the queue and comes back after its visibility timeout
 *   (sqs-monitor.go:300-318) for another drain (the failed event was removed from the store, so the same event id
 *   is taken again: pkg/interruptioneventstore/interruption-event-store.go:57-75), until the hook's heartbeat timeout lets EC2 go on
 *   (DefaultResult CONTINUE, infra/aws/drain.ts).
 * - Deployment placement: nodeSelector/tolerations (templates/deployment.yaml:208-220), priorityClassName
 *   system-cluster-critical by default (values.yaml:173).
 */
import { controllersPlacement } from './placement.js';
import { placementAt } from './facts.js';
import { RBAC, type CatalogEntry, type ChartFacts } from './types.js';
import type { EnvironmentModel } from '../model/types.js';


/** The pools whose instances an auto-scaling group terminates (fixed nodes are EC2 instances of their own). */
export const autoScaledPools = (m: EnvironmentModel) => m.pools.filter((p) => p.count !== undefined);

/** Facts the catalog entry and the AWS layer share (infra/aws/drain.ts). */
export const NODE_TERMINATION = {
  /** The instance tag the handler acts on: per cluster (values.yaml:194 managedTag). */
  managedTag: (m: EnvironmentModel): string => `aws-node-termination-handler/${m.cluster.name}`,
  /** Its value on the instances (the handler checks the key: values.yaml:188-194). */
  managedTagValue: 'owned',
  queueName: (m: EnvironmentModel): string => `${m.cluster.name}-node-termination`,
  /** SQS queue URLs: https://sqs.<region>.<dns suffix>/<account>/<name> (not secret). */
  queueUrl: (m: EnvironmentModel): string => `https://sqs.${m.aws.region}.${m.aws.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}/${m.aws.accountId}/${NODE_TERMINATION.queueName(m)}`,
  /** Seconds the drain may take (values.yaml:106): less than the hook's heartbeat timeout, so a held drain is retried once before EC2 goes on. */
  drainSeconds: 120,
};

const NTH_FACTS: ChartFacts = {
  version: '0.27.6',
  provides: () => [],
  needs: () => [],
  pods: (values) => [placementAt(values, 'the handler')],
};

export const awsNodeTerminationHandler: CatalogEntry = {
  name: 'aws-node-termination-handler',
  description: 'AWS Node Termination Handler (Queue Processor): cordons and drains a pool instance before EC2 terminates it',
  chart: { repoURL: 'oci://public.ecr.aws/aws-ec2/helm', name: 'aws-node-termination-handler', version: '0.27.6' },
  upgradeNotes: 'https://github.com/aws/aws-node-termination-handler/releases',
  chartKubeVersions: { '0.27.6': { constraint: '>= 1.16-0', source: 'aws/aws-node-termination-handler config/helm/aws-node-termination-handler/Chart.yaml at v1.25.6 (77ca841)' } },
  namespace: 'kube-system',
  nodeCredentials: true,
  syncWave: 0,
  enabledByDefault: (m) => autoScaledPools(m).length > 0,
  condition: 'an auto-scaled pool (count) exists',
  facts: NTH_FACTS,
  // cascade: without it terminations wait for the hook's timeout and go on undrained, as before it was added.
  onDelete: 'cascade',
  clusterResources: [...RBAC],
  iamRole: 'node-role',
  values: (ctx) => ({
    enableSqsTerminationDraining: true,
    queueURL: NODE_TERMINATION.queueUrl(ctx.model),
    awsRegion: ctx.model.aws.region,
    checkTagBeforeDraining: true,
    managedTag: NODE_TERMINATION.managedTag(ctx.model),
    useProviderId: true,
    nodeTerminationGracePeriod: NODE_TERMINATION.drainSeconds,
    // It calls AWS with the node's credentials (IMDS, hop limit 2): pinned with the other credentialed
    // controllers (catalog/placement.ts controllersHost; chart values.yaml:49 nodeSelector, :53 tolerations).
    ...(controllersPlacement(ctx.model) ?? {}),
  }),
};
