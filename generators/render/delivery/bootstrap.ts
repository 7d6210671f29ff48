/**
 * What every engine's bootstrap script shares: wait for the API server, then install the plan's
 * bootstrap units with helm from the same chart versions and values files the engine uses later.
 */
export { BOOTSTRAP_PRELUDE, BOOTSTRAP_WAIT_NOTE } from './prelude.js';
import type { EnvironmentModel } from '../../model/types.js';
import { deliveryGraph } from '../../plan/graph.js';
import type { PodPlacement } from '../../plan/needs.js';
import { CONTROL_PLANE_TAINT, nodesOf, placeable } from '../../plan/nodes.js';
import { bootstrapUnits, isOciChart, type DeliveryUnit } from '../../plan/types.js';

/** Quote a word for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** helm's chart argument: `NAME --repo URL` for a Helm repository, `oci://…/NAME` for an OCI chart. */
function chartArgs(u: DeliveryUnit & { chart: NonNullable<DeliveryUnit['chart']> }): { chart: string; repo?: string } {
  const c = u.chart.source;
  return isOciChart(c) ? { chart: shQuote(`${c.repoURL.replace(/\/$/, '')}/${c.name}`) } : { chart: shQuote(c.name), repo: shQuote(c.repoURL) };
}

/** The template context of BOOTSTRAP_PRELUDE: its helm steps, the first needing a schedulable worker with its wait, the nodes phase's releases. */
export function helmSteps(model: EnvironmentModel, plan: readonly DeliveryUnit[]) {
  const graph = deliveryGraph(model);
  const nodes = nodesOf(model);
  const controlPlanes = nodes.filter((n) => n.role === 'controlplane');
  let waited = false;
  const nodesPhase: string[] = [];
  const steps = bootstrapUnits(plan).map((u) => {
    // Where the release's pods run (the catalog's facts; none stated: a chart's default, no toleration, no selector).
    const known = graph.steps.find((s) => s.unit?.name === u.name && s.part === 'main')?.pods ?? [];
    const pods: PodPlacement[] = known.length > 0 ? known : [{ who: u.name, tolerations: [] }];
    const onControlPlanes = controlPlanes.length > 0 && pods.every((p) => controlPlanes.some((n) => placeable(p, n)));
    const needsWorker = !onControlPlanes && !pods.every((p) => p.tolerations.some((t) => !t.key && t.operator === 'Exists'));
    let wait: Record<string, string> | undefined;
    if (needsWorker && !waited) {
      waited = true;
      const tolerated = [...new Set(pods.flatMap((p) => p.tolerations.flatMap((t) => (t.key ? [t.key] : []))))].filter((k) => pods.every((p) => p.tolerations.some((t) => t.key === k))).sort();
      const selector = Object.assign({}, ...pods.map((p) => p.nodeSelector ?? {})) as Record<string, string>;
      const fit = nodes.filter((n) => pods.every((p) => placeable(p, n))).map((n) => n.name);
      const who = pods.map((p) => p.who).join(', ');
      wait = {
        who: who === u.name ? u.name : `${u.name} (${who})`,
        whoShort: u.name,
        release: u.chart.releaseName,
        taint: `${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect}`,
        pools: fit.length > 0 ? `pool${fit.length === 1 ? '' : 's'} ${fit.join(', ')} must have joined` : 'no pool of this environment offers one',
        selector: shQuote(Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')),
        tolerated: shQuote(tolerated.join(' ')),
      };
    }
    if (!waited) nodesPhase.push(u.name);
    return {
      comment: u.description,
      release: shQuote(u.chart.releaseName),
      ...chartArgs(u),
      version: shQuote(u.chart.source.version),
      namespace: shQuote(u.namespace),
      values: shQuote(`${model.renderedDir}/${u.chart.valuesFile}`),
      ...(wait ? { wait } : {}),
    };
  });
  return { steps, waits: waited, nodesPhase: nodesPhase.length > 0 ? nodesPhase.join(', ') : 'nothing' };
}
