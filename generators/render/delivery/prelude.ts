/** The shared bootstrap prelude (no imports: engines compile it at load time, inside the registry's import cycle). */
/**
 * Script lines after the shebang and comments: ROOT, the phase argument, the API wait, one helm
 * install per bootstrap unit (Handlebars, context { steps, nodesPhase }).
 *
 * Releases whose pods cannot run on control planes (tainted `node-role.kubernetes.io/control-plane:
 * NoSchedule` once workers exist; the engines' own releases) wait first, up to 20 minutes, for a
 * Ready node whose NoSchedule/NoExecute taints they all tolerate and whose labels match their node
 * selector: `helm --wait` would otherwise time out while no worker has joined (a distribution whose
 * workers join after the CNI) and `set -e` would stop the script before the engine's own objects.
 * `sh bootstrap.sh nodes` installs only the releases before the first such one (the CNI, the cloud
 * controller: what nodes need to become Ready) and stops: the runbook runs it before workers join,
 * then the whole script once they have.
 */
export const BOOTSTRAP_PRELUDE = `set -eu
PHASE=\${1:-all}
case "$PHASE" in
  all | nodes) ;;
  *) echo "usage: sh $0 [nodes]   (nodes: only {{nodesPhase}}, before workers join)" >&2; exit 2 ;;
esac
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)

# Right after the cluster's bootstrap the API server may not answer yet: wait up to 10 minutes.
i=0
until kubectl get --raw /readyz >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -le 120 ] || { echo "the Kubernetes API at $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}') is not ready after 10 minutes" >&2; exit 1; }
  sleep 5
done
{{#if waits}}

# The name of a Ready node (selector $1) whose NoSchedule and NoExecute taints all have a key in $2 (space-separated).
schedulable_node() {
  kubectl get nodes \${1:+-l "$1"} -o jsonpath='{range .items[*]}{.metadata.name}{"\\t"}{.status.conditions[?(@.type=="Ready")].status}{"\\t"}{range .spec.taints[*]}{.key}:{.effect}{" "}{end}{"\\n"}{end}' 2>/dev/null |
    awk -F '\\t' -v tolerated=" $2 " '$2 == "True" { ok = 1; n = split($3, t, " "); for (j = 1; j <= n; j++) { k = t[j]; e = k; sub(/:[^:]*$/, "", k); sub(/^.*:/, "", e); if ((e == "NoSchedule" || e == "NoExecute") && index(tolerated, " " k " ") == 0) ok = 0 } if (ok) { print $1; exit } }'
}
{{/if}}
{{#each steps}}
{{#if wait}}

[ "$PHASE" = all ] || { echo "phase nodes done: {{../nodesPhase}} installed; once the workers have joined run: sh $0"; exit 0; }

# The pods of {{wait.who}} tolerate no {{wait.taint}} (control planes):
# wait up to 20 minutes for a Ready node they can run on ({{wait.pools}}).
i=0
until [ -n "$(schedulable_node {{wait.selector}} {{wait.tolerated}})" ]; do
  i=$((i + 1)); [ "$i" -le 120 ] || { echo "bootstrap stopped before {{wait.release}}: no Ready node {{wait.whoShort}} can run on after 20 minutes ({{wait.pools}}; kubectl get nodes)" >&2; exit 1; }
  sleep 10
done
{{/if}}

# {{comment}}
helm upgrade --install {{release}} {{chart}}{{#if repo}} --repo {{repo}}{{/if}} --version {{version}} \\
  --namespace {{namespace}} --create-namespace --values "$ROOT/"{{values}} --wait --timeout 10m
{{/each}}{{#unless waits}}
[ "$PHASE" = all ] || { echo "phase nodes done: {{nodesPhase}} installed"; exit 0; }
{{/unless}}`;

/**
 * The README's words on the bootstrap's wait for workers (the engine's pods stay off control planes:
 * the bootstrap is split rather than tolerating the control-plane taint).
 */
export const BOOTSTRAP_WAIT_NOTE = `The engine's own release does not tolerate the control-plane taint (\`node-role.kubernetes.io/control-plane:NoSchedule\`,
set once workers exist): the script first waits, up to 20 minutes, for a Ready node whose NoSchedule and NoExecute
taints its pods tolerate, and stops with the pools that must join instead of letting \`helm --wait\` time out.
\`sh <script> nodes\` installs only the releases before it (what nodes need to become Ready: the CNI, the cloud
controller) and stops; run it before workers join, then the whole script.`;
