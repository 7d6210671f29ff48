/**
 * Server flags of this family that the supervisor accepts at start and that leave the cluster without a component it
 * needs, refused at the extraArgs key that sets them (cluster.<name>.extraArgs applies to every server, then each
 * controlplane pool's own; ./containerd.ts targets merges them as the renderer does). Where each member puts the DNS
 * address and documents split roles: next to its call (its rules.ts).
 *
 * cluster-dns: the supervisor only parses it (the supervisor's pkg/cli/server/server.go @005499a9 run: `net.ParseIP`,
 * "invalid cluster-dns address"; without it, the service CIDR's 10th address, `utilsnet.GetIndexedIP(svcCIDR, 10)`),
 * never checks it against service-cidr. It becomes the clusterIP of the DNS Service and every kubelet's clusterDNS. The
 * API server refuses a Service address outside its range (kubernetes pkg/registry/core/service/ipallocator
 * ErrNotInRange: "the provided IP (…) is not in the valid range. The range of valid IPs is …") and the range's first
 * address is the kubernetes Service's (the supervisor adds it to the SANs as such: server.go `options.ServiceIPRange`):
 * either way the DNS Service is never created and pods have a nameserver nothing answers on.
 *
 * disable-etcd / disable-apiserver / disable-controller-manager / disable-scheduler split a server's roles (SPLIT_ROLE_FLAGS
 * below, with each member's "Managing Server Roles" page): refused on every server. See SPLIT_ROLE_FLAGS for why.
 */
import type { DocPath } from '../../lib/paths.js';
import { cidrContains, formatIpv4, parseCidr, parseIpv4 } from '../../lib/cidr.js';
import type { EnvironmentInput } from '../../model/input.js';
import type { Rule } from '../../validate/rules.js';
import { targets, type Settings, type Target } from './containerd.js';
import { listItems } from './flags.js';

/**
 * The server flags that split a server's roles, and the role a server keeps with each. Source: each member's "Managing
 * Server Roles" page (its address is the rolesDocs its rules.ts passes, with the quotes): "It is possible to disable
 * specific components in order to split the control-plane and etcd roles on to separate nodes": an etcd-only server
 * sets disable-apiserver, disable-controller-manager and disable-scheduler, a control-plane-only one disable-etcd and
 * joins an etcd server; "This document is only relevant when using embedded etcd". The supervisor takes all four as
 * hidden, experimental flags (./supervisor-flags.ts).
 *
 * Refused on every server, where set to true: the generator models every server as one etcd member running the whole
 * control plane. With split roles its API load balancer would send 6443 to servers with no API server, `etcd-odd`
 * would count servers that are not etcd members, the embedded-etcd restore script (restore-etcd.sh) would rejoin
 * every other server as an etcd member, and the upgrade gate would wait for an etcd pod on every server. Making each
 * of those role-aware was the alternative; refusing is simpler (one model of a server), and a split buys nothing this
 * generator's clusters need: a cluster grows its etcd by adding servers (docs/concepts/design-notes.md, Split server
 * roles).
 */
export const SPLIT_ROLE_FLAGS: Readonly<Record<string, { component: string; leaves: string }>> = {
  'disable-etcd': { component: 'etcd', leaves: 'a control-plane-only server (no etcd member)' },
  'disable-apiserver': { component: 'kube-apiserver', leaves: 'a server without an API server (etcd-only, with the other two)' },
  'disable-controller-manager': { component: 'kube-controller-manager', leaves: 'a server without a controller manager (etcd-only, with the other two)' },
  'disable-scheduler': { component: 'kube-scheduler', leaves: 'a server without a scheduler (etcd-only, with the other two)' },
};

/**
 * The rule for one distribution of the family: `name` as in cluster.distribution, `title` in messages, `rolesDocs` the
 * address of its "Managing Server Roles" page.
 */
export function serverArgsRule(name: string, title: string, rolesDocs: string, settings: (input: EnvironmentInput) => Settings): Rule {
  // Declared as a Rule (not returned bare) so that generators/docs/rules.ts finds its reports.
  const rule: Rule = ({ input }, report) => {
    if (input.cluster.distribution !== name) return;
    const servers = targets(input, name, settings(input)).filter((t) => t.server);
    if (!servers.length) return;
    const reported = new Set<string>();
    const once = (t: Target, key: string): DocPath | undefined => {
      const at = t.at(key);
      const k = at.join('\u0000');
      if (reported.has(k)) return undefined;
      reported.add(k);
      return at;
    };

    const svc = parseCidr(input.cluster.network.serviceCIDR);
    if (svc && !svc.hostBits)
      for (const t of servers) {
        const value = t.args['cluster-dns'];
        if (typeof value !== 'string' && !Array.isArray(value)) continue;
        const at = once(t, 'cluster-dns');
        if (!at) continue;
        const hint = `remove cluster-dns (${title} then takes the service CIDR's 10th address, ${formatIpv4(svc.base + 10)}), or give an address inside ${svc.text} other than its first`;
        for (const raw of listItems(value)) {
          const item = String(raw).trim();
          const ip = parseIpv4(item);
          if (ip === undefined && !item.includes(':')) continue; // not an address: the flag check reports it
          if (ip !== undefined && ip === svc.base + 1)
            report('cluster-dns', at, `cluster-dns ${item} is the first address of the service CIDR ${svc.text}, the kubernetes Service's: ${title} gives it to the DNS Service, which the API server refuses (the address is taken), so no DNS Service exists and no pod resolves a name`, { hint });
          else if (ip === undefined || !cidrContains(svc, ip))
            report('cluster-dns', at, `cluster-dns ${item} is outside the service CIDR ${svc.text} (cluster.network.serviceCIDR): ${title} makes it the DNS Service's clusterIP and every pod's nameserver, and the API server refuses a Service address outside its range ("the provided IP is not in the valid range"), so no DNS Service exists and no pod resolves a name`, { hint });
        }
      }

    const etcd = input.cluster.datastore.type === 'etcd';
    const why = etcd
      ? 'the generator runs every server as an etcd member with the whole control plane (the API load balancer targets every server, etcd-odd counts every server as a member, the restore and the upgrade gate expect etcd on every server)'
      : `on ${input.cluster.datastore.type} there is no embedded etcd and every server runs the whole control plane against the database (the roles pages: "only relevant when using embedded etcd"; the API load balancer targets every server)`;
    const hint = (flag: string): string => (etcd ? `remove ${flag}: every server runs etcd and the whole control plane; to grow etcd, add servers, keeping their number odd` : `remove ${flag}: with Kine every server runs the whole control plane`);
    for (const [flag, { component, leaves }] of Object.entries(SPLIT_ROLE_FLAGS))
      for (const t of servers) {
        if (t.args[flag] !== true) continue;
        const at = once(t, flag);
        if (at) report('server-roles', at, `${flag} turns off ${component} on the servers of ${at[0] === 'cluster' ? 'every controlplane pool' : `controlplane pool '${t.pool}'`}, making ${leaves}: split server roles (${rolesDocs}) are not supported: ${why}`, { hint: hint(flag) });
      }
  };
  return rule;
}

/** Each item of `disable` on the servers (cluster.<name>.extraArgs, then each controlplane pool's), with where it is written. */
export function serverDisableItems(input: EnvironmentInput, name: string, settings: Settings): { item: string; at: DocPath }[] {
  const items = (value: unknown, at: DocPath): { item: string; at: DocPath }[] =>
    typeof value !== 'string' && !Array.isArray(value) ? [] : listItems(value).map((raw, i) => ({ item: String(raw).trim(), at: Array.isArray(value) ? [...at, i] : at }));
  return [
    ...items(settings.cluster?.extraArgs?.disable, ['cluster', name, 'extraArgs', 'disable']),
    ...input.nodePools.flatMap((p, i) => (p.role === 'controlplane' ? items(settings.pool(i)?.extraArgs?.disable, ['nodePools', i, name, 'extraArgs', 'disable']) : [])),
  ];
}
