/**
 * NetworkPolicy enforcement: every workload namespace gets a default-deny NetworkPolicy and each
 * workload its own policy, and the runbook promises they hold. An environment whose CNI cannot
 * enforce them would silently allow everything, so it is refused.
 */
import type { DocPath } from '../lib/paths.js';
import { minorOf } from '../model/build.js';
import { DEFAULTS } from '../model/defaults.js';
import { FLANNEL_NETWORK_POLICIES_SINCE, networkPolicyEnforcer, TALOS_RELEASES } from '../talos/release.js';
import type { Rule } from './rules.js';

const networkPolicyEnforcement: Rule = ({ input }, report) => {
  const c = input.cluster;
  const workloads = input.workloads ?? [];
  if (c.distribution !== 'talos' || !c.talosVersion || workloads.length === 0) return;
  const minor = minorOf(c.talosVersion);
  if (!(minor in TALOS_RELEASES)) return; // talos-version reports it
  const cni = c.network.cni ?? DEFAULTS.cni;
  if (networkPolicyEnforcer(c.distribution, cni, minor) !== undefined) return;
  const at: DocPath = c.network.cni !== undefined ? ['cluster', 'network', 'cni'] : ['cluster', 'talosVersion'];
  const n = workloads.length;
  report(
    'network-policy-enforcement',
    at,
    `Talos ${c.talosVersion} with ${cni} cannot enforce NetworkPolicies, but ${n === 1 ? '1 workload relies' : `${n} workloads rely`} on them (default-deny per namespace): all traffic would be allowed`,
    { hint: `set cluster.network.cni: cilium, or pin Talos ≥ v${FLANNEL_NETWORK_POLICIES_SINCE} (flannel with kube-network-policies)` },
  );
};

export const NETWORK_RULES: readonly Rule[] = [networkPolicyEnforcement];
