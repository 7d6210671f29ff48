/**
 * Talos' facts for the AWS layer (Distribution.aws; the interface: generators/infra/aws/facts.ts),
 * with the Talos scripts it renders under rendered/<env>/aws/: the image registration of each node
 * class (images/<class>.sh) and the pool join (talos-join.sh).
 *
 * AWS facts of Talos (siderolabs/talos v1.12.11 and v1.13.9 agree on each; docs = siderolabs/docs 5debdd92).
 *
 * - Ports: the firewall Talos itself recommends, cmd/talosctl/cmd/mgmt/cluster/internal/firewallpatch/
 *   firewallpatch.go: apid 50000 (control planes: from anywhere that runs talosctl; workers: within
 *   the cluster), trustd 50001 and the API 6443 on control planes, etcd 2379-2380 between control
 *   planes, the kubelet 10250 within the cluster. Port numbers: pkg/machinery/constants
 *   (ApidPort, TrustdPort, EtcdClientPort, EtcdPeerPort, KubeletPort).
 * - Flannel as Talos deploys it uses VXLAN port 4789, not flannel's Linux default 8472:
 *   internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/flannel.go
 *   (`netConf.Backend.Port = 4789`).
 * - Configuration: on AWS Talos reads its machine config from the instance user data (the "platform"
 *   source) or, with none, waits in maintenance mode for `talosctl apply-config --insecure`
 *   (docs public/talos/v1.12/…/acquiring-machine-configuration: STATE → embedded → platform → inline
 *   → maintenance). On AWS there is no config URL (`talos.config=` is read on the metal platform only).
 *   The AWS layer never puts a config in user data: it carries the cluster's join secrets (and, on
 *   control planes, the CA keys), which would then sit in launch-template versions and be readable
 *   through IMDS. Every node, fixed or pooled, gets its config by the apply step in maintenance mode.
 * - Images: Image Factory serves each schematic's AWS disk image (`aws-<arch>.raw.xz`); an AMI is made
 *   from it by `ec2 import-snapshot` + `ec2 register-image` (docs …/cloud-platforms/aws.mdx,
 *   "Create your own AMIs"), which is what aws/images/<class>.sh runs.
 */
import { shQuote } from '../../render/delivery/bootstrap.js';
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import { classImages } from './nodeclass.js';
import { workDir } from './operations.js';
import { nodeUpdateFacts } from './runbook.js';
import { resolveAddons } from '../../catalog/resolve.js';
import { etcdBackupRoleArn } from '../../catalog/irsa.js';
import type { DistributionAwsFacts, ImageClass, ImageContext, ImageFacts, PortRule } from '../../infra/aws/facts.js';
import { deleteOldNode } from '../../infra/aws/facts.js';
import { talosCluster, talosPool, type NodeClass } from './model.js';
import { SKEW_SOURCE } from '../../upgrade-plan/skew.js';

/** "1.35" of kubernetesVersion 1.35.2. */
const kubernetesMinor = (m: EnvironmentModel): string => m.cluster.kubernetesVersion.split('.').slice(0, 2).join('.');

const FIREWALL = 'siderolabs/talos@v1.12.11:cmd/talosctl/cmd/mgmt/cluster/internal/firewallpatch/firewallpatch.go';

/** The launch lifecycle hook that holds new pool instances until their config is applied. */
export const TALOS_APPLY_HOOK = 'talos-apply';

/** How long the hook holds an instance nobody let go (its DefaultResult, ABANDON, then terminates it). */
const HEARTBEAT_SECONDS = 7200;

/**
 * SSM parameter holding the AMI id of a node class at a Talos version (schematic and arch in the
 * name). Account-wide, not per environment: an AMI belongs to the account and region, and every
 * environment there with the same version and schematic boots the same image.
 */
export const talosImageParameter = (m: EnvironmentModel, cls: NodeClass): string => `/odp/images/talos/${talosCluster(m).version}/${cls.arch}/${classImages(m, cls).id}`;

/** The AMI's name: version, schematic and arch, so one registration per image is found again. */
export const talosImageName = (m: EnvironmentModel, cls: NodeClass): string => `talos-${talosCluster(m).version}-${classImages(m, cls).id}-${cls.arch}`;

/** The node class of an image class (the AWS layer names it by the class's name). */
const nodeClass = (m: EnvironmentModel, cls: ImageClass): NodeClass => talosCluster(m).nodeClasses.find((c) => c.name === cls.name)!;

const EC2_ARCH = { amd64: 'x86_64', arm64: 'arm64' } as const;

function registrationScript(m: EnvironmentModel, cls: NodeClass, ctx: ImageContext): string {
  const img = classImages(m, cls);
  const name = talosImageName(m, cls);
  const q = shQuote;
  return `#!/bin/sh
# Register the AMI of Talos ${talosCluster(m).version} for node class ${cls.name} (schematic ${img.id}, ${cls.arch})
# in ${m.aws.region}, account ${m.aws.accountId}, and record its id in SSM for npm run synth -- --refresh-ssm.
# Idempotent: an AMI of the same name (version, schematic, arch) is reused.
set -eu
region=${q(m.aws.region)}
name=${q(name)}
parameter=${q(talosImageParameter(m, cls))}
bucket=${q(ctx.importBucket)}
ami=$(aws ec2 describe-images --region "$region" --owners self --filters "Name=name,Values=$name" --query 'Images[0].ImageId' --output text)
if [ "$ami" = None ] || [ -z "$ami" ]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  curl -sfL ${q(img.diskImage)} -o "$dir/disk.raw.xz"
  xz -d "$dir/disk.raw.xz"
  aws s3 cp --region "$region" "$dir/disk.raw" "s3://$bucket/$name.raw"
  task=$(aws ec2 import-snapshot --region "$region" --role-name ${q(ctx.importRole)} --description "$name" --disk-container "Format=raw,UserBucket={S3Bucket=$bucket,S3Key=$name.raw}" --query ImportTaskId --output text)
  aws ec2 wait snapshot-imported --region "$region" --import-task-ids "$task"
  snapshot=$(aws ec2 describe-import-snapshot-tasks --region "$region" --import-task-ids "$task" --query 'ImportSnapshotTasks[0].SnapshotTaskDetail.SnapshotId' --output text)
  ami=$(aws ec2 register-image --region "$region" --name "$name" --architecture ${EC2_ARCH[cls.arch]} --virtualization-type hvm --ena-support --imds-support v2.0 --root-device-name /dev/xvda --block-device-mappings "DeviceName=/dev/xvda,Ebs={DeleteOnTermination=true,SnapshotId=$snapshot,VolumeType=gp3}" --query ImageId --output text)
  aws s3 rm --region "$region" "s3://$bucket/$name.raw"
fi
aws ssm put-parameter --region "$region" --type String --overwrite --name "$parameter" --value "$ami" >/dev/null
echo "${cls.name}: $ami recorded in $parameter; next: npm run synth -- --env ${m.name} --refresh-ssm"
`;
}

function joinScript(m: EnvironmentModel, names: { asg: (pool: EnvironmentModel['pools'][number]) => string; region: string }): { file: string; content: string } {
  const heartbeatSeconds = HEARTBEAT_SECONDS;
  const pools = m.pools.filter((p) => p.count !== undefined);
  const dir = workDir(m.name);
  const cases = pools.map((p) => `  ${shQuote(p.name)}) asg=${shQuote(names.asg(p))} ;;`).join('\n');
  const usage = pools.map((p) => p.name).join('|');
  return {
    file: 'talos-join.sh',
    content: `#!/bin/sh
# Give the new instances of an auto-scaled pool their Talos config: instances the pool launches
# (scale-out, instance refresh, replacement of an unhealthy one) boot in maintenance mode and wait in
# Pending:Wait under the launch lifecycle hook ${TALOS_APPLY_HOOK}; this applies the pool's config to each
# (materialized from the secrets bundle in SSM, outside the repository), waits for its Node to be Ready and
# only then lets it go InService: an instance refresh retires an old instance once its replacement is InService
# and warmed up, whether or not the replacement's Node is Ready.
# Each instance is handled on its own: a failure is reported with the instance id and the others go on; the
# script exits 1 at the end if any failed. A failed instance stays in Pending:Wait: run the script again to
# retry it (the instances already let go are no longer listed). Unattended, the hook times out after
# ${heartbeatSeconds} s and ABANDONs it: the group terminates it and launches a replacement, which waits for the next run.
# Run from the repository root, after the runbook's setup (its talosconfig), with KUBECONFIG set (the runbook's
# kubeconfig step: the API server's version is checked first), the environment's AWS credentials and network
# access to the nodes:
#   sh ${m.renderedDir}/aws/talos-join.sh POOL
# With a second argument \`waiting\`, it only prints the ids of the pool's instances waiting under the hook (none:
# an empty line) and changes nothing: the upgrade script asks it between its polls.
# With \`follow\`, it keeps going while the group's latest instance refresh runs (Pending, InProgress, Baking, and
# its rollback): the refresh replaces one instance at a time (infra/aws/roll.ts), so each replacement appears only
# after the previous one joined and an old instance was drained; it joins each as it waits, then stops with the
# refresh's final status (every ODP_POLL seconds, default 30).
set -eu
region=${shQuote(names.region)}
usage() { echo "usage: $0 ${usage || '(no auto-scaled pool)'} [waiting|follow]" >&2; exit 2; }
case "\${1:-}" in
${cases}
  *) usage ;;
esac
pool=$1
# The pool's instances waiting under the hook (text output: ids separated by tabs).
pending() { aws autoscaling describe-auto-scaling-instances --region "$region" --query "AutoScalingInstances[?AutoScalingGroupName=='$asg' && LifecycleState=='Pending:Wait'].InstanceId" --output text; }
follow=
case "\${2:-}" in
  '') ;;
  waiting) ids=$(pending); echo $ids; exit 0 ;;
  follow) follow=yes ;;
  *) usage ;;
esac
dir="${dir}"
[ -f "$dir/talosconfig" ] || { echo "talos-join: $dir/talosconfig is missing: run the runbook's setup (Talos client configuration) first" >&2; exit 2; }
mkdir -p -m 700 "$dir"
ids=$(pending)
[ -n "$(echo $ids)" ] || [ -n "$follow" ] || exit 0
# The config is materialized only when an instance waits for it.
npm run --silent talos -- config --env ${m.name} --node "$pool" --out "$dir/$pool.yaml"

# The pool's config carries a ${kubernetesMinor(m)} kubelet; a kubelet must never be newer than kube-apiserver (Kubernetes'
# version skew policy, ${SKEW_SOURCE}). Between the merge of a kubernetesVersion bump and talosctl upgrade-k8s
# (which upgrades the API servers first) a new instance would run a newer kubelet; a checkout behind the cluster an
# older one, left behind by the next upgrade-k8s. Either way: join nothing until the API server runs this minor.
api=$(kubectl get --raw /version) || { echo "talos-join: kubectl cannot ask the API server its version (KUBECONFIG: the runbook's kubeconfig step)" >&2; exit 2; }
api=$(printf '%s\\n' "$api" | sed -n 's/.*"gitVersion": *"v\\([0-9]*\\)\\.\\([0-9]*\\)\\..*/\\1.\\2/p')
case "$api" in
  ${kubernetesMinor(m)}) ;;
  '') echo "talos-join: the API server did not say its version" >&2; exit 2 ;;
  *)
    if [ "\${api#1.}" -lt ${kubernetesMinor(m).slice(2)} ]; then
      echo "talos-join: the API server runs Kubernetes $api, the pool's config kubelet ${kubernetesMinor(m)}: run the upgrade-k8s script first (npm run -s talos -- commands --env ${m.name} upgrade-k8s | sh); a kubelet newer than the API server breaks the version skew policy" >&2
    else
      echo "talos-join: the API server runs Kubernetes $api, the pool's config kubelet ${kubernetesMinor(m)}: this checkout is behind the cluster; update it" >&2
    fi
    exit 2 ;;
esac

# One instance; every failure returns 1 with a message naming it (set -e does not apply inside a function
# called as join "$id" || ...: each step says what happens when it fails).
join() {
  id=$1
  # A fresh timeout for the instance handled now (RecordLifecycleActionHeartbeat "extends the timeout by the length
  # of time defined" by the hook, AWS API reference): a long run never reaches an instance the hook has given up on.
  aws autoscaling record-lifecycle-action-heartbeat --region "$region" --auto-scaling-group-name "$asg" --lifecycle-hook-name ${TALOS_APPLY_HOOK} --instance-id "$id" || { echo "talos-join: $pool $id: no longer waiting under the hook ${TALOS_APPLY_HOOK}" >&2; return 1; }
  ip=$(aws ec2 describe-instances --region "$region" --instance-ids "$id" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text) || { echo "talos-join: $pool $id: its address could not be read" >&2; return 1; }
  case "$ip" in
    ''|*[!0-9.]*) echo "talos-join: $pool $id: no private IPv4 address ($ip)" >&2; return 1 ;;
  esac
  n=0
  # The maintenance API answers once the instance has booted. A node that already has its config (a run that
  # stopped after applying it, before the lifecycle action) refuses --insecure: its API then verifies client
  # certificates (Talos v1.13.9 internal/app/machined/pkg/controllers/runtime/api_service_config.go:108-135), so
  # it answers the runbook's talosconfig instead, and only the wait and the lifecycle action are left.
  until talosctl apply-config --insecure --nodes "$ip" --file "$dir/$pool.yaml"; do
    if talosctl --talosconfig "$dir/talosconfig" --nodes "$ip" version >/dev/null 2>&1; then
      echo "talos-join: $pool $id ($ip) already has its config"
      break
    fi
    n=$((n + 1))
    [ "$n" -lt 30 ] || { echo "talos-join: $pool $id ($ip) did not accept the config" >&2; return 1; }
    sleep 10
  done
  # Talos mirrors its Node's Ready condition into the NodeStatus resource (v1.13.9
  # internal/app/machined/pkg/controllers/k8s/node_status.go:231-247; v1.12.11 has it too).
  n=0
  until [ "$(talosctl --talosconfig "$dir/talosconfig" --nodes "$ip" get nodestatus -o jsonpath='{.spec.nodeReady}' 2>/dev/null)" = true ]; do
    n=$((n + 1))
    [ "$n" -lt 60 ] || { echo "talos-join: $pool $id ($ip) has its config, but its Node is not Ready after 10 minutes" >&2; return 1; }
    sleep 10
  done
  aws autoscaling complete-lifecycle-action --region "$region" --auto-scaling-group-name "$asg" --lifecycle-hook-name ${TALOS_APPLY_HOOK} --instance-id "$id" --lifecycle-action-result CONTINUE || { echo "talos-join: $pool $id ($ip): the lifecycle action could not be completed" >&2; return 1; }
  echo "talos-join: $pool $id ($ip) configured, Node Ready"
}

# The group's latest instance refresh still running (DescribeInstanceRefreshes lists the latest first; its statuses:
# EC2 Auto Scaling API reference, InstanceRefresh.Status): 0 running, 1 ended ($status says how), 2 unreadable.
refreshing() {
  status=$(aws autoscaling describe-instance-refreshes --region "$region" --auto-scaling-group-name "$asg" --max-records 1 --query 'InstanceRefreshes[0].Status' --output text) || return 2
  case "$status" in
    Pending|InProgress|Baking|Cancelling|RollbackInProgress) return 0 ;;
    *) return 1 ;;
  esac
}
failed=
while :; do
  for id in $ids; do
    join "$id" || failed="$failed $id"
  done
  [ -n "$follow" ] && [ -z "$failed" ] || break
  if refreshing; then :; else
    rc=$?
    [ "$rc" = 1 ] || { echo "talos-join: $pool: the instance refresh of $asg could not be read" >&2; exit 2; }
    echo "talos-join: $pool: the instance refresh of $asg has ended: $status"
    break
  fi
  sleep "\${ODP_POLL:-30}"
  ids=$(pending)
done
if [ -n "$failed" ]; then
  echo "talos-join: $pool: not joined:$failed (still in Pending:Wait: run sh ${m.renderedDir}/aws/talos-join.sh $pool again to retry them)" >&2
  exit 1
fi
`,
  };
}

const talosPorts = (): PortRule[] => [
  { protocol: 'tcp', from: 50000, to: 50000, peers: ['operators', 'controlplane'], targets: ['controlplane'], component: 'Talos apid', purpose: 'talosctl (the operators), and apid of the other control planes proxying requests', source: FIREWALL },
  {
    protocol: 'tcp',
    from: 50000,
    to: 50000,
    peers: ['operators', 'controlplane'],
    targets: ['worker'],
    component: 'Talos apid',
    purpose: 'the control planes proxy talosctl requests to workers; the operators apply the first config in maintenance mode (talosctl apply-config --insecure)',
    source: FIREWALL,
  },
  { protocol: 'tcp', from: 50001, to: 50001, peers: ['controlplane', 'worker'], targets: ['controlplane'], component: 'Talos trustd', purpose: 'nodes obtain their Talos API certificates from the control planes', source: FIREWALL },
  { protocol: 'tcp', from: 6443, to: 6443, peers: ['controlplane', 'worker'], targets: ['controlplane'], component: 'kube-apiserver', purpose: 'kubelets and host-network components reach the API servers directly through KubePrism (localhost:7445)', source: FIREWALL },
  { protocol: 'tcp', from: 2379, to: 2380, peers: ['controlplane'], targets: ['controlplane'], component: 'etcd', purpose: 'etcd client and peer traffic between the control planes', source: FIREWALL },
  { protocol: 'tcp', from: 10250, to: 10250, peers: ['controlplane', 'worker'], targets: ['controlplane', 'worker'], component: 'kubelet', purpose: 'the API server (logs, exec) and metrics-server reach every kubelet', source: FIREWALL },
];

export const talosAws: DistributionAwsFacts = {
  ports: talosPorts,
  flannel: { port: 4789, component: 'flannel (VXLAN, as Talos deploys it)', source: 'siderolabs/talos@v1.12.11:internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/flannel.go' },
  endpointPorts: (m) => [{ port: m.cluster.endpointPort, name: 'api', purpose: 'Kubernetes API (kubectl, the hub, the kubelets without KubePrism)', source: FIREWALL }],
  apiServerPort: () => ({ port: 6443, source: FIREWALL }),
  // One image per Image Factory schematic: arch, GPU driver, and a pool's own system extensions.
  imageClass: (_m, pool) => talosPool(pool).nodeClass,
  image(m, c, ctx): ImageFacts {
    const cls = nodeClass(m, c);
    const img = classImages(m, cls);
    return {
      parameter: talosImageParameter(m, cls),
      rootDevice: '/dev/xvda',
      description: `Talos ${talosCluster(m).version}, Image Factory schematic ${img.id.slice(0, 12)} (${cls.arch}), registered from ${img.diskImage}`,
      registration: { script: registrationScript(m, cls, ctx), needsImportBucket: true },
    };
  },
  // Talos taints control planes unless cluster.allowSchedulingOnControlPlanes, which the generator never sets.
  controlPlaneSchedulable: () => false,
  poolJoin: {
    kind: 'apply',
    hookName: TALOS_APPLY_HOOK,
    heartbeatSeconds: HEARTBEAT_SECONDS,
    why: 'a Talos config carries the cluster join secrets: it stays out of user data and launch templates (readable through IMDS and DescribeLaunchTemplateVersions); new pool instances wait in maintenance mode under a launch lifecycle hook until aws/talos-join.sh applies the pool config and their Node is Ready, so an instance refresh never retires old nodes before their replacements are Ready Nodes',
    script: joinScript,
  },
  poolTermination: {
    hook: false,
    why: 'pools hold workers only, which are no etcd members; the AWS cloud controller deletes the Node of a terminated instance, and the discovery service forgets the member on its own (its entries expire)',
  },
  // The uploader never deletes: the bucket's lifecycle rule expires the snapshots.
  snapshotRetention(m) {
    const days = talosCluster(m).snapshotExpireAfterDays;
    return { expireAfterDays: days, retention: `snapshots expire ${days} days after upload (cluster.datastore.backup.expireAfterDays; the uploader never deletes)` };
  },
  hostNeeds: () => [],
  // The node's name is its EC2 private DNS name (the IMDS hostname wins, ./machineconfig.ts), so the replacement
  // registers under the old name. Its etcd member: a control plane joining with an empty data directory removes a member
  // of its own name itself before adding itself as a learner (T@v1.13.9 internal/app/machined/pkg/system/services/
  // etcd.go:286-325; the member's name is the hostname: controllers/etcd/spec.go:204). Removing it first anyway (the
  // Talos way for a member that cannot `etcd leave`: cmd/talosctl/cmd/talos/etcd.go:170-187) also covers a replacement
  // whose hostname differs (another member would stay, dead, counting against quorum), and leaves two healthy members
  // of two rather than two of three while the new instance is created.
  replaceNode: (m, n) =>
    `${n.role === 'controlplane' ? "remove its etcd member from a healthy control plane (\`talosctl -n <healthy control plane> etcd members\` gives the member's id, then \`talosctl -n <healthy control plane> etcd remove-member <id>\`; keep the others' quorum); " : ''}${deleteOldNode(n)}. The new instance boots in maintenance mode: materialize and apply its config with \`--insecure\` (first apply), as when adding a node${n.role === 'controlplane' ? '; it then joins etcd by itself' : ''}`,
  controlPlanePodsWithNodeCredentials(m) {
    const backup = resolveAddons(m).some((a) => a.name === 'etcd-backup');
    return backup && !etcdBackupRoleArn(m) ? ['etcd-backup (talos-backup uploads snapshots with the instance profile)'] : [];
  },
  userData: (_m: EnvironmentModel, _t: ConfigTarget) => undefined,
  nodeUpdate: (m) => nodeUpdateFacts(m),
  fixedNodeConfig: 'boots in maintenance mode (no user data) and gets its config with `talosctl apply-config --insecure` (the Talos runbook)',
};
