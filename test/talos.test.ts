import { talosCluster, talosPool } from '../generators/distributions/talos/model.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getAt } from '../generators/lib/paths.js';
import { parseYamlStream } from '../generators/lib/yaml.js';
import type { EnvironmentModel } from '../generators/model/types.js';
import { main as talosCli } from '../generators/distributions/talos/commands/talos.js';
import { clusterSteps, commandsText } from '../generators/distributions/talos/operations.js';
import { TALOS_UPGRADE_FAILURE } from '../generators/distributions/talos/release.js';
import { runbookScript } from '../generators/distributions/talos/runbook.js';
import { machineConfigDocuments } from '../generators/distributions/talos/machineconfig.js';
import { classImages } from '../generators/distributions/talos/nodeclass.js';
import { marshalSchematic, schematicId, type Schematic } from '../generators/distributions/talos/schematic.js';
import { CONFIG_SECRET_FIELDS, decodeBundle, encodeBundle, parseBundle, secretRef, type SecretsBundle } from '../generators/distributions/talos/secrets.js';
import { checkRenderedTalos, checkTalosDocuments, checkTalosFile, CONTROL_PLANE_ONLY, isTalosConfigPath } from '../generators/distributions/talos/checks.js';
import { scanSecrets } from '../generators/validate/secret-scan.js';
import { prepareExample, renderedExamples, renderExample, SHARED, sharedPath } from './helpers.js';
import { bundleYaml, testBundle } from './talos-bundle.js';

const ENVS = ['dev', 'staging', 'prod'];
type Obj = Record<string, unknown>;

const modelOf = (env: string): EnvironmentModel => prepareExample(env).prepared!.model;
const renderedDir = (env: string): string => join(renderedExamples(), 'rendered', env);
const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
const talosFiles = (env: string): string[] => readdirSync(join(renderedDir(env), 'talos')).filter((f) => f.endsWith('.yaml')).sort();
const docsOf = (env: string, file: string): Obj[] => parseYamlStream(readFileSync(join(renderedDir(env), 'talos', file), 'utf8')) as Obj[];

describe('Image Factory schematic IDs (published vectors, IF:pkg/schematic/schematic_test.go)', () => {
  const vectors: [Schematic, string, string][] = [
    [{ customization: {} }, 'customization: {}\n', '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba'],
    [{ customization: { extraKernelArgs: [] } }, 'customization: {}\n', '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba'],
    [{ customization: { extraKernelArgs: ['noapic', 'nolapic'] } }, 'customization:\n    extraKernelArgs:\n        - noapic\n        - nolapic\n', '9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c'],
    [{ customization: { meta: [{ key: 10, value: 'foo' }] } }, 'customization:\n    meta:\n        - key: 10\n          value: foo\n', 'd308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f'],
    [
      { overlay: { image: 'siderolabs/sbc-raspberrypi', name: 'rpi_generic' }, customization: {} },
      'overlay:\n    image: siderolabs/sbc-raspberrypi\n    name: rpi_generic\ncustomization: {}\n',
      'ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9',
    ],
    [{ customization: { secureboot: { includeWellKnownCertificates: true } } }, 'customization:\n    secureboot:\n        includeWellKnownCertificates: true\n', 'fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6'],
    [{ customization: { diskImage: { sectorSize: 4096 } } }, 'customization:\n    diskImage:\n        sectorSize: 4096\n', '92833e9ddd9bb9e11b2464fa5525429f01866306d52ebd882ee08d7918f6d1ea'],
    [
      { customization: { systemExtensions: { officialExtensions: ['siderolabs/gvisor'] } } },
      'customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/gvisor\n',
      'd9ff89777e246792e7642abd3220a616afb4e49822382e4213a2e528ab826fe5',
    ],
    [
      { customization: { extraKernelArgs: ['net.ifnames=0'], systemExtensions: { officialExtensions: ['siderolabs/gvisor', 'siderolabs/intel-ucode'] } } },
      'customization:\n    extraKernelArgs:\n        - net.ifnames=0\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/gvisor\n            - siderolabs/intel-ucode\n',
      'b8e8fbbe1b520989e6c52c8dc8303070cb42095997e76e812fa8892393e1d176',
    ],
  ];
  it.each(vectors)('%j', (schematic, yaml, id) => {
    expect(marshalSchematic(schematic)).toBe(yaml);
    expect(schematicId(schematic)).toBe(id);
  });
  it('refuses values go-yaml would quote', () => {
    expect(() => marshalSchematic({ customization: { extraKernelArgs: ['true'] } })).toThrow(/quoting/);
  });
});

describe('rendered Talos configs', () => {
  it.each(ENVS)('%s: committed talos/ equals a fresh render', (env) => {
    const fresh = renderExample(env).filter((f) => f.path.startsWith('talos/'));
    expect(fresh.length).toBeGreaterThan(0);
    for (const f of fresh) expect(readFileSync(join(renderedDir(env), f.path), 'utf8'), f.path).toBe(f.content);
    const committed = walk(join(renderedDir(env), 'talos')).map((p) => p.slice(renderedDir(env).length + 1)).sort();
    expect(committed).toStrictEqual(fresh.map((f) => f.path).sort());
  });

  it.each(ENVS)('%s: one file per fixed node and per auto-scaled pool', (env) => {
    const m = modelOf(env);
    expect(talosFiles(env)).toStrictEqual(m.configTargets.map((t) => `${t.name}.yaml`).sort());
  });

  it.each(ENVS)('%s: the Talos checker finds nothing', (env) => {
    const findings = talosFiles(env).flatMap((f) => checkTalosFile(`talos/${f}`, readFileSync(join(renderedDir(env), 'talos', f), 'utf8')));
    expect(findings).toStrictEqual([]);
  });

  const schemaCases = ENVS.flatMap((env) => talosFiles(env).map((f) => [env, f] as const));
  it.runIf(sharedPath('upstream', 'talos') !== undefined).each(schemaCases)('%s/%s validates against the upstream config schema of its minor (except persist)', (env, file) => {
    const minor = talosCluster(modelOf(env)).minor!;
    const schema = JSON.parse(readFileSync(join(SHARED, 'upstream', 'talos', `v${minor}`, 'config.schema.json'), 'utf8')) as Obj;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const docs = docsOf(env, file);
    expect(docs.map((d) => d.kind ?? d.version)).toStrictEqual(['v1alpha1', 'HostnameConfig', 'TimeSyncConfig']);
    for (const doc of docs) {
      const { persist, ...rest } = doc;
      if (doc.version === 'v1alpha1') expect(persist).toBe(true);
      const ok = validate(rest);
      expect(ok, JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    }
  });

  it('v1.12 configs carry machine.network: {} and v1.13 configs do not (gen config output)', () => {
    expect(docsOf('prod', 'prod-cp-1.yaml')[0]!.machine).toHaveProperty('network', {});
    expect(docsOf('dev', 'dev-cp-1.yaml')[0]!.machine).not.toHaveProperty('network');
  });

  it('a control plane carries what gen config writes for its version, plus the environment', () => {
    const [v1, hostname, time] = docsOf('prod', 'prod-cp-1.yaml');
    expect(hostname).toStrictEqual({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' });
    expect(time).toStrictEqual({ apiVersion: 'v1alpha1', kind: 'TimeSyncConfig', ntp: { servers: ['169.254.169.123'] } });
    const m = v1!.machine as Obj;
    const c = v1!.cluster as Obj;
    expect(m.kubelet).toMatchObject({ image: 'ghcr.io/siderolabs/kubelet:v1.35.4', defaultRuntimeSeccompProfileEnabled: true, disableManifestsDirectory: true, registerWithFQDN: true });
    expect(m.features).toStrictEqual({
      diskQuotaSupport: true,
      kubePrism: { enabled: true, port: 7445 },
      hostDNS: { enabled: true, forwardKubeDNSToHost: true },
      kubernetesTalosAPIAccess: { enabled: true, allowedRoles: ['os:etcd:backup'], allowedKubernetesNamespaces: ['etcd-backup'] },
    });
    expect(m.install).toStrictEqual({ disk: '/dev/xvda', image: `factory.talos.dev/aws-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.12.11`, wipe: false, grubUseUKICmdline: true });
    expect(getAt(c, ['apiServer', 'image'])).toBe('registry.k8s.io/kube-apiserver:v1.35.4');
    expect(getAt(c, ['apiServer', 'admissionControl', 0, 'configuration', 'defaults'])).toMatchObject({ enforce: 'baseline', audit: 'restricted', warn: 'restricted' });
    expect(getAt(c, ['discovery'])).toStrictEqual({ enabled: true, registries: { kubernetes: { disabled: true }, service: {} } });
    expect(c.externalCloudProvider).toStrictEqual({ enabled: true });
    expect(getAt(m, ['nodeLabels', 'node.kubernetes.io/exclude-from-external-load-balancers'])).toBe('');
    expect(getAt(m, ['nodeLabels', 'topology.kubernetes.io/zone'])).toBe('eu-west-1a');
    expect(getAt(m, ['kubelet', 'extraArgs', 'rotate-server-certificates'])).toBe('true');
  });

  it.each(ENVS)('%s: no control-plane-only field and no CA key on workers', (env) => {
    const workers = talosFiles(env).map((f) => docsOf(env, f)[0]!).filter((d) => getAt(d, ['machine', 'type']) === 'worker');
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers) {
      for (const p of CONTROL_PLANE_ONLY) expect(getAt(w, p), p.join('.')).toBeUndefined();
      expect(getAt(w, ['machine', 'ca', 'key'])).toBe('');
      expect(getAt(w, ['cluster', 'ca', 'key'])).toBe('');
      expect(getAt(w, ['cluster', 'externalCloudProvider', 'enabled'])).toBe(true);
    }
  });

  it("prod's GPU node carries the NVIDIA schematic, modules and the 1.12 sysctl; workers register their taints", () => {
    const m = modelOf('prod');
    const gpu = m.configTargets.find((t) => t.name === 'prod-gpu-1')!;
    const img = classImages(m, talosPool(gpu.pool).nodeClass);
    expect(img.schematic.customization.systemExtensions?.officialExtensions).toStrictEqual(['siderolabs/nvidia-container-toolkit-lts', 'siderolabs/nvidia-open-gpu-kernel-modules-lts']);
    expect(img.id).toBe('86a5d7c9beb23b4aea2777e44ca06c8c2ceea8a874ccd2b9a6743c4f734329e0');
    const d = docsOf('prod', 'prod-gpu-1.yaml')[0]!;
    expect(getAt(d, ['machine', 'install', 'image'])).toBe(`factory.talos.dev/aws-installer/${img.id}:v1.12.11`);
    expect(getAt(d, ['machine', 'kernel', 'modules'])).toStrictEqual([{ name: 'nvidia' }, { name: 'nvidia_uvm' }, { name: 'nvidia_drm' }, { name: 'nvidia_modeset' }]);
    expect(getAt(d, ['machine', 'sysctls'])).toStrictEqual({ 'net.core.bpf_jit_harden': '1' });
    expect(getAt(d, ['machine', 'kubelet', 'extraArgs', 'register-with-taints'])).toBe('nvidia.com/gpu=present:NoSchedule');
    expect(getAt(d, ['machine', 'nodeTaints'])).toBeUndefined();
    const schematicFile = parseYamlStream(readFileSync(join(renderedDir('prod'), 'talos/schematics/amd64-nvidia.yaml'), 'utf8'))[0] as Obj;
    expect(schematicFile.id).toBe(img.id);
    expect(schematicId(schematicFile.schematic as Schematic)).toBe(img.id);
    // Non-GPU nodes carry neither.
    const cp = docsOf('prod', 'prod-cp-1.yaml')[0]!;
    expect(getAt(cp, ['machine', 'kernel'])).toBeUndefined();
    expect(getAt(cp, ['machine', 'sysctls'])).toBeUndefined();
  });

  it('on Talos 1.13 a GPU node gets the modules but not the sysctl (removed from the 1.13 guide); production tier pairs', () => {
    const prod = modelOf('prod');
    const m: EnvironmentModel = { ...prod, cluster: { ...prod.cluster, extension: { ...talosCluster(prod), version: 'v1.13.9', minor: '1.13', nvidiaDriver: 'production' } } };
    const gpu = m.configTargets.find((t) => t.name === 'prod-gpu-1')!;
    const [d] = machineConfigDocuments(m, gpu);
    expect(getAt(d, ['machine', 'sysctls'])).toBeUndefined();
    expect(getAt(d, ['machine', 'kernel', 'modules'])).toHaveLength(4);
    expect(classImages(m, talosPool(gpu.pool).nodeClass).id).toBe('6698d6f136c5bb37ca8bb8482c9084305084da0a5ead1f4dcae760796f8ab3a2');
    expect(checkTalosDocuments('x.yaml', machineConfigDocuments(m, gpu))).toStrictEqual([]);
  });

  it.each(['staging', 'prod'])('%s: arm64 pools use arm64-capable images', (env) => {
    const m = modelOf(env);
    const arm = m.configTargets.filter((t) => t.pool.arch === 'arm64');
    expect(arm.length).toBeGreaterThan(0);
    for (const t of arm) {
      const img = classImages(m, talosPool(t.pool).nodeClass);
      // The installer is a multi-arch index; the AMI source must be the arm64 image.
      expect(img.diskImage).toMatch(/\/aws-arm64\.raw\.xz$/);
      const file = parseYamlStream(readFileSync(join(renderedDir(env), `talos/schematics/${talosPool(t.pool).nodeClass.name}.yaml`), 'utf8'))[0] as Obj;
      expect(file).toMatchObject({ nodeClass: { arch: 'arm64' }, diskImage: img.diskImage, installerImage: img.installer });
      expect(getAt(docsOf(env, `${t.name}.yaml`)[0], ['machine', 'install', 'image'])).toBe(img.installer);
      expect(getAt(docsOf(env, `${t.name}.yaml`)[0], ['machine', 'kubelet', 'image'])).toMatch(/^ghcr\.io\/siderolabs\/kubelet:v/);
    }
  });

  it('cilium turns off the Talos CNI and kube-proxy; IRSA sets the issuer', () => {
    const dev = modelOf('dev');
    const m: EnvironmentModel = {
      ...dev,
      aws: { ...dev.aws, iam: { mode: 'irsa', issuerURL: 'https://s3.eu-west-1.amazonaws.com/odp-dev-oidc' } },
      cluster: { ...dev.cluster, network: { ...dev.cluster.network, cni: 'cilium' } },
    };
    const cp = machineConfigDocuments(m, m.configTargets[0]!)[0]!;
    expect(getAt(cp, ['cluster', 'network', 'cni'])).toStrictEqual({ name: 'none' });
    expect(getAt(cp, ['cluster', 'proxy', 'disabled'])).toBe(true);
    expect(getAt(cp, ['cluster', 'apiServer', 'extraArgs'])).toStrictEqual({ 'service-account-issuer': 'https://s3.eu-west-1.amazonaws.com/odp-dev-oidc' });
    expect(getAt(cp, ['cluster', 'serviceAccount', 'key'])).toBe(secretRef('certs.k8sserviceaccount.key'));
    const worker = machineConfigDocuments(m, m.configTargets[1]!)[0]!;
    expect(getAt(worker, ['cluster', 'network', 'cni'])).toStrictEqual({ name: 'none' });
  });
});

describe('Talos checker (rendered documents)', () => {
  const base = (): Obj[] => docsOf('prod', 'prod-cp-1.yaml');
  const worker = (): Obj[] => docsOf('prod', 'general-amd64.yaml');
  const set = (docs: Obj[], path: string[], v: unknown): Obj[] => {
    let cur = docs[0] as Obj;
    for (const k of path.slice(0, -1)) cur = (cur[k] ??= {}) as Obj;
    cur[path.at(-1)!] = v;
    return docs;
  };
  const rules = (docs: Obj[]) => checkTalosDocuments('talos/x.yaml', docs).map((d) => `${d.rule} ${JSON.stringify(d.path)}`);

  it('rejects denylisted kube-apiserver extraArgs, at the argument', () => {
    expect(rules(set(base(), ['cluster', 'apiServer', 'extraArgs'], { 'etcd-servers': 'https://x:2379', 'audit-log-maxage': '30' }))).toStrictEqual([
      'talos.apiserver-denied-arg [0,"cluster","apiServer","extraArgs","etcd-servers"]',
    ]);
  });
  it('rejects persist: false and literal secrets', () => {
    expect(rules(set(base(), ['persist'], false))).toStrictEqual(['talos.persist [0,"persist"]']);
    expect(rules(set(base(), ['cluster', 'token'], 'abcdef.0123456789abcdef'))).toStrictEqual(['talos.secret-reference [0,"cluster","token"]']);
  });
  it('rejects control-plane-only fields and CA keys on workers', () => {
    const w = set(set(worker(), ['cluster', 'etcd'], { ca: {} }), ['machine', 'features', 'kubernetesTalosAPIAccess'], { enabled: true, allowedRoles: ['os:etcd:backup'] });
    set(w, ['machine', 'ca', 'key'], secretRef('certs.os.key'));
    expect(rules(w).sort()).toStrictEqual([
      'talos.control-plane-only [0,"cluster","etcd"]',
      'talos.control-plane-only [0,"machine","features","kubernetesTalosAPIAccess"]',
      'talos.worker-secret [0,"machine","ca","key"]',
    ]);
  });
  it('rejects unknown roles for the version, image skew, hostDNS forwarding without hostDNS', () => {
    const d = set(base(), ['machine', 'features', 'kubernetesTalosAPIAccess', 'allowedRoles'], ['os:etcd:backup', 'os:meta:writer']);
    set(d, ['machine', 'kubelet', 'image'], 'ghcr.io/siderolabs/kubelet:v1.34.0');
    set(d, ['machine', 'features', 'hostDNS'], { forwardKubeDNSToHost: true });
    expect(rules(d).sort()).toStrictEqual([
      'talos.host-dns [0,"machine","features","hostDNS","forwardKubeDNSToHost"]',
      'talos.kubernetes-image-skew [0,"cluster","apiServer","image"]',
      'talos.talos-role [0,"machine","features","kubernetesTalosAPIAccess","allowedRoles",1]',
    ]);
  });
  it('knows which rendered paths are machine configs', () => {
    expect(isTalosConfigPath('rendered/prod/talos/prod-cp-1.yaml')).toBe(true);
    expect(isTalosConfigPath('rendered/prod/talos/schematics/amd64.yaml')).toBe(false);
    const files = [
      { path: 'rendered/prod/talos/x.yaml', content: 'version: v1alpha1\npersist: false\nmachine: { type: worker }\n' },
      { path: 'rendered/prod/talos/schematics/amd64.yaml', content: 'persist: false\n' },
    ];
    expect(checkRenderedTalos(files).map((d) => `${d.file} ${d.rule}`)).toContain('rendered/prod/talos/x.yaml talos.persist');
    expect(checkRenderedTalos(files).every((d) => d.file === 'rendered/prod/talos/x.yaml')).toBe(true);
  });
});

describe('no secrets in rendered/', () => {
  it('the project scanner finds nothing in rendered/ and flags real secret shapes', async () => {
    const files = walk(join(renderedExamples(), 'rendered'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.flatMap((f) => scanSecrets(f, readFileSync(f, 'utf8')))).toStrictEqual([]);
    const b = await testBundle();
    const found = scanSecrets('x', `token: ${b['trustdinfo.token']}\nkey: ${b['certs.os.key']}\nsecret: ${b['cluster.secret']}\n`).map((d) => d.message);
    expect(found).toContain('bootstrap/trustd token');
    expect(found).toContain('base64 PEM private key');
    expect(found).toContain('key-sized base64 under a secret-named field');
  });
  it.runIf(existsSync(join(SHARED, 'tools', 'secret-scan.mjs')))('the shared secret scanner is clean on rendered/', () => {
    const r = spawnSync(process.execPath, [join(SHARED, 'tools', 'secret-scan.mjs'), join(renderedExamples(), 'rendered')], { encoding: 'utf8' });
    expect(r.stdout).toContain('no secret-shaped values');
    expect(r.status).toBe(0);
  });
});

describe('secrets bundle', () => {
  let bundle: SecretsBundle;
  beforeAll(async () => {
    bundle = await testBundle();
  }, 60_000);

  it('accepts a gen-secrets bundle and round-trips it exactly through the SSM encoding, within the 8 KB Advanced limit', () => {
    const parsed = parseBundle(bundleYaml(bundle));
    expect(parsed.problems).toStrictEqual([]);
    expect(parsed.bundle).toStrictEqual(bundle);
    const encoded = encodeBundle(bundle);
    expect(encoded.length).toBeLessThan(8192);
    expect(decodeBundle(encoded)).toStrictEqual(bundle);
  });

  it('names every problem of a broken bundle', async () => {
    const other = await testBundle();
    const broken = bundleYaml({ ...bundle, 'trustdinfo.token': 'nope', 'certs.k8s.key': other['certs.etcd.key'] === bundle['certs.etcd.key'] ? bundle['certs.etcd.key'] : other['certs.etcd.key'] }).replace('certs:', 'extra: 1\ncerts:');
    const { bundle: b, problems } = parseBundle(broken.replace(/ {2}secretboxencryptionsecret: .*\n/, ''));
    expect(b).toBeUndefined();
    expect(problems).toStrictEqual([
      { path: 'extra', message: 'unknown key (a bundle has cluster, secrets, trustdinfo, certs)' },
      { path: 'secrets.secretboxencryptionsecret', message: 'missing' },
      { path: 'trustdinfo.token', message: 'expected a token of the form [a-z0-9]{6}.[a-z0-9]{16}' },
      { path: 'certs.k8s.key', message: 'does not match certs.k8s.crt' },
    ]);
  });
});

describe('npm run talos (SSM stubbed)', () => {
  const ssm = mockClient(SSMClient);
  let bundle: SecretsBundle;
  beforeAll(async () => {
    bundle = await testBundle();
  }, 60_000);
  afterEach(() => {
    ssm.reset();
    vi.restoreAllMocks();
  });
  const stdout = () => {
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (chunks.push(String(c)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    return chunks;
  };
  const stored = () => ssm.on(GetParameterCommand, { Name: '/odp/prod/talos/secrets-bundle', WithDecryption: true }).resolves({ Parameter: { Name: '/odp/prod/talos/secrets-bundle', Type: 'SecureString', Value: encodeBundle(bundle), Version: 1 } });

  it.each(['prod-cp-1', 'general-arm64', 'prod-gpu-1'])('config %s: every secret field filled, every other field equal to the committed file, mode 0600', async (node) => {
    stored();
    stdout();
    const out = join(mkdtempSync(join(tmpdir(), 'odp-talos-')), 'sub', `${node}.yaml`);
    expect(await talosCli(['config', '--env', 'prod', '--node', node, '--out', out, '--root', renderedExamples()])).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const got = parseYamlStream(readFileSync(out, 'utf8')) as Obj[];
    const committed = docsOf('prod', `${node}.yaml`);
    const role = getAt(committed[0], ['machine', 'type']) as 'controlplane' | 'worker';
    const fields = CONFIG_SECRET_FIELDS.filter((f) => f.roles.includes(role));
    for (const f of fields) expect(getAt(got[0], f.path), f.path.join('.')).toBe(bundle[f.bundle]);
    // Put the references back: the rest is the committed file.
    for (const f of fields) {
      let cur = got[0] as Obj;
      for (const k of f.path.slice(0, -1)) cur = cur[k] as Obj;
      cur[f.path.at(-1)!] = secretRef(f.bundle);
    }
    expect(got).toStrictEqual(committed);
    expect(readFileSync(out, 'utf8')).not.toContain('${talos-secrets:');
  });

  it('config refuses an output inside the repository and needs --out or --stdout', async () => {
    stored();
    stdout();
    await expect(talosCli(['config', '--env', 'prod', '--node', 'prod-cp-1', '--out', join(renderedExamples(), 'rendered', 'x.yaml'), '--root', renderedExamples()])).rejects.toThrow(/inside the repository/);
    await expect(talosCli(['config', '--env', 'prod', '--node', 'prod-cp-1', '--root', renderedExamples()])).rejects.toThrow(/--out FILE or --stdout/);
    await expect(talosCli(['config', '--env', 'prod', '--node', 'nope', '--stdout', '--root', renderedExamples()])).rejects.toThrow(/no node or auto-scaled pool 'nope'/);
  });

  it('config --stdout prints the filled config', async () => {
    stored();
    const chunks = stdout();
    expect(await talosCli(['config', '--env', 'prod', '--node', 'general-amd64', '--stdout', '--root', renderedExamples()])).toBe(0);
    expect(chunks.join('')).toContain(`token: ${bundle['trustdinfo.token']}`);
  });

  it('secrets import validates, stores a SecureString with the KMS key, and refuses to overwrite without --force', async () => {
    stdout();
    const dir = mkdtempSync(join(tmpdir(), 'odp-talos-'));
    const file = join(dir, 'secrets.yaml');
    (await import('node:fs')).writeFileSync(file, bundleYaml(bundle));
    ssm.on(GetParametersCommand).resolves({ Parameters: [], InvalidParameters: ['/odp/prod/talos/secrets-bundle'] });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    expect(await talosCli(['secrets', 'import', '--env', 'prod', '--from', file, '--kms-key', 'alias/odp-prod', '--root', renderedExamples()])).toBe(0);
    const put = ssm.commandCalls(PutParameterCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Name: '/odp/prod/talos/secrets-bundle', Type: 'SecureString', KeyId: 'alias/odp-prod', Overwrite: false, Tier: 'Advanced' });
    expect(decodeBundle(put.Value!)).toStrictEqual(bundle);

    ssm.reset();
    ssm.on(GetParametersCommand).resolves({ Parameters: [{ Name: '/odp/prod/talos/secrets-bundle', Type: 'SecureString', Value: 'x', Version: 3 }] });
    ssm.on(PutParameterCommand).resolves({ Version: 4 });
    await expect(talosCli(['secrets', 'import', '--env', 'prod', '--from', file, '--root', renderedExamples()])).rejects.toThrow(/refusing to overwrite the existing secrets bundle .*locks operators out/s);
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(await talosCli(['secrets', 'import', '--env', 'prod', '--from', file, '--force', '--root', renderedExamples()])).toBe(0);
    expect(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Overwrite).toBe(true);
  });

  it('secrets import rejects an invalid bundle with positioned findings and does not touch SSM', async () => {
    stdout();
    const file = join(mkdtempSync(join(tmpdir(), 'odp-talos-')), 'secrets.yaml');
    (await import('node:fs')).writeFileSync(file, bundleYaml({ ...bundle, 'cluster.secret': 'short' }));
    await expect(talosCli(['secrets', 'import', '--env', 'prod', '--from', file, '--root', renderedExamples()])).rejects.toThrow(/cluster\.secret: expected base64 of 32 bytes/);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('secrets export writes the talosctl bundle back (0600)', async () => {
    stored();
    stdout();
    const out = join(mkdtempSync(join(tmpdir(), 'odp-talos-')), 'secrets.yaml');
    expect(await talosCli(['secrets', 'export', '--env', 'prod', '--out', out, '--root', renderedExamples()])).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(parseBundle(readFileSync(out, 'utf8')).bundle).toStrictEqual(bundle);
  });
});

describe('talosctl commands', () => {
  const m = modelOf('prod');
  it('first apply with --insecure, bootstrap only on the first control plane, upgrade with the node image', () => {
    const cp1 = commandsText(m, 'prod-cp-1');
    expect(cp1).toContain('talosctl apply-config --insecure --nodes 10.30.1.10 --file $HOME/.odp/prod/prod-cp-1.yaml');
    expect(cp1).toContain('talosctl bootstrap --nodes 10.30.1.10\n');
    expect(cp1).toContain('talosctl bootstrap --nodes "$(pick_cp cp_preparing $CPS)" --recover-from $HOME/.odp/prod/db.snapshot');
    // One-node steps through the first control plane that answers (any_cp, defined by the setup): only the bootstraps name one.
    expect(cp1).toContain("CPS='10.30.1.10 10.30.2.10 10.30.3.10'\n");
    expect(cp1).toContain('\n# any_cp CMD…: CMD --nodes CP, once, through the first control plane whose Talos API answers (the first one may be down).\nany_cp() {');
    expect(cp1).toContain('\netcd_cp() {');
    expect(cp1).toContain('etcd_cp talosctl upgrade-k8s --to 1.35.4\n');
    expect(cp1).toContain('any_cp talosctl kubeconfig $HOME/.odp/prod/kubeconfig\n');
    expect(cp1).toContain('etcd_cp talosctl etcd snapshot $HOME/.odp/prod/etcd-');
    expect(cp1).not.toMatch(/talosctl (kubeconfig|upgrade-k8s|etcd snapshot)[^\n]*--nodes/);

    const cp2 = commandsText(m, 'prod-cp-2');
    expect(cp2).not.toContain('talosctl bootstrap');
    const gpu = commandsText(m, 'prod-gpu-1');
    // The upgrade: one command, the upgrade script for that node alone, with the node's installer image.
    expect(gpu).toContain('# prod-gpu-1: upgrade Talos\nnpm run -s talos -- commands --env prod upgrade --node prod-gpu-1 | sh\n');
    expect(runbookScript(m, 'upgrade', 'prod-gpu-1')).toContain("\nif reach 10.30.3.50 prod-gpu-1; then upgrade_node 10.30.3.50 'worker prod-gpu-1' factory.talos.dev/aws-installer/86a5d7c9beb23b4aea2777e44ca06c8c2ceea8a874ccd2b9a6743c4f734329e0:v1.12.11;");
    const pool = commandsText(m, 'general-arm64');
    expect(pool).not.toContain('apply-config --insecure');
    expect(pool).toContain('node.opendev.dev/pool=general-arm64');
  });

  // Pinned to upstream: talosctl's line once the installer exited 0 is the one signal of an image installed and not
  // booted (release.ts TALOS_UPGRADE_FAILURE: no resource reports the next boot entry). T@v1.13.9
  // cmd/talosctl/cmd/talos/upgrade.go:233: fmt.Fprintf(&sb, "%s: upgrade completed\n", node), node the --nodes value
  // (:212 finishedUpgrades[resp.Node]).
  it("upgrade_failed reads talosctl's own line of an installed image, as upstream prints it", () => {
    expect(TALOS_UPGRADE_FAILURE.installed).toBe(': upgrade completed');
    expect(runbookScript(m, 'upgrade')).toContain(`case "$3" in *': upgrade completed'*) log`);
  });

  it('with Cilium (no CNI until bootstrap.sh nodes), health is checked only after bootstrap.sh nodes; with flannel right after bootstrap', () => {
    const bootstrap = (env: string) => clusterSteps(modelOf(env)).filter((s) => s.phase === 'bootstrap').map((s) => s.lines);
    expect(bootstrap('prod')).toStrictEqual([
      ['talosctl bootstrap --nodes 10.30.1.10'],
      ['any_cp talosctl kubeconfig $HOME/.odp/prod/kubeconfig', 'export KUBECONFIG=$HOME/.odp/prod/kubeconfig'],
      // Only what nodes need (the CNI, the cloud controller) before workers join: the engine's own release waits for a
      // schedulable worker, so the whole script runs after the pools join (see the Talos runbook).
      ['sh rendered/prod/argocd/bootstrap/bootstrap.sh nodes', 'etcd_cp talosctl health --wait-timeout 15m'],
    ]);
    expect(bootstrap('dev')).toStrictEqual([
      ['talosctl bootstrap --nodes 10.10.1.10', 'etcd_cp talosctl health --wait-timeout 15m'],
      ['any_cp talosctl kubeconfig $HOME/.odp/dev/kubeconfig', 'export KUBECONFIG=$HOME/.odp/dev/kubeconfig'],
    ]);
  });
});
