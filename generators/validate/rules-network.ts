/**
 * NetworkPolicy enforcement: every workload namespace gets a default-deny NetworkPolicy and each
 * workload its own policy, and the runbook promises they hold. An environment whose CNI cannot
 * enforce them would silently allow everything, so it is refused.
 */
import { cidrContains, parseCidr, parseIpv4 } from '../lib/cidr.js';
import type { DocPath } from '../lib/paths.js';
import { IMDS_IPV4 } from '../model/aws.js';
import { minorOf } from '../model/build.js';
import { DEFAULTS } from '../model/defaults.js';
import { FLANNEL_NETWORK_POLICIES_SINCE, flannelNetworkPolicyEnforcer, TALOS_RELEASES } from '../distributions/talos/release.js';
import type { Rule } from './rules.js';

const networkPolicyEnforcement: Rule = ({ input }, report) => {
  const c = input.cluster;
  const workloads = input.workloads ?? [];
  if (c.distribution !== 'talos' || !c.talosVersion || workloads.length === 0) return;
  const minor = minorOf(c.talosVersion);
  if (!(minor in TALOS_RELEASES)) return; // talos-version reports it
  const cni = c.network.cni ?? DEFAULTS.cni;
  if (cni === 'cilium' || flannelNetworkPolicyEnforcer(minor) !== undefined) return;
  const at: DocPath = c.network.cni !== undefined ? ['cluster', 'network', 'cni'] : ['cluster', 'talosVersion'];
  const n = workloads.length;
  report(
    'network-policy-enforcement',
    at,
    `Talos ${c.talosVersion} with ${cni} cannot enforce NetworkPolicies, but ${n === 1 ? '1 workload relies' : `${n} workloads rely`} on them (default-deny per namespace): all traffic would be allowed`,
    { hint: `set cluster.network.cni: cilium, or pin Talos ≥ v${FLANNEL_NETWORK_POLICIES_SINCE} (flannel with kube-network-policies)` },
  );
};

/**
 * Workloads never reach the instance metadata service: a wider egress CIDR containing it is
 * rendered with an except, but a CIDR that is IMDS itself cannot except it, so it is refused.
 */
const egressImds: Rule = ({ input }, report) =>
  (input.workloads ?? []).forEach((w, i) =>
    (w.network?.egressTo ?? []).forEach((to, j) => {
      const c = to.cidr === undefined ? undefined : parseCidr(to.cidr);
      if (c && c.bits === 32 && cidrContains(c, parseIpv4(IMDS_IPV4)!))
        report('workload-egress-imds', ['workloads', i, 'network', 'egressTo', j, 'cidr'], `egress to ${to.cidr} is the EC2 instance metadata service, which workloads never reach (it serves the node's instance-profile credentials and user data)`, {
          hint: 'remove this entry; a workload that needs AWS credentials uses IRSA (aws.iam.mode: irsa, serviceAccount.iamRoleArn)',
        });
    }),
  );

export const NETWORK_RULES: readonly Rule[] = [networkPolicyEnforcement, egressImds];
