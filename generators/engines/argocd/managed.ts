/**
 * A managed environment's own bootstrap (hub mode): no Argo CD runs on the cluster, but a fresh
 * cluster still needs what nothing runs without before the hub can deliver anything — the CNI when
 * Cilium is chosen (nodes stay NotReady, and some distributions reboot a node still waiting) and
 * the cloud controller (nodes keep the uninitialized taint). rendered/<env>/argocd/bootstrap/bootstrap.sh
 * installs them with helm from the same chart versions, release names and values files as the hub's
 * Applications (`<env>-<add-on>`, helm.releaseName `<add-on>`), so the hub's first sync adopts them;
 * then it creates the identity the hub signs in as (hub-access.yaml) and writes the Argo CD cluster
 * Secret's config to the hub's SSM parameter, which the hub's ExternalSecret `cluster-<env>` reads.
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
import { clusterSecretParameters, HUB_REGISTER_SCRIPT, HUB_TOKEN_WARNING_DAYS } from './hub.js';
import { projectScopes, type ArgoContext } from './objects.js';
import type { AppSpec } from './spec.js';
import { workloadNamespaceLabels } from '../../render/workloads/objects.js';

export const HUB_ACCESS_PATH = 'argocd/bootstrap/hub-access.yaml';
export const HUB_REGISTER_PATH = HUB_REGISTER_SCRIPT;
/** The ServiceAccount the hub's Argo CD signs in as (the name `argocd cluster add` uses), its ClusterRoles and their bindings. */
export const HUB_ACCESS = {
  namespace: 'kube-system',
  serviceAccount: 'argocd-manager',
  clusterRole: 'argocd-manager',
  binding: 'argocd-manager-role-binding',
  namespacedRole: 'argocd-manager-namespaced',
  namespacedBinding: 'argocd-manager',
} as const;
/**
 * Lifetime register.sh asks for the hub's token (TokenRequest, `kubectl create token --duration`). The API server may
 * grant less (--service-account-max-token-expiration): register.sh reads the expiry it granted (status.expirationTimestamp),
 * stores it, prints it and derives from it by when to run again (HUB_TOKEN_WARNING_DAYS before it), and refuses a
 * grant within HUB_TOKEN_WARNING_DAYS (the hub's template would fail on it).
 */
export const HUB_TOKEN_DAYS = 90;

/**
 * Resource names of cluster-scoped kinds whose plural is not the kind in lower case plus s/es
 * (aws-load-balancer-controller v3.5.0 config/crd/bases/elbv2.k8s.aws_ingressclassparams.yaml: plural ingressclassparams).
 */
const IRREGULAR_PLURALS: Record<string, string> = { IngressClassParams: 'ingressclassparams' };
export const resourceOf = (kind: string): string => IRREGULAR_PLURALS[kind] ?? (/(s|x|ch|sh)$/.test(kind.toLowerCase()) ? `${kind.toLowerCase()}es` : /[^aeiou]y$/.test(kind.toLowerCase()) ? `${kind.toLowerCase().slice(0, -1)}ies` : `${kind.toLowerCase()}s`);

export interface HubAccessScope {
  /** Cluster-scoped kinds the environment's AppProjects allow (clusterResourceWhitelist), as `group/Kind`. */
  clusterResources: string[];
  /** Destination namespaces of its AppProjects, with the Pod Security level Argo CD would label a namespace it creates with. */
  namespaces: { name: string; podSecurity?: string; labels?: Record<string, string> }[];
}

/** Namespaces that exist in every cluster: the hub gets a RoleBinding there, no Namespace object. */
const BUILT_IN_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const WRITE = ['create', 'update', 'patch', 'delete'];

/**
 * The hub's identity on the managed cluster: not cluster-admin, but what the environment's AppProjects let
 * its Applications do (argo-cd checks each object against the project before applying it; the cluster
 * then checks it against this identity):
 * - read (get, list, watch) on every resource: Argo CD's cluster cache lists and watches every kind the
 *   API server serves, and by default a forbidden list fails the whole cache, i.e. every Application on
 *   the cluster (argoproj/argo-cd v3.4.4 gitops-engine/pkg/cache/cluster.go:1094-1110, "failed to load
 *   initial state of resource"; only `resource.respectRBAC` drops forbidden kinds instead:
 *   docs/operator-manual/declarative-setup.md:1387-1400, cluster.go:679-692, 948-951);
 * - write on the cluster-scoped kinds of the AppProjects' clusterResourceWhitelist, nothing else
 *   cluster-wide (no nodes, certificate approvals, persistent volumes, impersonation);
 * - `escalate` and `bind` on roles and cluster roles when the projects allow RBAC kinds: the charts' own
 *   roles grant permissions this identity does not hold, which the API server otherwise refuses
 *   (Kubernetes RBAC privilege-escalation prevention) — an identity that may write RBAC can grant itself
 *   more, so the AppProjects stay the boundary that matters;
 * - write on every namespaced kind, but only in the projects' destination namespaces (a RoleBinding each
 *   to the ClusterRole argocd-manager-namespaced; the namespaces are created here, with the Pod Security
 *   label the Application would set, since a RoleBinding needs its namespace).
 * No token Secret: register.sh mints a TokenRequest token with a lifetime (HUB_TOKEN_DAYS).
 */
export function hubAccessObjects(scope: HubAccessScope): Record<string, unknown>[] {
  const { namespace, serviceAccount, clusterRole, binding, namespacedRole, namespacedBinding } = HUB_ACCESS;
  const byGroup = new Map<string, string[]>();
  for (const gk of scope.clusterResources) {
    const i = gk.lastIndexOf('/');
    const group = gk.slice(0, i);
    byGroup.set(group, [...(byGroup.get(group) ?? []), resourceOf(gk.slice(i + 1))]);
  }
  const rbac = scope.clusterResources.some((gk) => gk.startsWith('rbac.authorization.k8s.io/'));
  const subject = [{ kind: 'ServiceAccount', name: serviceAccount, namespace }];
  const rbacRef = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: serviceAccount, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: clusterRole },
      rules: [
        { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
        ...[...byGroup].sort(([a], [b]) => a.localeCompare(b)).map(([group, resources]) => ({ apiGroups: [group], resources: [...new Set(resources)].sort(), verbs: WRITE })),
        ...(rbac ? [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles', 'roles'], verbs: ['bind', 'escalate'] }] : []),
      ],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: binding }, roleRef: rbacRef(clusterRole), subjects: subject },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: namespacedRole }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
    ...scope.namespaces
      .filter((n) => !BUILT_IN_NAMESPACES.has(n.name))
      .map((n) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.name, ...(n.labels ? { labels: n.labels } : n.podSecurity ? { labels: { 'pod-security.kubernetes.io/enforce': n.podSecurity } } : {}) } })),
    ...scope.namespaces.map((n) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: namespacedBinding, namespace: n.name }, roleRef: rbacRef(namespacedRole), subjects: subject })),
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

# The identity the hub's Argo CD uses here: ServiceAccount {{accessName}}, bound to what {{env}}'s AppProjects allow
# (ClusterRole {{clusterRole}}; every namespaced kind in their destination namespaces only), and those namespaces.
kubectl apply --server-side --field-manager=argocd-bootstrap -f "$ROOT/"{{access}}

# Register with the hub: a token with a lifetime, and the cluster Secret's config in the hub's SSM parameter.
sh "$ROOT/"{{register}}
`))(vars);

let compiledRegister: ReturnType<typeof compileTemplate> | undefined;
const register = (vars: Parameters<ReturnType<typeof compileTemplate>>[0]): string => (compiledRegister ??= compileTemplate(`#!/bin/sh
# Register {{cluster}} with the hub {{hub}}, or rotate the hub's token: mint a token of {{accessName}}, asking for {{days}} days
# (TokenRequest: kubectl create token; the API server may grant less), and write the Argo CD cluster Secret's config as the SSM
# parameter {{configName}} in {{regionName}}; the hub's ExternalSecret cluster-{{env}} turns it into its cluster Secret within an hour.
# Run with KUBECONFIG pointing at this cluster and AWS credentials of account {{account}} that may write {{prefix}}*:  sh {{self}}
# Rotation: it prints the expiry the API server granted and by when to run it again ({{warnDays}} days before that expiry, when
# the hub starts warning); the previous token stays valid until it expires.
set -eu
command -v aws >/dev/null 2>&1 || { echo "the AWS CLI is needed to register the cluster with the hub {{hub}}" >&2; exit 1; }
umask 077
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Values go through private files, never a command line.
# The TokenRequest's expiry as the API server granted it (it may cap the duration: --service-account-max-token-expiration),
# then the token (kubectl create token -o: kubernetes/kubectl pkg/cmd/create/create_token.go:182-189, 263-264 @ v0.34.0).
kubectl -n {{namespace}} create token {{serviceAccount}} --duration={{hours}}h -o 'jsonpath={.status.expirationTimestamp}{"\\n"}{.status.token}' >"$TMP/issued"
sed -n 2p "$TMP/issued" >"$TMP/token"
[ -s "$TMP/token" ] || { echo "kubectl create token returned no token for {{accessName}}" >&2; exit 1; }
expires=$(sed -n 1p "$TMP/issued")
# metav1.Time is written in UTC, RFC 3339 (apimachinery pkg/apis/meta/v1/time.go MarshalJSON): the hub compares it as text.
case "$expires" in
  [0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z) ;;
  *) echo "kubectl create token returned no expiry in UTC (got '$expires')" >&2; exit 1 ;;
esac
# Days from now to the expiry, in shell arithmetic on the two UTC times (date -u +FORMAT is POSIX; date -d is not):
# days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil), then seconds.
epoch() { # YYYY-MM-DDTHH:MM:SSZ (checked above)
  set -- $(printf '%s\\n' "$1" | sed 's/[-T:Z]/ /g; s/ 0\\([0-9]\\)/ \\1/g')
  y=$1; [ "$2" -gt 2 ] || y=$((y - 1))
  era=$((y / 400)); yoe=$((y - era * 400)); doy=$(((153 * (($2 + 9) % 12) + 2) / 5 + $3 - 1))
  echo $(((era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468) * 86400 + $4 * 3600 + $5 * 60 + $6))
}
left=$(($(epoch "$expires") - $(epoch "$(date -u +%Y-%m-%dT%H:%M:%SZ)")))
rotate=$(((left - {{warnSeconds}}) / 86400))
# The hub's ExternalSecret fails its template from {{warnDays}} days before the expiry (hub.ts expiryCheck): a token granted for
# less would never become (or replace) the cluster Secret. The API server caps the lifetime with --service-account-max-token-expiration.
if [ "$left" -le {{warnSeconds}} ]; then
  echo "the API server granted a token valid until $expires only (less than {{warnDays}} days: its --service-account-max-token-expiration caps it); the hub refuses a token that close to expiry, so nothing was written" >&2
  exit 1
fi
kubectl -n {{namespace}} get configmap kube-root-ca.crt -o 'jsonpath={.data.ca\\.crt}' >"$TMP/ca.crt"
[ -s "$TMP/ca.crt" ] || { echo "ConfigMap {{namespace}}/kube-root-ca.crt holds no ca.crt" >&2; exit 1; }
put() { printf '%s' "$3" >"$TMP/value"; aws ssm put-parameter --region {{region}} --name "$1" --type "$2" --overwrite --value "file://$TMP/value" >/dev/null; }
# Only the config: the hub pins the cluster Secret's name and server from this environment's file. (Registrations before this
# also wrote {{legacy}}: nothing reads them; decommission.sh forget deletes them.)
# expiresAt: not read by Argo CD (it unmarshals the config into its ClusterConfig, which has no such field: argo-cd v3.4.4
# util/db/cluster.go:420); the hub's ExternalSecret cluster-{{env}} turns not Ready {{warnDays}} days before it.
put {{configParameter}} SecureString "{
  \\"bearerToken\\": \\"$(cat "$TMP/token")\\",
  \\"tlsClientConfig\\": { \\"insecure\\": false, \\"caData\\": \\"$(base64 <"$TMP/ca.crt" | tr -d '\\n')\\" },
  \\"expiresAt\\": \\"$expires\\"
}"
echo "registered {{cluster}} with the hub {{hub}}: the token is valid until $expires (as the API server granted it); run this again"
echo "within $rotate days (the hub's ExternalSecret cluster-{{env}} warns from {{warnDays}} days before the expiry). It picks the config up"
echo "within an hour; to refresh now, with the hub's kubeconfig:"
echo "  kubectl -n {{hubNamespace}} annotate externalsecret cluster-{{env}} force-sync=\\$(date +%s) --overwrite"
`))(vars);

/** What the hub may do on a managed cluster: its AppProjects' cluster-scoped kinds and destination namespaces (with their Pod Security levels). */
export function hubAccessScope(ctx: ArgoContext, specs: readonly AppSpec[]): HubAccessScope {
  const projects = projectScopes(ctx, specs);
  const level = new Map(specs.flatMap((s) => (s.namespaceLabels?.['pod-security.kubernetes.io/enforce'] ? [[s.namespace, s.namespaceLabels['pod-security.kubernetes.io/enforce']] as const] : [])));
  const names = [...new Set(projects.flatMap((p) => p.namespaces))].sort();
  // A workload namespace is a Namespace object of its own unit (namespace-<ns>): the bootstrap creates it first (its
  // RoleBinding needs it) with the same labels, Pod Security restricted included, so the two copies agree.
  const workloadNamespaces = new Set(ctx.model.workloads.map((w) => w.namespace));
  const labels = workloadNamespaceLabels(ctx.model);
  return {
    clusterResources: [...new Set(projects.flatMap((p) => p.clusterResources))].sort(),
    namespaces: names.map((name) => ({ name, ...(workloadNamespaces.has(name) ? { podSecurity: 'restricted', labels } : level.get(name) ? { podSecurity: level.get(name) } : {}) })),
  };
}

export function renderManagedBootstrap(model: EnvironmentModel, plan: readonly DeliveryUnit[], scope: HubAccessScope): RenderedFile[] {
  const hub = model.fleet.hub;
  if (!hub) return [];
  const p = clusterSecretParameters(hub.name, model.name);
  const common = {
    env: model.name,
    cluster: model.cluster.name,
    hub: hub.name,
    account: hub.accountId,
    prefix: `/odp/${hub.name}/argocd/clusters/${model.name}/`,
    accessName: `${HUB_ACCESS.namespace}/${HUB_ACCESS.serviceAccount}`,
  };
  const content = script({
    ...common,
    self: `${model.renderedDir}/argocd/bootstrap/bootstrap.sh`,
    ...helmSteps(model, plan),
    access: shQuote(`${model.renderedDir}/${HUB_ACCESS_PATH}`),
    register: shQuote(`${model.renderedDir}/${HUB_REGISTER_PATH}`),
    clusterRole: HUB_ACCESS.clusterRole,
  });
  const registerScript = register({
    ...common,
    self: `${model.renderedDir}/${HUB_REGISTER_PATH}`,
    days: HUB_TOKEN_DAYS,
    hours: HUB_TOKEN_DAYS * 24,
    warnDays: HUB_TOKEN_WARNING_DAYS,
    warnSeconds: HUB_TOKEN_WARNING_DAYS * 86400,
    namespace: shQuote(HUB_ACCESS.namespace),
    serviceAccount: shQuote(HUB_ACCESS.serviceAccount),
    regionName: hub.region,
    region: shQuote(hub.region),
    configParameter: shQuote(p.config),
    configName: p.config,
    legacy: `${p.name} and ${p.server}`,
    hubNamespace: shQuote(hub.namespace),
  });
  const inputs: RenderedFile['inputs'] = [['addons'], ['argocd'], ['aws'], ['cluster'], ['git'], ['name'], ['nodePools']];
  return [
    { path: 'argocd/bootstrap/bootstrap.sh', content, inputs },
    { path: HUB_REGISTER_PATH, content: registerScript, inputs: [['argocd'], ['cluster'], ['name']] },
    { path: HUB_ACCESS_PATH, content: hubAccessObjects(scope).map((o) => toYaml(o)).join('---\n'), inputs: [['addons'], ['argocd'], ['workloads']] },
  ];
}
