/**
 * RKE2's part of the environment: its input keys (rke2Version, cluster.rke2, nodePools[].rke2) and its
 * part of the model, the shape this family shares (../rancher/model.ts).
 */
import type { EnvironmentModel, NodePool } from '../../model/types.js';
import { RKE2_ARTIFACTS } from './artifacts.js';
import { RKE2_SCHEMA } from './schema.js';
import { rke2EtcdImageTag } from './etcd-image.js';
import { shQuote } from '../rancher/boot.js';
import { kineServerGate, SERVER_UPGRADE_GATE, serverGateScript } from '../rancher/upgrade-gate.js';
import { rancherCluster, rancherPool, type RancherCluster, type RancherClusterSettingsInput, type RancherKeys, type RancherPool, type RancherPoolSettingsInput } from '../rancher/model.js';

export interface Rke2ClusterInput {
  rke2Version?: string;
  rke2?: RancherClusterSettingsInput;
}

export interface Rke2PoolInput {
  rke2?: RancherPoolSettingsInput;
}

/**
 * The server Plan's gate on embedded etcd: no server is upgraded while another one is not back with its etcd.
 *
 * - The upgrade Job ends as soon as the binary is replaced and rke2 (with its containerd and kubelet) is SIGTERMed
 *   (rancher/rke2-upgrade@f76c6e05 scripts/upgrade.sh upgrade(): replace_binary, kill_rke2_process; systemd restarts it,
 *   rancher/rke2 bundle/lib/systemd/system/rke2-server.service:22-23 @ v1.35.7+rke2r1: Restart=always RestartSec=5s).
 * - The controller then labels the node done and creates the next node's Job at once (rancher/system-upgrade-controller
 *   v0.20.1 pkg/upgrade/handle_batch.go:103-135, the node label set once PostCompleteDelay elapsed; pkg/upgrade/plan/plan.go
 *   SelectConcurrentNodes: every node without the latest hash is a candidate): nothing waits for the restarted server.
 *   With concurrency 1 a second server could thus restart while the first one's etcd is still down (its static pod
 *   replaced by the restarted kubelet, the new image pulled), or after the first never came back: two of three
 *   members down, quorum lost.
 * - So the prepare container (privileged, the host at /host, host network: job.go:200-201, the prepare init container
 *   329-346) first waits until every server's Node is Ready and its etcd static pod (`etcd-<node>` in kube-system,
 *   labels component=etcd: rancher/rke2@6ce1a801 pkg/podtemplate/podtemplate.go:63-69) is Ready, asking the local API
 *   server with the node's admin kubeconfig (a read that needs the etcd quorum; kubectl in /var/lib/rancher/rke2/bin,
 *   the kubeconfig /etc/rancher/rke2/rke2.yaml: rke2-docs@9477b7b1 docs/cluster_access.md:6,11). The etcd pod has a startup probe on
 *   /health (pkg/podtemplate/spec.go:64-84, port 2381, loopback only), so it is Ready only once that etcd runs; etcd's
 *   own /health is not reachable from another node (2379 serves gRPC only once listen-client-http-urls is set, the
 *   supervisor's pkg/etcd/etcd.go listenClientHTTPURLs; 2381 listens on loopback, listenMetricsURLs). After
 *   `tries` × `interval` s the Job fails and this server is not touched (the controller retries the Job).
 * - postCompleteDelay (pkg/apis/upgrade.cattle.io/v1/types.go:84-85 @ v0.20.1: "Time after a Job for one Node is complete before a new Job will be created for the
 *   next Node") gives the restarted server time first: right after the Job ends, its kubelet is gone but the Node and
 *   the etcd pod still read Ready until the node lifecycle controller's grace period has passed (and the old etcd
 *   container, whose shim outlives containerd, still runs).
 * - Old or new etcd pod: a Ready read after the delay can still be the OLD pod's (the mirror pod of the previous
 *   manifest, while the restarted supervisor has not yet rewritten etcd.yaml or the kubelet is still pulling the new
 *   etcd image: a replacement slower than the delay). The supervisor rewrites the etcd manifest with its release's
 *   etcd image (rancher/rke2 v1.35.7+rke2r1 pkg/executor/staticpod/staticpod.go:384-425 ETCD → writeTemplate
 *   596-646, the image from pkg/images/images.go:242-246 DefaultEtcdImage; the tag per release: ./etcd-image.ts),
 *   and an upgraded server's kubelet reports the Plan's version as the Node's `.status.nodeInfo.kubeletVersion`
 *   (what the upgrade image's own agent prepare step compares with the Plan's version: rancher/rke2-upgrade@f76c6e05
 *   scripts/upgrade.sh verify_masters_versions). So a server whose kubelet is the Plan's release is back only once its
 *   etcd pod is Ready AND runs the release's etcd image; a server not yet upgraded keeps its old pod, rightly.
 */
export const ETCD_UPGRADE_GATE = { ...SERVER_UPGRADE_GATE, kubectl: '/var/lib/rancher/rke2/bin/kubectl', kubeconfig: '/etc/rancher/rke2/rke2.yaml' } as const;

/** The server Plan's prepare script on embedded etcd: every server and its etcd back (../rancher/upgrade-gate.ts), then the pre-upgrade snapshot. */
export function etcdUpgradeGate(m: EnvironmentModel): string {
  const g = ETCD_UPGRADE_GATE;
  const ready = (what: string) => `-o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'` + what;
  const version = rke2Cluster(m).version ?? '';
  const etcd = etcdImageTag(m);
  return serverGateScript(m, {
    kubectl: g.kubectl,
    kubeconfig: g.kubeconfig,
    head: [`RELEASE=${shQuote(version)}`, `ETCD_TAG_START=${shQuote(etcd.prefix)}`, `ETCD_TAG_END=${shQuote(etcd.suffix)}`],
    comment: [
      '# The Node of an address, Ready, and its etcd pod Ready; on a server already upgraded (its kubelet is the release),',
      "# the etcd pod is the new one (the release's etcd image), not the old pod's last status.",
    ],
    back: [
      `  [ "$($K -n kube-system get pod "etcd-$node" ${ready(')" = True ] || return 1')}`,
      `  [ "$($K get node "$node" -o jsonpath='{.status.nodeInfo.kubeletVersion}')" = "$RELEASE" ] || return 0`,
      `  image=$($K -n kube-system get pod "etcd-$node" -o jsonpath='{.spec.containers[?(@.name=="etcd")].image}')`,
      '  case "${image##*:}" in "$ETCD_TAG_START"*"$ETCD_TAG_END") ;; *) return 1 ;; esac',
    ],
    what: ' or its etcd',
    reason: 'a second server down would lose the etcd quorum',
    tail: ['exec /usr/local/bin/rke2 etcd-snapshot save --name pre-upgrade'],
  });
}

/**
 * The etcd image tag the environment's servers run once upgraded, as the start and end the gate matches: the release's
 * (./etcd-image.ts), or the whole tag of an `etcd-image` the environment sets for its servers (extraArgs of the cluster
 * or a control-plane pool; the pool's wins).
 */
function etcdImageTag(m: EnvironmentModel): { prefix: string; suffix: string } {
  const cluster = rke2Cluster(m).extraArgs['etcd-image'];
  const pools = m.pools.filter((p) => p.role === 'controlplane').map((p) => rke2Pool(p).extraArgs['etcd-image']);
  const set = [...pools, cluster].find((v) => typeof v === 'string');
  return typeof set === 'string' ? { prefix: set.slice(set.lastIndexOf(':') + 1), suffix: '' } : rke2EtcdImageTag(rke2Cluster(m).version ?? '');
}

export const RKE2_KEYS: RancherKeys = {
  // The units the user data enables (userdata.ts rke2Unit).
  unit: (role) => `rke2-${role}`,
  name: 'rke2',
  title: 'RKE2',
  versionKey: 'rke2Version',
  fixedAtCreation: ['cni', 'disable-kube-proxy', 'cluster-cidr', 'service-cidr', 'cluster-domain', 'cluster-dns', 'datastore-endpoint', 'datastore-cafile'],
  artifacts: () => RKE2_ARTIFACTS,
  releasePattern: () => String(RKE2_SCHEMA.release.rke2Version!.pattern),
  upgrade: {
    // rancher/rke2-upgrade: replaces the binary and SIGTERMs rke2 with its containerd and kubelet
    // (scripts/upgrade.sh upgrade()); install.sh never runs.
    image: 'rancher/rke2-upgrade',
    backup: (m) =>
      m.cluster.datastore.type === 'etcd'
        ? {
            prepare: { command: ['chroot', '/host'], args: ['sh', '-c', etcdUpgradeGate(m)] },
            postCompleteDelay: ETCD_UPGRADE_GATE.postCompleteDelay,
            text: `each server waits until every server's Node and etcd pod are Ready, an upgraded server's etcd pod the new release's (the server the previous Job restarted is back, so no two are down together), then takes an on-demand etcd snapshot (\`rke2 etcd-snapshot save --name pre-upgrade\` in the server Plan's prepare step${m.cluster.datastore.backup ? ', uploaded to S3 like the scheduled ones' : ', kept on the node: no S3 backup is configured'}); the controller waits ${ETCD_UPGRADE_GATE.postCompleteDelay} after each server's Job before the next one (postCompleteDelay), time for the restarted server to replace its etcd`,
          }
        : kineServerGate(m, ETCD_UPGRADE_GATE.kubectl, ETCD_UPGRADE_GATE.kubeconfig),
  },
};

export const rke2Cluster = (m: Pick<EnvironmentModel, 'cluster'>): RancherCluster => rancherCluster(m);
export const rke2Pool = (p: NodePool): RancherPool => rancherPool(p);
