/**
 * rendered/<env>/flux/bootstrap/bootstrap.sh: takes a fresh cluster to a self-managing Flux with
 * helm, kubectl and the AWS CLI, no `flux bootstrap` (which commits its own files to the repository,
 * which `npm run check` would report as stale). It installs the bootstrap units with helm (the CNI
 * when Cilium is chosen, the cloud controller, the Flux Operator) from the same chart versions and
 * values files the HelmReleases use, creates the repository Secret from SSM (External Secrets takes
 * it over once it runs), and applies the FluxInstance; the operator installs Flux, which syncs
 * flux/ and adopts the bootstrap's releases.
 */
import { resolveAddons } from '../../catalog/resolve.js';
import { compileTemplate } from '../../lib/templates.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { DeliveryUnit } from '../../plan/types.js';
import { helmSteps, shQuote } from '../../render/delivery/bootstrap.js';
import { BOOTSTRAP_PRELUDE } from '../../render/delivery/prelude.js';
import type { RenderedFile } from '../../render/types.js';
import { FLUX_INSTANCE, FLUX_NAMESPACE, FLUX_VERSION, GIT_SECRET } from './objects.js';
import { SYNC_POLICY_KEY } from '../registry.js';

export const FLUX_BOOTSTRAP_PATH = 'flux/bootstrap/bootstrap.sh';

/** Reads the repository's credentials first: a failure stops the script before it creates anything. */
const CREDENTIALS = `# First, before anything is created: the repository's credentials, from SSM (never written to the repository).
# Each value is read into a variable (a failed read stops the script here: set -e), checked non-empty, and handed to
# kubectl as a file in a private directory: never on a command line, where ps would show it.
umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ssm() {
  v=$(aws ssm get-parameter --region {{region}} --with-decryption --name "$1" --query Parameter.Value --output text) || { echo "bootstrap stopped: cannot read SSM parameter $1 (aws ssm get-parameter failed; nothing was created)" >&2; exit 1; }
  [ -n "$v" ] && [ "$v" != None ] || { echo "bootstrap stopped: SSM parameter $1 is empty (nothing was created)" >&2; exit 1; }
  printf '%s' "$v" >"$TMP/$2"
}
{{#each keys}}ssm {{parameter}} {{key}}
{{/each}}`;

const script = compileTemplate(`#!/bin/sh
# Bootstrap Flux on a fresh {{env}} cluster ({{cluster}}) through the Flux Operator, then let Flux manage everything, itself included.
# Run from anywhere with KUBECONFIG pointing at the cluster and AWS credentials that may read {{parameters}}:  sh {{self}}
${BOOTSTRAP_PRELUDE.replace(/^(ROOT=.*\n)/m, (root) => `${root}\n${CREDENTIALS}\n`)}

# The repository Secret from the values read above; External Secrets keeps it current later.
kubectl -n {{namespace}} create secret generic {{secret}} \\
{{#each keys}}  --from-file={{key}}="$TMP/{{key}}" \\
{{/each}}  --dry-run=client -o yaml >"$TMP/secret.yaml"
# kubectl's own field manager: kustomize-controller takes over fields of a kubectl apply (kustomize-controller v1.9.1
# internal/controller/kustomization_controller.go:894-927), so what the bootstrap applied becomes Flux's.
# --force-conflicts: on a re-run External Secrets owns the data (it writes the Secret with Update under its own field
# manager: external-secrets v2.9.0 pkg/controllers/externalsecret/externalsecret_controller.go:988,1010), and a value
# rotated in SSM since its last refresh conflicts; the value just read is the one it writes next.
kubectl apply --server-side --force-conflicts -f "$TMP/secret.yaml"

# The FluxInstance: the operator installs Flux {{version}} and syncs {{path}}; Flux takes over from here.
kubectl apply --server-side -f "$ROOT/"{{instance}}
kubectl -n {{namespace}} wait fluxinstance/{{name}} --for=condition=Ready --timeout=10m
kubectl -n {{namespace}} get kustomizations.kustomize.toolkit.fluxcd.io
`);

/** SSM parameters of the repository Secret, by key (from the flux-operator add-on's ExternalSecret). */
export function gitCredentialParameters(model: EnvironmentModel): { key: string; parameter: string }[] {
  const es = resolveAddons(model)
    .find((a) => a.name === 'flux-operator')
    ?.manifests.find((o) => o.kind === 'ExternalSecret' && o.metadata.name === GIT_SECRET) as { spec?: { data?: { secretKey: string; remoteRef: { key: string } }[] } } | undefined;
  return (es?.spec?.data ?? []).map((d) => ({ key: d.secretKey, parameter: d.remoteRef.key }));
}

export function renderFluxBootstrap(model: EnvironmentModel, plan: readonly DeliveryUnit[]): RenderedFile[] {
  if (!plan.some((u) => u.name === 'flux-operator')) return [];
  const prelude = helmSteps(model, plan);
  const keys = gitCredentialParameters(model).map((k) => ({ key: k.key, parameter: shQuote(k.parameter) }));
  const content = script({
    env: model.name,
    cluster: model.cluster.name,
    self: `${model.renderedDir}/${FLUX_BOOTSTRAP_PATH}`,
    parameters: keys.map((k) => k.parameter).join(', '),
    ...prelude,
    region: shQuote(model.aws.region),
    namespace: shQuote(FLUX_NAMESPACE),
    secret: shQuote(GIT_SECRET),
    keys,
    version: FLUX_VERSION,
    path: `${model.renderedDir}/flux`,
    instance: shQuote(`${model.renderedDir}/flux/flux-instance.yaml`),
    name: FLUX_INSTANCE,
  });
  return [{ path: FLUX_BOOTSTRAP_PATH, content, inputs: [['addons'], [SYNC_POLICY_KEY], ['aws'], ['cluster'], ['git'], ['gitops'], ['name'], ['nodePools']] }];
}
