/**
 * rendered/<env>/argocd/bootstrap/bootstrap.sh: the one command that takes a fresh cluster to a
 * self-managing Argo CD. It needs only helm and kubectl: the add-ons everything else depends on (the
 * CNI when Cilium is chosen, the cloud controller that lifts the uninitialized taint, Argo CD) are
 * installed with helm from the same chart versions and values files the Applications use, then the
 * AppProject and root Application are applied; Argo CD adopts those releases and syncs the rest.
 */
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import { helmSteps, shQuote } from '../../render/delivery/bootstrap.js';
import { BOOTSTRAP_PRELUDE } from '../../render/delivery/prelude.js';
import type { DeliveryUnit } from '../../plan/types.js';
import type { RenderedFile } from '../../render/types.js';
import { repoPaths } from './objects.js';

export const BOOTSTRAP_PATH = 'argocd/bootstrap/bootstrap.sh';

export { shQuote };

const script = compileTemplate(`#!/bin/sh
# Bootstrap Argo CD on a fresh {{env}} cluster ({{cluster}}), then let it manage everything, itself included.
# Run from anywhere with KUBECONFIG pointing at the cluster:  sh {{self}}
${BOOTSTRAP_PRELUDE}

# AppProject and root Application (app of apps): Argo CD takes over from here.
kubectl apply --server-side --field-manager=argocd-bootstrap -f "$ROOT/"{{argocd}}
kubectl -n {{argoNamespace}} get applications.argoproj.io
`);

export function renderBootstrap(model: EnvironmentModel, plan: readonly DeliveryUnit[]): RenderedFile[] {
  const argo = plan.find((u) => u.name === 'argo-cd');
  if (!argo) return [];
  const prelude = helmSteps(model, plan);
  const paths = repoPaths(model);
  const content = script({
    env: model.name,
    cluster: model.cluster.name,
    self: `${model.renderedDir}/${BOOTSTRAP_PATH}`,
    ...prelude,
    argocd: shQuote(`${paths.argocd}/`),
    argoNamespace: shQuote(argo.namespace),
  });
  return [{ path: BOOTSTRAP_PATH, content, inputs: [['addons'], ['argocd'], ['aws'], ['cluster'], ['git'], ['name'], ['nodePools']] }];
}
