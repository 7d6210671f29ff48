/**
 * Catalog entry (data): the AWS cloud controller manager, which initializes every node.
 */
import { controlPlaneSelector } from './placement.js';
import { placementAt } from './facts.js';
import { cap } from '../plan/needs.js';
import { CONTROL_PLANE_TOLERATION, RBAC, type CatalogEntry, type ChartFacts } from './types.js';
import type { Rule } from '../validate/rules.js';

/** aws-cloud-controller-manager 0.0.11: a DaemonSet placed by nodeSelector and tolerations (values.yaml:18 onwards); it lifts node.cloudprovider.kubernetes.io/uninitialized from every node. */
const CCM_FACTS: ChartFacts = { version: '0.0.11', provides: () => [cap.nodeInitialization], needs: () => [], pods: (values) => [placementAt(values, 'the cloud controller')] };

const CCM = 'aws-cloud-controller-manager';

/**
 * The flags of the controller's `args` the platform needs, with what each does here (the chart's `args`, values.yaml:3-5
 * `[--v=2, --cloud-provider=aws]`, is the container's whole argument list, so an environment's own list replaces ours;
 * keepCcmFlags puts back the ones it leaves out, ccmFlagRule refuses one set otherwise). Upstream: kubernetes/
 * cloud-provider-aws v1.35.0 (the chart's appVersion) cmd/aws-cloud-controller-manager/main.go:88-116 and k8s.io/
 * cloud-provider v0.35.0 (its go.mod), options/options.go Validate and controller-manager/app/core.go
 * startRouteController (read through code search, the version not pinned there).
 */
export const CCM_PLATFORM_FLAGS = (clusterName: string): readonly { flag: string; value: string; why: string }[] => [
  // Validate refuses an empty one ("--cloud-provider cannot be empty"); main.go:97 any other than aws (klog.Fatalf).
  { flag: '--cloud-provider', value: 'aws', why: 'the AWS provider is the only one this binary runs (cloud-provider-aws v1.35.0 main.go:97)' },
  // The route controller runs only with --allocate-node-cidrs and --configure-cloud-routes both true (core.go
  // startRouteController): pod routes are the CNI's here (Cilium, or the distribution's), not VPC route tables.
  { flag: '--configure-cloud-routes', value: 'false', why: "pod routes are the CNI's, and the control-plane role may not write VPC route tables (infra/aws/addon-iam.ts)" },
  // k8s.io/cloud-provider's controllers are cloud-node, cloud-node-lifecycle, service and route: the service controller
  // would fight the AWS Load Balancer Controller over LoadBalancer Services and needs ELB writes the role lacks.
  { flag: '--controllers', value: 'cloud-node,cloud-node-lifecycle', why: 'Services of type LoadBalancer belong to the AWS Load Balancer Controller, and the control-plane role has only the Describe actions these two controllers need (infra/aws/addon-iam.ts)' },
  // ClusterName (default "kubernetes") is what the cloud-provider controllers name the cluster by (tags, load balancers).
  // Kept equal to cluster.name so the name the controller knows the cluster by is the one in the AWS layer's tags.
  { flag: '--cluster-name', value: clusterName, why: `it is this environment's cluster.name, the name in the kubernetes.io/cluster/${clusterName} tag the AWS layer puts on the cluster's instances and security groups (infra/aws/stacks.ts); another name would not match those tags` },
];

/** Each setting of `flag` in a list of arguments (pflag: `--flag=v`, or `--flag` then `v`; a bare boolean flag is true): its index and value. */
export function flagSettings(args: readonly unknown[], flag: string, boolean = false): { index: number; value: unknown }[] {
  const out: { index: number; value: unknown }[] = [];
  args.forEach((a, index) => {
    if (a === flag) out.push({ index, value: boolean ? 'true' : args[index + 1] });
    else if (typeof a === 'string' && a.startsWith(`${flag}=`)) out.push({ index, value: a.slice(flag.length + 1) });
  });
  return out;
}

const isBooleanFlag = (flag: string) => flag === '--configure-cloud-routes';

/** The merged values with the platform's flags appended to an environment's own `args` that leaves them out (ccmFlagRule refuses one set otherwise). */
export function keepCcmFlags(values: Record<string, unknown>, clusterName: string): Record<string, unknown> {
  // `args: null` in an environment's values deletes the list: the chart's default would run without these flags.
  const args = Array.isArray(values.args) ? (values.args as unknown[]) : [];
  const missing = CCM_PLATFORM_FLAGS(clusterName).filter((f) => flagSettings(args, f.flag, isBooleanFlag(f.flag)).length === 0);
  return missing.length === 0 ? values : { ...values, args: [...args, ...missing.map((f) => `${f.flag}=${f.value}`)] };
}

/** An environment's own `args` that sets a platform flag to another value: refused, naming what the flag does here. */
export const ccmFlagRule: Rule = ({ input }, report) => {
  const args = (input.addons?.[CCM]?.values as { args?: unknown } | undefined)?.args;
  if (!Array.isArray(args)) return;
  for (const f of CCM_PLATFORM_FLAGS(input.cluster.name))
    for (const s of flagSettings(args, f.flag, isBooleanFlag(f.flag)))
      if (s.value !== f.value)
        report('ccm-platform-flag', ['addons', CCM, 'values', 'args', s.index], `${f.flag} set to ${JSON.stringify(s.value ?? null)}, expected ${f.value}: ${f.why}`, {
          hint: `drop it (the generator adds ${f.flag}=${f.value} to the list) or write ${f.flag}=${f.value}`,
        });
};

/**
 * Every distribution runs the kubelet with cloud-provider=external (and its own cloud controller off),
 * so nodes start with the node.cloudprovider.kubernetes.io/uninitialized taint until this controller
 * initializes them (addresses, provider ID, zone labels). It runs on control-plane nodes only.
 */
export const awsCloudControllerManager: CatalogEntry = {
  name: CCM,
  description: 'AWS cloud controller manager (node initialization, zones, provider IDs) on control-plane nodes',
  chart: { repoURL: 'https://kubernetes.github.io/cloud-provider-aws', name: 'aws-cloud-controller-manager', version: '0.0.11' },
  chartKubeVersions: { '0.0.11': { constraint: null, source: 'kubernetes/cloud-provider-aws charts/aws-cloud-controller-manager/Chart.yaml at helm-chart-aws-cloud-controller-manager-0.0.11: no kubeVersion' } },
  namespace: 'kube-system',
  syncWave: -3,
  enabledByDefault: () => true,
  condition: 'always (every distribution runs an external cloud provider)',
  facts: CCM_FACTS,
  bootstrapOrder: 20,
  // orphan: new nodes keep the uninitialized taint without it: nothing schedules on them.
  onDelete: 'orphan',
  clusterResources: RBAC,
  values: ({ model }) => ({
    // Only the node controllers (k8s.io/cloud-provider's known controllers are cloud-node,
    // cloud-node-lifecycle, service and route): routes are not configured here, and LoadBalancer
    // Services belong to the AWS Load Balancer Controller, whose service mutator webhook (chart 3.5.0
    // enableServiceMutatorWebhook: true) sets their loadBalancerClass. So the control-plane role
    // needs only the Describe actions of the AWS layer (infra/aws/addon-iam.ts), no ELB or security
    // group writes.
    args: ['--v=2', ...CCM_PLATFORM_FLAGS(model.cluster.name).map((f) => `${f.flag}=${f.value}`)],
    // On the host network: it initializes nodes before any CNI-dependent path is trusted, and it
    // reaches the instance metadata service (credentials, instance data) in one hop.
    hostNetworking: true,
    nodeSelector: controlPlaneSelector(model),
    tolerations: [
      { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' },
      CONTROL_PLANE_TOLERATION,
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' },
    ],
  }),
  keepInValues: (values, { model }) => keepCcmFlags(values, model.cluster.name),
  rules: { conditions: ccmFlagRule },
};
