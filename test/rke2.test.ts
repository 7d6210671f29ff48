/** The RKE2 target, on test fixtures only (test/fixtures/valid/rke2-*.yaml). */
import { BOOT_SETTINGS_PATH, resolveBootSettings } from '../generators/distributions/rancher/boot-settings.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffEnvironment, diffTrees } from '../generators/diff/diff.js';
import { formatText } from '../generators/diff/format.js';
import { nodeSubnetCidrs } from '../generators/catalog/network-policies.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import { didYouMean } from '../generators/lib/suggest.js';
import { prepareEnvironment, renderEnvironment } from '../generators/pipeline.js';
import { checkRenderedRke2, checkRke2ConfigText } from '../generators/distributions/rke2/check.js';
import { rke2Config } from '../generators/distributions/rke2/config.js';
import { checkRke2Flag, RKE2_FLAGS } from '../generators/distributions/rke2/flags.js';
import { renderRke2 } from '../generators/distributions/rke2/render.js';
import { checkRenderedTree } from '../generators/validate/rendered/registry.js';
import { parseRenderedTree } from '../generators/validate/rendered/tree.js';
import { scanSecrets } from '../generators/validate/secret-scan.js';
import { fixtureSources, formatted, SHARED } from './helpers.js';

const prepared = (file: string) => {
  const { name, sources } = fixtureSources('valid', file);
  const r = prepareEnvironment(name, sources);
  expect(formatted(r).filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
  return r.prepared!;
};
const modelOf = (file: string) => prepared(file).model;
const filesOf = (file: string) => new Map(renderRke2(modelOf(file)).map((f) => [f.path, f.content]));
const target = (file: string, name: string) => {
  const m = modelOf(file);
  return { m, t: m.configTargets.find((x) => x.name === name)! };
};
const userData = (text: string) => parseYamlStream(text)[0] as { write_files: { path: string; content: string; permissions: string }[]; runcmd: string[][] };
/** The boot script with its settings file's values in place (resolveBootSettings): what it reads at boot. */
const bootScript = (text: string) => {
  const file = (path: string) => userData(text).write_files.find((f) => f.path === path)!.content;
  return resolveBootSettings(file('/usr/local/sbin/odp-rke2-boot'), file(BOOT_SETTINGS_PATH));
};
const dym = (w: string, c: string[]) => didYouMean(w, c);

describe('RKE2 flag tables (v1.35.7+rke2r1)', () => {
  it('hold the copied K3s flags and RKE2 own ones, without the flags RKE2 dropped', () => {
    expect(Object.keys(RKE2_FLAGS.server)).toHaveLength(134);
    expect(Object.keys(RKE2_FLAGS.agent)).toHaveLength(66);
    for (const dropped of ['cluster-init', 'flannel-backend', 'disable-network-policy', 'https-listen-port']) expect(RKE2_FLAGS.server[dropped]).toBeUndefined();
    expect(RKE2_FLAGS.server.cni).toStrictEqual({ type: 'list' });
    expect(RKE2_FLAGS.agent.profile).toStrictEqual({ type: 'string' });
    expect(RKE2_FLAGS.server['secrets-encryption']).toStrictEqual({ type: 'bool', hidden: true });
  });
  it('refuse removed K3s flags with a hint, unknown keys with a suggestion, the other role, wrong values', () => {
    expect(checkRke2Flag('server', 'cluster-init', true, dym)).toStrictEqual({
      key: 'cluster-init',
      on: 'key',
      message: "'cluster-init' is not an rke2 flag (RKE2 v1.35.7+rke2r1 removed it)",
      hint: 'RKE2 runs embedded etcd by default: the first server initializes it (cluster.datastore type etcd)',
    });
    expect(checkRke2Flag('server', 'tls-sans', ['a'], dym)?.hint).toBe("did you mean 'tls-san'?");
    expect(checkRke2Flag('agent', 'cni', ['canal'], dym)?.message).toBe("'cni' is an rke2 server flag, not an rke2 agent flag (RKE2 v1.35.7+rke2r1)");
    expect(checkRke2Flag('server', 'profile', 'cis-1.23', dym)?.message).toBe("profile 'cis-1.23' is not an RKE2 v1.35.7+rke2r1 profile");
    expect(checkRke2Flag('server', 'cni', ['canal', 'multus'], dym)?.message).toBe('multus must be the first cni value');
    expect(checkRke2Flag('server', 'cni', ['calcio'], dym)?.hint).toBe("did you mean 'calico'?");
    expect(checkRke2Flag('server', 'etcd-snapshot-compress', true, dym)).toBeUndefined();
  });
});

describe('RKE2 configs', () => {
  it('every server joins through the supervisor port, the first one too (bootstrap is decided at boot); snapshots go to S3 without keys', () => {
    const { m, t } = target('rke2-etcd.yaml', 'cp-1');
    const first = rke2Config(m, t);
    const second = rke2Config(m, m.configTargets.find((x) => x.name === 'cp-2')!);
    // A replaced first server must join, never start a second etcd (rke2-docs install/ha.md line 96:
    // `server` is ignored once etcd data exists); the boot script bootstraps through a drop-in.
    expect(first.server).toBe('https://api.fixture.internal:9345');
    expect(second.server).toBe('https://api.fixture.internal:9345');
    expect(first['tls-san']).toStrictEqual(['10.10.1.10', '10.10.1.11', '10.10.1.12', 'api.fixture.internal']);
    const { server: _s, 'node-ip': _a, ...rest1 } = first;
    const { server: _t, 'node-ip': _b, ...rest2 } = second;
    expect(rest1).toStrictEqual(rest2); // every cluster-wide value comes from one place
    expect(first).toMatchObject({
      profile: 'cis',
      cni: ['canal'],
      'ingress-controller': ['none'],
      disable: ['rke2-metrics-server'],
      'disable-cloud-controller': true,
      'etcd-snapshot-schedule-cron': '0 */4 * * *',
      'etcd-snapshot-retention': 8,
      'etcd-s3': true,
      'etcd-s3-bucket': 'odp-fixture-etcd',
      'etcd-s3-folder': 'etcd/fixture',
      'etcd-s3-region': 'eu-west-1',
      'etcd-s3-retention': 8,
      'etcd-snapshot-compress': true,
      'kube-apiserver-arg': ['enable-admission-plugins=NodeRestriction,EventRateLimit', 'request-timeout=300s'],
      'pod-security-admission-config-file': '/etc/rancher/rke2/rke2-pss.yaml',
      'audit-policy-file': '/etc/rancher/rke2/audit-policy.yaml',
    });
    expect(Object.keys(first).filter((k) => /access-key|secret-key|session-token|^token$/.test(k))).toStrictEqual([]);
  });
  it('agents join the supervisor with the agent token; GPU nodes default to the nvidia runtime', () => {
    const { m, t } = target('rke2-etcd.yaml', 'gpu');
    expect(rke2Config(m, t)).toStrictEqual({
      server: 'https://api.fixture.internal:9345',
      'token-file': '/etc/rancher/rke2/agent-token',
      profile: 'cis',
      'kubelet-arg': expect.arrayContaining(['cloud-provider=external', 'max-pods=110']),
      'node-label': ['nvidia.com/gpu.present=true'],
      'node-taint': ['nvidia.com/gpu=present:NoSchedule'],
      'default-runtime': 'nvidia',
    });
  });
  it('Kine on PostgreSQL: no server key on servers, the CA file, Cilium with kube-proxy disabled', () => {
    const { m, t } = target('rke2-postgres.yaml', 'cp-2');
    const c = rke2Config(m, t);
    expect(c.server).toBeUndefined();
    expect(c['datastore-cafile']).toBe('/etc/ssl/certs/rds-global-bundle.pem');
    expect(c['datastore-endpoint']).toBeUndefined();
    expect(c.cni).toStrictEqual(['none']);
    expect(c['disable-kube-proxy']).toBe(true);
    expect(Object.keys(c).some((k) => k.startsWith('etcd-'))).toBe(false);
  });
});

describe('RKE2 user-data', () => {
  it('prepares the CIS host, reads secrets from SSM, writes the DSN only at boot, installs the pinned release', () => {
    const files = filesOf('rke2-postgres.yaml');
    const ud = files.get('rke2/userdata/cp-1.yaml')!;
    expect(ud.startsWith('#cloud-config\n')).toBe(true);
    const data = userData(ud);
    expect(data.runcmd).toStrictEqual([['/usr/local/sbin/odp-rke2-boot']]);
    // A fixed node's config is not in its user data: its boot reads it from its base-stack parameter (rancher/node-config.ts).
    expect(data.write_files.map((f) => [f.path, f.permissions])).toStrictEqual([
      ['/etc/sysctl.d/60-rke2-cis.conf', '0644'],
      ['/etc/rancher/rke2/rke2-pss.yaml', '0600'],
      ['/etc/rancher/rke2/audit-policy.yaml', '0600'],
      // Every value the boot script takes from the environment, root-only (it names the token parameters).
      ['/etc/odp-gitops/boot-settings.env', '0600'],
      ['/usr/local/sbin/odp-rke2-boot', '0700'],
    ]);
    expect(data.write_files[0]!.content).toBe('vm.panic_on_oom=0\nvm.overcommit_memory=1\nkernel.panic=10\nkernel.panic_on_oops=1\n');
    const pss = parseYamlStream(data.write_files[1]!.content)[0] as { plugins: { name: string; configuration: { defaults?: { enforce: string }; exemptions?: { namespaces: string[] } } }[] };
    expect(pss.plugins[0]!.configuration.defaults!.enforce).toBe('restricted');
    expect(pss.plugins[0]!.configuration.exemptions!.namespaces).toStrictEqual(['kube-system']);
    const boot = bootScript(ud);
    expect(boot).toContain("CONFIG=$(ssm_parameter '/odp/rke2-postgres/rke2/config/cp-1')");
    for (const line of [
      `id etcd >/dev/null 2>&1 || useradd -r -c "etcd user" -s /sbin/nologin -M etcd -U`,
      `TOKEN=$(ssm_secret '/odp/rke2-postgres/rke2/token')`,
      `printf '%s' "$TOKEN" > /etc/rancher/rke2/token`,
      `ssm_secret '/odp/rke2-postgres/rke2/agent-token' > /etc/rancher/rke2/agent-token`,
      `NODE_NAME=$(imds local-hostname)`,
      `PGPASSWORD=$(ssm_secret '/odp/fixture/kine/password')`,
      `DSN='postgres://rke2:'"$PGPASSWORD_ENC"'@kine.fixture.internal:5432/rke2?sslmode=verify-full'`,
      // Node name and DSN in the root-only drop-in no installer rewrites (research/day2.md "installers never write /etc/rancher").
      // Written whole: a .new file renamed over it (rancher/host.ts identityDropInLines; dash's set -e: `rm … || :`).
      `{ printf 'node-name: "%s"\\n' "$NODE_NAME"; printf 'datastore-endpoint: "%s"\\n' "$DSN"; } > /etc/rancher/rke2/config.yaml.d/10-node.yaml.new && chmod 0600 /etc/rancher/rke2/config.yaml.d/10-node.yaml.new && mv -f /etc/rancher/rke2/config.yaml.d/10-node.yaml.new /etc/rancher/rke2/config.yaml.d/10-node.yaml || { rm -f /etc/rancher/rke2/config.yaml.d/10-node.yaml.new 2>/dev/null || :; log 'could not write /etc/rancher/rke2/config.yaml.d/10-node.yaml'; exit 1; }`,
      // The release and its sha256s from the base stack's release parameter (generators/distributions/rancher/release.ts).
      `fetch_verified 'https://raw.githubusercontent.com/rancher/rke2/'"$RELEASE_TAG"'/install.sh' /root/rke2-install.sh "$RELEASE_SHA_INSTALLER"`,
      `INSTALL_RKE2_ARTIFACT_PATH=/root/rke2-artifacts INSTALL_RKE2_METHOD=tar INSTALL_RKE2_TYPE=server sh /root/rke2-install.sh`,
      'systemctl enable rke2-server.service',
    ])
      expect(boot.split('\n'), line).toContain(line);
    // The start is bounded (SERVICE_READY_SECONDS) and names the datastore: test/rke2-kine-motion.test.ts runs it.
    expect(boot).toMatch(/^rc=0; start_watched rke2-server\.service 30 \|\| rc=\$\?$/m);
    expect(boot).toMatch(/^\[ "\$rc" -eq 0 \] \|\| .*PostgreSQL kine\.fixture\.internal:5432 unreachable/m);
    expect(boot.indexOf('useradd')).toBeLessThan(boot.indexOf('rke2-install.sh'));
    // The start is bounded (BOOT_WAITS on Kine PostgreSQL) and names the datastore (rancher/token-rotate.ts bootServerStartLines).
    expect(boot).toMatch(/^\[ "\$rc" -eq 0 \] \|\| \{ .*rke2-server is not ready \(1800 s\): \$\(start_cause rke2-server\.service\); "'it exits until it can use its datastore \(PostgreSQL kine\.fixture\.internal:5432 unreachable/m);
    expect(boot).toMatch(/^RELEASE=\$\(ssm_parameter '\/odp\/[a-z0-9-]+\/rke2\/release'\)$/m);
    const agent = bootScript(files.get('rke2/userdata/workers.yaml')!);
    expect(agent).not.toMatch(/useradd|PGPASSWORD|rke2\/token'/);
    expect(agent).toContain('INSTALL_RKE2_TYPE=agent');
  });
  it('the rendered tree passes the RKE2 checker and holds nothing secret-shaped', () => {
    for (const file of ['rke2-etcd.yaml', 'rke2-postgres.yaml']) {
      const m = modelOf(file);
      const files = new Map(renderRke2(m).map((f) => [f.path, f.content]));
      expect(checkRenderedRke2(m, files)).toStrictEqual([]);
      expect([...files].flatMap(([p, text]) => scanSecrets(p, text))).toStrictEqual([]);
    }
  });
  it('the checker refuses a token, an unknown key and a password in the DSN', () => {
    const found = checkRke2ConfigText('x.yaml', 'token: abc\nkubelet-args: [a]\ndatastore-endpoint: postgres://u:pw@h:5432/db\n', 'server').map((d) => `${d.line}:${d.col} ${d.rule} ${d.message}`);
    expect(found).toStrictEqual([
      "1:1 rke2-secret 'token' puts a secret into the rendered tree",
      "2:1 rke2-rendered 'kubelet-args' is not an rke2 server flag (RKE2 v1.35.7+rke2r1)",
      '3:1 rke2-secret datastore-endpoint carries a password',
    ]);
  });
});

describe('add-ons on RKE2', () => {
  const odpPolicies = (file: string) =>
    renderEnvironment(prepared(file))
      // <kind>-<name>.yaml, or <kind>-<namespace>-<name>.yaml for an add-on's object outside its namespace (kube-prometheus-stack's in kube-system).
      .filter((f) => /\/networkpolicy-(kube-system-)?odp-allow/.test(f.path))
      .map((f) => parseYamlStream(f.content)[0] as { metadata: { name: string; namespace: string }; spec: Record<string, unknown> });
  it('select control planes by the value true, render no nvidia RuntimeClass; on Canal RKE2\'s own policy admits the API server, Prometheus is opened', () => {
    const files = renderEnvironment(prepared('rke2-etcd.yaml'));
    const paths = files.map((f) => f.path);
    expect(paths.some((p) => /runtimeclass/i.test(p))).toBe(false);
    // rke2-flannel-host-networking (CIS + Canal) admits every node's flannel address on every port: no
    // add-on policy opens 9443 or 10250 (to every pod or otherwise).
    expect(odpPolicies('rke2-etcd.yaml').map((d) => `${d.metadata.namespace}/${d.metadata.name}`)).toStrictEqual(['kube-system/odp-allow-prometheus-scrape']);
    const ccm = files.find((f) => f.path === 'values/aws-cloud-controller-manager.yaml')!.content;
    expect(ccm).toContain('node-role.kubernetes.io/control-plane: "true"');
  });
  it('on PostgreSQL the README says what RKE2 supports, and where the CA bundle comes from', () => {
    const readme = renderEnvironment(prepared('rke2-postgres.yaml')).find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain("**Support status**: RKE2's docs no longer call external datastores experimental");
    expect(readme).toContain('*External DB Backups (Experimental)*');
    expect(readme).toMatch(/the boot script downloads the RDS CA bundle \(`[^`]+`\) there at the instance's first boot|that file is the environment's own \(`postgres\.caBundlePath`\): the boot script never downloads anything over it/);
  });
  it('with Cilium the API server is admitted from the node subnets only, and Cilium matches nodes by CIDR', () => {
    const docs = odpPolicies('rke2-postgres.yaml');
    expect(docs.map((d) => `${d.metadata.namespace}/${d.metadata.name}`).sort()).toStrictEqual([
      'kube-system/odp-allow-aws-load-balancer-webhook',
      'kube-system/odp-allow-metrics-server',
      'kube-system/odp-allow-prometheus-scrape',
    ]);
    const m = modelOf('rke2-postgres.yaml');
    const from = nodeSubnetCidrs(m).map((cidr) => ({ ipBlock: { cidr } }));
    expect(from.length).toBeGreaterThan(0);
    expect(from.every((f) => f.ipBlock.cidr !== '0.0.0.0/0')).toBe(true);
    expect(docs.find((d) => d.metadata.name === 'odp-allow-metrics-server')!.spec).toStrictEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'metrics-server' } },
      policyTypes: ['Ingress'],
      ingress: [{ from, ports: [{ protocol: 'TCP', port: 10250 }] }],
    });
    expect(docs.find((d) => d.metadata.name === 'odp-allow-aws-load-balancer-webhook')!.spec).toMatchObject({ ingress: [{ from, ports: [{ protocol: 'TCP', port: 9443 }] }] });
    const cilium = renderEnvironment(prepared('rke2-postgres.yaml')).find((f) => f.path === 'values/cilium.yaml')!.content;
    expect(cilium).toContain('policyCIDRMatchMode: nodes');
    // cni none: RKE2's agent runs without flannel, so containerd reads its default CNI directories (generators/distributions/rancher/cni.ts).
    expect((parseYamlStream(cilium)[0] as Record<string, unknown>).cni).toStrictEqual({ binPath: '/opt/cni/bin', confPath: '/etc/cni/net.d' });
  });
  it.runIf(existsSync(join(SHARED, 'tools', 'secret-scan.mjs')))('the whole rendered tree passes the shared secret scan', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rke2-'));
    try {
      for (const f of renderEnvironment(prepared('rke2-postgres.yaml'))) {
        mkdirSync(dirname(join(dir, f.path)), { recursive: true });
        writeFileSync(join(dir, f.path), f.content);
      }
      expect(() => execFileSync('node', [join(SHARED, 'tools', 'secret-scan.mjs'), dir], { stdio: 'pipe' })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run diff on RKE2 nodes', () => {
  const render = (edit: (text: string) => string) => {
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    sources.set(`environments/${name}.yaml`, edit(sources.get(`environments/${name}.yaml`)!));
    const r = prepareEnvironment(name, sources);
    return new Map(renderEnvironment(r.prepared!).map((f) => [f.path, f.content]));
  };
  const base = render((t) => t);
  const impacts = (edit: (text: string) => string) =>
    (diffEnvironment('rke2-etcd', base, render(edit))?.rke2 ?? []).map((i) => `${i.node}: ${i.actions.join(', ')} (${i.reasons.map((r) => r.path).join(', ')})`);

  it('says per node what applying a change takes', () => {
    expect(impacts((t) => t.replace('kube-apiserver-arg: [request-timeout=300s]', 'kube-apiserver-arg: [request-timeout=120s]'))).toStrictEqual([
      'cp-1: restart (kube-apiserver-arg)',
      'cp-2: restart (kube-apiserver-arg)',
      'cp-3: restart (kube-apiserver-arg)',
    ]);
    expect(impacts((t) => t.replace('count: 1\n    rke2:', 'count: 1\n    labels: { tier: general }\n    rke2:'))).toStrictEqual(['workers: relabel (node-label)']);
    expect(impacts((t) => t.replace('  datastore:\n', '  network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12, cni: cilium }\n  datastore:\n'))).toStrictEqual([
      'cp-1: rebuild (cni, disable-kube-proxy)',
      'cp-2: rebuild (cni, disable-kube-proxy)',
      'cp-3: rebuild (cni, disable-kube-proxy)',
    ]);
    // A release bump changes no node's user data (the release parameter of the base stack: generators/distributions/rancher/release.ts).
    expect(impacts((t) => t.replace('v1.35.7+rke2r1', 'v1.35.6+rke2r1').replace('kubernetesVersion: 1.35.7', 'kubernetesVersion: 1.35.6'))).toStrictEqual([]);
  });
  it('prints the impact in the text report', () => {
    const d = diffTrees(new Map([...base].map(([p, c]) => [`rke2-etcd/${p}`, c])), new Map([...render((t) => t.replace('request-timeout=300s', 'request-timeout=120s'))].map(([p, c]) => [`rke2-etcd/${p}`, c])));
    const text = formatText(d, { base: 'main', head: 'HEAD' });
    expect(text).toContain('RKE2 impact:\n  cp-1: restart\n      restart: a fixed node: sh rke2/apply-config.sh <node> as root on it once the base stack holds the new config (servers one at a time; it writes /etc/rancher/rke2/config.yaml and restarts the RKE2 service); a pool: rolled by the nodes stack\n      kube-apiserver-arg: restart\n');
  });
});

describe('rendered-tree policy on RKE2', () => {
  it('a GPU workload may name the nvidia RuntimeClass RKE2 ships (no second one rendered)', async () => {
    const { name, sources } = fixtureSources('valid', 'rke2-etcd.yaml');
    const text = `${sources.get(`environments/${name}.yaml`)!}workloads:
  - name: trainer
    image: ghcr.io/opendev/trainer:1.0.0
    replicas: 1
    resources: { requests: { cpu: 500m, memory: 1Gi } }
    placement: { gpu: 1 }
`;
    sources.set(`environments/${name}.yaml`, text);
    const r = prepareEnvironment(name, sources);
    expect(formatted(r).filter((l) => !l.includes(': warning: '))).toStrictEqual([]);
    const files = new Map(renderEnvironment(r.prepared!).map((f) => [`${name}/${f.path}`, f.content]));
    expect([...files.values()].some((c) => c.includes('runtimeClassName: nvidia'))).toBe(true);
    const refs = (await checkRenderedTree(parseRenderedTree(files))).filter((d) => d.rule === 'policy.references').map((d) => d.message);
    expect(refs).toStrictEqual([]);
    // The same tree without RKE2's node configs would need the RuntimeClass rendered.
    const withoutRke2 = new Map([...files].filter(([p]) => !p.startsWith(`${name}/rke2/`)));
    const missing = (await checkRenderedTree(parseRenderedTree(withoutRke2))).filter((d) => d.rule === 'policy.references').map((d) => d.message);
    expect(missing).toStrictEqual(["RuntimeClass 'nvidia' is not rendered in this environment"]);
  });
});
