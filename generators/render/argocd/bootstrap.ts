/**
 * rendered/<env>/argocd/bootstrap/bootstrap.sh: the one command that takes a fresh cluster to a
 * self-managing Argo CD. It needs only helm and kubectl: the add-ons everything else depends on (the
 * CNI when Cilium is chosen, the cloud controller that lifts the uninitialized taint, Argo CD) are
 * installed with helm from the same chart versions and values files the Applications use, then the
 * AppProject and root Application are applied; Argo CD adopts those releases and syncs the rest.
 */
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import { bootstrapUnits } from '../../plan/index.js';
import type { DeliveryUnit } from '../../plan/types.js';
import type { RenderedFile } from '../types.js';
import { repoPaths } from './objects.js';

export const BOOTSTRAP_PATH = 'argocd/bootstrap/bootstrap.sh';

/** Quote a word for POSIX sh. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const script = compileTemplate(`#!/bin/sh
# Bootstrap Argo CD on a fresh {{env}} cluster ({{cluster}}), then let it manage everything, itself included.
# Run from anywhere with KUBECONFIG pointing at the cluster:  sh {{self}}
set -eu
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)

# Right after the cluster's bootstrap the API server may not answer yet: wait up to 10 minutes.
i=0
until kubectl get --raw /readyz >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -le 120 ] || { echo "the Kubernetes API at $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}') is not ready after 10 minutes" >&2; exit 1; }
  sleep 5
done
{{#each steps}}

# {{comment}}
helm upgrade --install {{release}} {{chart}} --repo {{repo}} --version {{version}} \\
  --namespace {{namespace}} --create-namespace --values "$ROOT/"{{values}} --wait --timeout 10m
{{/each}}

# AppProject and root Application (app of apps): Argo CD takes over from here.
kubectl apply --server-side --field-manager=argocd-bootstrap -f "$ROOT/"{{argocd}}
kubectl -n {{argoNamespace}} get applications.argoproj.io
`);

export function renderBootstrap(model: EnvironmentModel, plan: readonly DeliveryUnit[]): RenderedFile[] {
  const argo = plan.find((u) => u.name === 'argo-cd');
  if (!argo) return [];
  const steps = bootstrapUnits(plan).map((u) => ({
    comment: u.description,
    release: shQuote(u.chart.releaseName),
    chart: shQuote(u.chart.source.name),
    repo: shQuote(u.chart.source.repoURL),
    version: shQuote(u.chart.source.version),
    namespace: shQuote(u.namespace),
    values: shQuote(`${model.renderedDir}/${u.chart.valuesFile}`),
  }));
  const paths = repoPaths(model);
  const content = script({
    env: model.name,
    cluster: model.cluster.name,
    self: `${model.renderedDir}/${BOOTSTRAP_PATH}`,
    steps,
    argocd: shQuote(`${paths.argocd}/`),
    argoNamespace: shQuote(argo.namespace),
  });
  return [{ path: BOOTSTRAP_PATH, content, inputs: [['addons'], ['argocd'], ['aws'], ['cluster'], ['git'], ['name'], ['nodePools']] }];
}
