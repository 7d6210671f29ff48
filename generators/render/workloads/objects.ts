/**
 * The Kubernetes objects of one workload, built with cdk8s-plus-28 (controllers, Services,
 * ConfigMaps, ServiceAccounts) and cdk8s ApiObjects (everything cdk8s-plus has no construct for or
 * renders with opinions we do not want). Hardened by default: PSS restricted pod templates,
 * read-only root filesystem, all capabilities dropped, seccomp RuntimeDefault, no service-account
 * token, a NetworkPolicy that allows only what the workload declares.
 *
 * cdk8s-plus pitfalls handled here (see LIBRARIES.md): names are explicit (no hash suffix);
 * controllers select on our own stable label (`select: false`) and the construct-address label
 * cdk8s-plus adds to pod templates is removed, since a Deployment's selector is immutable and the
 * label changes whenever a construct moves; resources, probes, volumes and scheduling are written
 * out exactly instead of taking cdk8s-plus defaults.
 */
import type * as Cdk8s from 'cdk8s';
import type * as Kplus from 'cdk8s-plus-28';
import { lazyValue, vendoredModules } from '../../lib/lazy.js';
import { cronFields } from '../../lib/cron.js';
import { canonicalJson, sha256 } from '../../lib/hash.js';
import type { InputPath } from '../../lib/paths.js';
import { albSubnets, egressIpBlock } from '../../model/aws.js';
import { GPU_TOLERATION, nodeSelectorOf as placementSelector, peakReplicas, poolViewsOfModel, sharedGpuBudget } from '../../model/placement.js';
import type { EnvironmentModel, Probe, Workload } from '../../model/types.js';
import { namespaceStoreName } from '../../catalog/secret-stores.js';
import {
  ALLOW_DNS_POLICY,
  DEFAULT_DENY_POLICY,
  GPU_RESOURCE,
  GPU_RUNTIME_CLASS,
  IRSA_AUDIENCE,
  IRSA_TOKEN_DIR,
  IRSA_TOKEN_EXPIRATION_SECONDS,
  MANAGED_BY_LABEL,
  MONITORING_NAMESPACE,
  NAME_LABEL,
  PART_OF_LABEL,
  PROMETHEUS_RELEASE,
  CONFIG_VOLUME,
  IRSA_TOKEN_VOLUME,
  STORAGE_CLASS,
  TMP_DIR,
  TMP_SIZE_LIMIT,
  TMP_VOLUME,
} from '../../plan/workload-constants.js';
import { keepOnUnitDeletion } from '../../plan/annotations.js';
import {
  configKey,
  configMapName,
  disruptionBudgetOf,
  envSecretName,
  hasSecretEnv,
  headlessServiceName,
  portByName,
  servesTraffic,
  workloadPath,
} from './plan.js';


/**
 * Loaded when the first workload renders (see lib/lazy.ts), from the build's vendored bundle when
 * running the built commands (VENDOR_BUNDLES in generators/build/build.mjs names the same packages).
 */
const libs = vendoredModules<{ cdk8s: typeof Cdk8s; kplus: typeof Kplus }>('cdk8s', { cdk8s: 'cdk8s', kplus: 'cdk8s-plus-28' });
const cdk8s = lazyValue(() => libs().cdk8s);
const kplus = lazyValue(() => libs().kplus);
export type KubeObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } };

/** One rendered object and the document paths it derives from. */
export interface WorkloadObject {
  object: KubeObject;
  inputs: InputPath[];
}

type Json = Record<string, unknown>;

const GENERATOR_LABELS = { [MANAGED_BY_LABEL]: 'odp-gitops', [PART_OF_LABEL]: 'opendev-platform' };
const selectorLabels = (w: Workload): Record<string, string> => ({ [NAME_LABEL]: w.name });
const objectLabels = (w: Workload): Record<string, string> => ({ ...selectorLabels(w), ...GENERATOR_LABELS });
const nsSelector = (ns: string): Json => ({ matchLabels: { 'kubernetes.io/metadata.name': ns } });

/**
 * Objects collected from a chart, each with its inputs and JSON patches. The patches are applied to
 * the synthesized JSON, not through ApiObject.addJsonPatch: cdk8s-plus' generated `toJson` converts
 * typed fields after patching and drops plain values in IntOrString and Quantity fields (ports,
 * resource quantities).
 */
class Collector {
  readonly chart: Cdk8s.Chart;
  private readonly items: { api: Cdk8s.ApiObject; inputs: InputPath[]; patches: Cdk8s.JsonPatch[] }[] = [];
  constructor(namespace: string) {
    // A bare App: nothing here calls app.synth(), so it never writes. (cdk8s.Testing.app() made a
    // temporary directory, never removed, for every workload of every render.)
    this.chart = new cdk8s.Chart(new cdk8s.App(), 'workload', { namespace, disableResourceNameHashes: true });
  }
  add(construct: Cdk8s.ApiObject | Kplus.Resource, inputs: InputPath[], patches: Cdk8s.JsonPatch[] = []): void {
    const api = construct instanceof cdk8s.ApiObject ? construct : cdk8s.ApiObject.of(construct);
    this.items.push({ api, inputs, patches });
  }
  raw(id: string, object: KubeObject, inputs: InputPath[], patches: Cdk8s.JsonPatch[] = []): void {
    const { apiVersion, kind, metadata, ...rest } = object;
    this.add(new cdk8s.ApiObject(this.chart, id, { apiVersion, kind, metadata, ...rest }), inputs, patches);
  }
  objects(): WorkloadObject[] {
    return this.items.map(({ api, inputs, patches }) => ({ object: cdk8s.JsonPatch.apply(api.toJson(), ...patches) as KubeObject, inputs }));
  }
}

function probeOf(w: Workload, p: Probe | undefined): Json | undefined {
  if (!p) return undefined;
  const port = p.port ?? w.ports[0]?.port;
  const action = p.httpGet !== undefined ? { httpGet: { path: p.httpGet, port } } : { tcpSocket: { port } };
  return { ...action, initialDelaySeconds: p.initialDelaySeconds, periodSeconds: p.periodSeconds, failureThreshold: p.failureThreshold };
}

function resourcesOf(w: Workload): Json {
  const gpu = w.placement.gpu ? { [GPU_RESOURCE]: String(w.placement.gpu) } : {};
  return {
    requests: { cpu: w.resources.requests.cpu, memory: w.resources.requests.memory },
    limits: { cpu: w.resources.limits.cpu, memory: w.resources.limits.memory, ...gpu },
  };
}

function nodeSelectorOf(model: EnvironmentModel, w: Workload): Record<string, string> | undefined {
  const sel = placementSelector(poolViewsOfModel(model), w.placement);
  return Object.keys(sel).length > 0 ? sel : undefined;
}

/**
 * A GPU Deployment rolls without surge (maxSurge 0, maxUnavailable 1: one pod at a time is replaced
 * in place) unless the GPU pools it may land on have room for the default 25 % surge: a surge pod
 * that needs a GPU no node has stays Pending and the rollout stalls. Sized for the HPA's maximum,
 * and for every GPU workload sharing those pools (their replicas, and their surges at once).
 */
export function gpuRollout(model: EnvironmentModel, w: Workload): { maxSurge: number; maxUnavailable: number } | undefined {
  if (!w.placement.gpu || w.kind !== 'deployment') return undefined;
  const demands = model.workloads.map((x) => ({ name: x.name, placement: x.placement, replicas: peakReplicas(x.replicas, x.autoscaling), surges: x.kind === 'deployment' }));
  const b = sharedGpuBudget(poolViewsOfModel(model), demands, model.workloads.indexOf(w));
  return b.available - b.needed >= b.surge ? undefined : { maxSurge: 0, maxUnavailable: 1 };
}

/** Volumes and mounts: /tmp scratch, config files, IRSA token, persistent volumes (StatefulSet). */
function storageOf(w: Workload): { volumes: Json[]; mounts: Json[]; claims: Json[] } {
  const volumes: Json[] = [{ name: TMP_VOLUME, emptyDir: { sizeLimit: TMP_SIZE_LIMIT } }];
  const mounts: Json[] = [{ name: TMP_VOLUME, mountPath: TMP_DIR }];
  const files = Object.keys(w.configFiles).sort();
  if (files.length > 0) {
    volumes.push({ name: CONFIG_VOLUME, configMap: { name: configMapName(w) } });
    for (const f of files) mounts.push({ name: CONFIG_VOLUME, mountPath: f, subPath: configKey(f), readOnly: true });
  }
  if (w.serviceAccount.iamRoleArn) {
    volumes.push({
      name: IRSA_TOKEN_VOLUME,
      projected: { sources: [{ serviceAccountToken: { audience: IRSA_AUDIENCE, expirationSeconds: IRSA_TOKEN_EXPIRATION_SECONDS, path: 'token' } }] },
    });
    mounts.push({ name: IRSA_TOKEN_VOLUME, mountPath: IRSA_TOKEN_DIR, readOnly: true });
  }
  const claims = w.volumes.map((v) => ({
    metadata: { name: v.name },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: STORAGE_CLASS, resources: { requests: { storage: v.size } } },
  }));
  for (const v of w.volumes) mounts.push({ name: v.name, mountPath: v.mountPath });
  return { volumes, mounts, claims };
}

function envOf(model: EnvironmentModel, w: Workload, c: Collector): Record<string, Kplus.EnvValue> {
  const env: Record<string, Kplus.EnvValue> = {};
  const secret = hasSecretEnv(w) ? kplus.Secret.fromSecretName(c.chart, 'env-secret', envSecretName(w)) : undefined;
  for (const [k, v] of Object.entries(w.env).sort(([a], [b]) => a.localeCompare(b))) {
    env[k] = typeof v === 'string' ? kplus.EnvValue.fromValue(v) : kplus.EnvValue.fromSecretValue({ secret: secret!, key: k });
  }
  if (w.serviceAccount.iamRoleArn) {
    env.AWS_ROLE_ARN = kplus.EnvValue.fromValue(w.serviceAccount.iamRoleArn);
    env.AWS_WEB_IDENTITY_TOKEN_FILE = kplus.EnvValue.fromValue(`${IRSA_TOKEN_DIR}/token`);
    env.AWS_REGION = kplus.EnvValue.fromValue(model.aws.region);
    env.AWS_DEFAULT_REGION = kplus.EnvValue.fromValue(model.aws.region);
    env.AWS_STS_REGIONAL_ENDPOINTS = kplus.EnvValue.fromValue('regional');
  }
  return env;
}

function containerOf(model: EnvironmentModel, w: Workload, c: Collector): Kplus.ContainerProps {
  const user = w.runAsUser;
  return {
    name: w.name,
    image: w.image,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
    command: w.command,
    args: w.args,
    ports: w.ports.map((p) => ({ number: p.port, name: p.name, protocol: p.protocol === 'UDP' ? kplus.Protocol.UDP : kplus.Protocol.TCP })),
    envVariables: envOf(model, w, c),
    resources: {},
    securityContext: {
      ensureNonRoot: true,
      user,
      group: user,
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: [kplus.Capability.ALL] },
      seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
    },
  };
}

/** Pod-spec fields cdk8s-plus does not render (or renders with defaults we replace). */
function podPatches(model: EnvironmentModel, w: Workload, templatePath: string): Cdk8s.JsonPatch[] {
  const spec = `${templatePath}/spec`;
  const storage = storageOf(w);
  const patches: Cdk8s.JsonPatch[] = [
    cdk8s.JsonPatch.remove(`${templatePath}/metadata/labels/cdk8s.io~1metadata.addr`),
    cdk8s.JsonPatch.add(`${spec}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }),
    cdk8s.JsonPatch.add(`${spec}/containers/0/resources`, resourcesOf(w)),
    cdk8s.JsonPatch.add(`${spec}/volumes`, storage.volumes),
    cdk8s.JsonPatch.add(`${spec}/containers/0/volumeMounts`, storage.mounts),
    cdk8s.JsonPatch.add(`${spec}/enableServiceLinks`, false),
  ];
  const liveness = probeOf(w, w.liveness);
  const readiness = probeOf(w, w.readiness);
  if (liveness) patches.push(cdk8s.JsonPatch.add(`${spec}/containers/0/livenessProbe`, liveness));
  if (readiness) patches.push(cdk8s.JsonPatch.add(`${spec}/containers/0/readinessProbe`, readiness));
  const nodeSelector = nodeSelectorOf(model, w);
  if (nodeSelector) patches.push(cdk8s.JsonPatch.add(`${spec}/nodeSelector`, nodeSelector));
  if (w.placement.gpu) {
    patches.push(cdk8s.JsonPatch.add(`${spec}/tolerations`, [GPU_TOLERATION]));
    patches.push(cdk8s.JsonPatch.add(`${spec}/runtimeClassName`, GPU_RUNTIME_CLASS));
  }
  if (w.runAsUser !== undefined && w.volumes.length > 0) {
    patches.push(cdk8s.JsonPatch.add(`${spec}/securityContext/fsGroup`, w.runAsUser));
    patches.push(cdk8s.JsonPatch.add(`${spec}/securityContext/fsGroupChangePolicy`, 'OnRootMismatch'));
  } else {
    patches.push(cdk8s.JsonPatch.remove(`${spec}/securityContext/fsGroupChangePolicy`));
  }
  const files = Object.keys(w.configFiles);
  if (files.length > 0) {
    // Config files are mounted with subPath (no live update): roll the pods when they change.
    patches.push(cdk8s.JsonPatch.add(`${templatePath}/metadata/annotations`, { 'checksum/config': sha256(canonicalJson(w.configFiles)) }));
  }
  return patches;
}

function podProps(model: EnvironmentModel, w: Workload, c: Collector): Kplus.WorkloadProps {
  return {
    metadata: { name: w.name, labels: objectLabels(w) },
    podMetadata: { labels: selectorLabels(w) },
    select: false,
    serviceAccount: kplus.ServiceAccount.fromServiceAccountName(c.chart, 'sa-ref', w.name),
    automountServiceAccountToken: false,
    securityContext: { ensureNonRoot: true, user: w.runAsUser, group: w.runAsUser },
    containers: [containerOf(model, w, c)],
  };
}

/** Inputs of the pod template (what the controller object derives from). */
function podInputs(model: EnvironmentModel, w: Workload): InputPath[] {
  const fields = ['namespace', 'kind', 'image', 'command', 'args', 'ports', 'env', 'configFiles', 'resources', 'runAsUser', 'liveness', 'readiness', 'placement', 'volumes', 'serviceAccount'];
  const inputs: InputPath[] = fields.map((f) => workloadPath(w.name, f));
  if (w.serviceAccount.iamRoleArn) inputs.push(['aws', 'region']);
  if (w.placement.pool) inputs.push(['nodePools', { name: w.placement.pool }, 'labels']);
  return inputs;
}

function controller(model: EnvironmentModel, w: Workload, c: Collector): void {
  const inputs = podInputs(model, w);
  const props = podProps(model, w, c);
  if (w.kind === 'cronjob') {
    const [minute, hour, day, month, weekDay] = cronFields(w.schedule ?? '');
    const job = new kplus.CronJob(c.chart, 'cronjob', {
      ...props,
      schedule: cdk8s.Cron.schedule({ minute, hour, day, month, weekDay }),
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      successfulJobsRetained: 3,
      failedJobsRetained: 3,
      backoffLimit: 2,
      // A run missed by more than this (controller down, cluster upgrade) is skipped, not started late.
      startingDeadline: cdk8s.Duration.minutes(30),
      restartPolicy: kplus.RestartPolicy.NEVER,
    });
    c.add(job, [...inputs, workloadPath(w.name, 'schedule')], [...podPatches(model, w, '/spec/jobTemplate/spec/template'), cdk8s.JsonPatch.add('/spec/timeZone', 'Etc/UTC')]);
    return;
  }
  const replicaInputs = w.autoscaling ? [] : [workloadPath(w.name, 'replicas')];
  if (w.kind === 'statefulset') {
    const service = new kplus.Service(c.chart, 'headless', {
      metadata: { name: headlessServiceName(w), labels: objectLabels(w) },
      clusterIP: 'None',
      ports: w.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: p.protocol === 'UDP' ? kplus.Protocol.UDP : kplus.Protocol.TCP })),
    });
    service.selectLabel(NAME_LABEL, w.name);
    // cdk8s-plus' StatefulSet selects its pods on the Service it is given (cdk8s-plus-28 2.5.6
    // lib/stateful-set.js:68: `this.service.select(this)`), adding its cdk8s.io/metadata.addr label to the
    // Service's selector; the pods do not carry it (podPatches removes it from the template), so the
    // Service would select no pod and the StatefulSet's pods get no DNS records. NAME_LABEL only.
    c.add(service, [workloadPath(w.name, 'namespace'), workloadPath(w.name, 'ports'), workloadPath(w.name, 'kind')], [cdk8s.JsonPatch.remove('/spec/selector/cdk8s.io~1metadata.addr')]);
    const set = new kplus.StatefulSet(c.chart, 'statefulset', { ...props, service, replicas: w.replicas, podManagementPolicy: kplus.PodManagementPolicy.ORDERED_READY });
    set.select(kplus.LabelSelector.of({ labels: selectorLabels(w) }));
    c.add(set, [...inputs, ...replicaInputs], [
      ...podPatches(model, w, '/spec/template'),
      cdk8s.JsonPatch.add('/spec/volumeClaimTemplates', storageOf(w).claims),
      cdk8s.JsonPatch.add('/spec/persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' }),
      ...(w.autoscaling ? [cdk8s.JsonPatch.remove('/spec/replicas')] : []),
    ]);
    return;
  }
  const deployment = new kplus.Deployment(c.chart, 'deployment', { ...props, replicas: w.replicas });
  deployment.select(kplus.LabelSelector.of({ labels: selectorLabels(w) }));
  // The HPA owns the replica count; a replicas field would fight it on every sync.
  const rollout = gpuRollout(model, w);
  c.add(
    deployment,
    [...inputs, ...replicaInputs, ...(rollout || w.placement.gpu ? [['nodePools'] as InputPath, workloadPath(w.name, 'autoscaling')] : [])],
    [...podPatches(model, w, '/spec/template'), ...(w.autoscaling ? [cdk8s.JsonPatch.remove('/spec/replicas')] : []), ...(rollout ? [cdk8s.JsonPatch.replace('/spec/strategy/rollingUpdate', rollout)] : [])],
  );
}

function networkPolicy(model: EnvironmentModel, w: Workload, c: Collector): void {
  const byName = new Map(model.workloads.map((x) => [x.name, x]));
  const inputs: InputPath[] = [workloadPath(w.name, 'namespace'), workloadPath(w.name, 'ports'), workloadPath(w.name, 'network')];
  const ports = (list: { port: number; protocol?: 'TCP' | 'UDP' }[]): Json[] | undefined => (list.length > 0 ? list.map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })) : undefined);
  const ingress: Json[] = [];
  for (const from of w.network.ingressFrom) {
    if (from.startsWith('namespace/')) {
      ingress.push({ from: [{ namespaceSelector: nsSelector(from.slice('namespace/'.length)) }], ports: ports(w.ports) });
    } else {
      const peer = byName.get(from);
      if (!peer) continue;
      inputs.push(workloadPath(from, 'namespace'));
      ingress.push({ from: [{ namespaceSelector: nsSelector(peer.namespace), podSelector: { matchLabels: selectorLabels(peer) } }], ports: ports(w.ports) });
    }
  }
  if (w.ingress) {
    inputs.push(workloadPath(w.name, 'ingress'), workloadPath(w.name, 'readiness'), ['aws', 'vpc', 'cidr']);
    // The ALB (target-type instance) reaches the pods through a node port; externalTrafficPolicy
    // Local keeps its source address, which lies in the VPC CIDR (pod IPs are never VPC targets).
    const alb = albPorts(w);
    if (alb.length > 0) ingress.push({ from: [{ ipBlock: { cidr: model.aws.vpc.cidr } }], ports: alb.map((port) => ({ port, protocol: 'TCP' })) });
  }
  if (w.metricsPort) {
    const metrics = portByName(w, w.metricsPort);
    inputs.push(workloadPath(w.name, 'metricsPort'));
    if (metrics) ingress.push({ from: [{ namespaceSelector: nsSelector(MONITORING_NAMESPACE) }], ports: [{ port: metrics.port, protocol: 'TCP' }] });
  }
  const egress: Json[] = [];
  for (const to of w.network.egressTo) {
    if (to.workload) {
      const peer = byName.get(to.workload);
      if (!peer) continue;
      inputs.push(workloadPath(to.workload, 'namespace'));
      if (!to.ports) inputs.push(workloadPath(to.workload, 'ports'));
      egress.push({
        to: [{ namespaceSelector: nsSelector(peer.namespace), podSelector: { matchLabels: selectorLabels(peer) } }],
        ports: to.ports ? ports(to.ports.map((port) => ({ port }))) : ports(peer.ports),
      });
    } else if (to.cidr) {
      // Never IMDS: a CIDR containing 169.254.169.254 excepts it (egressIpBlock).
      egress.push({ to: [{ ipBlock: egressIpBlock(to.cidr) }], ports: to.ports ? ports(to.ports.map((port) => ({ port }))) : undefined });
    }
  }
  if (ingress.length === 0 && egress.length === 0) return;
  const policyTypes = [...(ingress.length > 0 ? ['Ingress'] : []), ...(egress.length > 0 ? ['Egress'] : [])];
  c.raw(
    'network-policy',
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: w.name, labels: objectLabels(w) },
      spec: { podSelector: { matchLabels: selectorLabels(w) }, policyTypes, ingress: ingress.length > 0 ? ingress : undefined, egress: egress.length > 0 ? egress : undefined },
    },
    [...new Map(inputs.map((p) => [JSON.stringify(p), p])).values()],
  );
}

/**
 * The labels of every workload namespace: Pod Security restricted (enforce, audit, warn) at the cluster's minor, and the
 * generator's labels. Also what a bootstrap that must create the namespace before its unit exists gives it, so both
 * copies say the same.
 */
export function workloadNamespaceLabels(model: EnvironmentModel): Record<string, string> {
  const pssVersion = `v${model.cluster.kubernetesMinor}`;
  const pss: Record<string, string> = {};
  for (const mode of ['enforce', 'audit', 'warn']) {
    pss[`pod-security.kubernetes.io/${mode}`] = 'restricted';
    pss[`pod-security.kubernetes.io/${mode}-version`] = pssVersion;
  }
  return { ...pss, ...GENERATOR_LABELS };
}

/**
 * The objects of one workload namespace, delivered by its own unit (`namespace-<ns>`): the
 * Namespace (PSS restricted) and its default policies (deny everything, allow DNS). Each is kept
 * when that unit is deleted (see keepOnUnitDeletion).
 */
export function namespaceObjects(model: EnvironmentModel, namespace: string, members: readonly Workload[]): WorkloadObject[] {
  const c = new Collector(namespace);
  const inputs: InputPath[] = members.map((w) => workloadPath(w.name, 'namespace'));
  const metadata = (name: string, labels: Record<string, string>) => ({ name, labels, annotations: keepOnUnitDeletion(model) });
  // Cluster-scoped: without the namespace the chart gives every object.
  c.raw('namespace', { apiVersion: 'v1', kind: 'Namespace', metadata: metadata(namespace, workloadNamespaceLabels(model)) }, [...inputs, ['cluster', 'kubernetesVersion']], [cdk8s.JsonPatch.remove('/metadata/namespace')]);
  c.raw(
    'default-deny',
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(DEFAULT_DENY_POLICY, GENERATOR_LABELS),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    inputs,
  );
  c.raw(
    'allow-dns',
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(ALLOW_DNS_POLICY, GENERATOR_LABELS),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: nsSelector('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
            ports: [
              { port: 53, protocol: 'UDP' },
              { port: 53, protocol: 'TCP' },
            ],
          },
        ],
      },
    },
    inputs,
  );
  return c.objects();
}

/** The Service port an ALB forwards to: the ingress port, when the workload serves traffic. */
function ingressTarget(w: Workload): { name: string; port: number } | undefined {
  return w.ingress && servesTraffic(w) ? portByName(w, w.ingress.port) : undefined;
}

/**
 * ALB health check of an instance-mode target group: the readiness probe's path, on the node port
 * of the probe's port (`traffic-port` when that is the ingress port). Nodes without a ready pod
 * fail it (externalTrafficPolicy Local), so the ALB routes only to nodes with one.
 */
function healthCheckOf(w: Workload, target: { name: string; port: number }): Record<string, string> {
  const probe = w.readiness;
  const probePort = probe ? (probe.port ?? w.ports[0]?.port) : undefined;
  const named = w.ports.find((p) => p.port === probePort);
  if (probe?.httpGet === undefined || !named) return { 'alb.ingress.kubernetes.io/healthcheck-port': 'traffic-port' };
  return {
    'alb.ingress.kubernetes.io/healthcheck-port': named.port === target.port ? 'traffic-port' : named.name,
    'alb.ingress.kubernetes.io/healthcheck-path': probe.httpGet,
  };
}

/** Container ports the ALB connects to: the ingress port and the health-check port. */
function albPorts(w: Workload): number[] {
  const target = ingressTarget(w);
  if (!target) return [];
  const hc = healthCheckOf(w, target)['alb.ingress.kubernetes.io/healthcheck-port'];
  const hcPort = w.ports.find((p) => p.name === hc)?.port;
  return hcPort !== undefined && hcPort !== target.port ? [target.port, hcPort] : [target.port];
}

function ingressOf(model: EnvironmentModel, w: Workload, c: Collector): void {
  const ing = w.ingress;
  const target = ingressTarget(w);
  if (!ing || !target) return;
  const https = ing.certificateArn !== undefined;
  const annotations: Record<string, string> = {
    'alb.ingress.kubernetes.io/scheme': ing.scheme,
    // instance, not ip: pod IPs (flannel/Cilium overlay) are not routable in the VPC; ip targets
    // need VPC-native pod addresses (AWS VPC CNI). The ALB targets the nodes' NodePort.
    'alb.ingress.kubernetes.io/target-type': 'instance',
    'alb.ingress.kubernetes.io/group.name': ing.groupName,
    // Explicit placement instead of tag discovery: the subnets of the scheme's tier, one per zone
    // (the rule ingress-subnets guarantees two zones and IDs; the controller also accepts Name tags).
    'alb.ingress.kubernetes.io/subnets': albSubnets(model.aws.vpc.subnets, ing.scheme)
      .map((s) => s.id ?? s.name)
      .join(','),
    'alb.ingress.kubernetes.io/listen-ports': JSON.stringify(https ? [{ HTTP: 80 }, { HTTPS: 443 }] : [{ HTTP: 80 }]),
    ...healthCheckOf(w, target),
  };
  if (https) {
    annotations['alb.ingress.kubernetes.io/certificate-arn'] = ing.certificateArn!;
    annotations['alb.ingress.kubernetes.io/ssl-redirect'] = '443';
    annotations['alb.ingress.kubernetes.io/ssl-policy'] = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
  }
  const inputs: InputPath[] = [workloadPath(w.name, 'namespace'), workloadPath(w.name, 'kind'), workloadPath(w.name, 'ingress'), workloadPath(w.name, 'ports'), workloadPath(w.name, 'readiness')];
  // The default group name derives from the cluster name; the subnets from aws.vpc.subnets.
  inputs.push(['cluster', 'name'], ['aws', 'vpc', 'subnets']);
  c.raw(
    'ingress',
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: w.name, labels: objectLabels(w), annotations },
      spec: {
        ingressClassName: 'alb',
        rules: [{ host: ing.host, http: { paths: [{ path: ing.path, pathType: 'Prefix', backend: { service: { name: w.name, port: { name: target.name } } } }] } }],
      },
    },
    inputs,
  );
}

/** Every object of one workload (its namespace's own objects are rendered by namespaceObjects). */
export function workloadObjects(model: EnvironmentModel, w: Workload): WorkloadObject[] {
  const c = new Collector(w.namespace);
  const ns = workloadPath(w.name, 'namespace');

  const sa = new kplus.ServiceAccount(c.chart, 'service-account', {
    metadata: { name: w.name, labels: objectLabels(w), annotations: w.serviceAccount.iamRoleArn ? { 'eks.amazonaws.com/role-arn': w.serviceAccount.iamRoleArn } : undefined },
    automountToken: false,
  });
  c.add(sa, [ns, workloadPath(w.name, 'serviceAccount')]);

  const files = Object.keys(w.configFiles).sort();
  if (files.length > 0) {
    const cm = new kplus.ConfigMap(c.chart, 'config', { metadata: { name: configMapName(w), labels: objectLabels(w) } });
    for (const f of files) cm.addData(configKey(f), w.configFiles[f]!);
    c.add(cm, [ns, workloadPath(w.name, 'configFiles')]);
  }

  const secretEnv = Object.entries(w.env).filter((e): e is [string, { secret: string }] => typeof e[1] !== 'string').sort(([a], [b]) => a.localeCompare(b));
  if (secretEnv.length > 0) {
    c.raw(
      'external-secret',
      {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        metadata: { name: envSecretName(w), labels: objectLabels(w) },
        spec: {
          refreshInterval: '1h',
          secretStoreRef: { kind: 'ClusterSecretStore', name: namespaceStoreName(w.namespace) },
          target: { name: envSecretName(w), creationPolicy: 'Owner' },
          data: secretEnv.map(([key, ref]) => ({ secretKey: key, remoteRef: { key: ref.secret } })),
        },
      },
      [ns, workloadPath(w.name, 'env')],
    );
  }

  controller(model, w, c);

  if (servesTraffic(w)) {
    // Behind an ALB (target-type instance) the Service is a NodePort; Kubernetes allocates the node
    // ports (never pinned here, so they neither collide nor show up as drift).
    const exposed = ingressTarget(w) !== undefined;
    const service = new kplus.Service(c.chart, 'service', {
      metadata: { name: w.name, labels: objectLabels(w) },
      type: exposed ? kplus.ServiceType.NODE_PORT : kplus.ServiceType.CLUSTER_IP,
      ports: w.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: p.protocol === 'UDP' ? kplus.Protocol.UDP : kplus.Protocol.TCP })),
    });
    service.selectLabel(NAME_LABEL, w.name);
    // Local: a node forwards ALB traffic only to its own ready pods, without SNAT. The pods see the
    // ALB's address (inside the VPC CIDR, which their NetworkPolicy admits), and a node without a
    // ready pod fails the ALB health check instead of bouncing traffic to another node.
    const patches = exposed ? [cdk8s.JsonPatch.add('/spec/externalTrafficPolicy', 'Local')] : [];
    c.add(service, [ns, workloadPath(w.name, 'ports'), ...(exposed ? [workloadPath(w.name, 'ingress')] : [])], patches);
  }

  ingressOf(model, w, c);

  if (w.autoscaling) {
    c.raw(
      'hpa',
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: w.name, labels: objectLabels(w) },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: w.kind === 'statefulset' ? 'StatefulSet' : 'Deployment', name: w.name },
          minReplicas: w.autoscaling.minReplicas,
          maxReplicas: w.autoscaling.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: w.autoscaling.targetCPUUtilization } } }],
        },
      },
      // replicas is the default minReplicas (and the Deployment leaves the count to the HPA).
      [ns, workloadPath(w.name, 'kind'), workloadPath(w.name, 'autoscaling'), workloadPath(w.name, 'replicas')],
    );
  }

  const pdb = disruptionBudgetOf(w);
  if (pdb) {
    c.raw(
      'pdb',
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: w.name, labels: objectLabels(w) },
        spec: { selector: { matchLabels: selectorLabels(w) }, ...pdb, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
      },
      [ns, workloadPath(w.name, 'disruptionBudget')],
    );
  }

  networkPolicy(model, w, c);

  const metrics = w.metricsPort ? portByName(w, w.metricsPort) : undefined;
  if (metrics && servesTraffic(w)) {
    c.raw(
      'service-monitor',
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: w.name, labels: { ...objectLabels(w), release: PROMETHEUS_RELEASE } },
        spec: { selector: { matchLabels: selectorLabels(w) }, endpoints: [{ port: metrics.name, path: w.metricsPath, interval: '30s' }] },
      },
      [ns, workloadPath(w.name, 'metricsPort'), workloadPath(w.name, 'metricsPath')],
    );
  }
  return c.objects();
}

