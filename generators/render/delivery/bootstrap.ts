/**
 * What every engine's bootstrap script shares: wait for the API server, then install the plan's
 * bootstrap units with helm from the same chart versions and values files the engine uses later.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { bootstrapUnits, isOciChart, type DeliveryUnit } from '../../plan/types.js';

/** Quote a word for POSIX sh. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Script lines after the shebang and comments: ROOT, the API wait, one helm install per bootstrap unit (Handlebars, context { steps }). */
export const BOOTSTRAP_PRELUDE = `set -eu
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)

# Right after the cluster's bootstrap the API server may not answer yet: wait up to 10 minutes.
i=0
until kubectl get --raw /readyz >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -le 120 ] || { echo "the Kubernetes API at $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}') is not ready after 10 minutes" >&2; exit 1; }
  sleep 5
done
{{#each steps}}

# {{comment}}
helm upgrade --install {{release}} {{chart}}{{#if repo}} --repo {{repo}}{{/if}} --version {{version}} \\
  --namespace {{namespace}} --create-namespace --values "$ROOT/"{{values}} --wait --timeout 10m
{{/each}}`;

/** helm's chart argument: `NAME --repo URL` for a Helm repository, `oci://…/NAME` for an OCI chart. */
function chartArgs(u: DeliveryUnit & { chart: NonNullable<DeliveryUnit['chart']> }): { chart: string; repo?: string } {
  const c = u.chart.source;
  return isOciChart(c) ? { chart: shQuote(`${c.repoURL.replace(/\/$/, '')}/${c.name}`) } : { chart: shQuote(c.name), repo: shQuote(c.repoURL) };
}

/** The template context of BOOTSTRAP_PRELUDE's helm steps. */
export function helmSteps(model: EnvironmentModel, plan: readonly DeliveryUnit[]) {
  return bootstrapUnits(plan).map((u) => ({
    comment: u.description,
    release: shQuote(u.chart.releaseName),
    ...chartArgs(u),
    version: shQuote(u.chart.source.version),
    namespace: shQuote(u.namespace),
    values: shQuote(`${model.renderedDir}/${u.chart.valuesFile}`),
  }));
}
