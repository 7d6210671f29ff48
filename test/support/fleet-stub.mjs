/**
 * What the fleet stubs (talos-fleet.mjs, fixed-fleet.mjs: one file linked as several commands) share: their state
 * and call log, and `kubectl drain`.
 *
 * openFleet(): the command (the link's name) and its arguments; the state $FLEET/fleet.json (`f`, written back by
 * `save`); the call appended to $FLEET/calls.log; `opt(name)`, the value after a flag; `event(e)`, appended to f.events.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export function openFleet() {
  const cmd = basename(process.argv[1]);
  const args = process.argv.slice(2);
  const file = join(process.env.FLEET, 'fleet.json');
  const f = JSON.parse(readFileSync(file, 'utf8'));
  appendFileSync(join(process.env.FLEET, 'calls.log'), `${cmd} ${args.join(' ')}\n`);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  const event = (e) => {
    f.events = [...(f.events ?? []), e];
  };
  return { cmd, args, f, save: () => writeFileSync(file, JSON.stringify(f, null, 2)), opt, event };
}

/**
 * `kubectl drain NAME`, on the stubs' shared state shape: `nodes` keyed by
 * address ({ name, role, down?, unreachable?, maintenance?, cordoned? }), `pods` ({ ns, name, app, node, daemonSet?, bare? }),
 * `pdbs` ({ ns, app, minAvailable }). As kubectl does it (kubernetes/kubectl@dee3483a3 pkg/drain/drain.go:295-330,
 * pkg/cmd/drain/drain.go:226-230, 335-360): cordons the Node, refuses DaemonSet pods without --ignore-daemonsets and pods
 * without a controller without --force, evicts the others: a PodDisruptionBudget with no disruption allowed refuses with
 * 429 "Cannot evict pod as it would violate the pod's disruption budget." (kubernetes/kubernetes
 * pkg/registry/core/pod/storage/eviction.go), retried until --timeout ("global timeout reached"), exit 1. An evicted
 * pod's replacement runs on another schedulable worker.
 */
export function drain(f, n, args, save) {
  const out = (l) => process.stdout.write(`${l}\n`);
  const err = (l) => process.stderr.write(`${l}\n`);
  const fail = (l) => {
    err(`kubectl: ${l}`);
    process.exit(1);
  };
  n.cordoned = true;
  save();
  out(`node/${n.name} cordoned`);
  const pods = (f.pods ?? []).filter((p) => p.node === n.name);
  const ds = pods.filter((p) => p.daemonSet);
  if (ds.length > 0 && !args.includes('--ignore-daemonsets')) fail(`error: unable to drain node "${n.name}" due to error: cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${ds.map((p) => `${p.ns}/${p.name}`).join(', ')}, continuing command...`);
  if (ds.length > 0) err(`Warning: ignoring DaemonSet-managed Pods: ${ds.map((p) => `${p.ns}/${p.name}`).join(', ')}`);
  const bare = pods.filter((p) => p.bare);
  if (bare.length > 0 && !args.includes('--force')) fail(`error: unable to drain node "${n.name}" due to error: cannot delete Pods that declare no controller (use --force to override): ${bare.map((p) => `${p.ns}/${p.name}`).join(', ')}, continuing command...`);
  const timeout = (/^--timeout=(.+)$/.exec(args.find((a) => a.startsWith('--timeout=')) ?? '')?.[1] ?? '0s').replace(/^(\d+)m$/, '$1m0s');
  const up = (node) => node && !node.down && !node.unreachable && !node.maintenance;
  const stuck = [];
  for (const p of pods.filter((x) => !x.daemonSet)) {
    out(`evicting pod ${p.ns}/${p.name}`);
    const pdb = (f.pdbs ?? []).find((b) => b.ns === p.ns && b.app === p.app);
    const healthy = (f.pods ?? []).filter((x) => x.app === p.app && x.ns === p.ns && up(Object.values(f.nodes).find((y) => y.name === x.node))).length;
    if (pdb && healthy - 1 < pdb.minAvailable) {
      err(`error when evicting pods/"${p.name}" -n "${p.ns}" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.`);
      stuck.push(p);
      continue;
    }
    const to = Object.values(f.nodes).find((y) => y !== n && up(y) && !y.cordoned && y.role !== 'controlplane');
    if (p.bare || !to) f.pods = f.pods.filter((x) => x !== p);
    else p.node = to.name;
    out(`pod/${p.name} evicted`);
  }
  save();
  if (stuck.length > 0) {
    err(`error: unable to drain node "${n.name}" due to error: ${stuck.map((p) => `error when evicting pods/"${p.name}" -n "${p.ns}": global timeout reached: ${timeout}`).join(', ')}, continuing command...`);
    err(`There are pending nodes to be drained:\n ${n.name}`);
    process.exit(1);
  }
  out(`node/${n.name} drained`);
}
