/** Semantic rules for `workloads:` (what the schema cannot say), each with a position and a hint. */
import type { DocPath } from '../lib/paths.js';
import { parseQuantity } from '../lib/quantity.js';
import { hintFor } from '../lib/suggest.js';
import type { WorkloadInput } from '../model/input.js';
import { RESERVED_WORKLOAD_NAMES } from '../render/workloads/constants.js';
import { NAMESPACE_APP_PREFIX, namespaceAppName } from '../render/workloads/plan.js';
import type { Rule } from './rules.js';

const each = (ws: WorkloadInput[] | undefined, fn: (w: WorkloadInput, at: DocPath) => void): void => (ws ?? []).forEach((w, i) => fn(w, ['workloads', i]));

/** Image reference without a tag or digest, or with the tag `latest`. */
export function imageTag(image: string): { tag?: string; digest?: string } {
  const at = image.indexOf('@');
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const name = at === -1 ? image : image.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  return { tag: colon === -1 ? undefined : name.slice(colon + 1), digest };
}

const imagePinned: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const { tag, digest } = imageTag(w.image);
    if (tag === 'latest')
      report('workload-image-pinned', [...at, 'image'], `image '${w.image}' uses the tag 'latest', which changes under the same name`, {
        hint: 'pin a release tag (e.g. :1.4.2) or a digest (@sha256:…) so that a render always means the same image',
      });
    else if (tag === undefined && digest === undefined)
      report('workload-image-pinned', [...at, 'image'], `image '${w.image}' has no tag or digest (it means :latest)`, { hint: 'add a release tag (e.g. :1.4.2) or a digest (@sha256:…)' });
  });

const requests: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const req = w.resources?.requests;
    const missing = (['cpu', 'memory'] as const).filter((r) => req?.[r] === undefined);
    if (missing.length > 0)
      report('workload-requests', req ? [...at, 'resources', 'requests'] : w.resources ? [...at, 'resources'] : at, `workload '${w.name}' has no ${missing.join(' or ')} request`, {
        hint: 'every container declares resources.requests: { cpu, memory } so the scheduler can place it and capacity can be planned (the memory limit defaults to the request)',
        key: req === undefined,
      });
    const lim = w.resources?.limits;
    for (const r of ['cpu', 'memory'] as const) {
      const q = req?.[r] === undefined ? undefined : parseQuantity(req[r]!);
      const l = lim?.[r] === undefined ? undefined : parseQuantity(lim[r]!);
      if (q !== undefined && l !== undefined && l < q)
        report('workload-requests', [...at, 'resources', 'limits', r], `${r} limit ${lim![r]} is below the request ${req![r]}`, { hint: 'a limit must be at least the request' });
    }
  });

const kinds: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const kind = w.kind ?? 'deployment';
    if (kind === 'cronjob' && !w.schedule) report('workload-kind', at, `cronjob '${w.name}' needs a schedule`, { hint: 'add schedule: "30 2 * * *" (UTC)', key: true });
    if (kind !== 'cronjob' && w.schedule) report('workload-kind', [...at, 'schedule'], `schedule is only used by kind cronjob, not ${kind}`, { key: true });
    if (kind === 'cronjob') {
      for (const f of ['ingress', 'autoscaling', 'disruptionBudget', 'volumes', 'replicas'] as const)
        if (w[f] !== undefined) report('workload-kind', [...at, f], `a cronjob has no ${f}`, { hint: 'batch work runs one pod per schedule; use kind deployment or statefulset for a service', key: true });
    }
    if (kind === 'statefulset' && !(w.ports && w.ports.length > 0))
      report('workload-kind', at, `statefulset '${w.name}' needs at least one port: its headless Service, which gives the pods their stable DNS names, is built from the ports`, {
        hint: 'add ports: [{ name: …, port: … }], or use kind deployment if the pods need no stable names',
        key: true,
      });
    if (w.volumes && w.volumes.length > 0 && kind !== 'statefulset')
      report('workload-kind', [...at, 'volumes'], `persistent volumes need kind statefulset, not ${kind}`, {
        hint: 'EBS volumes are ReadWriteOnce: each replica needs its own claim, which a StatefulSet gives (set kind: statefulset)',
        key: true,
      });
    // With an HPA the Deployment carries no replica count (the HPA owns it) and replicas only defaults
    // minReplicas: next to a different minReplicas it would be silently ignored.
    if (w.autoscaling?.minReplicas !== undefined && w.replicas !== undefined && w.replicas !== w.autoscaling.minReplicas)
      report('workload-replicas', [...at, 'replicas'], `replicas ${w.replicas} is not used: with autoscaling the HPA owns the replica count and starts at minReplicas ${w.autoscaling.minReplicas}`, {
        hint: `remove replicas, or set it equal to autoscaling.minReplicas (${w.autoscaling.minReplicas})`,
        key: true,
      });
    if (w.autoscaling && w.autoscaling.minReplicas !== undefined && w.autoscaling.minReplicas > w.autoscaling.maxReplicas)
      report('workload-kind', [...at, 'autoscaling', 'minReplicas'], `minReplicas ${w.autoscaling.minReplicas} is above maxReplicas ${w.autoscaling.maxReplicas}`);
    const pdb = w.disruptionBudget;
    if (pdb && pdb.minAvailable !== undefined && pdb.maxUnavailable !== undefined)
      report('workload-kind', [...at, 'disruptionBudget'], 'give minAvailable or maxUnavailable, not both', { key: true });
  });

const ports: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    const names = (w.ports ?? []).map((p) => p.name);
    const ref = (path: DocPath, name: string | undefined, what: string): void => {
      if (name !== undefined && !names.includes(name))
        report('workload-port-ref', path, `${what} '${name}' is not a port of workload '${w.name}'`, { hint: hintFor(name, names) ?? (names.length ? `ports: ${names.join(', ')}` : 'declare ports: [{ name, port }]') });
    };
    ref([...at, 'metricsPort'], w.metricsPort, 'metricsPort');
    ref([...at, 'ingress', 'port'], w.ingress?.port, 'ingress port');
    if (w.ingress && names.length === 0) report('workload-port-ref', [...at, 'ingress'], `workload '${w.name}' has an ingress but no ports`, { hint: 'declare the port the ALB sends traffic to', key: true });
    for (const probe of ['liveness', 'readiness'] as const) {
      const p = w[probe];
      if (!p) continue;
      if ((p.httpGet !== undefined) === (p.tcp === true)) report('workload-port-ref', [...at, probe], `${probe} needs exactly one of httpGet: /path or tcp: true`, { key: true });
      if (p.port === undefined && names.length === 0) report('workload-port-ref', [...at, probe], `${probe} has no port: the workload declares none`, { hint: 'set port: N on the probe or declare ports', key: true });
    }
    const seen = new Set<string>();
    (w.ports ?? []).forEach((p, j) => {
      if (seen.has(p.name)) report('workload-port-ref', [...at, 'ports', j, 'name'], `port name '${p.name}' is used twice`);
      seen.add(p.name);
    });
  });

const placement: Rule = ({ input }, report) => {
  const workers = input.nodePools.filter((p) => p.role === 'worker');
  const gpuPools = workers.filter((p) => p.gpu);
  each(input.workloads, (w, at) => {
    const pl = w.placement;
    if (!pl) return;
    const arch = pl.arch ?? 'any';
    if (arch !== 'any' && !workers.some((p) => p.arch === arch && !p.gpu) && !(pl.gpu && gpuPools.some((p) => p.arch === arch)))
      report('workload-arch-pool', [...at, 'placement', 'arch'], `workload '${w.name}' runs on ${arch} only, but this environment has no ${arch} worker pool`, {
        hint: `worker pools: ${workers.map((p) => `${p.name} (${p.arch})`).join(', ') || 'none'}; add an ${arch} pool, or use arch: any with a multi-arch image`,
      });
    if (pl.gpu !== undefined) {
      if (gpuPools.length === 0)
        report('workload-gpu-pool', [...at, 'placement', 'gpu'], `workload '${w.name}' asks for ${pl.gpu} GPU(s), but this environment has no GPU pool`, {
          hint: 'add a worker pool with gpu: { vendor: nvidia } (e.g. instanceType g5.xlarge), or remove placement.gpu here',
        });
      else {
        const most = Math.max(...gpuPools.map((p) => p.gpu?.perNode ?? 1));
        if (pl.gpu > most) report('workload-gpu-pool', [...at, 'placement', 'gpu'], `${pl.gpu} GPUs per pod, but GPU nodes here have at most ${most}`, { hint: 'a pod cannot span nodes' });
        if (arch !== 'any' && !gpuPools.some((p) => p.arch === arch))
          report('workload-gpu-pool', [...at, 'placement', 'arch'], `no ${arch} GPU pool (GPU pools: ${gpuPools.map((p) => `${p.name} (${p.arch})`).join(', ')})`);
      }
    }
    if (pl.pool !== undefined) {
      const pool = input.nodePools.find((p) => p.name === pl.pool);
      if (!pool) report('workload-pool-ref', [...at, 'placement', 'pool'], `no node pool named '${pl.pool}'`, { hint: hintFor(pl.pool, workers.map((p) => p.name)) ?? `worker pools: ${workers.map((p) => p.name).join(', ')}` });
      else if (pool.role !== 'worker') report('workload-pool-ref', [...at, 'placement', 'pool'], `pool '${pl.pool}' is a control-plane pool`, { hint: 'workloads run on worker pools' });
      else if (Object.keys(pool.labels ?? {}).length === 0)
        report('workload-pool-ref', [...at, 'placement', 'pool'], `pool '${pl.pool}' has no labels to select its nodes by`, { hint: `add labels: { node.opendev.dev/pool: ${pl.pool} } to the pool` });
      else if (arch !== 'any' && pool.arch !== arch) report('workload-pool-ref', [...at, 'placement', 'pool'], `pool '${pl.pool}' is ${pool.arch}, but the workload asks for ${arch}`);
    }
  });
};

const serviceAccounts: Rule = ({ input }, report) =>
  each(input.workloads, (w, at) => {
    if (w.serviceAccount?.iamRoleArn !== undefined && input.aws.iam?.mode !== 'irsa')
      report('workload-irsa', [...at, 'serviceAccount', 'iamRoleArn'], `an IAM role per workload needs IRSA, but aws.iam.mode is ${input.aws.iam?.mode ?? 'instance-profile'}`, {
        hint: 'set aws.iam: { mode: irsa, issuerURL: … }, or remove iamRoleArn (pods then use the node instance profile)',
      });
  });

const network: Rule = ({ input }, report) => {
  const ws = input.workloads ?? [];
  const names = ws.map((w) => w.name);
  const byName = new Map(ws.map((w) => [w.name, w]));
  each(ws, (w, at) => {
    (w.network?.ingressFrom ?? []).forEach((from, j) => {
      if (from.startsWith('namespace/')) return;
      if (!byName.has(from))
        report('workload-network-ref', [...at, 'network', 'ingressFrom', j], `no workload named '${from}'`, { hint: hintFor(from, names) ?? "name a workload, or 'namespace/<name>' for a whole namespace" });
    });
    (w.network?.egressTo ?? []).forEach((to, j) => {
      const path: DocPath = [...at, 'network', 'egressTo', j];
      if ((to.workload === undefined) === (to.cidr === undefined)) report('workload-network-ref', path, 'give exactly one of workload or cidr');
      if (to.workload !== undefined) {
        const peer = byName.get(to.workload);
        if (!peer) report('workload-network-ref', [...path, 'workload'], `no workload named '${to.workload}'`, { hint: hintFor(to.workload, names) });
        else if (!(peer.network?.ingressFrom ?? []).some((f) => f === w.name || f === `namespace/${w.namespace ?? w.name}`))
          report('workload-network-ref', [...path, 'workload'], `'${to.workload}' does not accept traffic from '${w.name}': its default-deny policy will drop it`, {
            severity: 'warning',
            hint: `add '${w.name}' to network.ingressFrom of '${to.workload}'`,
          });
        else if (!to.ports && (peer.ports ?? []).length === 0) report('workload-network-ref', [...path, 'workload'], `'${to.workload}' declares no ports`, { hint: 'give ports: [N]' });
      }
    });
  });
};

const reservedNames: Rule = ({ input }, report) => {
  // Each workload namespace gets its own Argo CD Application (and manifests directory), namespace-<ns>.
  const namespaceApps = new Set((input.workloads ?? []).map((w) => namespaceAppName(w.namespace ?? w.name)));
  each(input.workloads, (w, at) => {
    if (RESERVED_WORKLOAD_NAMES.includes(w.name))
      report('workload-reserved-name', [...at, 'name'], `'${w.name}' is the name of a namespace-wide NetworkPolicy`, { hint: `reserved: ${RESERVED_WORKLOAD_NAMES.join(', ')}` });
    if (namespaceApps.has(w.name))
      report('workload-reserved-name', [...at, 'name'], `'${w.name}' is the name of the Argo CD Application of namespace '${w.name.slice(NAMESPACE_APP_PREFIX.length)}'`, {
        hint: `workload names must not start with '${NAMESPACE_APP_PREFIX}' followed by a workload namespace`,
      });
  });
};

export const WORKLOAD_RULES: readonly Rule[] = [imagePinned, requests, kinds, ports, placement, serviceAccounts, network, reservedNames];
