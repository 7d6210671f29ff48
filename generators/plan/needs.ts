/**
 * What a Kubernetes object provides to and needs from the cluster, as named capabilities: the
 * vocabulary of the delivery graph (./graph.ts) and of the first-sync simulator (validate/motion/),
 * which reads the same facts off the RENDERED objects. Pure: an object in, names out.
 *
 * A capability is one human-readable string, used both as key and in messages:
 *   CRD <group>/<Kind>            custom resources of that kind can be created
 *   webhook <group>/<Kind>        an admission webhook with failurePolicy Fail intercepts creating that kind
 *   Secret <ns>/<name>, ConfigMap <ns>/<name>, ServiceAccount <ns>/<name>, Namespace <name>
 *   RuntimeClass <name>, StorageClass <name>, IngressClass <name>, ClusterSecretStore <name>
 *   resource <name>               an extended resource nodes advertise (a device plugin's)
 *   provisioner <name>            a volume provisioner serves claims of a StorageClass naming it (a CSI
 *                                 driver's controller is running): a StorageClass is usable only then
 *   kubelet serving certificates  kubelets serve TLS with certificates signed by the cluster CA (what
 *                                 metrics-server verifies); given at boot or by an approver of their CSRs
 *   pod network, node initialization   what a CNI and a cloud controller give every node
 */
import type { Toleration } from '../lib/scheduling.js';

/** One need: the capability, why (for the chain in messages), and how it is satisfied. */
export interface Need {
  what: string;
  /** Where the need comes from, e.g. "values grafana.admin.existingSecret" or "Deployment api: env secretKeyRef". */
  why: string;
  /**
   * `webhook`: only ordered when some unit provides it, and then before-or-after: the consumer is
   * applied before the webhook exists (its provider depends on it) or after the webhook serves.
   */
  mode?: 'webhook';
  /**
   * The consumer's controller keeps retrying until the capability is there, and nothing of the consumer
   * is refused meanwhile (an ExternalSecret whose store is missing or not Ready: ESO marks it failed and
   * requeues it, external-secrets v2.9.0 pkg/controllers/externalsecret/externalsecret_controller.go:417-420;
   * shouldSkipUnmanagedStore skips a store that does not exist yet, :1144-1151). Still ordered (an edge),
   * but an engine that orders by layers (unitLayers) may apply the provider in its consumer's own layer
   * when nothing waits for that consumer.
   */
  retried?: true;
}

/** Where pods may run: a need of schedulable nodes. */
export interface PodPlacement {
  /** Who runs there, e.g. "Deployment api". */
  who: string;
  tolerations: Toleration[];
  nodeSelector?: Record<string, string>;
  /** Required node affinity terms (matchExpressions), if any. */
  terms?: { matchExpressions?: { key: string; operator: string; values?: string[] }[] }[];
}

export interface Facts {
  provides: string[];
  needs: Need[];
  pods: PodPlacement[];
}

/**
 * Annotation on a controller's Deployment listing the CRDs (`group/Kind`, comma-separated) the
 * controller creates itself when it starts: what the delivery graph and the first-sync simulator
 * count as provided once that Deployment is Ready.
 */
export const REGISTERS_CRDS = 'odp.opendev.dev/registers-crds';

export const cap = {
  crd: (group: string, kind: string) => `CRD ${group}/${kind}`,
  webhook: (group: string, kind: string) => `webhook ${group}/${kind}`,
  secret: (ns: string, name: string) => `Secret ${ns}/${name}`,
  configMap: (ns: string, name: string) => `ConfigMap ${ns}/${name}`,
  serviceAccount: (ns: string, name: string) => `ServiceAccount ${ns}/${name}`,
  namespace: (name: string) => `Namespace ${name}`,
  runtimeClass: (name: string) => `RuntimeClass ${name}`,
  storageClass: (name: string) => `StorageClass ${name}`,
  ingressClass: (name: string) => `IngressClass ${name}`,
  clusterSecretStore: (name: string) => `ClusterSecretStore ${name}`,
  resource: (name: string) => `resource ${name}`,
  provisioner: (name: string) => `provisioner ${name}`,
  kubeletServingCertificates: 'kubelet serving certificates',
  podNetwork: 'pod network',
  nodeInitialization: 'node initialization',
};

/** API groups served by the API server itself (every other group is a custom resource's). */
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'node.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'certificates.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io',
  // kustomize's own kustomization.yaml kind: never applied.
  'kustomize.config.k8s.io',
]);

/** Cluster-scoped kinds among the built-in ones (a namespaced object needs its namespace). */
const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'PersistentVolume', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass', 'CSIDriver', 'RuntimeClass', 'PriorityClass', 'IngressClass', 'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ClusterSecretStore', 'ClusterExternalSecret', 'ClusterIssuer', 'VolumeAttachment']);

export const groupOfApiVersion = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '');
export const isBuiltinGroup = (group: string): boolean => BUILTIN_GROUPS.has(group);
export const isClusterScoped = (kind: string): boolean => CLUSTER_SCOPED.has(kind);

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Namespaces that exist on every cluster before anything is applied. */
export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** The pod template of a workload kind, or undefined. */
export function podSpecOf(o: Obj): Obj | undefined {
  const spec = isMap(o.spec) ? o.spec : undefined;
  if (!spec) return undefined;
  if (o.kind === 'Pod') return spec;
  if (o.kind === 'CronJob') {
    const jt = isMap(spec.jobTemplate) && isMap(spec.jobTemplate.spec) ? spec.jobTemplate.spec : undefined;
    return jt && isMap(jt.template) && isMap(jt.template.spec) ? jt.template.spec : undefined;
  }
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(String(o.kind))) return isMap(spec.template) && isMap(spec.template.spec) ? spec.template.spec : undefined;
  return undefined;
}

/** What a pod spec needs: Secrets and ConfigMaps it reads (not optional), its ServiceAccount, RuntimeClass, extended resources. */
export function podNeeds(ns: string, pod: Obj, who: string): { needs: Need[]; placement: PodPlacement } {
  const needs: Need[] = [];
  const containers = [...list(pod.initContainers), ...list(pod.containers)].filter(isMap);
  for (const c of containers) {
    for (const e of list(c.env).filter(isMap)) {
      const vf = isMap(e.valueFrom) ? e.valueFrom : undefined;
      const s = vf && isMap(vf.secretKeyRef) ? vf.secretKeyRef : undefined;
      if (s && str(s.name) && s.optional !== true) needs.push({ what: cap.secret(ns, str(s.name)!), why: `${who}: env ${String(e.name)} secretKeyRef` });
      const m = vf && isMap(vf.configMapKeyRef) ? vf.configMapKeyRef : undefined;
      if (m && str(m.name) && m.optional !== true) needs.push({ what: cap.configMap(ns, str(m.name)!), why: `${who}: env ${String(e.name)} configMapKeyRef` });
    }
    for (const e of list(c.envFrom).filter(isMap)) {
      if (isMap(e.secretRef) && str(e.secretRef.name) && e.secretRef.optional !== true) needs.push({ what: cap.secret(ns, str(e.secretRef.name)!), why: `${who}: envFrom secretRef` });
      if (isMap(e.configMapRef) && str(e.configMapRef.name) && e.configMapRef.optional !== true) needs.push({ what: cap.configMap(ns, str(e.configMapRef.name)!), why: `${who}: envFrom configMapRef` });
    }
    const res = isMap(c.resources) ? c.resources : {};
    for (const k of Object.keys({ ...(isMap(res.limits) ? res.limits : {}), ...(isMap(res.requests) ? res.requests : {}) }))
      if (k.includes('/') && !k.startsWith('kubernetes.io/')) needs.push({ what: cap.resource(k), why: `${who}: resources ${k}` });
  }
  for (const v of list(pod.volumes).filter(isMap)) {
    if (isMap(v.secret) && str(v.secret.secretName) && v.secret.optional !== true) needs.push({ what: cap.secret(ns, str(v.secret.secretName)!), why: `${who}: volume ${String(v.name)}` });
    if (isMap(v.configMap) && str(v.configMap.name) && v.configMap.optional !== true) needs.push({ what: cap.configMap(ns, str(v.configMap.name)!), why: `${who}: volume ${String(v.name)}` });
  }
  for (const s of list(pod.imagePullSecrets).filter(isMap)) if (str(s.name)) needs.push({ what: cap.secret(ns, str(s.name)!), why: `${who}: imagePullSecrets` });
  const sa = str(pod.serviceAccountName);
  if (sa && sa !== 'default') needs.push({ what: cap.serviceAccount(ns, sa), why: `${who}: serviceAccountName` });
  const rc = str(pod.runtimeClassName);
  if (rc) needs.push({ what: cap.runtimeClass(rc), why: `${who}: runtimeClassName` });
  const affinity = isMap(pod.affinity) && isMap(pod.affinity.nodeAffinity) ? pod.affinity.nodeAffinity : undefined;
  const required = affinity && isMap(affinity.requiredDuringSchedulingIgnoredDuringExecution) ? affinity.requiredDuringSchedulingIgnoredDuringExecution : undefined;
  const placement: PodPlacement = {
    who,
    tolerations: list(pod.tolerations).filter(isMap) as PodPlacement['tolerations'],
    ...(isMap(pod.nodeSelector) ? { nodeSelector: pod.nodeSelector as Record<string, string> } : {}),
    ...(required ? { terms: list(required.nodeSelectorTerms).filter(isMap) as PodPlacement['terms'] } : {}),
  };
  return { needs, placement };
}

/**
 * What one object provides and needs, read off the object itself (a rendered manifest). `ns` is the
 * namespace a namespaced object without one lands in (its unit's).
 */
export function objectFacts(o: Obj, defaultNamespace: string): Facts {
  const apiVersion = str(o.apiVersion) ?? '';
  const kind = str(o.kind) ?? '';
  const meta = isMap(o.metadata) ? o.metadata : {};
  const name = str(meta.name) ?? '';
  const group = groupOfApiVersion(apiVersion);
  const clusterScoped = isClusterScoped(kind);
  const ns = clusterScoped ? '' : (str(meta.namespace) ?? defaultNamespace);
  const spec = isMap(o.spec) ? o.spec : {};
  const provides: string[] = [];
  const needs: Need[] = [];
  const pods: PodPlacement[] = [];
  const who = `${kind} ${ns ? `${ns}/` : ''}${name}`;
  if (!isBuiltinGroup(group)) {
    needs.push({ what: cap.crd(group, kind), why: `${who}: kind ${kind}` });
    needs.push({ what: cap.webhook(group, kind), why: `${who}: created through its admission webhook`, mode: 'webhook' });
  }
  if (!clusterScoped && ns && !BUILTIN_NAMESPACES.includes(ns)) needs.push({ what: cap.namespace(ns), why: `${who}: metadata.namespace` });
  switch (isBuiltinGroup(group) || group === 'external-secrets.io' ? kind : '') {
    case 'CustomResourceDefinition': {
      const names = isMap(spec.names) ? spec.names : {};
      if (str(spec.group) && str(names.kind)) provides.push(cap.crd(str(spec.group)!, str(names.kind)!));
      break;
    }
    case 'Namespace':
      provides.push(cap.namespace(name));
      break;
    case 'Secret':
      provides.push(cap.secret(ns, name));
      break;
    case 'ConfigMap':
      provides.push(cap.configMap(ns, name));
      break;
    case 'ServiceAccount':
      provides.push(cap.serviceAccount(ns, name));
      break;
    case 'RuntimeClass':
      provides.push(cap.runtimeClass(name));
      break;
    case 'StorageClass':
      // A claim of the class binds only once its provisioner runs (WaitForFirstConsumer or not): the
      // class is provided, to what mounts its claims, once that provisioner is (plan/graph.ts orders it
      // after the provisioner's unit). A StorageClass has no status: it is healthy once applied
      // (validate/motion/context.ts objectItem).
      provides.push(cap.storageClass(name));
      if (str(o.provisioner)) needs.push({ what: cap.provisioner(str(o.provisioner)!), why: `${who}: provisioner` });
      break;
    case 'IngressClass':
      provides.push(cap.ingressClass(name));
      break;
    case 'Service':
      needs.push({ what: cap.webhook('', 'Service'), why: `${who}: created through the Service admission webhook`, mode: 'webhook' });
      break;
    case 'Ingress': {
      needs.push({ what: cap.webhook('networking.k8s.io', 'Ingress'), why: `${who}: created through the Ingress admission webhook`, mode: 'webhook' });
      if (str(spec.ingressClassName)) needs.push({ what: cap.ingressClass(str(spec.ingressClassName)!), why: `${who}: ingressClassName` });
      break;
    }
    case 'PersistentVolumeClaim':
      if (str(spec.storageClassName)) needs.push({ what: cap.storageClass(str(spec.storageClassName)!), why: `${who}: storageClassName` });
      break;
    case 'ExternalSecret': {
      const target = isMap(spec.target) ? spec.target : {};
      // creationPolicy Merge and None create no Secret (ESO: Merge only updates an existing one).
      const policy = str(target.creationPolicy) ?? 'Owner';
      if (policy === 'Owner' || policy === 'Orphan') provides.push(cap.secret(ns, str(target.name) ?? name));
      const ref = isMap(spec.secretStoreRef) ? spec.secretStoreRef : {};
      if (str(ref.name)) needs.push({ what: ref.kind === 'SecretStore' ? `SecretStore ${ns}/${String(ref.name)}` : cap.clusterSecretStore(String(ref.name)), why: `${who}: secretStoreRef`, retried: true });
      break;
    }
    case 'ClusterSecretStore': {
      provides.push(cap.clusterSecretStore(name));
      const aws = isMap(spec.provider) && isMap(spec.provider.aws) ? spec.provider.aws : {};
      const sa = isMap(aws.auth) && isMap(aws.auth.jwt) && isMap(aws.auth.jwt.serviceAccountRef) ? aws.auth.jwt.serviceAccountRef : undefined;
      if (sa && str(sa.name) && str(sa.namespace)) needs.push({ what: cap.serviceAccount(str(sa.namespace)!, str(sa.name)!), why: `${who}: auth.jwt.serviceAccountRef` });
      break;
    }
    case 'StatefulSet':
      for (const t of list(spec.volumeClaimTemplates).filter(isMap)) {
        const sc = isMap(t.spec) ? str(t.spec.storageClassName) : undefined;
        if (sc) needs.push({ what: cap.storageClass(sc), why: `${who}: volumeClaimTemplates storageClassName` });
      }
      break;
  }
  // A controller that registers its own CRDs at start-up says so on its workload (REGISTERS_CRDS):
  // the kinds exist once the workload is Ready, and nothing renders those CRDs.
  const registers = isMap(meta.annotations) ? str(meta.annotations[REGISTERS_CRDS]) : undefined;
  for (const k of (registers ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const at = k.lastIndexOf('/');
    if (at > 0) provides.push(cap.crd(k.slice(0, at), k.slice(at + 1)));
  }
  const pod = podSpecOf(o);
  if (pod) {
    const p = podNeeds(ns, pod, who);
    needs.push(...p.needs);
    pods.push(p.placement);
  }
  return { provides, needs, pods };
}
