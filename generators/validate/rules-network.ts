/**
 * NetworkPolicy enforcement: every workload namespace gets a default-deny NetworkPolicy and each
 * workload its own policy, and the runbook promises they hold. An environment whose CNI cannot
 * enforce them would silently allow everything, so it is refused.
 */
import { cidrContains, parseCidr, parseIpv4 } from '../lib/cidr.js';
import { distributions } from '../distributions/registry.js';
import { IMDS_IPV4 } from '../model/aws.js';
import type { Rule } from './rules.js';

/** What the distribution refuses when nothing would enforce the workloads' NetworkPolicies. */
const networkPolicyEnforcement: Rule = (ctx, report) => {
  for (const d of distributions()) d.rules.network?.(ctx, report);
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
