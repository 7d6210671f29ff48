/**
 * A managed environment's own bootstrap (hub mode): no Argo CD runs on the cluster, but a fresh
 * cluster still needs what nothing runs without before the hub can deliver anything — the CNI when
 * Cilium is chosen (nodes stay NotReady, and some distributions reboot a node still waiting) and
 * the cloud controller (nodes keep the uninitialized taint). rendered/<env>/argocd/bootstrap/bootstrap.sh
 * installs them with helm from the same chart versions, release names and values files as the hub's
 * Applications (`<env>-<add-on>`, helm.releaseName `<add-on>`), so the hub's first sync adopts them;
 * then it creates the identity the hub signs in as (hub-access.yaml) and writes the Argo CD cluster
 * Secret's fields to the hub's SSM parameters, which the hub's ExternalSecret `cluster-<env>` reads.
 *
 * The cluster Secret's `config` is a bearer token with the cluster CA (Argo CD declarative setup,
 * "Clusters": `bearerToken`, `tlsClientConfig.caData` = base64 PEM, `insecure: false`):
 * `awsAuthConfig` runs `argocd-k8s-auth aws`, which issues EKS tokens that the API server of a
 * self-managed cluster (every distribution here) does not accept.
 */
import { compileTemplate } from '../../lib/templates.js';
import { toYaml } from '../../lib/yaml.js';
import type { EnvironmentModel } from '../../model/types.js';
import type { DeliveryUnit } from '../../plan/types.js';
import { helmSteps, shQuote } from '../../render/delivery/bootstrap.js';
import { BOOTSTRAP_PRELUDE } from '../../render/delivery/prelude.js';
import type { RenderedFile } from '../../render/types.js';
import { clusterSecretParameters } from './hub.js';

export const HUB_ACCESS_PATH = 'argocd/bootstrap/hub-access.yaml';
/** The ServiceAccount the hub's Argo CD signs in as (the name `argocd cluster add` uses), and its token Secret. */
export const HUB_ACCESS = { namespace: 'kube-system', serviceAccount: 'argocd-manager', binding: 'argocd-manager-role-binding', tokenSecret: 'argocd-manager-token' } as const;

/** ServiceAccount, its cluster-admin binding, and its long-lived token Secret (filled in by the cluster's token controller; no data here). */
export function hubAccessObjects(): Record<string, unknown>[] {
  const { namespace, serviceAccount, binding, tokenSecret } = HUB_ACCESS;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: binding },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
    },
    { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: tokenSecret, namespace, annotations: { 'kubernetes.io/service-account.name': serviceAccount } } },
  ];
}

// Compiled on first use: BOOTSTRAP_PRELUDE's module imports the registry, which imports this one.
let compiled: ReturnType<typeof compileTemplate> | undefined;
const script = (vars: Parameters<ReturnType<typeof compileTemplate>>[0]): string => (compiled ??= compileTemplate(`#!/bin/sh
# Bootstrap the fresh {{env}} cluster ({{cluster}}) for the hub {{hub}}, whose Argo CD manages it: install what the
# cluster cannot run without, give the hub an identity here, and register the cluster in the hub's SSM parameters.
# Run from anywhere with KUBECONFIG pointing at this cluster, helm, kubectl and the AWS CLI v2 with credentials
# of account {{account}} that may write {{prefix}}*:  sh {{self}}
command -v aws >/dev/null 2>&1 || { echo "the AWS CLI is needed to register the cluster with the hub {{hub}}" >&2; exit 1; }
${BOOTSTRAP_PRELUDE}

# The identity the hub's Argo CD uses here: ServiceAccount {{accessName}} (cluster-admin) and its token Secret.
kubectl apply --server-side --field-manager=argocd-bootstrap -f "$ROOT/"{{access}}
token() { kubectl -n {{namespace}} get secret {{tokenSecret}} -o "jsonpath={.data.$1}"; }
i=0
until [ -n "$(token token)" ]; do
  i=$((i + 1)); [ "$i" -le 60 ] || { echo "the token controller did not fill Secret {{tokenName}} within 2 minutes" >&2; exit 1; }
  sleep 2
done

# Register with the hub: the Argo CD cluster Secret's fields as SSM parameters in {{regionName}}; the hub's ExternalSecret
# cluster-{{env}} turns them into its cluster Secret. Values go through a private file, never the command line.
umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
put() { printf '%s' "$3" >"$TMP/value"; aws ssm put-parameter --region {{region}} --name "$1" --type "$2" --overwrite --value "file://$TMP/value" >/dev/null; }
put {{nameParameter}} String {{clusterName}}
put {{serverParameter}} String {{server}}
put {{configParameter}} SecureString "{
  \\"bearerToken\\": \\"$(token token | base64 -d)\\",
  \\"tlsClientConfig\\": { \\"insecure\\": false, \\"caData\\": \\"$(token 'ca\\.crt')\\" }
}"
echo "registered {{cluster}} with the hub {{hub}}: its ExternalSecret cluster-{{env}} picks the parameters up within an hour; to refresh now, with the hub's kubeconfig:"
echo "  kubectl -n {{hubNamespace}} annotate externalsecret cluster-{{env}} force-sync=\\$(date +%s) --overwrite"
`))(vars);

export function renderManagedBootstrap(model: EnvironmentModel, plan: readonly DeliveryUnit[]): RenderedFile[] {
  const hub = model.fleet.hub;
  if (!hub) return [];
  const p = clusterSecretParameters(hub.name, model.name);
  const content = script({
    env: model.name,
    cluster: model.cluster.name,
    hub: hub.name,
    account: hub.accountId,
    prefix: `/odp/${hub.name}/argocd/clusters/${model.name}/`,
    self: `${model.renderedDir}/argocd/bootstrap/bootstrap.sh`,
    ...helmSteps(model, plan),
    access: shQuote(`${model.renderedDir}/${HUB_ACCESS_PATH}`),
    namespace: shQuote(HUB_ACCESS.namespace),
    accessName: `${HUB_ACCESS.namespace}/${HUB_ACCESS.serviceAccount}`,
    tokenName: `${HUB_ACCESS.namespace}/${HUB_ACCESS.tokenSecret}`,
    regionName: hub.region,
    tokenSecret: shQuote(HUB_ACCESS.tokenSecret),
    region: shQuote(hub.region),
    nameParameter: shQuote(p.name),
    serverParameter: shQuote(p.server),
    configParameter: shQuote(p.config),
    clusterName: shQuote(model.cluster.name),
    server: shQuote(model.cluster.endpoint),
    hubNamespace: shQuote(hub.namespace),
  });
  const inputs: RenderedFile['inputs'] = [['addons'], ['argocd'], ['aws'], ['cluster'], ['git'], ['name'], ['nodePools']];
  return [
    { path: 'argocd/bootstrap/bootstrap.sh', content, inputs },
    { path: HUB_ACCESS_PATH, content: hubAccessObjects().map((o) => toYaml(o)).join('---\n'), inputs: [['argocd']] },
  ];
}
