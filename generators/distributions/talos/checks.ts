/**
 * Checks on rendered Talos machine configs that the upstream JSON Schema cannot express
 * (v1alpha1_validation.go, the extraArgs deny lists of the control-plane controllers, this
 * project's no-secrets-in-git rule). Input: the parsed documents of one file; output: findings
 * naming the file and the document path. Used by the tests and by `npm run validate`.
 */
import type { DocPath } from '../../lib/paths.js';
import { parseTaint, type Taint } from '../../lib/scheduling.js';
import { parseYamlStream } from '../../lib/yaml.js';
import type { SchemaError } from '../../validate/k8s-models.js';
import { strings, type NodeConfig } from '../../validate/rendered/gpu.js';
import type { FileChecker } from '../../validate/rendered/registry.js';
import { finding, isMap as isMapValue, type ParsedFile } from '../../validate/rendered/tree.js';
import { APISERVER_DENIED_ARGS, KUBELET_DENIED_ARGS, KUBELET_PROTECTED_CONFIG, TALOS_RELEASES, talosMinorOfInstaller, type TalosMinor } from './release.js';
import { CONFIG_SECRET_FIELDS, refTarget } from './secrets.js';
import type { Diagnostic } from '../../validate/diagnostics.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const get = (v: unknown, path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>((o, k) => (isObj(o) || Array.isArray(o) ? (o as Obj)[k as string] : undefined), v);

/** Sections gen config writes only for control planes; Talos rejects some on workers, the rest are dead weight. */
export const CONTROL_PLANE_ONLY: readonly (readonly string[])[] = [
  ['cluster', 'etcd'],
  ['cluster', 'aggregatorCA'],
  ['cluster', 'serviceAccount'],
  ['cluster', 'secretboxEncryptionSecret'],
  ['cluster', 'aescbcEncryptionSecret'],
  ['cluster', 'apiServer'],
  ['cluster', 'controllerManager'],
  ['cluster', 'scheduler'],
  ['cluster', 'proxy'],
  ['machine', 'features', 'kubernetesTalosAPIAccess'],
];

const K8S_IMAGES: readonly (readonly string[])[] = [
  ['machine', 'kubelet', 'image'],
  ['cluster', 'apiServer', 'image'],
  ['cluster', 'controllerManager', 'image'],
  ['cluster', 'scheduler', 'image'],
  ['cluster', 'proxy', 'image'],
];

/** The Talos minor a config targets, from its installer image tag (`…:v1.13.9`). */
const minorOfConfig = (doc: Obj): TalosMinor | undefined => talosMinorOfInstaller(get(doc, ['machine', 'install', 'image']));

export function checkTalosDocuments(file: string, docs: readonly unknown[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (rule: string, path: DocPath, message: string, hint?: string): void => {
    out.push({ severity: 'error', rule: `talos.${rule}`, file, path, message, hint });
  };
  const v1 = docs.map((d, i) => ({ d, i })).filter(({ d }) => isObj(d) && d.version === 'v1alpha1' && d.kind === undefined);
  if (v1.length !== 1) {
    report('v1alpha1', [], `expected exactly one v1alpha1 document (version: v1alpha1, no kind), found ${v1.length}`);
    return out;
  }
  docs.forEach((d, i) => {
    if (i !== v1[0]!.i && !(isObj(d) && typeof d.kind === 'string' && typeof d.apiVersion === 'string'))
      report('document', [i], 'a multi-document config holds only the v1alpha1 document and documents with apiVersion and kind');
  });
  const { d, i } = v1[0]! as { d: Obj; i: number };
  const at = (...p: (string | number)[]): DocPath => [i, ...p];
  const type = get(d, ['machine', 'type']);
  if (type !== 'controlplane' && type !== 'worker') {
    report('machine-type', at('machine', 'type'), `'${String(type)}' is not a machine type this project renders`, 'controlplane or worker (init is deprecated)');
    return out;
  }
  const cp = type === 'controlplane';
  if (d.persist === false) report('persist', at('persist'), 'persist: false is rejected by Talos (the config must be persisted)', 'remove persist or set it true');
  if (!isObj(d.cluster)) report('cluster', at('cluster'), 'cluster instructions are required');
  if (typeof get(d, ['cluster', 'controlPlane', 'endpoint']) !== 'string') report('endpoint', at('cluster', 'controlPlane', 'endpoint'), 'the control-plane endpoint is required');

  // Secrets: every bundle-backed field holds its reference (or the empty key of a worker).
  for (const f of CONFIG_SECRET_FIELDS) {
    const v = get(d, f.path);
    if (f.roles.includes(type)) {
      if (refTarget(v) !== f.bundle) report('secret-reference', at(...f.path), `must be \${talos-secrets:${f.bundle}}, got ${v === undefined ? 'nothing' : 'a literal value'}`, 'secrets come from the SSM bundle at `npm run talos -- config`, never from git');
    } else if (v !== undefined && v !== '') {
      report('worker-secret', at(...f.path), `${f.path.join('.')} is not allowed on a worker`, 'workers carry only the public CA certificates and the join tokens');
    }
  }
  if (!cp) {
    for (const p of CONTROL_PLANE_ONLY) {
      const v = get(d, p);
      if (v !== undefined && !(p.at(-1) === 'kubernetesTalosAPIAccess' && isObj(v) && v.enabled !== true))
        report('control-plane-only', at(...p), `${p.join('.')} is only for control-plane machines`, p[1] === 'etcd' ? 'etcd config is only allowed on control plane machines' : p[2] === 'kubernetesTalosAPIAccess' ? 'feature Kubernetes Talos API Access can only be enabled on control plane machines' : undefined);
    }
  }

  const apiArgs = get(d, ['cluster', 'apiServer', 'extraArgs']);
  if (isObj(apiArgs))
    for (const k of Object.keys(apiArgs))
      if (APISERVER_DENIED_ARGS.includes(k)) report('apiserver-denied-arg', at('cluster', 'apiServer', 'extraArgs', k), `kube-apiserver flag '${k}' is managed by Talos (extra arg "${k}" is not allowed)`);
  const kubeletArgs = get(d, ['machine', 'kubelet', 'extraArgs']);
  if (isObj(kubeletArgs))
    for (const k of Object.keys(kubeletArgs))
      if (KUBELET_DENIED_ARGS.includes(k)) report('kubelet-denied-arg', at('machine', 'kubelet', 'extraArgs', k), `kubelet flag '${k}' is managed by Talos`);
  const extraConfig = get(d, ['machine', 'kubelet', 'extraConfig']);
  if (isObj(extraConfig))
    for (const k of Object.keys(extraConfig))
      if (KUBELET_PROTECTED_CONFIG.includes(k)) report('kubelet-protected-config', at('machine', 'kubelet', 'extraConfig', k), `kubelet configuration field '${k}' is protected by Talos`);

  const hostDNS = get(d, ['machine', 'features', 'hostDNS']);
  if (isObj(hostDNS) && hostDNS.forwardKubeDNSToHost === true && hostDNS.enabled !== true)
    report('host-dns', at('machine', 'features', 'hostDNS', 'forwardKubeDNSToHost'), 'forwardKubeDNSToHost requires hostDNS.enabled');
  const ecp = get(d, ['cluster', 'externalCloudProvider']);
  if (isObj(ecp) && ecp.enabled !== true && Array.isArray(ecp.manifests) && ecp.manifests.length > 0)
    report('external-cloud-provider', at('cluster', 'externalCloudProvider', 'manifests'), 'external cloud provider is disabled, but manifests are provided');
  // ValidateCNI (T@v1.13.9:pkg/machinery/config/types/v1alpha1/v1alpha1_validation.go; v1.12.11 lacks the policies check).
  const cni = get(d, ['cluster', 'network', 'cni']);
  if (isObj(cni) && typeof cni.name === 'string') {
    const urls = Array.isArray(cni.urls) ? cni.urls.length : 0;
    if (cni.name !== 'custom' && urls > 0) report('cni', at('cluster', 'network', 'cni', 'urls'), `"urls" field should be empty for "${cni.name}" CNI`);
    if (cni.name !== 'flannel') {
      const extra = get(cni, ['flannel', 'extraArgs']);
      if (Array.isArray(extra) && extra.length > 0) report('cni', at('cluster', 'network', 'cni', 'flannel', 'extraArgs'), `"flanneldExtraArgs" field should be empty for "${cni.name}" CNI`);
      if (get(cni, ['flannel', 'kubeNetworkPoliciesEnabled']) === true)
        report('cni', at('cluster', 'network', 'cni', 'flannel', 'kubeNetworkPoliciesEnabled'), `"flannelKubeNetworkPoliciesEnabled" should not be enabled for "${cni.name}" CNI`, 'kube-network-policies runs inside the flannel DaemonSet; another CNI enforces policies itself');
    }
  }
  const install = get(d, ['machine', 'install']);
  if (isObj(install) && install.grubUseUKICmdline === true && Array.isArray(install.extraKernelArgs) && install.extraKernelArgs.length > 0)
    report('install-kernel-args', at('machine', 'install', 'extraKernelArgs'), "install.extraKernelArgs and install.grubUseUKICmdline can't be used together", 'put kernel arguments in the Image Factory schematic');

  const access = get(d, ['machine', 'features', 'kubernetesTalosAPIAccess']);
  const minor = minorOfConfig(d);
  if (isObj(access) && Array.isArray(access.allowedRoles) && minor)
    access.allowedRoles.forEach((r, ri) => {
      if (!TALOS_RELEASES[minor].roles.includes(String(r))) report('talos-role', at('machine', 'features', 'kubernetesTalosAPIAccess', 'allowedRoles', ri), `'${String(r)}' is not a Talos ${minor} role`, `known: ${TALOS_RELEASES[minor].roles.join(', ')}`);
    });

  const versions = new Map<string, DocPath>();
  for (const p of K8S_IMAGES) {
    const image = get(d, p);
    if (image === undefined) continue;
    const m = typeof image === 'string' ? /:v(\d+\.\d+\.\d+)$/.exec(image) : null;
    if (!m) report('kubernetes-image-tag', at(...p), `'${String(image)}' has no :vX.Y.Z tag (Talos parses the Kubernetes version from it)`);
    else if (!versions.has(m[1]!)) versions.set(m[1]!, at(...p));
  }
  if (versions.size > 1) report('kubernetes-image-skew', [...versions.values()][1]!, `Kubernetes images disagree on the version: ${[...versions.keys()].join(', ')}`, 'talosctl upgrade-k8s moves all five images together');
  return out;
}

/** Parse one rendered file and check it; YAML errors become findings too. */
export function checkTalosFile(file: string, text: string): Diagnostic[] {
  let docs: unknown[];
  try {
    docs = parseYamlStream(text);
  } catch (e) {
    return [{ severity: 'error', rule: 'talos.yaml', file, path: [], message: `not valid YAML: ${(e as Error).message}` }];
  }
  return checkTalosDocuments(file, docs);
}

/** Rendered paths that are Talos machine configs: rendered/<env>/talos/<target>.yaml (not schematics/). */
export const isTalosConfigPath = (rel: string): boolean => /(^|\/)talos\/[^/]+\.yaml$/.test(rel);

/**
 * Entry point for `npm run validate` over rendered/: every Talos machine config among `files`
 * (paths relative to the repository or to rendered/), checked; other files are ignored.
 */
export function checkRenderedTalos(files: readonly { path: string; content: string }[]): Diagnostic[] {
  return files.filter((f) => isTalosConfigPath(f.path)).flatMap((f) => checkTalosFile(f.path, f.content));
}

/** The Talos rules over every rendered machine config of the tree (`npm run validate`). */
export const talosChecker: FileChecker = {
  name: 'talos-rules',
  pattern: /^talos\/[^/]+\.yaml$/,
  check(f) {
    return checkTalosDocuments(f.file, f.docs.map((d) => d.value)).map((d): Diagnostic => {
      const [index, ...path] = d.path;
      const doc = typeof index === 'number' ? f.docs[index] : undefined;
      return doc ? finding(f, doc, d.rule, path, d.message, { hint: d.hint, severity: d.severity }) : { ...d, file: f.file, line: 1, col: 1 };
    });
  },
};

/**
 * Talos' own custom resource (no model package exists): `talos.dev/v1alpha1 ServiceAccount`, which
 * Talos turns into a Secret with a Talos client config for the roles given (spec.roles, the
 * os:* roles of Talos' RBAC; see internal/app/machined/pkg/controllers/kubeaccess in siderolabs/talos).
 */
const TALOS_ROLES = [...new Set(Object.values(TALOS_RELEASES).flatMap((r) => r.roles))];
export function talosServiceAccountErrors(o: Record<string, unknown>): SchemaError[] {
  const errors: SchemaError[] = [];
  for (const k of Object.keys(o)) if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) errors.push({ path: [k], key: true, message: `unknown field '${k}'` });
  const spec = o.spec;
  if (!isMapValue(spec)) return [...errors, { path: ['spec'], key: false, message: 'spec with roles is required' }];
  for (const k of Object.keys(spec)) if (k !== 'roles') errors.push({ path: ['spec', k], key: true, message: `unknown field '${k}' (a Talos ServiceAccount has spec.roles only)` });
  const roles = spec.roles;
  if (!Array.isArray(roles) || roles.length === 0) errors.push({ path: ['spec', 'roles'], key: false, message: 'spec.roles must list at least one role' });
  else roles.forEach((r, i) => {
    if (typeof r !== 'string' || !TALOS_ROLES.includes(r)) errors.push({ path: ['spec', 'roles', i], key: false, message: `'${String(r)}' is not a Talos role (${TALOS_ROLES.join(', ')})` });
  });
  return errors;
}

const CONTROL_PLANE_TAINT: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };

/** A machine config as the GPU device-plugin check reads it: a GPU node loads the nvidia kernel modules. */
export function talosNodeConfig(file: ParsedFile): NodeConfig | undefined {
  const doc = file.docs.find((d) => isMapValue(d.value) && isMapValue(d.value.machine));
  if (!doc) return undefined;
  const v = doc.value as { machine: Record<string, unknown>; cluster?: Record<string, unknown> };
  const m = v.machine;
  const modules = isMapValue(m.kernel) && Array.isArray(m.kernel.modules) ? m.kernel.modules : [];
  const gpu = modules.some((x) => isMapValue(x) && typeof x.name === 'string' && x.name.startsWith('nvidia'));
  const taints: NodeConfig['taints'] = [];
  const args = isMapValue(m.kubelet) && isMapValue(m.kubelet.extraArgs) ? m.kubelet.extraArgs : {};
  const registered = args['register-with-taints'];
  if (typeof registered === 'string')
    for (const t of registered.split(',')) {
      const taint = parseTaint(t);
      if (taint) taints.push({ ...taint, path: ['machine', 'kubelet', 'extraArgs', 'register-with-taints'] });
    }
  for (const [key, value] of Object.entries(strings(m.nodeTaints))) {
    const taint = parseTaint(`${key}${value.includes(':') ? `=${value}` : `:${value}`}`);
    if (taint) taints.push({ ...taint, path: ['machine', 'nodeTaints', key] });
  }
  // Talos taints control planes unless cluster.allowSchedulingOnControlPlanes.
  if (m.type === 'controlplane' && v.cluster?.allowSchedulingOnControlPlanes !== true) taints.push({ ...CONTROL_PLANE_TAINT, path: ['machine', 'type'] });
  return { file, doc, gpu, labels: strings(m.nodeLabels), labelsPath: isMapValue(m.nodeLabels) ? ['machine', 'nodeLabels'] : ['machine'], taints };
}
