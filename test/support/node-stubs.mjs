#!/usr/bin/env node
/**
 * Stub binaries of a simulated EC2 node and its cluster, for tests that run the rendered boot and
 * runbook scripts (test/support/node-sandbox.ts links each command name to this file). They behave
 * as upstream does where the scripts depend on it:
 *
 * - curl: IMDSv2 (token, local-hostname, placement/region), downloads served from the world's URL
 *   table (-o), the supervisor's /cacerts answering only while a server runs; -f semantics (exit 22).
 * - aws: ssm get-parameter / describe-parameters / put-parameter (`file://` values) on the world's
 *   parameter table; a read of a missing parameter (ParameterNotFound) or of one the role may not read
 *   (world: ssm-unreadable.json, AccessDeniedException) fails as the AWS CLI v2 does (exit 254).
 * - sysctl: `--system` applies the sandbox's sysctl.d files with sysctl.d(5)'s precedence (sorted by
 *   name across /etc, /run, /usr/local/lib, /usr/lib; an earlier directory masks a same-named file)
 *   and then /etc/sysctl.conf (sysctl(8)); `-n key` prints the applied value.
 * - systemctl: enable/disable (--now) record whether a unit starts at boot (NodeBox.reboot starts the enabled ones:
 *   the family's units are WantedBy=multi-user.target, k3s-io/k3s@0136cf25 install.sh create_systemd_service_file,
 *   rancher/rke2 bundle/lib/systemd/system/rke2-server.service); is-enabled answers 0 or 1.
 *   start/restart/enable --now of the distribution's units run the simulated service:
 *   a unit's drop-ins' ExecStartPre first (a failure fails the start), then the supervisor's
 *   configuration as the real one resolves it: the unit's EnvironmentFile= lines in order (a later
 *   assignment wins), then config.yaml and config.yaml.d/*.yaml alphabetically (the last value
 *   wins), config beating the environment (configfilearg + urfave/cli). Embedded etcd as the
 *   family's etcd code does it: existing data restarts the member; a join URL joins (refusing a node
 *   name an existing member has: "duplicate node name found"), checking a K10 token's CA hash; no
 *   join URL starts a NEW cluster (counted: two means a split). Kine: the datastore endpoint, with
 *   its default SQLite when none is set.
 *   A PostgreSQL DSN (world: postgres.json) reaches the database only when it is up, at its host and port, and with the
 *   role's password; the first server to use an empty database writes the bootstrap data there under its token's
 *   password (k3s-io/k3s pkg/cluster/storage.go storageBootstrap locks the key, Save fills it: one CA for all), and a
 *   later server with another token is refused. A supervisor that cannot start (no database, refused password,
 *   bootstrap data under another token) exits, and its unit (Type=notify, TimeoutStartSec=0, Restart=always:
 *   k3s-io/k3s install.sh create_systemd_service_file) is restarted for ever while `systemctl start|restart` waits
 *   for READY=1 (systemd/systemd#33890): under `timeout` (world: STUB_DEADLINE) the command is killed (exit 124);
 *   without one, the stub says it would never return and exits 1. Either way the unit is not active.
 *   A node joining through the server URL (an agent of either; an RKE2 server joining its etcd) never becomes ready
 *   either while the URL reaches no running server (world: endpoint.json down, or no etcd member), nor with a token
 *   the cluster refuses (a K10 token's CA hash not the cluster's; an agent token, or an RKE2 joining server's token, other than cluster-tokens.json's: 401),
 *   nor, for an RKE2 server, when etcd refuses it (a duplicate node name; not a member after a cluster reset): the
 *   units of both are Type=notify, TimeoutStartSec=0, Restart=always (rancher/rke2 v1.35.7+rke2r1
 *   bundle/lib/systemd/system/rke2-server.service and rke2-agent.service lines 11, 21-22).
 * - journalctl -u UNIT: the lines a family unit's starts logged on this node (a refusal's upstream message, "Started"),
 *   with cursors (`-n 1 --show-cursor`, `--after-cursor`).
 * - timeout DURATION CMD…: runs CMD with the deadline known to the stubs (coreutils' exit 124 when it expires).
 * - kubectl delete node: the managed etcd controller removes that node's member (RemovePeer). A member may
 *   outlive its Node (`node: false` in etcd.json: the Node deleted by hand or by the cloud controller).
 * - kubectl -n kube-system get pods -l component=etcd: the etcd static pods (etcd-<node>, host network: hostIP is
 *   the server's address) of the members whose Node exists (`--field-selector status.phase=Running`: those whose
 *   `phase` in etcd.json is Running, the default); `exec <pod>` fails in a pod not Running, and etcdctl there times
 *   out when the member is marked down (its etcd does not answer on 127.0.0.1:2379); `exec <pod> -- etcdctl` with the server's etcd client
 *   TLS files (else a TLS failure, as etcd with client-cert-auth answers): `member list -w json --hex` in
 *   etcdctl's hex JSON shape (etcd-io/etcd etcdctl/ctlv3/command/printer_json.go printMemberListWithHexJSON: IDs
 *   as hex strings, peerURLs https://<ip>:2380), `member remove <hex id>` ("Member <id> removed from cluster
 *   <cluster id>", or "Error: etcdserver: member not found", exit 1).
 * - rke2 `etcd-snapshot …` asks the running local server (refused once it is stopped); `server --cluster-reset
 *   --cluster-reset-restore-path=X` restores X (from the etcd-s3 bucket of the config, or a local path) as a new
 *   single-member cluster of this node; afterwards a peer starting on its old database is no member of it.
 * - aws s3 ls: the keys under a prefix of the world's tree (none: exit 1, as the CLI does).
 * - apply-config.sh's gate: `get nodes` with each Node's Ready and EtcdIsVoter statuses (Ready False for a member
 *   marked down or `notReady`; EtcdIsVoter, which the etcd leader sets (k3s-io/k3s pkg/etcd/etcd.go
 *   setEtcdStatusCondition), False for one down or a `learner`, none on Kine: `kine: true`); `get --raw /readyz/etcd`
 *   (kube-apiserver's storage check: fails while the world's PostgreSQL is down); Leases in kube-system (leases.json:
 *   create refused with AlreadyExists, replace with a stale resourceVersion with Conflict, get -o jsonpath, delete);
 *   drain (cordons; a member's `barePods` are refused without --force, before any eviction; its `pdbBlocks` pod makes
 *   the evictions fail until --timeout) and uncordon; a Node's
 *   spec.unschedulable; a Node that stays NotReady once its service started again (world not-ready-after-start.json:
 *   a host, or { host, config }: while its config.yaml holds that text);
 *   a Node's annotations (`annotations` of the member: get one, list every Node's one, annotate `<k>=<v>` and `<k>-`
 *   in one request); another run taking the Lease over (lease-thief.json: a holder at the first readyz read, or
 *   { holder, afterWrites } at the first call once the Lease was written that often). The global --request-timeout
 *   is accepted and changes no answer.
 * - kubectl get node <n> / -n kube-system get pod etcd-<n> -o jsonpath=…Ready…: True, False for a member marked down;
 *   every read fails once half the members are down (the API server's reads need the etcd quorum). The Node's
 *   `.status.nodeInfo.kubeletVersion` is the member's `kubelet`, the etcd pod's etcd container image its `etcdImage`
 *   (the old pod's until the upgraded server's kubelet replaced it: Ready can be the old pod's).
 * - k3s / rke2 `token rotate` (linked into a node by a test): the server token rotation; with a world bootstrap key
 *   (bootstrap.json) a server starts only with the token it is encrypted under.
 * - talosctl: Talos nodes (control plane or worker, etcd state): `health` refuses on workers
 *   ("… is only available on control plane nodes"), `etcd status|members` likewise and fails while
 *   the node's etcd is down, `upgrade` reboots a node (its etcd is down until health/etcd is asked
 *   after the reboot), `bootstrap` refuses unless etcd is Preparing, `--recover-from` restores. A node marked
 *   `unreachable` answers nothing ("connection refused"), `version` included.
 *   A node with `registered: false` has a running kubelet but no Node object (a worker that joined after the etcd
 *   snapshot a restore went back to): `health` waits for it ("all k8s nodes to report", siderolabs/talos v1.13.9
 *   pkg/cluster/check/default.go:103-110, kubernetes.go:30-77: the Nodes must match the discovered members), and only
 *   `service kubelet restart` registers it (the kubelet registers once, at start: kubernetes/kubernetes
 *   pkg/kubelet/kubelet_node_status.go registerWithAPIServer, registrationCompleted never reset, issue #71398).
 *   `get members -o jsonpath={.spec.addresses[0]}`: every node out of maintenance mode (discovery's members),
 *   one address a line.
 * - sleep (linked only when a test asks: World.instantSleep): returns at once, so a retry loop runs to its end.
 * - everything else named here (snap, useradd, nvidia-*): recorded, exit 0.
 *
 * Environment: SANDBOX (the node's root), WORLD (the shared state), NODE_HOSTNAME, NODE_IP.
 */
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { leaseCommand } from './lease-stub.mjs';

const cmd = basename(process.argv[1]);
const args = process.argv.slice(2);
const SANDBOX = process.env.SANDBOX;
const WORLD = process.env.WORLD;
const HOST = process.env.NODE_HOSTNAME ?? 'node';
const at = (p) => join(SANDBOX, p);
const w = (p) => join(WORLD, p);
const readJson = (p, d) => (existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : d);
const writeJson = (p, v) => {
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, JSON.stringify(v, null, 2));
};
const fail = (code, msg) => {
  if (msg) process.stderr.write(`${cmd}: ${msg}\n`);
  process.exit(code);
};
appendFileSync(w('calls.log'), `${HOST} ${cmd} ${args.join(' ')}\n`);

/** The value after a flag (`--name X` or `--name=X`). */
const opt = (name) => {
  const i = args.indexOf(name);
  if (i !== -1) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
};

// ---------------------------------------------------------------- curl
function curl() {
  const url = args.find((a) => /^https?:\/\//.test(a));
  const out = opt('-o');
  const body = (text) => (out ? writeFileSync(out, text) : process.stdout.write(text));
  if (url === 'http://169.254.169.254/latest/api/token') return body('imds-token');
  const md = /^http:\/\/169\.254\.169\.254\/latest\/meta-data\/(.+)$/.exec(url ?? '');
  if (md) return body(md[1] === 'local-hostname' ? HOST : md[1] === 'local-ipv4' ? (process.env.NODE_IP ?? fail(22)) : md[1] === 'placement/region' ? 'eu-west-1' : md[1] === 'instance-id' ? (process.env.NODE_INSTANCE_ID ?? fail(22)) : fail(22));
  if (/:9345\/cacerts$/.test(url)) {
    const etcd = readJson(w('etcd.json'), undefined);
    const up = etcd && etcd.members.length > 0 && readJson(w('endpoint.json'), { up: true }).up;
    return up ? body(`ca-of-cluster-${etcd.ca}\n`) : fail(7, `Failed to connect to ${url}`);
  }
  // A transfer that breaks off part-way: curl keeps what it received in its output file (it removes it only with
  // --remove-on-error) and exits 18, "Partial file. Only a part of the file was transferred" (curl(1), EXIT CODES).
  const partial = readJson(w('urls-partial.json'), {})[url];
  if (partial !== undefined) {
    if (out) writeFileSync(out, partial);
    fail(18, `curl: (18) transfer closed with outstanding read data remaining (${url})`);
  }
  const urls = readJson(w('urls.json'), {});
  const file = urls[url];
  if (!file) fail(22, `The requested URL returned error: 404 (${url})`);
  if (!out) return process.stdout.write(readFileSync(file));
  copyFileSync(file, out);
}

// ---------------------------------------------------------------- aws
function aws() {
  const ssm = readJson(w('ssm.json'), {});
  const [service, op] = args;
  if (service === 'autoscaling') return autoscaling(op);
  if (service === 's3api' || service === 's3') return s3(service, op);
  if (service !== 'ssm') fail(1, `unexpected aws ${service}`);
  if (op === 'get-parameter') {
    const name = opt('--name');
    // A parameter of every environment of the test world (`/odp/*/…`: a release parameter, ./artifacts.ts serveRelease) stands for each.
    const p = ssm[name] ?? Object.entries(ssm).find(([k]) => k.includes('*') && new RegExp(`^${k.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+')}$`).test(name))?.[1];
    // As the AWS CLI v2 answers: a service error on stderr, exit 254.
    if (readJson(w('ssm-unreadable.json'), []).includes(name)) fail(254, `\nAn error occurred (AccessDeniedException) when calling the GetParameter operation: User: arn:aws:sts::111111111111:assumed-role/node/i-0 is not authorized to perform: ssm:GetParameter on resource: ${name} because no identity-based policy allows the ssm:GetParameter action`);
    if (!p) fail(254, `\nAn error occurred (ParameterNotFound) when calling the GetParameter operation: `);
    return process.stdout.write(`${p.value}\n`);
  }
  if (op === 'describe-parameters') {
    const name = /Values=(.+)$/.exec(opt('--parameter-filters') ?? '')?.[1];
    return process.stdout.write(`${ssm[name]?.keyId ?? 'None'}\n`);
  }
  if (op === 'put-parameter') {
    const name = opt('--name');
    // A denied write (a role without ssm:PutParameter on it): the service's AccessDeniedException, exit 254.
    if (readJson(w('ssm-denied.json'), []).includes(name)) fail(254, `An error occurred (AccessDeniedException) when calling the PutParameter operation: not authorized to perform ssm:PutParameter on ${name}`);
    let value = opt('--value');
    if (value.startsWith('file://')) value = readFileSync(value.slice('file://'.length), 'utf8');
    if (ssm[name] && !args.includes('--overwrite')) fail(254, 'ParameterAlreadyExists');
    ssm[name] = { value, keyId: opt('--key-id') ?? ssm[name]?.keyId ?? 'alias/aws/ssm' };
    writeJson(w('ssm.json'), ssm);
    return;
  }
  fail(1, `unexpected aws ssm ${op}`);
}

/**
 * S3 on the world's tree (world: s3/<bucket>/<key>). As the AWS CLI v2 answers: a service error exits 254 with
 * "An error occurred (<Code>) when calling the <Op> operation: <message>" (AWS CLI user guide, "Command line return
 * codes"); a GET of a missing key is NoSuchKey only for a caller allowed to list it, AccessDenied otherwise (S3 API
 * reference, GetObject, "Permissions"; world: s3-nolist.json true); a connection failure exits 255 (world:
 * s3-down.json true: 'Could not connect to the endpoint URL').
 */
function s3(service, op) {
  const o = (k) => opt(k);
  const region = o('--region') ?? 'us-east-1';
  if (readJson(w('s3-down.json'), false)) fail(255, `\nCould not connect to the endpoint URL: "https://s3.${region}.amazonaws.com/"`);
  const file = (b, k) => w(`s3/${b}/${k}`);
  const err = (code, name, msg) => fail(254, `\nAn error occurred (${code}) when calling the ${name} operation: ${msg}`);
  if (service === 's3' && op === 'sync') {
    const [from, to] = args.slice(2).filter((a) => a.startsWith('s3://')).map((u) => w(`s3/${u.slice(5)}`));
    if (!existsSync(from)) return;
    const copy = (a, b) => {
      mkdirSync(b, { recursive: true });
      for (const e of readdirSync(a, { withFileTypes: true })) e.isDirectory() ? copy(join(a, e.name), join(b, e.name)) : copyFileSync(join(a, e.name), join(b, e.name));
    };
    return copy(from, to);
  }
  if (service === 's3' && op === 'ls') {
    const url = args.find((a) => a.startsWith('s3://'));
    const dir = w(`s3/${url.slice(5)}`);
    const keys = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort() : [];
    // A prefix with no key: nothing printed, exit 1 (aws/aws-cli#1008 "return 1 if there are no common prefixes nor objects").
    if (keys.length === 0) process.exit(1);
    for (const f of keys) process.stdout.write(`2026-12-07 00:00:00 ${String(readFileSync(join(dir, f)).length).padStart(10)} ${f}\n`);
    return;
  }
  const [b, k] = [o('--bucket'), o('--key')];
  if (op === 'get-object') {
    const out = args[args.length - 1];
    if (!existsSync(file(b, k))) return readJson(w('s3-nolist.json'), false) ? err('AccessDenied', 'GetObject', 'Access Denied') : err('NoSuchKey', 'GetObject', 'The specified key does not exist.');
    copyFileSync(file(b, k), out);
    return process.stdout.write('{\n    "AcceptRanges": "bytes",\n    "ContentLength": 1\n}\n');
  }
  if (op === 'put-object') {
    mkdirSync(dirname(file(b, k)), { recursive: true });
    copyFileSync(o('--body'), file(b, k));
    return process.stdout.write('{\n    "ETag": "\\"etag\\""\n}\n');
  }
  if (op === 'delete-object') return rmSync(file(b, k), { force: true });
  fail(252, `unexpected aws ${service} ${op}`);
}

/**
 * EC2 Auto Scaling's launch lifecycle actions (world: lifecycle.json, instance id → { group, hook, state, heartbeats }).
 * CompleteLifecycleAction of an instance not waiting under that group's hook is the service's
 * ValidationError "No active Lifecycle Action found with instance ID …"; the aws CLI exits 254 when the
 * service returns an error (AWS CLI v2 user guide, "Command line return codes",
 * https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html: 254), 252 on an invalid parameter value.
 */
function autoscaling(op) {
  if (op !== 'complete-lifecycle-action' && op !== 'record-lifecycle-action-heartbeat') fail(1, `unexpected aws autoscaling ${op}`);
  const all = readJson(w('lifecycle.json'), {});
  const id = opt('--instance-id');
  const a = all[id];
  const active = a && a.state === 'Pending:Wait' && a.group === opt('--auto-scaling-group-name') && a.hook === opt('--lifecycle-hook-name');
  if (op === 'record-lifecycle-action-heartbeat') {
    // RecordLifecycleActionHeartbeat: the same ValidationError for an instance not waiting; counted (a fresh timeout each).
    if (!active) fail(254, `An error occurred (ValidationError) when calling the RecordLifecycleActionHeartbeat operation: No active Lifecycle Action found with instance ID ${id}`);
    all[id] = { ...a, heartbeats: (a.heartbeats ?? 0) + 1 };
    return writeJson(w('lifecycle.json'), all);
  }
  const result = opt('--lifecycle-action-result');
  if (!['CONTINUE', 'ABANDON'].includes(result)) fail(252, `invalid --lifecycle-action-result ${result}`);
  if (!a || a.state !== 'Pending:Wait' || a.group !== opt('--auto-scaling-group-name') || a.hook !== opt('--lifecycle-hook-name'))
    fail(254, `An error occurred (ValidationError) when calling the CompleteLifecycleAction operation: No active Lifecycle Action found with instance ID ${id}`);
  all[id] = { ...a, state: result === 'CONTINUE' ? 'InService' : 'Terminating', result };
  writeJson(w('lifecycle.json'), all);
}

// ---------------------------------------------------------------- sysctl
const SYSCTL_DIRS = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d'];
function sysctl() {
  const state = at('.sysctl.json');
  if (args[0] === '--system') {
    const byName = new Map();
    for (const d of SYSCTL_DIRS) {
      if (!existsSync(at(d))) continue;
      for (const f of readdirSync(at(d)).filter((x) => x.endsWith('.conf')).sort()) if (!byName.has(f)) byName.set(f, join(at(d), f));
    }
    const files = [...byName.keys()].sort().map((k) => byName.get(k));
    if (existsSync(at('/etc/sysctl.conf'))) files.push(at('/etc/sysctl.conf'));
    const values = readJson(w('sysctl-defaults.json'), {});
    for (const f of files)
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        const m = /^\s*-?([a-z0-9_.]+)\s*=\s*(.*?)\s*$/.exec(line);
        if (m) values[m[1]] = m[2];
      }
    return writeJson(state, values);
  }
  if (args[0] === '-n') {
    const v = readJson(state, {})[args[1]];
    if (v === undefined) fail(255, `cannot stat /proc/sys/${args[1].replace(/\./g, '/')}`);
    return process.stdout.write(`${v}\n`);
  }
  fail(1, 'unexpected sysctl call');
}

// ---------------------------------------------------------------- systemd and the supervisor
/** The environment a unit's EnvironmentFile= lines give, in order (later assignments win). */
function unitEnvironment(unitText, unit) {
  const env = {};
  for (const m of unitText.matchAll(/^EnvironmentFile=-?(.+)$/gm)) {
    const file = at(m[1].replace('%N', unit));
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const kv = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
      if (kv) env[kv[1]] = kv[2].replace(/^(['"])(.*)\1$/, '$2');
    }
  }
  return env;
}

/** config.yaml, then config.yaml.d/*.yaml alphabetically; the last value wins. */
function configOf(name) {
  const base = at(`/etc/rancher/${name}/config.yaml`);
  const files = [base, ...(existsSync(`${base}.d`) ? readdirSync(`${base}.d`).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(`${base}.d`, f)) : [])];
  const out = {};
  for (const f of files) if (existsSync(f)) Object.assign(out, parse(readFileSync(f, 'utf8')) ?? {});
  return out;
}

/** The unit file of a service (systemd's search: /etc first, then /usr/local/lib). */
function unitFile(unit) {
  for (const d of ['/etc/systemd/system', '/usr/local/lib/systemd/system']) if (existsSync(at(`${d}/${unit}.service`))) return at(`${d}/${unit}.service`);
  return undefined;
}

function runExecStartPre(unit) {
  const dir = at(`/etc/systemd/system/${unit}.service.d`);
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.conf')).sort())
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/^ExecStartPre=(-?)(\S+)$/gm)) {
      const r = spawnSync('sh', [at(m[2])], { stdio: 'inherit', env: process.env });
      if (r.status !== 0 && m[1] !== '-') fail(1, `Job for ${unit}.service failed: ExecStartPre ${m[2]} exited ${r.status}`);
    }
}

/** Append a line to a unit's journal on this node (journalctl -u reads it). */
function journal(unit, line) {
  const j = readJson(at('.journal.json'), {});
  (j[unit] ??= []).push(line);
  writeJson(at('.journal.json'), j);
}

/**
 * journalctl -u UNIT [-n 1 --show-cursor] [--after-cursor C] -o cat: the unit's lines (what neverReady and a start
 * logged), a cursor being the count of lines before it; `--show-cursor` prints "-- cursor: C" after the entries shown
 * (none when no entry is shown, as journalctl does).
 */
function journalctl() {
  const unit = basename(opt('-u') ?? '').replace(/\.service$/, '');
  const lines = readJson(at('.journal.json'), {})[unit] ?? [];
  const after = opt('--after-cursor');
  let shown = after === undefined ? lines.map((l, i) => [l, i + 1]) : lines.slice(Number(after)).map((l, i) => [l, Number(after) + i + 1]);
  if (opt('-n') !== undefined) shown = shown.slice(Math.max(0, shown.length - Number(opt('-n'))));
  process.stdout.write(shown.map(([l]) => `${l}\n`).join(''));
  if (args.includes('--show-cursor') && shown.length > 0) process.stdout.write(`-- cursor: ${shown.at(-1)[1]}\n`);
}

/**
 * A supervisor that exits before READY=1: systemd restarts it (Restart=always, RestartSec=5s) and the start job stays
 * pending (TimeoutStartSec=0). `why` is what its journal says.
 */
function neverReady(unit, why) {
  process.stderr.write(`${unit}: ${why}\n`);
  journal(unit, why);
  writeJson(at('.active.json'), readJson(at('.active.json'), []).filter((u) => u !== unit));
  if (process.env.STUB_DEADLINE) process.exit(124);
  fail(1, `the start job of ${unit}.service never finishes (the service exits and Restart=always starts it again; Type=notify, TimeoutStartSec=0): a real systemctl would wait for ever here`);
}

/**
 * A node joining through the server URL (an agent, or an RKE2 server joining its etcd): the URL must reach a running
 * server (the world's endpoint up, and an etcd member for the family's etcd); until then the supervisor retries (or
 * exits and is restarted) and never sends READY=1.
 */
function supervisorAnswers(unit, url, etcd) {
  const up = readJson(w('endpoint.json'), { up: true }).up && (etcd === undefined || etcd.members.length > 0);
  if (!up) neverReady(unit, `level=info msg="Waiting to retrieve agent configuration; server is not ready: Get \\"${url}/cacerts\\": dial tcp: connect: connection refused"`);
}

/**
 * An agent: its server URL must answer, and its token's password be the cluster's agent password (world:
 * cluster-tokens.json, when a test sets it): the supervisor answers its /v1-<name>/config with 401 and the agent logs it
 * and retries every 5 s, never ready (k3s-io/k3s pkg/agent/config/config.go Get/get → getConfig, "failed to retrieve
 * configuration from server"; the URL is the agent's local load balancer, pkg/agent/proxy; pkg/clientaccess/token.go get:
 * "%s: %s" with the status).
 */
function agentJoins(unit, url, token, name) {
  supervisorAnswers(unit, url, undefined);
  const cluster = readJson(w('cluster-tokens.json'), undefined);
  const password = (t) => ((t ?? '').includes('::') ? t.slice(t.indexOf('::') + 2).replace(/^node:/, '') : t);
  if (cluster?.agent !== undefined && password(token) !== cluster.agent)
    neverReady(unit, `level=error msg="Failed to configure agent: failed to retrieve configuration from server: https://127.0.0.1:6444/v1-${name}/config: 401 Unauthorized"`);
}

/**
 * A server joining embedded etcd through the supervisor URL: its token's password must be the cluster's server password
 * (world: cluster-tokens.json `server`, when a test sets it); the supervisor answers /v1-<name>/server-bootstrap with 401
 * and the server exits fatal (k3s-io/k3s pkg/cluster/bootstrap.go httpBootstrap, pkg/daemons/control/server.go prepare
 * "failed to bootstrap cluster data"; the line of k3s-io/k3s#2463), restarted by systemd.
 */
function serverJoins(unit, url, token, name) {
  const cluster = readJson(w('cluster-tokens.json'), undefined);
  if (cluster?.server !== undefined && tokenPassword(token) !== cluster.server)
    neverReady(unit, `level=fatal msg="Error: preparing server: failed to bootstrap cluster data: ${url.replace(/\/+$/, '')}/v1-${name}/server-bootstrap: 401 Unauthorized"`);
}

/** Kine's connection to a postgres:// DSN against the world's database (postgres.json), as pgx reports a failure. */
function postgresError(dsn) {
  const db = readJson(w('postgres.json'), undefined);
  if (!db) return undefined;
  const u = new URL(dsn);
  const where = `host=${u.hostname} user=${decodeURIComponent(u.username)} database=${u.pathname.slice(1)}`;
  if (!db.up || u.hostname !== db.host || Number(u.port || 5432) !== (db.port ?? 5432))
    return `level=error msg="Failed to ping database connection: failed to connect to \`${where}\`: dial error (dial tcp ${u.hostname}:${u.port || 5432}: connect: connection timed out)"`;
  if (decodeURIComponent(u.username) !== db.user || decodeURIComponent(u.password) !== db.password)
    return `level=error msg="Failed to ping database connection: failed to connect to \`${where}\`: server error (FATAL: password authentication failed for user \"${decodeURIComponent(u.username)}\" (SQLSTATE 28P01))"`;
  return undefined;
}

const caHash = (ca) => createHash('sha256').update(`ca-of-cluster-${ca}\n`).digest('hex');
/** The password of a token: `K10<hash>::server:<password>` or the short form (clientaccess.ParseToken / NormalizeToken). */
const tokenPassword = (t) => ((t ?? '').includes('::') ? t.slice(t.indexOf('::') + 2).replace(/^server:/, '') : t);

/**
 * `<k3s|rke2> token rotate` (k3s-io/k3s pkg/cli/token/token.go Rotate, pkg/server/handlers/token.go tokenRotate): the
 * CLI authenticates to the local running server with `<data-dir>/server/token`; the server takes --new-token as the
 * new password or makes one (util.Random(16): 32 hex digits), rewrites that file as K10<CA hash>::server:<new>, re-encrypts the bootstrap data
 * under the new token and deletes the old key. The agent token (agent-token-file set) is untouched. A failure of the
 * datastore (world: token-rotate-fails.json) is the server's 500, the CLI's non-zero exit, after the file was rewritten.
 */
function tokenCli() {
  const name = cmd;
  if (args[0] === 'server' && args.includes('--cluster-reset')) return clusterReset(name);
  if (args[0] === 'etcd-snapshot') return etcdSnapshot(name);
  if (args[0] !== 'token' || args[1] !== 'rotate') fail(1, `unexpected ${name} ${args.join(' ')}`);
  process.stdout.write('\x1b[33mWARNING\x1b[0m: Recommended to keep a record of the old token. If restoring from a snapshot, you must use the token associated with that snapshot.\n');
  const unit = name === 'rke2' ? 'rke2-server' : 'k3s';
  const file = at(`/var/lib/rancher/${name}/server/token`);
  if (!existsSync(file)) fail(1, `open /var/lib/rancher/${name}/server/token: no such file or directory`);
  if (!readJson(at('.active.json'), []).includes(unit)) fail(1, `Put "https://127.0.0.1:${name === 'rke2' ? 9345 : 6443}/v1-${name}/token": dial tcp 127.0.0.1: connect: connection refused`);
  const bootstrap = readJson(w('bootstrap.json'), undefined);
  const old = readFileSync(file, 'utf8').trim();
  if (!bootstrap || tokenPassword(old) !== bootstrap.password) fail(1, 'token rotate: 401 Unauthorized');
  // --new-token: the password as given (tokenRotate stores it as user server's password); else util.Random(16).
  const fresh = opt('--new-token') ?? createHash('sha256').update(`${old}${Date.now()}${Math.random()}`).digest('hex').slice(0, 32);
  // The CA does not change: the file keeps its CA hash. The server rewrites it before it touches the datastore
  // (handlers/token.go: WriteToken, then cluster.RotateBootstrapToken), so a datastore failure leaves it rewritten.
  const hash = old.startsWith('K10') ? old.slice(3, old.indexOf('::')) : caHash(bootstrap.ca);
  writeFileSync(file, `K10${hash}::server:${fresh}\n`);
  const failure = readJson(w('token-rotate-fails.json'), undefined);
  if (failure) fail(1, `token rotate: 500 Internal Server Error: ${failure.message}`);
  writeJson(w('bootstrap.json'), { ...bootstrap, password: fresh });
  process.stdout.write(`Token rotated, restart ${name} nodes with new token\n`);
}

/**
 * `<name> etcd-snapshot ls|save|…`: the CLI posts the operation to the running server's /db/snapshot (k3s-io/k3s
 * pkg/cli/etcdsnapshot/etcd_snapshot.go list()/save(): info.Post("/db/snapshot"); --etcd-server defaults to the local
 * server, pkg/cli/cmds/etcd_snapshot.go). With the local server stopped the request is refused.
 */
function etcdSnapshot(name) {
  const unit = name === 'rke2' ? 'rke2-server' : 'k3s';
  if (!readJson(at('.active.json'), []).includes(unit)) fail(1, `Post "https://127.0.0.1:${name === 'rke2' ? 9345 : 6443}/db/snapshot": dial tcp 127.0.0.1: connect: connection refused`);
  const etcd = readJson(w('etcd.json'), { members: [] });
  if (args[1] === 'save') {
    const snap = `${opt('--name') ?? 'on-demand'}-${HOST}-${Math.floor(Date.now() / 1000)}`;
    writeJson(w('etcd.json'), { ...etcd, snapshots: [...(etcd.snapshots ?? []), snap] });
    return process.stderr.write(`Snapshot ${snap} saved.\n`);
  }
  process.stdout.write(`Name Location Size Created\n${(etcd.snapshots ?? []).map((x) => `${x} s3://${x} 1 2026-12-07T00:00:00Z`).join('\n')}\n`);
}

/**
 * `<name> server --cluster-reset [--cluster-reset-restore-path=X]` (k3s-io/k3s pkg/etcd/etcd.go Reset(); rke2-docs
 * datastore/backup_restore.md "Restoring Snapshots"): with etcd-s3 in the config the snapshot X (a file name) is
 * downloaded from the bucket's folder, else X is a local path; the snapshot's bootstrap data opens only with the token
 * it was taken under; the old database moves to db/etcd-old-<time>; etcd restarts as a NEW single-member cluster of this
 * node under a new member name (setName(true)), reset-flag is written, and the process exits 0 with its message. A
 * server already running holds the ports: the second process fails.
 */
function clusterReset(name) {
  const unit = name === 'rke2' ? 'rke2-server' : 'k3s';
  if (readJson(at('.active.json'), []).includes(unit)) fail(1, 'listen tcp 127.0.0.1:9345: bind: address already in use');
  const cfg = configOf(name);
  const path = opt('--cluster-reset-restore-path');
  const s3 = cfg['etcd-s3'] === true && !args.includes('--etcd-s3=false');
  let snapshot;
  if (path) {
    const file = s3 ? w(`s3/${cfg['etcd-s3-bucket']}/${String(cfg['etcd-s3-folder'] ?? '').replace(/^\/+|\/+$/g, '')}/${path}`) : at(path);
    if (!existsSync(file)) fail(1, s3 ? `failed to download ${path} from S3: The specified key does not exist.` : `etcd: snapshot path does not exist: ${path}`);
    snapshot = JSON.parse(readFileSync(file, 'utf8'));
  }
  const tokenFile = cfg['token-file'];
  const token = tokenFile && existsSync(at(tokenFile)) ? readFileSync(at(tokenFile), 'utf8').trim() : cfg.token;
  if (snapshot?.password !== undefined && tokenPassword(token) !== snapshot.password) fail(1, 'bootstrap data already found and encrypted with different token');
  const db = at(`/var/lib/rancher/${name}/server/db`);
  if (existsSync(join(db, 'etcd'))) copyDir(join(db, 'etcd'), join(db, `etcd-old-${Date.now()}`)), rmSync(join(db, 'etcd'), { recursive: true, force: true });
  const etcd = readJson(w('etcd.json'), { clusters: 0, members: [] });
  const nodeName = cfg['node-name'] ?? HOST;
  const member = `${nodeName}-${createHash('sha1').update(`${HOST}${Date.now()}reset`).digest('hex').slice(0, 8)}`;
  mkdirSync(join(db, 'etcd'), { recursive: true });
  writeFileSync(join(db, 'etcd', 'name'), member);
  writeFileSync(join(db, 'reset-flag'), '');
  writeJson(w('etcd.json'), { ...etcd, ca: snapshot?.ca ?? etcd.ca, members: [{ name: member, nodeName, ip: process.env.NODE_IP }], reset: true, restoredFrom: path ?? null, data: snapshot?.data ?? etcd.data });
  process.stderr.write('Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. Backup and delete ${datadir}/server/db on each peer etcd server and rejoin the nodes\n');
}

const copyDir = (a, b) => {
  mkdirSync(b, { recursive: true });
  for (const e of readdirSync(a, { withFileTypes: true })) e.isDirectory() ? copyDir(join(a, e.name), join(b, e.name)) : copyFileSync(join(a, e.name), join(b, e.name));
};

/** Start one of the family's services as the supervisor would, and record what it runs as. */
function startService(unit) {
  const file = unitFile(unit);
  if (!file) fail(5, `Unit ${unit}.service not found.`);
  runExecStartPre(unit);
  const name = unit.startsWith('rke2') ? 'rke2' : 'k3s';
  const prefix = name.toUpperCase();
  const env = unitEnvironment(readFileSync(file, 'utf8'), unit);
  const cfg = configOf(name);
  const pick = (key) => cfg[key] ?? env[`${prefix}_${key.toUpperCase().replace(/-/g, '_')}`];
  const server = unit === 'k3s' || unit === 'rke2-server';
  const state = { unit, nodeName: pick('node-name') ?? HOST, server };
  const tokenFile = pick('token-file');
  const token = tokenFile && existsSync(at(tokenFile)) ? readFileSync(at(tokenFile), 'utf8').trim() : pick('token');
  /** The server's agent token file, secure format: agent-token-file's password, else the server token's (`fallback`). */
  const writeAgentToken = (ca, fallback) => {
    const agentFile = pick('agent-token-file');
    const agent = agentFile && existsSync(at(agentFile)) ? readFileSync(at(agentFile), 'utf8').trim() : fallback;
    writeFileSync(at(`/var/lib/rancher/${name}/server/agent-token`), `K10${caHash(ca)}::node:${agent.includes('::') ? agent.slice(agent.indexOf('::') + 2).replace(/^node:/, '') : agent}\n`);
  };
  const dsn = pick('datastore-endpoint');
  const postgres = server && typeof dsn === 'string' && dsn.startsWith('postgres://');
  if (postgres) {
    const error = postgresError(dsn);
    if (error) neverReady(unit, error);
    // An empty database: this server takes the bootstrap key and writes its new CA there, under its token.
    if (!readJson(w('bootstrap.json'), undefined) && token) writeJson(w('bootstrap.json'), { password: tokenPassword(token), ca: `kine-${HOST}`, by: HOST });
  }
  const bootstrap = readJson(w('bootstrap.json'), undefined);
  if (server && bootstrap) {
    // The datastore's bootstrap data, encrypted under a key derived from the token's password: a server started
    // with another token finds only that key (k3s-io/k3s pkg/cluster/storage.go getBootstrapKeyFromStorage).
    if (tokenPassword(token) !== bootstrap.password) neverReady(unit, 'level=fatal msg="Error: starting kubernetes: preparing server: bootstrap data already found and encrypted with different token"');
    state.ca = bootstrap.ca;
    mkdirSync(at(`/var/lib/rancher/${name}/server`), { recursive: true });
    // At every start the server writes its token files in secure format (pkg/server/server.go, WriteToken): the
    // server token, and the agent token (agent-token-file's, else the server token's password).
    writeFileSync(at(`/var/lib/rancher/${name}/server/token`), `K10${caHash(bootstrap.ca)}::server:${bootstrap.password}\n`);
    writeAgentToken(bootstrap.ca, bootstrap.password);
  }
  if (server && (pick('datastore-endpoint') !== undefined || name === 'k3s')) {
    state.datastore = pick('datastore-endpoint') ?? `sqlite:///var/lib/rancher/${name}/server/db/state.db`;
    mkdirSync(at(`/var/lib/rancher/${name}/server/tls`), { recursive: true });
    writeFileSync(at(`/var/lib/rancher/${name}/server/tls/server-ca.crt`), 'ca');
  } else if (name === 'k3s') {
    agentJoins(unit, pick('server'), token, name);
    state.joined = pick('server');
  } else {
    const etcd = readJson(w('etcd.json'), { clusters: 0, members: [] });
    const nameFile = at(`/var/lib/rancher/${name}/server/db/etcd/name`);
    const join = pick('server');
    const checkToken = () => {
      if (!token) fail(1, 'no token');
      if (token.startsWith('K10')) {
        const hash = token.slice(3, token.indexOf('::'));
        if (hash !== caHash(etcd.ca)) neverReady(unit, `level=fatal msg="Error: token CA hash does not match the Cluster CA certificate hash: ${hash} != ${caHash(etcd.ca)}"`);
        state.caVerified = true;
      } else state.caVerified = false;
    };
    if (!server) {
      if (!join) fail(1, 'agent: no server URL');
      supervisorAnswers(unit, join, etcd);
      checkToken();
      agentJoins(unit, join, token, name);
      state.joined = join;
    } else if (existsSync(nameFile)) {
      state.member = readFileSync(nameFile, 'utf8');
      // After a cluster reset a peer's old database names a member the reset cluster no longer has (pkg/etcd/etcd.go Test()).
      if (etcd.reset && !etcd.members.some((m) => m.name === state.member))
        neverReady(unit, `level=fatal msg="this server is a not a member of the etcd cluster. Found [${etcd.members.map((m) => `${m.name}=https://${m.ip}:2380`).join(' ')}], expect: ${state.member}=${process.env.NODE_IP}"`);
      // A normal start deletes the reset flag (backup_restore.md: "This file is deleted when RKE2 starts normally").
      rmSync(at(`/var/lib/rancher/${name}/server/db/reset-flag`), { force: true });
    } else if (join) {
      supervisorAnswers(unit, join, etcd);
      checkToken();
      serverJoins(unit, join, token, name);
      if (etcd.members.some((m) => m.nodeName === state.nodeName)) neverReady(unit, 'level=fatal msg="ETCD join failed: duplicate node name found, please use a unique name for this node"');
      state.member = `${state.nodeName}-${createHash('sha1').update(`${HOST}${Date.now()}`).digest('hex').slice(0, 8)}`;
      etcd.members.push({ name: state.member, nodeName: state.nodeName, ip: process.env.NODE_IP });
    } else {
      // No etcd data and no join URL: a new single-member cluster.
      etcd.clusters += 1;
      etcd.ca = `${etcd.clusters}`;
      state.member = `${state.nodeName}-00000000`;
      etcd.members = [{ name: state.member, nodeName: state.nodeName, ip: process.env.NODE_IP }];
    }
    if (server) {
      mkdirSync(dirname(nameFile), { recursive: true });
      writeFileSync(nameFile, state.member);
      const password = (token ?? '').includes('::') ? token.slice(token.indexOf('::') + 2).replace(/^server:/, '') : token;
      writeFileSync(at(`/var/lib/rancher/${name}/server/token`), `K10${caHash(etcd.ca)}::server:${password}\n`);
      writeAgentToken(etcd.ca, password);
    }
    writeJson(w('etcd.json'), etcd);
  }
  // A Node that stays NotReady once its service started again (world not-ready-after-start.json: e.g. the new config
  // keeps its kubelet from reporting Ready); its etcd member, if any, still answers. An entry { host, config } does so
  // only while the node's config.yaml holds that text (a setting that breaks it): started with another, Ready again.
  const breaks = readJson(w('not-ready-after-start.json'), []).find((e) => e === HOST || (e.host === HOST && readFileSync(at(`/etc/rancher/${name}/config.yaml`), 'utf8').includes(e.config)));
  const conditional = readJson(w('not-ready-after-start.json'), []).some((e) => e.host === HOST);
  if (breaks || conditional) {
    const etcd = readJson(w('etcd.json'), { clusters: 0, members: [] });
    for (const m of etcd.members) if (m.nodeName === HOST) m.notReady = Boolean(breaks);
    writeJson(w('etcd.json'), etcd);
  }
  writeJson(w(`nodes/${HOST}.json`), { ...state, starts: (readJson(w(`nodes/${HOST}.json`), {}).starts ?? 0) + 1 });
}

function systemctl() {
  const verb = args[0];
  const units = args.slice(1).filter((a) => !a.startsWith('-')).map((u) => basename(u).replace(/\.service$/, ''));
  const enabled = readJson(at('.enabled.json'), []);
  const family = (u) => /^(k3s|k3s-agent|rke2-server|rke2-agent)$/.test(u);
  if (verb === 'daemon-reload') return;
  // disable: the unit no longer starts at boot (its [Install] WantedBy= link removed); --now stops it too.
  if (verb === 'disable') {
    writeJson(at('.enabled.json'), enabled.filter((u) => !units.includes(u)));
    if (args.includes('--now')) writeJson(at('.active.json'), readJson(at('.active.json'), []).filter((u) => !units.includes(u)));
    return;
  }
  if (verb === 'is-enabled') return process.exit(enabled.includes(units[0]) ? 0 : 1);
  if (verb === 'is-active') return process.exit(readJson(at('.active.json'), []).includes(units[0]) ? 0 : 3);
  if (verb === 'enable') {
    writeJson(at('.enabled.json'), [...new Set([...enabled, ...units])]);
    if (!args.includes('--now')) return;
  }
  if (['start', 'restart', 'enable'].includes(verb)) {
    for (const u of units) {
      if (family(u)) startService(u), journal(u, `Started ${u}.service.`);
      const active = readJson(at('.active.json'), []);
      writeJson(at('.active.json'), [...new Set([...active, u])]);
    }
    return;
  }
  if (verb === 'stop') {
    writeJson(at('.active.json'), readJson(at('.active.json'), []).filter((u) => !units.includes(u)));
    return;
  }
  fail(1, `unexpected systemctl ${verb}`);
}

// ---------------------------------------------------------------- kubectl (the family's managed etcd controller)
function kubectl() {
  // kubectl's global --request-timeout (lib/kubectl-timeout.ts; calls.log keeps it) changes no answer here.
  for (let i = args.findIndex((a) => a.startsWith('--request-timeout=')); i !== -1; i = args.findIndex((a) => a.startsWith('--request-timeout='))) args.splice(i, 1);
  // Another run taking the Lease over meanwhile, at the first kubectl call once the Lease was written `afterWrites`
  // times (world lease-thief.json { holder, afterWrites }: as if this run's Lease had expired between two renewals).
  const thief = readJson(w('lease-thief.json'), undefined);
  if (thief?.afterWrites !== undefined && existsSync(w('leases.log')) && readFileSync(w('leases.log'), 'utf8').trim().split('\n').length >= thief.afterWrites) {
    const held = readJson(w('leases.json'), {});
    if (held['odp-apply-config']) {
      held['odp-apply-config'] = { ...held['odp-apply-config'], holderIdentity: thief.holder, resourceVersion: String(Number(held['odp-apply-config'].resourceVersion) + 1) };
      writeJson(w('leases.json'), held);
      rmSync(w('lease-thief.json'));
    }
  }
  const etcd = readJson(w('etcd.json'), { clusters: 0, members: [] });
  const removed = readJson(w('removed.json'), {});
  const nodes = () => [...etcd.members.filter((m) => m.node !== false).map((m) => [m.nodeName, m.ip]), ...Object.entries(removed).map(([n, ip]) => [n, ip])];
  const down = etcd.members.filter((m) => m.down).length;
  if (down > 0 && down * 2 >= etcd.members.length && args.includes('get')) fail(1, 'Error from server: etcdserver: request timed out');
  const gi = args.indexOf('get');
  if (gi !== -1 && ['node', 'pod'].includes(args[gi + 1]) && (opt('-o') ?? '').includes('@.type=="Ready"')) {
    const name = args[gi + 2];
    const m = etcd.members.find((x) => x.nodeName === (args[gi + 1] === 'pod' ? name.replace(/^etcd-/, '') : name));
    if (!m) fail(1, `Error from server (NotFound): ${args[gi + 1]}s "${name}" not found`);
    return process.stdout.write(m.down || (args[gi + 1] === 'node' && m.notReady) ? 'False' : 'True');
  }
  // A Node's spec.unschedulable (kubectl cordon/drain set it: `cordoned` in etcd.json), as an agent's kubelet reads its own.
  if (gi !== -1 && args[gi + 1] === 'node' && opt('-o') === 'jsonpath={.spec.unschedulable}') {
    const m = etcd.members.find((x) => x.nodeName === args[gi + 2]);
    if (!m) fail(1, `Error from server (NotFound): nodes "${args[gi + 2]}" not found`);
    return process.stdout.write(m.cordoned ? 'true' : '');
  }
  // A Node's annotation (`annotations` of the member), read with -o jsonpath={.metadata.annotations.<key, dots escaped>},
  // and `annotate node <n> <key>=<value> --overwrite` (an agent's kubelet annotating its own Node: NodeRestriction
  // refuses a node's change of its taints, labels or ownerReferences, not of its annotations).
  const annotation = /^jsonpath=\{\.metadata\.annotations\.(.+)\}$/.exec(opt('-o') ?? '');
  // (The managed etcd controller's own annotations are answered below.)
  if (gi !== -1 && args[gi + 1] === 'node' && annotation && !annotation[1].startsWith('etcd')) {
    const m = etcd.members.find((x) => x.nodeName === args[gi + 2]);
    if (!m) fail(1, `Error from server (NotFound): nodes "${args[gi + 2]}" not found`);
    return process.stdout.write(m.annotations?.[annotation[1].replace(/\\\./g, '.')] ?? '');
  }
  // `annotate node <n> <key>-` removes it (kubectl annotate's removal form; absent: nothing to do).
  if (args[0] === 'annotate' && args[1] === 'node' && (args.includes('--overwrite') || /^[^=]+-$/.test(args[3])) && !args[3].startsWith('etcd.')) {
    const m = etcd.members.find((x) => x.nodeName === args[2]);
    if (!m) fail(1, `Error from server (NotFound): nodes "${args[2]}" not found`);
    // Each `<key>=<value>` set, each `<key>-` removed, in one request.
    m.annotations = { ...m.annotations };
    for (const pair of args.slice(3).filter((a) => !a.startsWith('--'))) {
      if (pair.includes('=')) m.annotations[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
      else delete m.annotations[pair.slice(0, -1)];
    }
    writeJson(w('etcd.json'), etcd);
    return process.stdout.write(`node/${args[2]} annotated\n`);
  }
  // kube-apiserver's storage check (`etcd`, on /healthz, /livez and /readyz): a read through its storage client. On
  // Kine PostgreSQL the read reaches the database (world postgres.json `up: false`: it does not).
  if (args[0] === 'get' && args[1] === '--raw' && args[2] === '/readyz/etcd') {
    // Another run taking the Lease over meanwhile (world lease-thief.json: its holder), once: as if this run's Lease
    // had expired between two renewals.
    const held = readJson(w('leases.json'), {});
    if (typeof thief === 'string' && held['odp-apply-config']) {
      held['odp-apply-config'] = { ...held['odp-apply-config'], holderIdentity: thief, resourceVersion: String(Number(held['odp-apply-config'].resourceVersion) + 1) };
      writeJson(w('leases.json'), held);
      rmSync(w('lease-thief.json'));
    }
    if (readJson(w('postgres.json'), { up: true }).up === false) fail(1, 'Error from server (InternalError): an error on the server ("[-]etcd failed: reason withheld\\nhealthz check failed") has prevented the request from succeeding');
    return process.stdout.write('ok');
  }
  // Leases in kube-system (world leases.json): ./lease-stub.mjs.
  if (leaseCommand(args, w('leases.json'), fail)) return;
  // kubectl drain (cordon, then evictions a PodDisruptionBudget may refuse: world etcd.json member `pdbBlocks`, until
  // --timeout) and uncordon, of a server's Node; `cordoned` records spec.unschedulable.
  if (args[0] === 'drain' || args[0] === 'uncordon') {
    const m = etcd.members.find((x) => x.nodeName === args[1]);
    if (!m) fail(1, `Error from server (NotFound): nodes "${args[1]}" not found`);
    m.cordoned = args[0] === 'drain';
    writeJson(w('etcd.json'), etcd);
    if (args[0] === 'uncordon') return process.stdout.write(`node/${args[1]} uncordoned\n`);
    process.stdout.write(`node/${args[1]} cordoned\n`);
    // A pod no controller re-creates (`barePods`: "ns/name"): refused without --force before any eviction
    // (kubernetes/kubectl pkg/drain/filters.go unreplicatedFilter, the error doubled "cannot delete" as kubectl prints it).
    if (m.barePods && !args.includes('--force')) {
      const list = m.barePods.join(', ');
      process.stderr.write(`error: unable to drain node "${args[1]}" due to error: cannot delete cannot delete Pods that declare no controller (use --force to override): ${list}, continuing command...\nThere are pending nodes to be drained:\n ${args[1]}\n`);
      fail(1, `cannot delete cannot delete Pods that declare no controller (use --force to override): ${list}`);
    }
    if (m.pdbBlocks) {
      process.stderr.write(`evicting pod apps/${m.pdbBlocks}\nerror when evicting pods/"${m.pdbBlocks}" -n "apps" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.\n`);
      fail(1, `error: unable to drain node "${args[1]}" due to error: [error when evicting pods/"${m.pdbBlocks}" -n "apps": global timeout reached: ${opt('--timeout')}], continuing command...`);
    }
    m.drained = (m.drained ?? 0) + 1;
    writeJson(w('etcd.json'), etcd);
    return process.stdout.write(`node/${args[1]} drained\n`);
  }
  // The Node's kubelet version (`kubelet` of the member: the release its rke2 runs) and the etcd static pod's image
  // (`etcdImage`: the mirror pod of the manifest the kubelet last synced, old until the supervisor rewrote it).
  const field = (key, jsonpath) => {
    if (gi === -1 || opt('-o') !== `jsonpath=${jsonpath}`) return false;
    const name = args[gi + 2];
    const m = etcd.members.find((x) => x.nodeName === (args[gi + 1] === 'pod' ? name.replace(/^etcd-/, '') : name));
    if (!m) fail(1, `Error from server (NotFound): ${args[gi + 1]}s "${name}" not found`);
    if (m[key] === undefined) fail(1, `the world's etcd.json gives member ${m.name} no ${key}`);
    process.stdout.write(m[key]);
    return true;
  };
  if (args[gi + 1] === 'node' && field('kubelet', '{.status.nodeInfo.kubeletVersion}')) return;
  if (args[gi + 1] === 'pod' && field('etcdImage', '{.spec.containers[?(@.name=="etcd")].image}')) return;
  // etcd's member IDs (uint64, printed in hex without leading zeros) and the static pods of the servers.
  const memberId = (m) => createHash('sha1').update(m.name).digest('hex').slice(0, 16).replace(/^0+/, '');
  const pods = () => etcd.members.filter((m) => m.node !== false).map((m) => [`etcd-${m.nodeName}`, m.ip, m]);
  const phase = (m) => m.phase ?? 'Running';
  if (args.slice(0, 5).join(' ') === '-n kube-system get pods -l' && args[5] === 'component=etcd') {
    const selector = opt('--field-selector');
    if (selector !== undefined && selector !== 'status.phase=Running') fail(1, `unexpected field selector ${selector}`);
    return process.stdout.write(pods().filter(([, , m]) => selector === undefined || phase(m) === 'Running').map(([p, ip]) => `${p} ${ip}\n`).join(''));
  }
  if (args.slice(0, 3).join(' ') === '-n kube-system exec') {
    const pod = args[3];
    const target = pods().find(([p]) => p === pod);
    if (!target) fail(1, `Error from server (NotFound): pods "${pod}" not found`);
    if (phase(target[2]) !== 'Running') fail(1, `error: unable to upgrade connection: container not found ("etcd")`);
    // The pod runs but its etcd does not answer (a member marked down): etcdctl's default endpoint 127.0.0.1:2379 times out.
    if (target[2].down) fail(1, '{"level":"warn","msg":"retrying of unary invoker failed","target":"etcd-endpoints://0xc000/127.0.0.1:2379","error":"rpc error: code = DeadlineExceeded desc = latest balancer error: last connection error: connection error: desc = \\"transport: Error while dialing: dial tcp 127.0.0.1:2379: connect: connection refused\\""}\nError: context deadline exceeded');
    const ctl = args.slice(args.indexOf('--') + 1);
    // The TLS paths as given (a script written on a simulated node has its absolute paths under the node's root).
    const tls = (flag) => ctl[ctl.indexOf(flag) + 1]?.split(SANDBOX).join('');
    if (ctl[0] !== 'etcdctl') fail(1, `unexpected exec ${ctl.join(' ')}`);
    if (tls('--cacert') !== '/var/lib/rancher/rke2/server/tls/etcd/server-ca.crt' || tls('--cert') !== '/var/lib/rancher/rke2/server/tls/etcd/server-client.crt' || tls('--key') !== '/var/lib/rancher/rke2/server/tls/etcd/server-client.key')
      fail(1, '{"level":"warn","msg":"retrying of unary invoker failed","error":"rpc error: code = DeadlineExceeded desc = latest balancer error: last connection error: connection error: desc = \\"transport: authentication handshake failed: remote error: tls: certificate required\\""}\nError: context deadline exceeded');
    const verb = ctl.filter((a, i) => !a.startsWith('-') && !ctl[i - 1]?.startsWith('--c') && ctl[i - 1] !== '--key' && ctl[i - 1] !== '-w').slice(1);
    const cluster = 'cdf818194e3a8c32';
    if (verb[0] === 'member' && verb[1] === 'list' && ctl.includes('--hex') && ctl[ctl.indexOf('-w') + 1] === 'json') {
      // isLearner only when true (etcdserverpb.Member `json:"isLearner,omitempty"`).
      const members = etcd.members.map((m) => `{"ID":"${memberId(m)}","name":"${m.name}","peerURLs":["https://${m.ip}:2380"],"clientURLS":["https://${m.ip}:2379"]${m.learner ? ',"isLearner":true' : ''}}`);
      return process.stdout.write(`{"header":{"cluster_id":"${cluster}","member_id":"${memberId(etcd.members[0])}","raft_term":"2"},"members":[${members.join(',')}]}\n`);
    }
    if (verb[0] === 'member' && verb[1] === 'remove') {
      const m = etcd.members.find((x) => memberId(x) === verb[2]);
      if (!m) fail(1, 'Error: etcdserver: member not found');
      etcd.members = etcd.members.filter((x) => x !== m);
      writeJson(w('etcd.json'), etcd);
      return process.stdout.write(`Member ${verb[2]} removed from cluster ${cluster}\n`);
    }
    fail(1, `unexpected etcdctl ${ctl.join(' ')}`);
  }
  // The same list with each Node's Ready and EtcdIsVoter statuses (apply-config.sh's gate: one read per poll).
  if (args[0] === 'get' && args[1] === 'nodes' && (opt('-o') ?? '').includes('EtcdIsVoter')) {
    const status = (m) => `${m.down || m.notReady ? 'False' : 'True'} ${etcd.kine ? '' : m.down || m.learner ? 'False' : 'True'}`;
    return process.stdout.write(etcd.members.filter((m) => m.node !== false).map((m) => `${m.nodeName} ${m.ip} ${status(m)}\n`).join(''));
  }
  // Every Node with one of its annotations (`{.metadata.name} {.metadata.annotations.<key, dots escaped>}` lines).
  const listed = /^jsonpath=\{range \.items\[\*\]\}\{\.metadata\.name\} \{\.metadata\.annotations\.(.+)\}\{"\\n"\}\{end\}$/.exec(opt('-o') ?? '');
  if (args[0] === 'get' && args[1] === 'nodes' && listed) {
    const key = listed[1].replace(/\\\./g, '.');
    return process.stdout.write(etcd.members.filter((m) => m.node !== false).map((m) => `${m.nodeName} ${m.annotations?.[key] ?? ''}\n`).join(''));
  }
  if (args[0] === 'get' && args[1] === 'nodes' && (opt('-o') ?? '').startsWith('jsonpath=')) return process.stdout.write(nodes().map(([n, ip]) => `${n} ${ip}\n`).join(''));
  if (args[0] === 'annotate' && args[1] === 'node' && args[3] === 'etcd.rke2.cattle.io/remove=true') {
    // The managed etcd controller: RemovePeer of the node's member, then removed-node-name.
    const m = etcd.members.find((x) => x.nodeName === args[2]);
    if (!m && !removed[args[2]]) fail(1, `Error from server (NotFound): nodes "${args[2]}" not found`);
    if (m) {
      etcd.members = etcd.members.filter((x) => x !== m);
      removed[args[2]] = m.ip;
      writeJson(w('etcd.json'), etcd);
      writeJson(w('removed.json'), removed);
    }
    return process.stdout.write(`node/${args[2]} annotated\n`);
  }
  if (args[0] === 'get' && args[1] === 'node' && (opt('-o') ?? '').includes('removed-node-name')) return process.stdout.write(removed[args[2]] ? args[2] : '');
  if (args[0] === 'delete' && args[1] === 'node') {
    if (etcd.members.some((m) => m.nodeName === args[2])) {
      // Deleting the Node removes the member too (the controller's onRemove).
      etcd.members = etcd.members.filter((m) => m.nodeName !== args[2]);
      writeJson(w('etcd.json'), etcd);
    } else if (!removed[args[2]]) fail(1, `Error from server (NotFound): nodes "${args[2]}" not found`);
    delete removed[args[2]];
    writeJson(w('removed.json'), removed);
    return process.stdout.write(`node "${args[2]}" deleted\n`);
  }
  // Talos worker gates: `kubectl wait --for=condition=Ready node/<name>`, `get nodes -o jsonpath` of workers.
  const talos = readJson(w('talos.json'), undefined);
  // The Talos gate's worker list: every Node's InternalIP (a node with `registered: false` has none).
  if (talos && args[0] === 'get' && args[1] === 'nodes' && args.some((a) => a.includes('InternalIP')) && !args.some((a) => a.includes('osImage') || a.includes('.metadata.name')))
    return process.stdout.write(Object.entries(talos.nodes).filter(([, n]) => !n.maintenance && n.registered !== false).map(([ip]) => ip).join(' '));
  if (talos && args[0] === 'wait') {
    const node = args.find((a) => a.startsWith('node/'))?.slice(5);
    const n = Object.values(talos.nodes).find((x) => x.name === node);
    if (!n || n.down) fail(1, `timed out waiting for the condition on nodes/${node}`);
    return process.stdout.write(`node/${node} condition met\n`);
  }
  fail(1, `unexpected kubectl ${args.join(' ')}`);
}

// ---------------------------------------------------------------- talosctl
function talosctl() {
  const t = readJson(w('talos.json'));
  const nodes = (opt('--nodes') ?? opt('-n') ?? '').split(',').filter(Boolean);
  const sub = args.filter((a, i) => !a.startsWith('-') && !['--nodes', '-n', '--image', '--file', '--mode', '--wait-timeout', '--to', '--recover-from', '--control-plane-nodes', '--worker-nodes', '--system-labels-to-wipe', '--endpoints', '-e', '--insecure'].includes(args[i - 1]));
  const verb = sub.slice(0, 2).join(' ');
  // A node marked `unreachable` (powered off, its network gone) answers nothing, as an unknown address.
  const node = (ip) => (t.nodes[ip] && !t.nodes[ip].unreachable ? t.nodes[ip] : fail(1, `rpc error: code = Unavailable desc = connection refused (${ip})`));
  const save = () => writeJson(w('talos.json'), t);
  const cpOnly = (ip, api) => {
    if (node(ip).role !== 'controlplane') fail(1, `rpc error: code = Unimplemented desc = ${api} is only available on control plane nodes`);
  };
  // A node that was rebooted comes back when asked again (its etcd rejoins once it is up).
  const wake = (ip) => {
    const n = node(ip);
    if (n.down) {
      n.down -= 1;
      if (n.down === 0 && n.role === 'controlplane' && n.etcd === 'Down') n.etcd = 'Running';
      save();
    }
    return n;
  };
  if (args.includes('--insecure') && sub[0] === 'apply-config') {
    const n = node(nodes[0]);
    if (!n.maintenance) fail(1, 'rpc error: code = Unauthenticated: the node is not in maintenance mode');
    n.maintenance = false;
    n.etcd = n.role === 'controlplane' ? 'Preparing' : undefined;
    n.applied = (n.applied ?? 0) + 1;
    save();
    return;
  }
  for (const ip of nodes) if (node(ip).maintenance) fail(1, `rpc error: code = Unavailable (${ip} is in maintenance mode)`);
  switch (verb.split(' ')[0]) {
    case 'version':
      return process.stdout.write(`Tag: ${node(nodes[0]).version ?? 'v1.13.9'}\n`);
    case 'health': {
      if (nodes.length !== 1) fail(1, 'command "health" is not supported with multiple nodes');
      cpOnly(nodes[0], 'cluster health check');
      // Time passes while health waits: every rebooting node gets closer to being back.
      for (const ip of Object.keys(t.nodes)) wake(ip);
      const cps = (opt('--control-plane-nodes') ?? '').split(',').filter(Boolean);
      // Explicit lists replace discovery's members (v1alpha1_cluster.go:126-163): a node with no Node is then not expected.
      const given = [...cps, ...(opt('--worker-nodes') ?? '').split(',').filter(Boolean)];
      const bad = Object.entries(t.nodes).filter(([ip, n]) => n.down || (n.registered === false && (given.length === 0 || given.includes(ip))) || (n.role === 'controlplane' && n.etcd !== 'Running') || (cps.length > 0 && n.role === 'controlplane' && !cps.includes(ip)));
      if (bad.length > 0) fail(1, `waiting for etcd members / nodes ready: ${bad.map(([ip]) => ip).join(', ')}`);
      t.healthChecks = [...(t.healthChecks ?? []), nodes[0]];
      save();
      return process.stdout.write('all checks passed\n');
    }
    case 'etcd': {
      for (const ip of nodes) {
        cpOnly(ip, sub[1] === 'members' ? 'member list' : sub[1] === 'snapshot' ? 'etcd snapshot' : 'etcd status');
        const n = wake(ip);
        if (n.etcd !== 'Running') fail(1, `rpc error: etcdserver: no leader (${ip})`);
      }
      if (sub[1] === 'snapshot') writeFileSync(sub[2], 'snapshot');
      t.etcdChecks = [...(t.etcdChecks ?? []), ...nodes];
      save();
      return;
    }
    case 'upgrade': {
      const n = node(nodes[0]);
      if (n.role === 'controlplane' && Object.values(t.nodes).some((x) => x !== n && x.role === 'controlplane' && (x.down || x.etcd !== 'Running')))
        t.unsafe = [...(t.unsafe ?? []), nodes[0]];
      n.version = opt('--image');
      n.down = 2;
      if (n.role === 'controlplane') n.etcd = 'Down';
      t.upgraded = [...(t.upgraded ?? []), nodes[0]];
      save();
      return;
    }
    case 'service': {
      const n = node(nodes[0]);
      if (sub[1] === 'kubelet' && sub[2] === 'restart') {
        delete n.registered;
        t.kubeletRestarts = [...(t.kubeletRestarts ?? []), nodes[0]];
        save();
        return;
      }
      // pkg/machinery/formatters/formatters.go:208-243: STATE, then HEALTH (the etcd service's quorum check, etcd.go:252-266).
      return process.stdout.write(`NODE ${nodes[0]}\nID etcd\nSTATE ${n.etcd ?? 'Finished'}\nHEALTH ${n.etcd === 'Running' ? 'OK' : '?'}\n`);
    }
    case 'reset': {
      const n = node(nodes[0]);
      n.etcd = n.role === 'controlplane' ? 'Preparing' : undefined;
      t.resets = [...(t.resets ?? []), nodes[0]];
      save();
      return;
    }
    case 'bootstrap': {
      const n = node(nodes[0]);
      cpOnly(nodes[0], 'bootstrap');
      if (n.etcd !== 'Preparing') fail(1, 'rpc error: code = FailedPrecondition desc = etcd service is not ready for recovery yet');
      const from = opt('--recover-from');
      if (from && !existsSync(from)) fail(1, `open ${from}: no such file or directory`);
      t.bootstraps = [...(t.bootstraps ?? []), { node: nodes[0], from: from ?? null, skipHashCheck: args.includes('--recover-skip-hash-check') }];
      // The recovered member runs; the others join once the endpoint is up (disaster-recovery.mdx line 147).
      for (const x of Object.values(t.nodes)) if (x.role === 'controlplane' && x.etcd === 'Preparing') x.etcd = 'Running';
      save();
      return;
    }
    case 'cp':
      writeFileSync(sub[2], 'db');
      return;
    case 'get':
      if (sub[1] === 'members') {
        if (!args.includes('jsonpath={.spec.addresses[0]}')) fail(1, `unexpected talosctl ${args.join(' ')}`);
        return process.stdout.write(Object.entries(t.nodes).filter(([, n]) => !n.maintenance).map(([ip]) => `${ip}\n`).join(''));
      }
      return process.stdout.write(`${node(nodes[0]).role === 'controlplane' ? 'controlplane' : 'worker'}\n`);
    default:
      t.other = [...(t.other ?? []), args.join(' ')];
      save();
  }
}

/** coreutils timeout: the command runs with its deadline known to the stubs; 124 when the deadline expires. */
function timeout() {
  const i = args.findIndex((a) => !a.startsWith('-'));
  const [duration, command, ...rest] = args.slice(i);
  const r = spawnSync(command, rest, { stdio: 'inherit', env: { ...process.env, STUB_DEADLINE: duration } });
  process.exit(r.status ?? 1);
}

const stubs = { curl, aws, sysctl, systemctl, kubectl, talosctl, timeout, journalctl, sleep: () => undefined, k3s: tokenCli, rke2: tokenCli };
if (stubs[cmd]) stubs[cmd]();
else if (cmd === 'nvidia-ctk') {
  const file = at('/etc/nvidia-container-runtime/config.toml');
  mkdirSync(dirname(file), { recursive: true });
  const sets = args.flatMap((a, i) => (args[i - 1] === '--set' ? [a] : []));
  appendFileSync(file, sets.map((s) => `${s.replace('=', ' = ')}\n`).join(''));
}
// snap, useradd, nvidia-container-runtime, modprobe: nothing to simulate.
void chmodSync;
void rmSync;
