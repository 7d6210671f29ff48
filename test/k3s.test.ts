import { execFileSync } from 'node:child_process';
import { BOOT_SETTINGS_PATH, resolveBootSettings } from '../generators/distributions/rancher/boot-settings.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeDeep } from '../generators/load/loader.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { renderEnvironment } from '../generators/pipeline.js';
import { checkK3sConfigText, checkRenderedK3s } from '../generators/distributions/k3s/check.js';
import { mergeArgs } from '../generators/distributions/k3s/config.js';
import { checkFlag, K3S_FLAGS } from '../generators/distributions/k3s/flags.js';
import { renderK3s } from '../generators/distributions/k3s/render.js';
import { k3sReleaseProblem } from '../generators/distributions/k3s/releases.js';
import { shQuote } from '../generators/distributions/k3s/userdata.js';
import { didYouMean } from '../generators/lib/suggest.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { diffEnvironment, diffTrees } from '../generators/diff/diff.js';
import { formatMarkdown, formatText } from '../generators/diff/format.js';
import { envContext } from '../generators/diff/sources.js';
import { fixtureSources, prepareExample, exampleSources, renderedExamples, renderExample, SHARED } from './helpers.js';

const K3S_ENVS = ['dev-k3s', 'staging-k3s'];
const model = (env: string) => prepareExample(env).prepared!.model;
const files = (env: string) => new Map(renderExample(env).map((f) => [f.path, f.content]));
/** The boot script with its settings file's values in place (resolveBootSettings): what it reads at boot. */
const bootScriptOf = (ud: string): string => {
  const data = parseYamlStream(ud)[0] as { write_files: { path: string; content: string }[] };
  const file = (path: string) => data.write_files.find((f) => f.path === path)!.content;
  return resolveBootSettings(file('/usr/local/sbin/odp-k3s-boot'), file(BOOT_SETTINGS_PATH));
};

describe('flag tables', () => {
  it('hold the 124 server and 46 agent keys of K3s 1.35', () => {
    expect(Object.keys(K3S_FLAGS.server)).toHaveLength(124);
    expect(Object.keys(K3S_FLAGS.agent)).toHaveLength(46);
    expect(K3S_FLAGS.server['no-deploy']).toBeUndefined();
  });
  it('name unknown keys with a suggestion, aliases, the other role and wrong types', () => {
    const dym = (w: string, c: string[]) => didYouMean(w, c);
    expect(checkFlag('server', 'tls-sans', ['a'], dym)).toStrictEqual({ key: 'tls-sans', on: 'key', message: "'tls-sans' is not a k3s server flag (K3s v1.35.9+k3s1)", hint: "did you mean 'tls-san'?" });
    expect(checkFlag('agent', 't', 'x', dym)?.message).toBe("'t' is the short alias of 'token'");
    expect(checkFlag('agent', 'cluster-cidr', '10.0.0.0/16', dym)?.message).toBe("'cluster-cidr' is a k3s server flag, not a k3s agent flag (K3s v1.35.9+k3s1)");
    expect(checkFlag('server', 'https-listen-port', '6443', dym)).toMatchObject({ message: `'https-listen-port' takes an integer, not "6443"`, hint: 'remove the quotes' });
    expect(checkFlag('server', 'https-listen-port', 'six', dym)).toMatchObject({ message: `'https-listen-port' takes an integer, not "six"`, hint: 'write https-listen-port: 10' });
    expect(checkFlag('server', 'disable', ['traefk'], dym)?.hint).toBe("did you mean 'traefik'?");
    expect(checkFlag('server', 'etcd-s3-timeout', '5m', dym)).toBeUndefined();
  });
});

describe('release list', () => {
  it('accepts the listed patches of each line and nothing before its first or after its newest', () => {
    // K3s 1.34 starts at v1.34.1+k3s1 (k3s-io/docs v1.34.X.md); 1.35 and 1.36 start at .0.
    expect(k3sReleaseProblem('v1.34.0+k3s1')).toStrictEqual({ first: 'v1.34.1+k3s1', newest: 'v1.34.6+k3s1' });
    expect(k3sReleaseProblem('v1.34.1+k3s1')).toBeUndefined();
    expect(k3sReleaseProblem('v1.34.6+k3s1')).toBeUndefined();
    expect(k3sReleaseProblem('v1.34.7+k3s1')).toStrictEqual({ newest: 'v1.34.6+k3s1' });
    expect(k3sReleaseProblem('v1.35.0+k3s1')).toBeUndefined();
    expect(k3sReleaseProblem('v1.35.0+k3s2')).toStrictEqual({ newest: 'v1.35.9+k3s1' });
    expect(k3sReleaseProblem('v1.36.0+k3s1')).toBeUndefined();
    expect(k3sReleaseProblem('v1.36.3+k3s1')).toBeUndefined();
    expect(k3sReleaseProblem('v1.36.3+k3s2')).toStrictEqual({ newest: 'v1.36.3+k3s1' });
    expect(k3sReleaseProblem('v1.33.9+k3s1')).toStrictEqual({});
  });
});

describe('K3s renderer', () => {
  it('returns nothing for Talos environments', () => {
    for (const env of ['dev', 'staging', 'prod']) expect(renderK3s(model(env))).toStrictEqual([]);
  });

  it('dev-k3s: a server on Kine SQLite with Litestream compatibility, Litestream to S3', () => {
    const f = files('dev-k3s');
    const server = parseYamlStream(f.get('k3s/dev-k3s-server-1.yaml')!)[0] as Record<string, unknown>;
    expect(server['datastore-endpoint']).toBe('litestream:///var/lib/rancher/k3s/server/db/state.db?_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&cache=shared');
    expect(server['cluster-init']).toBeUndefined();
    expect(server['disable']).toStrictEqual(['local-storage', 'metrics-server', 'servicelb', 'traefik']);
    expect(server['disable-cloud-controller']).toBe(true);
    expect(server['kubelet-arg']).toContain('cloud-provider=external');
    expect(server['kube-apiserver-arg']).toContain('request-timeout=300s'); // cluster.k3s.extraArgs appended
    expect(parseYamlStream(f.get('k3s/litestream.yaml')!)[0]).toStrictEqual({
      // Prometheus metrics on the server's address: the replication-stopped alert's source.
      addr: '10.11.1.10:9095',
      dbs: [{ path: '/var/lib/rancher/k3s/server/db/state.db', replica: { type: 's3', bucket: 'odp-dev-k3s-litestream', path: 'k3s/odp-dev-k3s', region: 'eu-west-1', 'sync-interval': '1s' } }],
      snapshot: { interval: '24h', retention: '168h' },
    });
    const agent = parseYamlStream(f.get('k3s/general-arm64.yaml')!)[0] as Record<string, unknown>;
    expect(agent['server']).toBe('https://api.dev-k3s.odp.internal:6443');
    expect(agent['token-file']).toBe('/etc/rancher/k3s/agent-token');
    expect(agent['kubelet-arg']).toContain('image-gc-high-threshold=80');
  });

  it('with Cilium, K3s turns off its own policy controller and kube-proxy (Cilium replaces both)', () => {
    const sources = exampleSources();
    sources.set('environments/dev-k3s.yaml', sources.get('environments/dev-k3s.yaml')!.replace(/^cluster:\n/m, 'cluster:\n  network: { cni: cilium }\n'));
    const r = prepareEnvironment('dev-k3s', sources);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const server = parseYamlStream(renderK3s(r.prepared!.model).find((f) => f.path === 'k3s/dev-k3s-server-1.yaml')!.content)[0] as Record<string, unknown>;
    expect([server['disable-network-policy'], server['disable-kube-proxy'], server['flannel-backend']]).toStrictEqual([true, true, 'none']);
  });

  it('with Cilium, its values put the CNI plugin and config where K3s\'s containerd reads them without flannel (rancher/cni.ts); Talos\' values name none', () => {
    // flannel-backend none leaves the agent's CNIBinDir/CNIConfDir empty (k3s pkg/agent/config/config.go,
    // `if !nodeConfig.NoFlannel`), so containerd keeps /opt/cni/bin and /etc/cni/net.d (generators/distributions/rancher/cni.ts).
    const sources = exampleSources();
    sources.set('environments/dev-k3s.yaml', sources.get('environments/dev-k3s.yaml')!.replace(/^cluster:\n/m, 'cluster:\n  network: { cni: cilium }\n'));
    const r = prepareEnvironment('dev-k3s', sources);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toStrictEqual([]);
    const values = parseYamlStream(renderEnvironment(r.prepared!).find((f) => f.path === 'values/cilium.yaml')!.content)[0] as Record<string, unknown>;
    expect(values.cni).toStrictEqual({ binPath: '/opt/cni/bin', confPath: '/etc/cni/net.d' });
    expect(values).toMatchObject({ kubeProxyReplacement: true, ipam: { mode: 'kubernetes' } });
    const prod = parseYamlStream(renderExample('prod').find((f) => f.path === 'values/cilium.yaml')!.content)[0] as Record<string, unknown>;
    expect(prod.cni).toBeUndefined();
    expect(prod).toMatchObject({ k8sServiceHost: 'localhost', k8sServicePort: 7445, cgroup: { autoMount: { enabled: false }, hostRoot: '/sys/fs/cgroup' } });
  });

  it('the cloud controller selects servers by the label value K3s sets ("true"; Talos: "")', () => {
    const ccm = (env: string) => parseYamlStream(files(env).get('values/aws-cloud-controller-manager.yaml')!)[0] as Record<string, unknown>;
    for (const env of K3S_ENVS) expect(ccm(env).nodeSelector).toStrictEqual({ 'node-role.kubernetes.io/control-plane': 'true' });
    expect(ccm('dev').nodeSelector).toStrictEqual({ 'node-role.kubernetes.io/control-plane': '' });
    expect(ccm('dev-k3s').hostNetworking).toBe(true);
  });

  it('dev-k3s user-data restores the database before K3s starts (ExecStartPre drop-in), Litestream enabled before K3s starts', () => {
    const ud = files('dev-k3s').get('k3s/userdata/dev-k3s-server-1.yaml')!;
    const script = bootScriptOf(ud);
    const idx = (s: string) => script.indexOf(s);
    // The restore is K3s' ExecStartPre (every start until the node's database is settled), Litestream wanted with K3s.
    expect(ud).toContain('ExecStartPre=/usr/local/sbin/odp-litestream-restore');
    expect(ud).toContain('Wants=litestream.service');
    expect(ud).toContain('-if-replica-exists -o "$tmp" "$DB"');
    expect(idx('INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_EXEC=server INSTALL_K3S_SKIP_START=true')).toBeGreaterThan(-1);
    expect(idx('systemctl enable litestream.service')).toBeGreaterThan(idx('INSTALL_K3S_SKIP_DOWNLOAD=true'));
    expect(idx('start_watched k3s ')).toBeGreaterThan(idx('systemctl enable litestream.service'));
    expect(script).toContain('litestream-0.5.16-linux-x86_64.tar.gz');
    expect(script).toContain("ssm_secret '/odp/dev-k3s/k3s/token' > /etc/rancher/k3s/token");
  });

  it('staging-k3s: Postgres DSN with verify-full assembled at boot, never in the config', () => {
    const f = files('staging-k3s');
    const server = parseYamlStream(f.get('k3s/stg-k3s-server-2.yaml')!)[0] as Record<string, unknown>;
    expect(server['datastore-endpoint']).toBeUndefined();
    expect(server['datastore-cafile']).toBe('/etc/ssl/certs/rds-global-bundle.pem');
    expect(server['server']).toBeUndefined();
    const script = bootScriptOf(f.get('k3s/userdata/stg-k3s-server-2.yaml')!);
    expect(script).toContain(`DSN='postgres://k3s:'"$PGPASSWORD_ENC"'@odp-staging-k3s-kine.cluster-c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com:5432/k3s?sslmode=verify-full'`);
    // Into the root-only config drop-in, never k3s.service.env (install.sh rewrites that: research/day2.md §1a).
    expect(script).toContain(`printf 'datastore-endpoint: "%s"\\n' "$DSN"; } > /etc/rancher/k3s/config.yaml.d/10-node.yaml`);
    expect(script).not.toContain('K3S_DATASTORE_ENDPOINT');
    expect(script).toContain("PGPASSWORD=$(ssm_secret '/odp/staging-k3s/kine/password')");
    const gpu = parseYamlStream(f.get('k3s/gpu.yaml')!)[0] as Record<string, unknown>;
    expect(gpu['default-runtime']).toBe('nvidia');
    expect(gpu['node-taint']).toStrictEqual(['nvidia.com/gpu=present:NoSchedule']);
    expect(bootScriptOf(f.get('k3s/userdata/general-arm64.yaml')!)).toContain('INSTALL_K3S_EXEC=agent');
  });

  it.each(K3S_ENVS)('%s: every rendered config key is a K3s flag of its role; user-data is #cloud-config YAML', (env) => {
    const rendered = files(env);
    for (const [path, text] of rendered) {
      if (!path.startsWith('k3s/userdata/')) continue;
      expect(text.split('\n')[0]).toBe('#cloud-config');
      expect(() => parseYamlStream(text)).not.toThrow();
    }
    expect(checkRenderedK3s(model(env), rendered)).toStrictEqual([]);
  });

  it('the checker reports unknown keys and secrets in a rendered config with positions', () => {
    expect(checkK3sConfigText('x.yaml', 'server: https://a:6443\ntoken: abc\nkubelet-args: []\n', 'agent').map((d) => `${d.line}:${d.col} ${d.message}`)).toStrictEqual([
      "2:1 'token' puts a secret into the rendered tree",
      "3:1 'kubelet-args' is not a k3s agent flag (K3s v1.35.9+k3s1)",
    ]);
    expect(checkK3sConfigText('x.yaml', 'datastore-endpoint: postgres://u:pw@h/db\n', 'server')[0]?.message).toBe('datastore-endpoint carries a password');
  });

  it.runIf(existsSync(join(SHARED, 'tools', 'secret-scan.mjs')))('the rendered K3s trees hold no secret', () => {
    for (const env of K3S_ENVS) expect(() => execFileSync('node', [join(SHARED, 'tools', 'secret-scan.mjs'), join(renderedExamples(), 'rendered', env)], { stdio: 'pipe' })).not.toThrow();
  });
});

describe('npm run diff on K3s nodes', () => {
  const render = (edit: (text: string) => string) => {
    const { name, sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    sources.set(`environments/${name}.yaml`, edit(sources.get(`environments/${name}.yaml`)!));
    const r = prepareEnvironment(name, sources);
    return new Map(renderEnvironment(r.prepared!).map((f) => [f.path, f.content]));
  };
  const base = render((t) => t);
  const impacts = (edit: (text: string) => string) =>
    (diffEnvironment('k3s-postgres', base, render(edit))?.k3s ?? []).map((i) => `${i.node}: ${i.actions.join(', ')} (${i.reasons.map((r) => r.path).join(', ')})`);

  it('says per node what applying a change takes', () => {
    expect(impacts((t) => t.replace('image-gc-high-threshold=80', 'image-gc-high-threshold=85'))).toStrictEqual(['workers: restart (kubelet-arg)']);
    expect(impacts((t) => t.replace('count: 1\n    k3s:', 'count: 1\n    labels: { tier: general }\n    k3s:'))).toStrictEqual(['workers: relabel (node-label)']);
    expect(impacts((t) => t.replace('  datastore:\n', '  network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, cni: cilium }\n  datastore:\n'))).toStrictEqual([
      'cp-1: rebuild (disable-kube-proxy, disable-network-policy, flannel-backend)',
      'cp-2: rebuild (disable-kube-proxy, disable-network-policy, flannel-backend)',
      'cp-3: rebuild (disable-kube-proxy, disable-network-policy, flannel-backend)',
    ]);
    // A release bump changes no node's user data (the nodes read it at first boot from the base stack's release
    // parameter: generators/distributions/rancher/release.ts): nothing to replace, stop or refresh.
    expect(impacts((t) => t.replace('k3sVersion: v1.35.2+k3s1', 'k3sVersion: v1.35.1+k3s1\n  kubernetesVersion: 1.35.1'))).toStrictEqual([]);
    expect(impacts((t) => t)).toStrictEqual([]);
  });
  it('takes only node configs for nodes: the Litestream config of kine-sqlite beside them is none', () => {
    const sqlite = files('dev-k3s');
    const head = new Map(sqlite);
    head.set('k3s/litestream.yaml', `${sqlite.get('k3s/litestream.yaml')!}# changed\nextra: true\n`);
    const d = diffEnvironment('dev-k3s', sqlite, head);
    expect(d?.objects.map((o) => o.file)).toStrictEqual(['k3s/litestream.yaml']);
    expect(d?.k3s).toBeUndefined();
  });
  it('the review comment leads with the servers one at a time, each gated on the node being Ready, then the workers', () => {
    const prefixed = (m: Map<string, string>) => new Map([...m].map(([p, c]) => [`k3s-postgres/${p}`, c]));
    const { name, sources } = fixtureSources('valid', 'k3s-postgres.yaml');
    sources.set(`environments/${name}.yaml`, sources.get(`environments/${name}.yaml`)!.replace('image-gc-high-threshold=80', 'image-gc-high-threshold=85'));
    const head = prepareEnvironment(name, sources).prepared!;
    const headFiles = new Map(renderEnvironment(head).map((f) => [f.path, f.content]));
    // Every node's kubelet arguments: servers and workers restart.
    const all = new Map([...headFiles].map(([p, c]) => [p, p.startsWith('k3s/') && !p.startsWith('k3s/userdata/') ? c.replace('streaming-connection-idle-timeout=5m', 'streaming-connection-idle-timeout=6m') : c]));
    const d = diffTrees(prefixed(base), prefixed(all), new Map([[name, envContext(head.model)]]));
    const md = formatMarkdown(d, { base: 'main', head: 'HEAD' });
    const steps = md.split('\n').filter((l) => l.startsWith('1. '));
    expect(steps.map((l) => /^1\. `([^`]+)` \((control plane|worker)\)/.exec(l)?.slice(1, 3).join(' '))).toStrictEqual(['cp-1 control plane', 'cp-2 control plane', 'cp-3 control plane', 'workers (pool) worker']);
    expect(steps[0]).toContain('**service restarts with the new /etc/rancher/k3s/config.yaml**');
    // The config parameter first (base stack), then the script on the node: no scp of a file, no bare restart.
    expect(steps[0]).toContain('`after the base stack update (it writes the node\'s config parameter; no instance stops): ssh 10.10.1.10 sudo sh -s -- cp-1 < rendered/k3s-postgres/k3s/apply-config.sh`');
    // Nodes are named after their EC2 private DNS name: the gate selects the servers by label.
    expect(steps[0]).toContain('before the next: `kubectl wait node -l node-role.kubernetes.io/control-plane=true --for=condition=Ready --timeout=10m`');
    expect(steps[3]).toContain('nothing by hand: the nodes stack update rolls pool workers');
    expect(steps[3]).not.toContain('kubectl wait');
  });
  it('prints the impact in the text and Markdown reports', () => {
    const prefixed = (m: Map<string, string>) => new Map([...m].map(([p, c]) => [`k3s-postgres/${p}`, c]));
    const d = diffTrees(prefixed(base), prefixed(render((t) => t.replace('image-gc-high-threshold=80', 'image-gc-high-threshold=85'))));
    expect(formatText(d, { base: 'main', head: 'HEAD' })).toContain('K3s impact:\n  workers: restart\n      restart: a fixed node: sh k3s/apply-config.sh <node> as root on it once the base stack holds the new config (servers one at a time; it writes /etc/rancher/k3s/config.yaml and restarts the K3s service); a pool: rolled by the nodes stack\n      kubelet-arg: restart\n');
    expect(formatMarkdown(d, { base: 'main', head: 'HEAD' })).toContain('**K3s impact**\n\n| node | impact | what it takes |\n|---|---|---|\n| `workers` | **restart** |');
  });
});

describe('helpers', () => {
  it('extends: null removes an inherited key; a null with nothing to remove stays', () => {
    expect(mergeDeep({ cluster: { talosVersion: 'v1.13.9', name: 'a' } }, { cluster: { talosVersion: null } })).toStrictEqual({ cluster: { name: 'a' } });
    expect(mergeDeep({}, { description: null })).toStrictEqual({ description: null });
  });
  it('mergeArgs appends lists without duplicates and replaces scalars', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), fc.boolean(), (a, b, s) => {
        const out = mergeArgs({ l: a, s: !s }, { l: b, s });
        expect(out['s']).toBe(s);
        expect(new Set(out['l'] as string[])).toStrictEqual(new Set([...a, ...b]));
        expect((out['l'] as string[]).slice(0, a.length)).toStrictEqual(a);
      }),
    );
  });
  it('shQuote survives any string through sh', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii' }).filter((s) => !s.includes('\0')), (s) => {
        expect(execFileSync('sh', ['-c', `printf '%s' ${shQuote(s)}`]).toString('latin1')).toBe(s);
      }),
      { numRuns: 30 },
    );
  });
});
