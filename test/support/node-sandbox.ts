/**
 * A simulated fleet of EC2 nodes for running the rendered boot and runbook scripts: each node is a
 * directory standing in for its root filesystem (absolute paths in the scripts are rewritten into
 * it), and the commands the scripts call that touch the world (curl, aws, systemctl, sysctl, kubectl,
 * talosctl …) are the stubs of ./node-stubs.mjs, sharing one world directory (SSM parameters, the
 * download server, the etcd cluster, the Talos nodes). The installers are upstream-faithful stubs
 * (./installers.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { BOOT_SETTINGS_PATH } from '../../generators/distributions/rancher/boot-settings.js';

const STUBS = join(import.meta.dirname, 'node-stubs.mjs');
const STUB_COMMANDS = ['curl', 'aws', 'systemctl', 'sysctl', 'kubectl', 'talosctl', 'snap', 'useradd', 'nvidia-ctk', 'nvidia-container-runtime', 'npm', 'timeout', 'journalctl'];

export const sha256 = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex');

/** Absolute host paths of a script, moved under `root` (URLs and /dev, /proc, /tmp stay). */
export const sandboxed = (text: string, root: string): string => text.replace(/(^|[\s'"=>(|;])\/(etc|var|usr|root|run|opt)(?=[/\s'";)]|$)/gm, `$1${root}/$2`);

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class World {
  readonly dir = mkdtempSync(join(tmpdir(), 'odp-world-'));
  readonly bin = join(this.dir, 'bin');
  private served = 0;

  constructor() {
    mkdirSync(this.bin);
    for (const c of STUB_COMMANDS) symlinkSync(STUBS, join(this.bin, c));
    chmodSync(STUBS, 0o755);
    writeFileSync(join(this.dir, 'calls.log'), '');
  }

  private json<T>(file: string, fallback: T): T {
    const p = join(this.dir, file);
    return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : fallback;
  }
  private writeJson(file: string, v: unknown): void {
    writeFileSync(join(this.dir, file), JSON.stringify(v, null, 2));
  }

  /** Serve `content` at `url`; its sha256. */
  serve(url: string, content: string | Buffer): string {
    const file = join(this.dir, `served-${this.served++}`);
    writeFileSync(file, content);
    this.writeJson('urls.json', { ...this.json<Record<string, string>>('urls.json', {}), [url]: file });
    return sha256(content);
  }

  /** `url` breaks off after `received`, every try: curl leaves that much in its -o file and exits 18 (CURLE_PARTIAL_FILE). */
  servePartial(url: string, received: string): void {
    this.writeJson('urls-partial.json', { ...this.json<Record<string, string>>('urls-partial.json', {}), [url]: received });
  }

  /**
   * The fixed nodes' config parameters of a rendered base stack (`aws/base.yaml` of `files`), as its deployment writes
   * them (generators/distributions/rancher/node-config.ts): a fixed node's boot reads its config there. (The release
   * parameter is the test's: serveRelease.)
   */
  deployBase(files: ReadonlyMap<string, string>): void {
    const base = files.get('aws/base.yaml');
    if (base === undefined) throw new Error('no aws/base.yaml among the rendered files');
    const resources = (parse(base) as { Resources: Record<string, { Type: string; Properties: { Name: string; Value: string } }> }).Resources;
    for (const r of Object.values(resources)) if (r.Type === 'AWS::SSM::Parameter' && /\/config\/[^/]+$/.test(r.Properties.Name)) this.ssm(r.Properties.Name, r.Properties.Value);
  }

  ssm(name: string, value?: string): string | undefined {
    const all = this.json<Record<string, { value: string; keyId: string }>>('ssm.json', {});
    if (value !== undefined) this.writeJson('ssm.json', { ...all, [name]: { value, keyId: 'alias/odp-test' } });
    return all[name]?.value ?? value;
  }
  ssmKey = (name: string): string | undefined => this.json<Record<string, { keyId: string }>>('ssm.json', {})[name]?.keyId;

  /** Baseline kernel parameters of every node (before sysctl --system applies its files). */
  sysctlDefaults(values: Record<string, string>): void {
    this.writeJson('sysctl-defaults.json', values);
  }

  /** The datastore's bootstrap data: the password of the token it is encrypted under, and the cluster CA. */
  bootstrapKey(v?: { password: string; ca: string }): { password: string; ca: string } | undefined {
    if (v) this.writeJson('bootstrap.json', v);
    return this.json('bootstrap.json', undefined);
  }
  /** Make `token rotate` fail on the server side (a datastore error), or SSM deny writes of these parameters. */
  tokenRotateFails(message: string): void {
    this.writeJson('token-rotate-fails.json', { message });
  }
  ssmDenied(names: string[]): void {
    this.writeJson('ssm-denied.json', names);
  }
  /** SSM refuses reads of these parameters (the node role has no ssm:GetParameter on them). */
  ssmUnreadable(names: string[]): void {
    this.writeJson('ssm-unreadable.json', names);
  }

  /** The Kine PostgreSQL database the servers' DSNs must reach (host, role and password; `up: false`: unreachable). */
  postgres(db: { host: string; port?: number; user: string; password: string; up: boolean }): void {
    this.writeJson('postgres.json', db);
  }
  /**
   * A boot's poll loop bounded at `from` polls (`[ "$n" -le <from> ]`) runs at most `to` on this world's nodes: the
   * scripts the nodes are given are rewritten as they are written (like their absolute paths), the rendered text is
   * unchanged. With instantSleep, a 30-minute wait ends in a few stub calls.
   */
  shortPolls(from: number, to: number): void {
    this.pollBound = { from: `[ "$n" -le ${from} ]`, to: `[ "$n" -le ${to} ]` };
  }
  pollBound?: { from: string; to: string };
  /**
   * A watched start (start_watched UNIT N: N windows of `timeout 60 systemctl start`) runs at most `to` windows on this
   * world's nodes, rewritten like shortPolls: a bound of 30 windows ends in a few stub calls.
   */
  shortStarts(to: number): void {
    this.startWindows = to;
  }
  startWindows?: number;

  /** `sleep` returns at once on every node (a retry loop runs to its end without waiting). */
  instantSleep(): void {
    if (!existsSync(join(this.bin, 'sleep'))) symlinkSync(STUBS, join(this.bin, 'sleep'));
  }

  /** The agent token (its password) the cluster's servers accept: an agent started with another is refused (401) and never ready. */
  clusterAgentToken(agent: string): void {
    this.writeJson('cluster-tokens.json', { ...this.json('cluster-tokens.json', {}), agent });
  }
  /** The server token's password the servers of an embedded etcd accept from a joining server: another is refused (401). */
  clusterServerToken(server: string): void {
    this.writeJson('cluster-tokens.json', { ...this.json('cluster-tokens.json', {}), server });
  }

  /** Whether the API endpoint's load balancer reaches the servers (the supervisor probe). */
  endpoint(up: boolean): void {
    this.writeJson('endpoint.json', { up });
  }

  etcd = (): { clusters: number; ca?: string; members: { name: string; nodeName: string; ip: string }[] } => this.json('etcd.json', { clusters: 0, members: [] });
  nodeState = (host: string): Record<string, unknown> | undefined => this.json(`nodes/${host}.json`, undefined);
  talos = <T>(): T => this.json('talos.json', undefined as T);
  setTalos(v: unknown): void {
    this.writeJson('talos.json', v);
  }
  /** An instance of an auto-scaled group waiting under its launch lifecycle hook (Pending:Wait). */
  launching(instanceId: string, group: string, hook: string): void {
    this.writeJson('lifecycle.json', { ...this.lifecycle(), [instanceId]: { group, hook, state: 'Pending:Wait' } });
  }
  lifecycle = (): Record<string, { group: string; hook: string; state: string; result?: string; heartbeats?: number }> => this.json('lifecycle.json', {});
  calls = (): string[] => readFileSync(join(this.dir, 'calls.log'), 'utf8').split('\n').filter(Boolean);

  node(hostname: string, ip: string, arch: 'amd64' | 'arm64' = 'amd64', instanceId = `i-${sha256(hostname).slice(0, 17)}`): NodeBox {
    return new NodeBox(this, hostname, ip, arch, instanceId);
  }

  /** Run a script (not a node's: an operator's shell) with the stubs first on PATH. */
  runScript(text: string, env: Record<string, string> = {}, cwd = this.dir): RunResult {
    const file = join(this.dir, `script-${this.served++}.sh`);
    writeFileSync(file, text);
    const r = spawnSync('sh', [file], { cwd, encoding: 'utf8', env: { ...process.env, PATH: `${this.bin}:${process.env.PATH}`, WORLD: this.dir, SANDBOX: this.dir, ...env }, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class NodeBox {
  readonly root: string;

  constructor(
    readonly world: World,
    readonly hostname: string,
    readonly ip: string,
    readonly arch: 'amd64' | 'arm64',
    readonly instanceId = `i-${sha256(hostname).slice(0, 17)}`,
  ) {
    this.root = join(world.dir, 'nodes-root', hostname);
    // What a fresh AMI has.
    for (const d of ['/etc/ssl/certs', '/etc/sysctl.d', '/etc/systemd/system', '/usr/local/bin', '/usr/local/sbin', '/usr/lib/sysctl.d', '/root', '/run']) mkdirSync(join(this.root, d), { recursive: true });
  }

  path = (p: string): string => join(this.root, p);
  read = (p: string): string => readFileSync(this.path(p), 'utf8');
  exists = (p: string): boolean => existsSync(this.path(p));

  write(p: string, content: string, mode = 0o644): void {
    const abs = this.path(p);
    mkdirSync(dirname(abs), { recursive: true });
    const b = this.world.pollBound;
    const polled = b && (mode & 0o111) !== 0 ? content.split(b.from).join(b.to) : content;
    const w = this.world.startWindows;
    const text = w !== undefined && (mode & 0o111) !== 0 ? polled.replace(/(start_watched \S+) \d+ \|\|/g, `$1 ${w} ||`) : polled;
    // A boot script's settings (paths among them) are sourced by it: moved under the node's root as its code is.
    writeFileSync(abs, (mode & 0o111) !== 0 || p === BOOT_SETTINGS_PATH ? sandboxed(text, this.root) : text, { mode });
    chmodSync(abs, mode);
  }

  /** Put the stub binary `name` of ./node-stubs.mjs at `p` on this node (e.g. the server CLI's `token rotate`). */
  stubBinary(p: string): void {
    mkdirSync(dirname(this.path(p)), { recursive: true });
    rmSync(this.path(p), { force: true });
    symlinkSync(STUBS, this.path(p));
  }

  /** What cloud-init does with `write_files` of a #cloud-config document; the commands of `runcmd`. */
  writeUserData(text: string): string[] {
    const data = parse(text) as { write_files: { path: string; permissions: string; content: string }[]; runcmd: string[][] };
    for (const f of data.write_files) this.write(f.path, f.content, parseInt(f.permissions, 8));
    return data.runcmd.map((c) => c[0]!);
  }

  /** Run a script file of the node (or a script text) as root would, on this node. */
  run(pathOrText: string, env: Record<string, string> = {}): RunResult {
    let file = pathOrText;
    if (pathOrText.includes('\n')) {
      file = '/root/.odp-test-script.sh';
      this.write(file, pathOrText, 0o700);
    }
    const r = spawnSync('sh', [this.path(file)], {
      cwd: this.root,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${this.world.bin}:${process.env.PATH}`, SANDBOX: this.root, WORLD: this.world.dir, NODE_HOSTNAME: this.hostname, NODE_IP: this.ip, NODE_INSTANCE_ID: this.instanceId, STUB_ARCH: this.arch, ...env },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr.split(this.root).join('') };
  }

  /**
   * A reboot after the first boot (cloud-init's runcmd runs once per instance, so no boot script runs again): every
   * service stops, then systemd starts the units enabled at boot (`systemctl enable`: the family's units are
   * WantedBy=multi-user.target) without waiting on them. The units active afterwards.
   */
  reboot(): string[] {
    const units = (f: string): string[] => (this.exists(f) ? (JSON.parse(this.read(f)) as string[]) : []);
    writeFileSync(this.path('.active.json'), '[]');
    // Under `timeout`, a unit that never becomes ready leaves the start (exit 124) and stays inactive, as it does.
    for (const u of units('.enabled.json')) this.run(`#!/bin/sh\ntimeout 60 systemctl start ${u}.service\n`);
    return units('.active.json');
  }

  /** Boot: cloud-init's write_files and runcmd. */
  boot(userData: string): RunResult {
    const [cmd] = this.writeUserData(userData);
    return this.run(cmd!);
  }
}
