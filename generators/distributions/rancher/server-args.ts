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
 * disable-apiserver / disable-controller-manager / disable-scheduler / disable-etcd split a server's roles (each
 * member's "Managing Server Roles" page: etcd-only servers disable the three control-plane components;
 * control-plane-only servers disable etcd and join an existing etcd server). Refused only where nothing is left:
 * - a control-plane component disabled on every server: no server runs it;
 * - disable-etcd on the first controlplane pool (its first node is the server that bootstraps embedded etcd, ./config.ts
 *   isFirstServer; "A dedicated control-plane node cannot be the first server in the cluster", the same pages): it
 *   boots with no server to join and the supervisor refuses to start ("invalid flag use; --server is required with
 *   --disable-etcd", server.go run) — so disable-etcd on every server is refused too;
 * - disable-etcd on any server of a Kine datastore: there is no embedded etcd to disable (the pages: "only relevant when
 *   using embedded etcd"), and the generator gives Kine servers no `server` to join, so the same refusal to start.
 */
import type { DocPath } from '../../lib/paths.js';
import { cidrContains, formatIpv4, parseCidr, parseIpv4 } from '../../lib/cidr.js';
import type { EnvironmentInput } from '../../model/input.js';
import type { Rule } from '../../validate/rules.js';
import { targets, type Settings, type Target } from './containerd.js';
import { listItems } from './flags.js';

/** The control-plane components a server flag turns off, and what a cluster without them does. */
const CONTROL_PLANE: Readonly<Record<string, { component: string; effect: string }>> = {
  'disable-apiserver': { component: 'kube-apiserver', effect: 'the cluster has no API: no node registers, and neither the bootstrap nor the GitOps engine has anything to talk to' },
  'disable-controller-manager': { component: 'kube-controller-manager', effect: 'no controller runs: Deployments never get pods, Jobs never run, no ServiceAccount token or node lifecycle is handled' },
  'disable-scheduler': { component: 'kube-scheduler', effect: 'no pod is ever scheduled: everything but static pods stays Pending' },
};

/**
 * The rule for one distribution of the family: `name` as in cluster.distribution, `title` in messages, `rolesDocs` the
 * address of its "Managing Server Roles" page.
 */
export function serverArgsRule(name: string, title: string, rolesDocs: string, settings: (input: EnvironmentInput) => Settings): Rule {
  const roles = `the flag is for split server roles (${rolesDocs})`;
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

    for (const [flag, { component, effect }] of Object.entries(CONTROL_PLANE)) {
      if (!servers.every((t) => t.args[flag] === true)) continue;
      for (const t of servers) {
        const at = once(t, flag);
        if (at) report('server-components', at, `${flag} is set on every server (every controlplane pool): no server runs ${component}, so ${effect}`, { hint: `${roles}: keep at least one controlplane pool without it` });
      }
    }

    const etcd = input.cluster.datastore.type === 'etcd';
    for (const [i, t] of servers.entries()) {
      if (t.args['disable-etcd'] !== true) continue;
      if (!etcd) {
        const at = once(t, 'disable-etcd');
        if (at) report('server-components', at, `disable-etcd on a ${input.cluster.datastore.type} cluster: there is no embedded etcd to disable, and ${title} refuses to start a server with it and no server to join ("invalid flag use; --server is required with --disable-etcd"), which Kine servers never have`, { hint: 'remove disable-etcd: with Kine every server runs the whole control plane against the database' });
      } else if (i === 0) {
        const at = once(t, 'disable-etcd');
        if (at) report('server-components', at, `disable-etcd on controlplane pool '${t.pool}', whose first node is the server that bootstraps the cluster's etcd: a control-plane-only server cannot be the first, it boots with no server to join and ${title} refuses to start ("invalid flag use; --server is required with --disable-etcd"), so the cluster never gets etcd`, { hint: `${roles}: set it only on a later controlplane pool, whose servers join the first pool's etcd` });
      }
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
