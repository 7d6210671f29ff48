/**
 * Enumerated and shaped K3s/RKE2 flag values (distributions/rancher/flags.ts, rke2/flags.ts): what the
 * supervisor or RKE2 accepts passes, what it refuses or silently ignores is refused with the fix.
 */
import { describe, expect, it } from 'vitest';
import { checkFlag, K3S_CATALOG } from '../generators/distributions/k3s/flags.js';
import { checkRke2Flag } from '../generators/distributions/rke2/flags.js';
import { didYouMean } from '../generators/lib/suggest.js';
import { containerdRule } from '../generators/distributions/rancher/containerd.js';
import { K3S_CONTAINERD } from '../generators/distributions/k3s/containerd.js';
import { RKE2_CONTAINERD } from '../generators/distributions/rke2/containerd.js';

const k3s = (key: string, value: unknown) => checkFlag('server', key, value, (w, c) => didYouMean(w, c))?.message;
const rke2 = (key: string, value: unknown) => checkRke2Flag('server', key, value, (w, c) => didYouMean(w, c))?.message;

describe('supervisor flags (both distributions)', () => {
  it('kube-proxy-arg proxy-mode: iptables, ipvs, nftables or blank', () => {
    for (const ok of [['proxy-mode=nftables'], ['proxy-mode=ipvs', 'ipvs-scheduler=rr'], ['--proxy-mode=iptables'], ['proxy-mode='], ['metrics-bind-address=0.0.0.0:10249']]) expect(k3s('kube-proxy-arg', ok)).toBeUndefined();
    expect(rke2('kube-proxy-arg', ['proxy-mode=userspace'])).toMatch(/^kube-proxy has no proxy-mode 'userspace' on Linux/);
    // Compared as written: a space after the '=' reaches kube-proxy (GetArgs), and one inside a comma-separated string
    // too (one argument, trimmed at its ends only); spaces around an item are refused rather than trimmed.
    expect(k3s('kube-proxy-arg', ['proxy-mode= ipvs'])).toMatch(/^kube-proxy has no proxy-mode ' ipvs' on Linux/);
    expect(rke2('kube-proxy-arg', ['proxy-mode=ipvs', ' ipvs-scheduler=rr'])).toMatch(/^' ipvs-scheduler=rr' has spaces around it: RKE2 \S+ does not trim every kube-proxy-arg item/);
    expect(k3s('kube-proxy-arg', [' proxy-mode=ipvss'])).toMatch(/^' proxy-mode=ipvss' has spaces around it/);
  });

  it('several component arguments packed into one comma string: refused, as neither CLI splits it (RKE2, K3s)', () => {
    const rke2Issue = checkRke2Flag('server', 'kube-proxy-arg', 'proxy-mode=ipvs,ipvs-scheduler=rr', (w, c) => didYouMean(w, c));
    expect(rke2Issue?.message).toBe(
      "'proxy-mode=ipvs,ipvs-scheduler=rr' packs 2 kube-proxy arguments into one string: RKE2 v1.35.7+rke2r1 does not split a string at commas (rancher/rke2 v1.35.7+rke2r1 pkg/cli/cmds/root.go:244 app.DisableSliceFlagSeparator = true (also v1.34.10+rke2r1:244, v1.36.3+rke2r1:279), urfave/cli v2.27.7 flag.go:405-416), so kube-proxy gets ONE argument --proxy-mode=ipvs,ipvs-scheduler=rr",
    );
    expect(rke2Issue?.hint).toBe('write a YAML list, one argument per item: kube-proxy-arg: [proxy-mode=ipvs, ipvs-scheduler=rr]');
    // K3s: config.yaml's string is ONE --kube-apiserver-arg=… argument (configfilearg readConfigFile) and its CLI app
    // disables the slice separator (k3s-io/k3s#11831), so a packed string reaches the component as one argument.
    const k3sIssue = checkFlag('server', 'kube-apiserver-arg', 'enable-admission-plugins=NodeRestriction,EventRateLimit,audit-log-maxage=30', (w, c) => didYouMean(w, c));
    expect(k3sIssue?.message).toBe(
      "'enable-admission-plugins=NodeRestriction,EventRateLimit,audit-log-maxage=30' packs 2 kube-apiserver arguments into one string: K3s v1.35.9+k3s1 does not split a string at commas (k3s-io/k3s#11831 \"Disable StringSlice seperattion\" (urfave/cli v2 migration; backports #12030, #12031), urfave/cli v2.27.7 flag.go:405-416; pkg/cli/cmds/root.go not read at v1.35.9+k3s1), so kube-apiserver gets ONE argument --enable-admission-plugins=NodeRestriction,EventRateLimit,audit-log-maxage=30",
    );
    expect(k3sIssue?.hint).toBe('write a YAML list, one argument per item: kube-apiserver-arg: ["enable-admission-plugins=NodeRestriction,EventRateLimit", audit-log-maxage=30]');
    expect(k3s('kube-proxy-arg', 'proxy-mode=ipvs,ipvs-scheduler=rr')).toMatch(/^'proxy-mode=ipvs,ipvs-scheduler=rr' packs 2 kube-proxy arguments into one string: K3s \S+ does not split a string at commas/);
    expect(rke2('kubelet-arg', 'max-pods=200, v=2')).toMatch(/^'max-pods=200, v=2' packs 2 kubelet arguments/);
    // One argument whose value holds commas: a map value, a list value; and a list of arguments.
    for (const ok of ['system-reserved=cpu=500m,memory=1Gi', 'feature-gates=InPlacePodVerticalScaling=true,UserNamespacesSupport=true', 'enable-admission-plugins=NodeRestriction,EventRateLimit', ['proxy-mode=ipvs', 'ipvs-scheduler=rr']]) {
      expect(rke2('kube-apiserver-arg', ok)).toBeUndefined();
      expect(k3s('kubelet-arg', ok)).toBeUndefined();
      expect(k3s('kube-apiserver-arg', ok)).toBeUndefined();
    }
    // The K3s reading is a fact with its source, not an open question.
    expect(K3S_CATALOG.sliceSeparator.splits).toBe(false);
    expect(K3S_CATALOG.sliceSeparator.source).toMatch(/k3s-io\/k3s#11831/);
  });

  it('service-node-port-range: low-high, low+offset or one port, within 1-65535', () => {
    for (const ok of ['30000-32767', '30000+2767', '30000']) expect(k3s('service-node-port-range', ok)).toBeUndefined();
    for (const bad of ['32767-30000', '0-100', '30000-70000', 'high']) expect(k3s('service-node-port-range', bad)).toMatch(/is not a port range/);
  });

  it('node-ip and node-external-ip: IPv4 or IPv6 addresses', () => {
    expect(k3s('node-ip', '10.0.0.5,2001:db8::5')).toBeUndefined();
    expect(k3s('node-external-ip', ['203.0.113.7'])).toBeUndefined();
    expect(k3s('node-ip', 'ip-10-0-0-5')).toMatch(/^'ip-10-0-0-5' is not an IP address/);
    // The supervisor splits on commas and parses each piece untrimmed (ParseStringSliceToIPs): ' 2001:db8::5' stops it.
    expect(k3s('node-ip', '10.0.0.5, 2001:db8::5')).toMatch(/^' 2001:db8::5' has spaces around it: K3s \S+ does not trim every node-ip item \(it splits on commas and parses each address as written: invalid ip format\)/);
    expect(rke2('node-external-ip', ['203.0.113.7 '])).toMatch(/^'203.0.113.7 ' has spaces around it/);
  });
});

describe('RKE2 control-plane pod settings (pkg/podtemplate/config.go)', () => {
  it('resources: <component>-<cpu|memory>=<quantity>', () => {
    expect(rke2('control-plane-resource-requests', ['kube-apiserver-cpu=500m,kube-apiserver-memory=1Gi', 'etcd-memory=2Gi'])).toBeUndefined();
    expect(rke2('control-plane-resource-limits', ['kube-scheduler-cpu'])).toMatch(/^'kube-scheduler-cpu' has no value \(RKE2 refuses to start/);
    expect(rke2('control-plane-resource-limits', ['kube-scheduler-memory=lots'])).toMatch(/^'lots' is not a Kubernetes quantity \(RKE2 logs the error and drops the limit\)/);
    expect(rke2('control-plane-resource-requests', ['apiserver-cpu=1'])).toMatch(/^'apiserver-cpu' is not a name RKE2 looks up/);
  });

  it('probes: <component>-<probe>-<setting>=<integer ≥ 0>', () => {
    expect(rke2('control-plane-probe-configuration', ['etcd-liveness-timeout-seconds=30', 'kube-apiserver-startup-failure-threshold=40'])).toBeUndefined();
    expect(rke2('control-plane-probe-configuration', ['etcd-liveness-timeout=30'])).toMatch(/^'etcd-liveness-timeout' is not a name RKE2 looks up .*/);
    expect(rke2('control-plane-probe-configuration', ['etcd-liveness-timeout-seconds=-1'])).toMatch(/is not a non-negative integer/);
  });
});

describe('cluster.extraSANs: bare DNS names or IP addresses (they become tls-san / certSANs)', () => {
  it('accepts names, wildcards and IPs; refuses URLs, ports and paths with the bare name', async () => {
    const { sanProblem } = await import('../generators/validate/rules-sans.js');
    for (const ok of ['api.example.com', '*.apps.example.com', '10.0.0.10', '2001:db8::10', 'localhost']) expect(sanProblem(ok)).toBeUndefined();
    expect(sanProblem('https://api.example.com')).toBe("write the bare name 'api.example.com'");
    expect(sanProblem('api.example.com:6443')).toBe("write the bare name 'api.example.com'");
    expect(sanProblem('api example')).toMatch(/^a DNS name/);
  });
});

describe('snapshotter and default-runtime (distributions/rancher/containerd.ts)', () => {
  type Pool = { name: string; role: string; gpu?: object; args?: Record<string, unknown> };
  /** The rule's findings for one environment of `name` at `version`: [severity, path, message]. */
  const run = (name: 'k3s' | 'rke2', version: string, pools: Pool[], cluster: Record<string, unknown> = {}) => {
    const facts = name === 'k3s' ? K3S_CONTAINERD : RKE2_CONTAINERD;
    const rule = containerdRule(name, `${name}Version`, facts, (input) => ({ cluster: (input.cluster as any)[name], pool: (i) => (input.nodePools[i] as any)[name] }));
    const input = { cluster: { distribution: name, [`${name}Version`]: version, [name]: { extraArgs: cluster } }, nodePools: pools.map((p) => ({ name: p.name, role: p.role, gpu: p.gpu, [name]: p.args && { extraArgs: p.args } })) };
    const out: [string, string, string][] = [];
    rule({ input } as any, (_rule, path, message, opts) => out.push([opts?.severity ?? 'error', path.join('.'), message]));
    return out;
  };
  const cp: Pool = { name: 'cp', role: 'controlplane' };

  it('accepts the default values and the ones the nodes can run', () => {
    expect(run('k3s', 'v1.35.9+k3s1', [cp, { name: 'w', role: 'worker', args: { snapshotter: 'native', 'default-runtime': 'runc' } }], { snapshotter: 'overlayfs' })).toStrictEqual([]);
    expect(run('rke2', 'v1.36.3+rke2r1', [cp, { name: 'gpu', role: 'worker', gpu: { vendor: 'nvidia' }, args: { 'default-runtime': 'nvidia' } }])).toStrictEqual([]);
  });

  it('warns where the facts cannot say: a snapshotter RKE2\'s separate containerd may lack, nvidia-experimental on a GPU pool', () => {
    expect(run('rke2', 'v1.35.7+rke2r1', [cp, { name: 'gpu', role: 'worker', gpu: { vendor: 'nvidia' }, args: { snapshotter: 'stargz', 'default-runtime': 'nvidia-experimental' } }])).toStrictEqual([
      ['warning', 'nodePools.1.rke2.extraArgs.snapshotter', expect.stringMatching(/^snapshotter 'stargz' on RKE2 v1\.35\.7\+rke2r1 is not verified: /)],
      ['warning', 'nodePools.1.rke2.extraArgs.default-runtime', expect.stringMatching(/^default-runtime 'nvidia-experimental' on pool 'gpu' is not verified/)],
    ]);
    // K3s' own containerd registers stargz (pkg/containerd/builtins_linux.go).
    expect(run('k3s', 'v1.35.9+k3s1', [cp, { name: 'w', role: 'worker', args: { snapshotter: 'stargz' } }])).toStrictEqual([]);
  });

  it('platform fit: nix needs Nix on the node (refused on every line), fuse-overlayfs its binary (warned)', () => {
    expect(run('k3s', 'v1.34.2+k3s1', [cp, { name: 'w', role: 'worker', args: { snapshotter: 'nix' } }])).toStrictEqual([
      ['error', 'nodePools.1.k3s.extraArgs.snapshotter', expect.stringMatching(/^snapshotter 'nix' cannot run on the nodes of pool 'w': it needs Nix \(nix-store in PATH\)/)],
    ]);
    expect(run('rke2', 'v1.36.3+rke2r1', [cp, { name: 'w', role: 'worker', args: { snapshotter: 'btrfs' } }])).toStrictEqual([
      ['error', 'nodePools.1.rke2.extraArgs.snapshotter', expect.stringMatching(/^snapshotter 'btrfs' cannot run on the nodes of pool 'w': it needs containerd's plugin root on a btrfs filesystem/)],
    ]);
    expect(run('k3s', 'v1.36.3+k3s1', [cp, { name: 'w', role: 'worker', args: { snapshotter: 'fuse-overlayfs' } }])).toStrictEqual([
      ['warning', 'nodePools.1.k3s.extraArgs.snapshotter', expect.stringMatching(/^snapshotter 'fuse-overlayfs' on pool 'w' needs the fuse-overlayfs binary on the node/)],
    ]);
  });

  it('a release line the facts do not cover: one warning each, no guess', () => {
    expect(run('k3s', 'v1.37.0+k3s1', [cp, { name: 'w', role: 'worker', args: { snapshotter: 'zfs', 'default-runtime': 'crun' } }])).toStrictEqual([
      ['warning', 'nodePools.1.k3s.extraArgs.snapshotter', expect.stringMatching(/do not cover v1\.37, so snapshotter is not checked$/)],
      ['warning', 'nodePools.1.k3s.extraArgs.default-runtime', expect.stringMatching(/do not cover v1\.37, so default-runtime is not checked$/)],
    ]);
  });

  it('cluster-wide args are checked on every controlplane pool; an external CRI leaves the pool alone', () => {
    const pools: Pool[] = [cp, { name: 'cp-gpu', role: 'controlplane', gpu: { vendor: 'nvidia' } }, { name: 'ext', role: 'controlplane', args: { 'container-runtime-endpoint': '/run/crio/crio.sock' } }];
    expect(run('k3s', 'v1.36.3+k3s1', pools, { 'default-runtime': 'nvidia' })).toStrictEqual([
      ['error', 'cluster.k3s.extraArgs.default-runtime', expect.stringMatching(/^default-runtime 'nvidia' on pool 'cp', which has no GPU/)],
    ]);
  });
});

describe('list items of a table are taken only as written (rancher/flags.ts nearMiss)', () => {
  it('disable: exactly an entry of the distribution\'s table; spaces or case get their own message and the entry', () => {
    expect(k3s('disable', ['traefik', 'servicelb'])).toBeUndefined();
    expect(k3s('disable', [' traefik'])).toBe("' traefik' is not exactly a packaged component K3s can disable: it differs from 'traefik' in spaces around it, and items are taken only as written");
    expect(checkFlag('server', 'disable', 'servicelb, traefik', didYouMean)?.hint).toBe("write 'traefik': no space after a comma, or a YAML list");
    expect(k3s('disable', ['Traefik'])).toMatch(/^'Traefik' is not exactly a packaged component K3s can disable: it differs from 'traefik' in letter case/);
    expect(rke2('disable', [' RKE2-Metrics-Server'])).toMatch(/differs from 'rke2-metrics-server' in spaces around it and letter case/);
    expect(checkFlag('server', 'disable', ['traefk'], didYouMean)?.hint).toBe("did you mean 'traefik'?");
  });
  it('RKE2 cni, ingress-controller and control-plane settings: the same', () => {
    expect(rke2('cni', 'Canal')).toMatch(/^'Canal' is not exactly a CNI RKE2 deploys: it differs from 'canal' in letter case/);
    expect(rke2('ingress-controller', ['traefik '])).toMatch(/^'traefik ' is not exactly an ingress controller RKE2 deploys/);
    expect(rke2('control-plane-resource-requests', ['Kube-Apiserver-cpu=500m'])).toMatch(/^'Kube-Apiserver-cpu' is not exactly a name RKE2 looks up in control-plane-resource-requests: it differs from 'kube-apiserver-cpu'/);
  });
});
