#!/usr/bin/env node
/**
 * Stub binaries of a Talos cluster on EC2 Auto Scaling in motion, for tests that run the Talos runbook
 * scripts and aws/talos-join.sh together (test/talos-motion.test.ts links talosctl, kubectl, aws, npm and
 * sleep to this file). State: $FLEET/fleet.json; every call is appended to $FLEET/calls.log. They behave as
 * upstream does where the scripts depend on it:
 *
 * - talosctl (Talos v1.13.9): `apply-config --insecure` only in maintenance mode (a configured node's API
 *   verifies client certificates: internal/app/machined/pkg/controllers/runtime/api_service_config.go:108-135);
 *   an unreachable address is "connection refused"; `health` and `etcd members` refused on workers ("… is only
 *   available on control plane nodes": v1alpha1_cluster.go:34-37) and failing while a node reboots or etcd has
 *   no leader; `upgrade` reboots the node into the image's version (down for two asks), its etcd down meanwhile;
 *   `get nodestatus` answers the Node's Ready condition (controllers/k8s/node_status.go:231-247).
 *   `apply-config` of a configured node by mode (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go
 *   :245-264, 305-335): with fleet.rebootOnApply a config other than the running one changes a field outside
 *   CanApplyImmediate's list: `no-reboot` is refused (InvalidArgument "… can't be applied in immediate mode"),
 *   `staged` keeps it for the next boot, and `auto` returns with the reboot only scheduled: the node keeps answering
 *   (its etcd included) for ten more asks while the kubelet shuts down and the pods stop, then it is down for two
 *   (v1alpha1_sequencer.go:238-255). `reboot` (--wait, the default) returns once the node booted again (boot ID
 *   changed), its etcd rejoining at the next ask. A control plane going down while another one is down or about to
 *   go down is recorded in `unsafe`. `--dry-run` changes nothing. `kubeconfig --nodes <cp> … <path>`: writes this
 *   cluster's admin kubeconfig (cmd/talosctl/cmd/talos/kubeconfig.go:44-125). A node marked `unreachable` answers
 *   nothing ("connection refused"). `reboot` stops the node's pods without evicting them (the Reboot sequence has no
 *   drain: v1alpha1_sequencer.go:238-256): a workload pod still there is recorded in `rebootedWithPods`.
 *   `health` (v1alpha1_cluster.go:126-163, pkg/cluster/check/default.go, kubernetes.go): it expects the nodes of
 *   --control-plane-nodes/--worker-nodes when given, else discovery's members: every node out of maintenance mode and
 *   the `affiliates` of terminated instances until their TTL (30 minutes) expires; it fails while an expected node is
 *   down or unreachable, the Nodes differ from the expected ones, or any Node is down or cordoned (every Node is listed:
 *   kubernetes.go:216-260). Time: `clock` (minutes); a health check that fails has waited its --wait-timeout.
 * - kubectl drain NAME (kubernetes/kubectl@dee3483a3 pkg/drain/drain.go:295-330, pkg/cmd/drain/drain.go:226-230,
 *   335-360): cordons the Node, refuses DaemonSet pods without --ignore-daemonsets and pods without a controller
 *   without --force, evicts the others: a PodDisruptionBudget (`pdbs`: app, minAvailable) with no disruption allowed
 *   refuses with 429 "Cannot evict pod as it would violate the pod's disruption budget." (kubernetes/kubernetes
 *   pkg/registry/core/pod/storage/eviction.go), retried until --timeout ("global timeout reached"), exit 1. An evicted
 *   pod's replacement runs on another schedulable node. `kubectl uncordon NAME`.
 * - kubectl get --raw /version: the API server's version (fleet.api). kubectl get nodes -l node.opendev.dev/pool=P: the registered Nodes of P (instances out of maintenance mode),
 *   their InternalIP or their osImage, "Talos (<tag>)" (pkg/machinery/version/osrelease.go:15-27). With KUBECONFIG set
 *   to a file other than the one `talosctl kubeconfig` wrote, kubectl asks another cluster: none of these Nodes.
 * - aws autoscaling: describe-auto-scaling-instances (the `--query` of talos-join.sh), record-lifecycle-action-
 *   heartbeat and complete-lifecycle-action only for an instance in Pending:Wait under that group's hook (else
 *   ValidationError, exit 254: AWS CLI v2 return codes); the instance refresh (MinHealthyPercentage 100: a
 *   replacement launched first) terminates one old instance of the group each time a replacement goes InService;
 *   a terminated instance's Node is deleted (the cloud controller). An instance in state `Unlaunched` is a
 *   replacement the refresh has not launched yet (MaxHealthyPercentage leaves room for one at a time,
 *   infra/aws/roll.ts): it launches (Pending, then Pending:Wait at the next sleep) when an old instance is terminated.
 *   describe-instance-refreshes: the group's latest refresh InProgress while an old instance is not terminated or a
 *   replacement not launched, else Successful.
 *   ec2 describe-instances: the instance's private address.
 *   `gen config … -o FILE` refuses an existing FILE without --force (cmd/talosctl/cmd/mgmt/gen/gen.go:32-41).
 * - talosctl endpoints: `config endpoint A B …` sets the talosconfig's endpoints (kept in fleet.endpoints); every later
 *   call goes through one that is up (the round-robin resolver over all of them, shuffled, uses only connections that
 *   are up: pkg/machinery/client/resolver/roundrobin.go:64-104) and fails "connection refused" when none is.
 * - A config rendered for a newer Talos minor than the node runs carries a field the older machined does not know (the
 *   fixture's flannel kubeNetworkPoliciesEnabled, new in 1.13): `apply-config` (--dry-run too) refuses it as a whole,
 *   InvalidArgument "unknown keys found during decoding" (T@v1.12.11 configloader/internal/decoder/decoder.go:74,
 *   196-198; v1alpha1_server.go:208-210); refusals are recorded in `refusedConfigs`.
 * - `upgrade` drains the node first, by the version it runs (release.ts upgradeDrainOnBudget): a 1.12 node drains
 *   itself (legacy MachineService.Upgrade) and after 5 minutes reboots with a pod a budget kept (recorded in
 *   `upgradedThroughBudget`; unmanaged pods are skipped, stopped by the reboot); a 1.13 node is drained by talosctl
 *   (kubectl's drain library: Force) and a budget that blocks fails the command, the node left cordoned, not rebooted,
 *   the new image installed for its next boot (cmd/talosctl/cmd/talos/upgrade.go:148-166). A Node cordoned before the
 *   upgrade stays cordoned (Talos uncordons only what it cordoned: controllers/k8s/node_apply.go:466-489).
 * - A failed `upgrade` (fleet.upgradeFailure by node name; release.ts TALOS_UPGRADE_FAILURE): `pull` refused before
 *   anything (1.13 "error pulling upgrade image", 1.12 "error validating installer image"); `install` the installer
 *   exits 1 (1.13: "<ip>: upgrade failed with exit code 1", nothing installed); `sequence` (1.12) the Upgrade sequence
 *   fails after stopping the node's services: stage `rebooting`, the node answering; a pod with `lateOn: <node>` is
 *   scheduled on the node after the runbook's drain and, under a budget, fails talosctl's own drain (1.13, after
 *   "<ip>: upgrade completed"); `back` talosctl's reboot wait fails with the node back on the new version; `gone` the
 *   same with the node not back. `version` prints the client's and the server's Tag (version.go:36-86); `get
 *   machinestatus -o jsonpath={.spec.stage}` the stage; `service etcd` its STATE and HEALTH (a member marked
 *   `etcdCutOff` runs but sees no leader: HEALTH Fail, `etcd members` refused).
 * - Membership (generators/distributions/talos/release.ts TALOS_MEMBERSHIP, with the sources): `apply-config --insecure`
 *   of a control plane makes it an etcd learner (`learner`: asks until its etcd service promotes it); a second learner
 *   while one is still joining is recorded in `secondLearner` (etcd takes one at a time). `etcd members` prints the
 *   members (NODE ID HOSTNAME PEER URLS CLIENT URLS LEARNER; a node with `member: false` is none). `etcd leave`, `etcd
 *   remove-member ID` and a graceful `reset` of a member (its LeaveEtcd) need a leader (a quorum of healthy voting
 *   members) and are refused when the started members left would be fewer than their quorum (etcd's strict
 *   reconfiguration check), or when it is the last member. `reset` (graceful unless --graceful=false) leaves etcd,
 *   wipes the node and powers it off (`reset`, down for good); its pods stop. `kubectl delete node NAME` deletes the
 *   Node (`nodeDeleted`): kubectl lists it no more, nor does `health` expect it; a Node that exists for a node that is
 *   down fails `health`.
 * - npm run talos -- config|secrets export: writes the materialized file; `npm run -s talos -- commands --env E <phase>
 *   [--node N]` prints the runbook script the test rendered for it ($FLEET/commands-<phase>[-<N>].sh: the CLI's own
 *   output is tested in test/talos-runbook.test.ts), so a README step that pipes it to sh runs that script. sleep: returns at once, but time
 *   passes: an instance still booting (Auto Scaling state Pending, bootsAfter: n) reaches Pending:Wait under the
 *   hook at the n-th sleep after its group was first listed (a replacement the first look does not find yet).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { drain, openFleet } from './fleet-stub.mjs';

const { cmd, args, f, save, opt, event } = openFleet();
const fail = (code, msg) => {
  if (msg) process.stderr.write(`${cmd}: ${msg}\n`);
  process.exit(code);
};
const write = (path, text) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};

function talosctl() {
  const ips = (opt('--nodes') ?? '').split(',').filter(Boolean);
  const positional = args.filter((a, i) => !a.startsWith('-') && !['--nodes', '--image', '--file', '--mode', '--wait-timeout', '--talosconfig', '-o', '--output-types', '--with-secrets', '--to', '--control-plane-nodes', '--worker-nodes', '--endpoints'].includes(args[i - 1]));
  const verb = positional[0];
  const refused = (ip) => fail(1, `rpc error: code = Unavailable desc = connection error: dial tcp ${ip}:50000: connect: connection refused`);
  const node = (ip) => (f.nodes[ip] && !f.nodes[ip].unreachable ? f.nodes[ip] : refused(ip));
  const cpOnly = (ip, api) => {
    if (node(ip).role !== 'controlplane') fail(1, `rpc error: code = Unimplemented desc = ${api} is only available on control plane nodes`);
  };
  // Time passes while a node is asked: a rebooting node comes back (its etcd rejoins); a learner is promoted.
  const wake = () => {
    for (const n of Object.values(f.nodes))
      if (n.learner && --n.learner === 0) delete n.learner;
    for (const n of Object.values(f.nodes))
      if (n.rebootIn) {
        n.rebootIn -= 1;
        if (n.rebootIn === 0) {
          delete n.rebootIn;
          n.down = 2;
          if (n.role === 'controlplane') n.etcd = 'Down';
        }
      } else if (n.down) {
        n.down -= 1;
        if (n.down === 0 && n.role === 'controlplane') n.etcd = 'Running';
      }
  };
  // A node about to go down: a control plane while another one is down (or about to be) is recorded.
  const goingDown = (n) => {
    if (n.role === 'controlplane' && Object.values(f.nodes).some((x) => x !== n && x.role === 'controlplane' && (x.down || x.rebootIn || x.etcd !== 'Running'))) f.unsafe = [...(f.unsafe ?? []), n.name];
    event(`reboot ${n.name}`);
  };
  // gen config refuses a file that exists unless --force/-f (a persistent flag of `gen`: T@v1.13.9
  // cmd/talosctl/cmd/mgmt/gen/gen.go:32-41 validateFileExists; the same at v1.12.11): the runbook's setup writes the
  // talosconfig again at every script's start.
  if (verb === 'gen') {
    const out = opt('-o');
    if (existsSync(out) && !args.includes('--force') && !args.includes('-f')) fail(1, `file "${out}" already exists, use --force to overwrite`);
    return write(out, 'talosconfig\n');
  }
  if (verb === 'config') {
    if (positional[1] === 'endpoint') f.endpoints = positional.slice(2);
    return save();
  }
  const viaEndpoint = () => {
    const eps = (opt('--endpoints') ?? '').split(',').filter(Boolean);
    const list = eps.length > 0 ? eps : (f.endpoints ?? []);
    if (list.length > 0 && !list.some((ip) => f.nodes[ip] && !f.nodes[ip].unreachable && !f.nodes[ip].down)) refused(list.join(','));
  };
  if (!args.includes('--insecure')) viaEndpoint();
  // etcd's members: control planes out of maintenance mode that have not left; the voters are the promoted ones.
  const memberId = (ip) => ip.split('.').reduce((a, x) => a * 256 + Number(x), 0).toString(16).padStart(16, '0');
  const members = () => Object.entries(f.nodes).filter(([, n]) => n.role === 'controlplane' && !n.maintenance && n.member !== false);
  const healthy = (n) => n.etcd === 'Running' && !n.down && !n.unreachable && !n.etcdCutOff;
  // MemberRemove through a member that sees a leader, refused when the started members left would lose their quorum.
  const removeMember = (n, how) => {
    const voters = members().filter(([, x]) => !x.learner);
    const up = voters.filter(([, x]) => healthy(x));
    if (up.length < Math.floor(voters.length / 2) + 1) fail(1, 'rpc error: code = Unknown desc = failed to leave cluster: etcdserver: no leader');
    const left = voters.length - 1;
    const started = up.filter(([, x]) => x !== n).length;
    if (left === 0 || started < Math.floor(left / 2) + 1) fail(1, 'rpc error: code = Unknown desc = failed to remove member: etcdserver: re-configuration failed due to not enough started members');
    n.member = false;
    n.etcd = 'Left';
    event(`${how} ${n.name}`);
  };
  if (verb === 'apply-config' && args.includes('--insecure')) {
    const n = node(ips[0]);
    if (!n.maintenance) fail(1, 'rpc error: code = Unavailable desc = connection error: tls: certificate required');
    if (n.role === 'controlplane') {
      if (members().some(([, x]) => x.learner)) f.secondLearner = [...(f.secondLearner ?? []), n.name];
      Object.assign(n, { member: true, learner: 2, etcd: 'Running' });
    }
    n.maintenance = false;
    n.config = readFileSync(opt('--file'), 'utf8');
    event(`join ${n.instance}`);
    return save();
  }
  for (const ip of ips) if (node(ip).maintenance) fail(1, `rpc error: code = Unavailable desc = ${ip} is in maintenance mode`);
  switch (verb) {
    case 'version': {
      // The client's version, then the server's (cmd/talosctl/cmd/talos/version.go:36-86).
      if (node(ips[0]).down) refused(ips[0]);
      const tag = /\((v[^)]+)\)/.exec(node(ips[0]).os)?.[1];
      return process.stdout.write(`Client:\n\tTag:         v1.13.9\nServer:\n\tNODE:        ${ips[0]}\n\tTag:         ${tag}\n`);
    }
    case 'get':
      if (node(ips[0]).down) refused(ips[0]);
      // MachineStatus' stage (controllers/runtime/machine_status.go): `running`, or where a failed sequence left it.
      if (positional[1] === 'machinestatus') return process.stdout.write(node(ips[0]).stage ?? 'running');
      return process.stdout.write('true');
    case 'service': {
      // `service etcd` (pkg/machinery/formatters/formatters.go:208-243): its state, and its health check (ValidateQuorum
      // on the local member: internal/app/machined/pkg/system/services/etcd.go:252-266). Control planes only.
      const n = node(ips[0]);
      if (n.down) refused(ips[0]);
      if (n.role !== 'controlplane') fail(1, 'service "etcd" is not registered on any nodes');
      const st = n.etcd ?? 'Running';
      return process.stdout.write(`NODE     ${ips[0]}\nID       etcd\nSTATE    ${st}\nHEALTH   ${st === 'Running' && !n.etcdCutOff ? 'OK' : 'Fail'}\n`);
    }
    case 'apply-config': {
      const n = node(ips[0]);
      const config = readFileSync(opt('--file'), 'utf8');
      const mode = opt('--mode') ?? 'auto';
      const reboot = f.rebootOnApply && config !== n.config;
      const minor = (text) => /\((v\d+\.\d+)\.\d+\)/.exec(text)?.[1];
      const newer = (a, b) => a && b && a.slice(1).split('.').map(Number).reduce((d, x, i) => d || x - b.slice(1).split('.').map(Number)[i], 0) > 0;
      if (newer(minor(config), minor(n.os))) {
        f.refusedConfigs = [...(f.refusedConfigs ?? []), `${n.name}: ${minor(config)} config on ${n.os}`];
        save();
        fail(1, 'rpc error: code = InvalidArgument desc = error decoding document v1alpha1/v1alpha1/ (line 1): unknown keys found during decoding:\ncluster:\n    network:\n        cni:\n            flannel:\n                kubeNetworkPoliciesEnabled: true');
      }
      if (args.includes('--dry-run')) return;
      if (reboot && mode === 'no-reboot') fail(1, "rpc error: code = InvalidArgument desc = this config change can't be applied in immediate mode");
      if (mode === 'staged') n.staged = config;
      else n.config = config;
      if (reboot && mode === 'auto') {
        goingDown(n);
        n.rebootIn = 10;
      }
      return save();
    }
    case 'reboot': {
      const n = node(ips[0]);
      goingDown(n);
      // The Reboot sequence stops the pods; it does not evict them.
      const left = (f.pods ?? []).filter((p) => p.node === n.name && !p.daemonSet);
      if (left.length > 0) f.rebootedWithPods = [...(f.rebootedWithPods ?? []), `${n.name}: ${left.map((p) => p.name).join(' ')}`];
      if (n.staged) n.config = n.staged;
      delete n.staged;
      // An image installed and not booted (a 1.13 upgrade whose own drain failed) boots now.
      if (n.nextOs) n.os = n.nextOs;
      delete n.nextOs;
      n.down = 1;
      if (n.role === 'controlplane') n.etcd = 'Down';
      return save();
    }
    case 'upgrade-k8s': {
      // Through a control plane (it reads the cluster's kubeconfig and control-plane state from there); --dry-run shows the plan only.
      cpOnly(ips[0], 'upgrade-k8s');
      if (args.includes('--dry-run')) return event(`upgrade-k8s dry-run ${opt('--to')}`), save();
      f.api = opt('--to');
      event(`upgrade-k8s ${opt('--to')}`);
      return save();
    }
    case 'kubeconfig':
      node(ips[0]);
      return write(positional[1], 'admin kubeconfig of the fleet\n');
    case 'etcd':
      if (positional[1] === 'leave') {
        cpOnly(ips[0], 'etcd leave');
        removeMember(node(ips[0]), 'leave');
        return save();
      }
      if (positional[1] === 'remove-member') {
        cpOnly(ips[0], 'etcd remove member');
        const gone = members().find(([ip]) => memberId(ip) === positional[2]);
        if (!gone) fail(1, 'rpc error: code = NotFound desc = failed to remove member: etcdserver: member not found');
        removeMember(gone[1], 'remove-member');
        return save();
      }
      for (const ip of ips) cpOnly(ip, positional[1] === 'snapshot' ? 'etcd snapshot' : 'member list');
      wake();
      save();
      // etcdCutOff: a member that runs but sees no leader (cut off from the others).
      if (ips.some((ip) => node(ip).etcd !== 'Running' || node(ip).etcdCutOff)) fail(1, 'rpc error: etcdserver: no leader');
      // `etcd snapshot <path>`: one node's db streamed to the path (T@v1.13.9 cmd/talosctl/cmd/talos/etcd.go:335-386).
      if (positional[1] === 'snapshot') write(positional[2], `etcd snapshot of ${node(ips[0]).name}\n`);
      if (positional[1] === 'members')
        process.stdout.write(['NODE ID HOSTNAME PEER URLS CLIENT URLS LEARNER', ...members().map(([ip, n]) => `${ips[0]} ${memberId(ip)} ${n.name} https://${ip}:2380 https://${ip}:2379 ${Boolean(n.learner)}`)].join('\n') + '\n');
      return;
    case 'reset': {
      // Graceful: drain (logged only), pods removed, LeaveEtcd for a member, then wiped and powered off.
      const n = node(ips[0]);
      if (n.down) refused(ips[0]);
      if (n.role === 'controlplane' && n.member !== false && !args.includes('--graceful=false')) removeMember(n, 'leave');
      f.pods = (f.pods ?? []).filter((p) => p.node !== n.name);
      Object.assign(n, { reset: true, down: 1e9, cordoned: true });
      if (n.role === 'controlplane') n.etcd = 'Down';
      event(`reset ${n.name}`);
      return save();
    }
    case 'health': {
      cpOnly(ips[0], 'cluster health check');
      // --wait-timeout: health waits (a reboot takes less than its 10 minutes).
      for (let i = 0; i < 5; i++) wake();
      save();
      const registered = Object.entries(f.nodes).filter(([, n]) => !n.maintenance && !n.nodeDeleted);
      const list = (flag) => (opt(flag) ?? '').split(',').filter(Boolean);
      const given = [...list('--control-plane-nodes'), ...list('--worker-nodes')];
      f.clock = f.clock ?? 0;
      const members = [...registered.map(([ip]) => ip), ...(f.affiliates ?? []).filter((a) => a.until > f.clock).map((a) => a.ip)];
      const expected = given.length > 0 ? given : members;
      const bad = [
        ...expected.filter((ip) => !f.nodes[ip] || f.nodes[ip].unreachable || f.nodes[ip].down).map((ip) => `${ip} (apid or kubelet not answering)`),
        ...registered.filter(([ip]) => !expected.includes(ip)).map(([ip]) => `${ip} (a Node not expected)`),
        ...registered.filter(([, n]) => n.down || (n.role === 'controlplane' && n.etcd !== 'Running')).map(([ip]) => `${ip} (not ready)`),
        ...registered.filter(([, n]) => n.cordoned).map(([ip]) => `${ip} (not schedulable)`),
      ];
      if (bad.length > 0) {
        f.clock += Number(/^(\d+)m$/.exec(opt('--wait-timeout') ?? '')?.[1] ?? 20);
        f.healthFailures = [...(f.healthFailures ?? []), `${f.clock}: ${bad.join(', ')}`];
        save();
        fail(1, `healthcheck error: waiting for nodes: ${bad.join(', ')}`);
      }
      f.clock += 1;
      save();
      return process.stdout.write('all checks passed\n');
    }
    case 'upgrade': {
      const n = node(ips[0]);
      const tag = /:(v[0-9.]+)$/.exec(opt('--image'))?.[1];
      const legacy = /\(v1\.12\./.test(n.os);
      const cordonedBefore = Boolean(n.cordoned);
      // The drain before the reboot (release.ts upgradeDrainOnBudget): evictions as the budgets allow.
      const pods = (f.pods ?? []).filter((p) => p.node === n.name && !p.daemonSet && !(legacy && p.bare));
      const blocks = (p) => {
        const pdb = (f.pdbs ?? []).find((b) => b.ns === p.ns && b.app === p.app);
        const healthy = (f.pods ?? []).filter((x) => x.app === p.app && x.ns === p.ns && Object.values(f.nodes).some((y) => y.name === x.node && !y.down && !y.unreachable)).length;
        return pdb && healthy - 1 < pdb.minAvailable;
      };
      const blocked = pods.filter(blocks);
      const failure = f.upgradeFailure?.[n.name];
      if (failure === 'pull' && !legacy) fail(1, `error pulling upgrade image: rpc error: code = NotFound desc = failed to pull image "${opt('--image')}": not found`);
      if (failure === 'pull') fail(1, `error performing upgrade: rpc error: code = Unknown desc = error validating installer image "${opt('--image')}": not found`);
      if (failure === 'install' && !legacy) {
        process.stderr.write(`${ips[0]}: upgrade failed with exit code 1\n`);
        fail(1, `error during upgrade: node ${ips[0]}: upgrade failed with exit code 1`);
      }
      n.cordoned = true;
      // The legacy Upgrade sequence failing after it stopped the node's pods and services (v1alpha1_sequencer.go:423-475):
      // the failure is only logged, the stage left at rebooting, the node answering with its services stopped.
      if (failure === 'sequence' && legacy) {
        n.stage = 'rebooting';
        if (n.role === 'controlplane') n.etcd = 'Finished';
        save();
        fail(1, 'sequence failed: error running phase "upgrade" in upgrade sequence: failed to install');
      }
      // 1.13: the image installed (the installer exited 0), then talosctl's drain and reboot (upgrade.go:141-172).
      if (!legacy) process.stderr.write(`${ips[0]}: upgrade completed\n`);
      // A pod scheduled on the node after the runbook's drain (its nodeName set: the cordon does not keep it off).
      for (const p of f.pods ?? []) if (p.lateOn === n.name) {
        p.node = n.name;
        delete p.lateOn;
        if (!legacy && blocks(p)) blocked.push(p);
      }
      if (!legacy && blocked.length > 0) {
        n.nextOs = `Talos (${tag})`;
        save();
        // drainNodes returns nodedrain's error as it is (upgrade.go:148-153; nodedrain.go:141).
        fail(1, `error draining node "${n.name}": ${blocked.map((p) => `error when evicting pods/"${p.name}" -n "${p.ns}": global timeout reached: 5m0s`).join(', ')}`);
      }
      if (blocked.length > 0) f.upgradedThroughBudget = [...(f.upgradedThroughBudget ?? []), `${n.name}: ${blocked.map((p) => p.name).join(' ')}`];
      for (const p of pods.filter((x) => !blocked.includes(x))) {
        const to = Object.values(f.nodes).find((y) => y !== n && !y.down && !y.unreachable && !y.maintenance && !y.cordoned && y.role !== 'controlplane');
        if (p.bare || !to) f.pods = f.pods.filter((x) => x !== p);
        else p.node = to.name;
      }
      const left = (f.pods ?? []).filter((p) => p.node === n.name && !p.daemonSet);
      if (left.length > 0) f.rebootedWithPods = [...(f.rebootedWithPods ?? []), `${n.name}: ${left.map((p) => p.name).join(' ')}`];
      if (n.role === 'controlplane' && Object.values(f.nodes).some((x) => x !== n && x.role === 'controlplane' && (x.down || x.rebootIn || x.etcd !== 'Running'))) f.unsafe = [...(f.unsafe ?? []), n.name];
      n.os = `Talos (${tag})`;
      delete n.nextOs;
      // Talos (1.12) or talosctl (1.13) uncordons what it cordoned itself, once the node is back; not a Node cordoned before.
      if (!cordonedBefore) delete n.cordoned;
      // fleet.neverBack: nodes that do not come back from the reboot (a bad image, a broken disk).
      n.down = f.neverBack?.includes(n.name) || failure === 'gone' ? 1e9 : 2;
      if (n.role === 'controlplane') n.etcd = 'Down';
      event(`upgrade ${n.name}`);
      save();
      // talosctl's wait for the reboot gave up (upgrade.go:167-172): 'back' the node booted the image meanwhile; 'gone' it did not come back.
      if (failure === 'back') {
        n.down = 0;
        if (n.role === 'controlplane') n.etcd = 'Running';
        save();
      }
      if (failure === 'back' || failure === 'gone') fail(1, 'error during upgrade: timeout waiting for the node to reboot: context deadline exceeded');
      return;
    }
    default:
      fail(1, `unexpected talosctl ${args.join(' ')}`);
  }
}

function kubectl() {
  // The API server's version (k8s.io/apimachinery pkg/version Info: gitVersion), pretty-printed as kubectl does.
  if (args.join(' ') === 'get --raw /version') return process.stdout.write(`{\n  "major": "1",\n  "minor": "${f.api.split('.')[1]}",\n  "gitVersion": "v${f.api}"\n}\n`);
  // Another cluster's kubeconfig: none of the fleet's Nodes.
  const other = process.env.KUBECONFIG && !(existsSync(process.env.KUBECONFIG) && readFileSync(process.env.KUBECONFIG, 'utf8') === 'admin kubeconfig of the fleet\n');
  const pool = /^node\.opendev\.dev\/pool=(.+)$/.exec(opt('-l') ?? '')?.[1];
  const jsonpath = opt('-o') ?? '';
  if (f.apiDown) fail(1, 'The connection to the server api.fixture.internal:6443 was refused');
  const listed = Object.entries(f.nodes).filter(([, n]) => !n.maintenance && !n.nodeDeleted && !other);
  const byName = (name) => listed.find(([, n]) => n.name === name)?.[1] ?? fail(1, `Error from server (NotFound): nodes "${name}" not found`);
  if (args[0] === 'drain') return drain(f, byName(args[1]), args, save);
  if (args[0] === 'delete' && args[1] === 'node') {
    byName(args[2]).nodeDeleted = true;
    event(`delete-node ${args[2]}`);
    save();
    return process.stdout.write(`node "${args[2]}" deleted\n`);
  }
  if (args[0] === 'uncordon') {
    delete byName(args[1]).cordoned;
    save();
    return process.stdout.write(`node/${args[1]} uncordoned\n`);
  }
  // Every registered Node: "<name> <InternalIP>", or the InternalIPs alone.
  if (args[0] === 'get' && args[1] === 'nodes' && !opt('-l') && jsonpath.includes('.metadata.name') && jsonpath.includes('InternalIP'))
    return process.stdout.write(listed.map(([ip, n]) => `${n.name} ${ip}\n`).join(''));
  if (args[0] === 'get' && args[1] === 'nodes' && !opt('-l') && jsonpath.includes('InternalIP') && !jsonpath.includes('osImage'))
    return process.stdout.write(listed.map(([ip]) => ip).join(' '));
  // Every registered Node: "<InternalIP> <osImage>".
  if (args[0] === 'get' && args[1] === 'nodes' && !opt('-l') && jsonpath.includes('InternalIP') && jsonpath.includes('osImage'))
    return process.stdout.write(Object.entries(f.nodes).filter(([, n]) => !n.maintenance && !other).map(([ip, n]) => `${ip} ${n.os}\n`).join(''));
  if (args[0] !== 'get' || args[1] !== 'nodes' || !pool) fail(1, `unexpected kubectl ${args.join(' ')}`);
  const nodes = Object.entries(f.nodes).filter(([, n]) => n.pool === pool && !n.maintenance && !other);
  if (jsonpath.includes('osImage')) return process.stdout.write(nodes.map(([, n]) => `${n.os}\n`).join(''));
  if (jsonpath.includes('InternalIP')) return process.stdout.write(nodes.map(([ip]) => ip).join(' '));
  fail(1, `unexpected kubectl ${args.join(' ')}`);
}

function aws() {
  const [service, op] = args;
  const id = opt('--instance-id') ?? opt('--instance-ids');
  const inst = f.instances[id];
  const waiting = () => inst && inst.state === 'Pending:Wait' && inst.group === opt('--auto-scaling-group-name') && opt('--lifecycle-hook-name') === 'talos-apply';
  const noAction = (api) => fail(254, `An error occurred (ValidationError) when calling the ${api} operation: No active Lifecycle Action found with instance ID ${id}`);
  if (service === 'ec2' && op === 'describe-instances') return process.stdout.write(`${inst?.ip ?? 'None'}\n`);
  if (service !== 'autoscaling') fail(1, `unexpected aws ${args.join(' ')}`);
  if (op === 'describe-auto-scaling-instances') {
    const q = /AutoScalingGroupName=='([^']+)' && LifecycleState=='([^']+)'/.exec(opt('--query'));
    if (!q) fail(252, `unexpected query ${opt('--query')}`);
    f.listed = { ...f.listed, [q[1]]: true };
    save();
    return process.stdout.write(`${Object.entries(f.instances).filter(([, i]) => i.group === q[1] && i.state === q[2]).map(([k]) => k).join('\t')}\n`);
  }
  if (op === 'describe-instance-refreshes') {
    // The latest refresh of the group: in progress while an old instance serves or a replacement is still to launch.
    const g = opt('--auto-scaling-group-name');
    const busy = Object.values(f.instances).some((i) => i.group === g && ((i.old && i.state !== 'Terminated') || i.state === 'Unlaunched'));
    return process.stdout.write(`${busy ? 'InProgress' : 'Successful'}\n`);
  }
  if (op === 'record-lifecycle-action-heartbeat') return waiting() ? undefined : noAction('RecordLifecycleActionHeartbeat');
  if (op === 'complete-lifecycle-action') {
    if (!waiting()) noAction('CompleteLifecycleAction');
    inst.state = 'InService';
    event(`inservice ${id}`);
    // The instance refresh: a replacement InService (and warmed up) lets one old instance go (drained, terminated).
    const old = Object.entries(f.instances).find(([, i]) => i.group === inst.group && i.state === 'InService' && i.old);
    if (old) {
      old[1].state = 'Terminated';
      const [ip, n] = Object.entries(f.nodes).find(([, x]) => x.instance === old[0]);
      if (n.down) f.terminatedWhileRebooting = [...(f.terminatedWhileRebooting ?? []), n.name];
      delete f.nodes[ip];
      // Its discovery affiliate stays until its TTL expires (30 minutes: discovery_service.go:40, 272-277).
      f.affiliates = [...(f.affiliates ?? []), { ip, until: (f.clock ?? 0) + 30 }];
      event(`terminate ${old[0]}`);
      // One replacement at a time (MaxHealthyPercentage 100 + ⌈100/N⌉, infra/aws/roll.ts): the next one launches
      // once an old instance is gone; it boots (Pending) and then waits under the hook.
      const next = Object.entries(f.instances).find(([, i]) => i.group === inst.group && i.state === 'Unlaunched');
      if (next) {
        Object.assign(next[1], { state: 'Pending', bootsAfter: 1 });
        event(`launch ${next[0]}`);
      }
    }
    return save();
  }
  fail(1, `unexpected aws autoscaling ${op}`);
}

function npm() {
  const phase = args.indexOf('commands');
  if (phase >= 0) {
    const name = `${process.env.FLEET}/commands-${args[phase + 3]}${args.includes('--node') ? `-${opt('--node')}` : ''}.sh`;
    if (!existsSync(name)) fail(1, `unexpected npm ${args.join(' ')}`);
    process.stdout.write(readFileSync(name, 'utf8'));
    return;
  }
  const out = opt('--out');
  if (!out) fail(1, `unexpected npm ${args.join(' ')}`);
  write(out, `${args.includes('--node') ? `config of ${opt('--node')} (${f.version})` : 'secrets'}\n`);
}

function sleep() {
  for (const [id, i] of Object.entries(f.instances))
    if (i.state === 'Pending' && f.listed?.[i.group] && --i.bootsAfter <= 0) {
      i.state = 'Pending:Wait';
      event(`waiting ${id}`);
    }
  save();
}

const stubs = { talosctl, kubectl, aws, npm, sleep };
if (!stubs[cmd]) fail(127, `no stub ${cmd}`);
stubs[cmd]();
void existsSync;
