/**
 * The runbook step that brings a running fixed node to the environment's current config (`<name>/apply-config.sh`),
 * run as root on the node: `sh apply-config.sh <node>`. The config a fixed node boots with is its base-stack parameter
 * (./node-config.ts), read once at first boot; a settings merge changes that value and touches no instance, so a running
 * node keeps its file until this runs. The service reads /etc/rancher/<name>/config.yaml when it starts (./impact.ts:
 * a changed key applies after editing the file and restarting the service).
 *
 * One server at a time, each gated: on a server the script refuses to start unless every server of the environment
 * has a Ready Node (another one still restarting, or down, is a server this restart must not join), and after its
 * bounded restart (./boot.ts boundedStartLines) it waits until every server's Node is Ready again before it says the
 * next may go. Its kubectl asks the local API server with the server's admin kubeconfig (each member passes its kubectl
 * and kubeconfig, cited in its render.ts): a read that answers needs this server's API server and its datastore. An
 * agent (a fixed worker) has no admin kubeconfig: its gate is its bounded restart (the agent reports ready once its
 * Node is registered: each member's userdata.ts).
 *
 * It applies only the value of its own rendering: the parameter's sha256 must be the one rendered here (the base stack
 * deployed from the same commit); a node already holding it is left alone (no restart).
 */
import type { EnvironmentModel, Node } from '../../model/types.js';
import { shellValue } from '../../lib/shapes.js';
import { createHash } from 'node:crypto';
import { boundedStartLines, bootScriptOf, shQuote } from './boot.js';
import { configFileText, configParameterName } from './node-config.js';
import type { RancherKeys } from './model.js';
import { NODE_ADDRESS_LIST } from '../../lib/k8s-nodes.js';

export const APPLY_CONFIG_SCRIPT = 'apply-config.sh';
const TAG = 'odp-apply-config';

/** How long a server waits for every server's Node to be Ready again after its restart: GATE_TRIES × GATE_INTERVAL s. */
export const APPLY_GATE = { tries: 60, interval: 10 } as const;

export interface ApplyConfigSpec {
  keys: Pick<RancherKeys, 'name' | 'title' | 'unit'>;
  /** The config file of a fixed node (what its parameter holds). */
  config(n: Node): string;
  /** The kubectl command line on a server, with its admin kubeconfig. */
  kubectl: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function applyConfigScript(m: EnvironmentModel, s: ApplyConfigSpec): string | undefined {
  const fixed = m.pools.flatMap((p) => p.nodes.map((n) => ({ n, server: p.role === 'controlplane' })));
  if (fixed.length === 0) return undefined;
  const path = `/etc/rancher/${s.keys.name}/config.yaml`;
  const servers = fixed.filter((f) => f.server).map((f) => f.n.ip);
  const cases = fixed.map(({ n, server }) => {
    const param = shellValue('ssm-name', configParameterName(s.keys, m, n), `nodePools[].nodes[${n.name}]`);
    return `  ${shQuote(n.name)}) IP=${shQuote(n.ip)}; ROLE=${server ? 'server' : 'agent'}; PARAM=${shQuote(param)}; SHA=${sha256(configFileText(s.config(n)))} ;;`;
  });
  const head = [
    '#!/bin/sh',
    `# odp-gitops: apply environment ${m.name}'s current ${s.keys.title} config to one running fixed node, as root on it:`,
    `#   sh ${APPLY_CONFIG_SCRIPT} <node>`,
    '# Servers one at a time: it refuses while any server is not Ready and waits until all are Ready again after its',
    '# restart. The config comes from the node\'s SSM parameter (the base stack, deployed from this commit).',
  ];
  const ready = `${s.kubectl} get node "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'`;
  const body = [
    `CONFIG_FILE=${path}`,
    'NODE=${1:-}',
    'case "$NODE" in',
    ...cases,
    `  *) log ${shQuote(`usage: sh ${APPLY_CONFIG_SCRIPT} <node>; nodes: ${fixed.map((f) => f.n.name).join(', ')}`)}; exit 2 ;;`,
    'esac',
    'HERE=$(imds local-ipv4)',
    '[ "$HERE" = "$IP" ] || { log "this instance is $HERE, not $NODE ($IP): run it as root on $NODE"; exit 1; }',
    'NEW=$(ssm_parameter "$PARAM")',
    '[ "$(printf \'%s\\n\' "$NEW" | sha256sum | cut -d\' \' -f1)" = "$SHA" ] || { log "SSM parameter $PARAM does not hold the config of this script\'s commit: deploy the base stack from it first (Git sync, or deploy.sh base), or use the script of the commit the base stack runs"; exit 1; }',
    'if [ -f "$CONFIG_FILE" ] && [ "$(sha256sum < "$CONFIG_FILE" | cut -d\' \' -f1)" = "$SHA" ]; then log "$NODE runs this config already: nothing to do"; exit 0; fi',
    `UNIT=${s.keys.unit('agent')}`,
    `[ "$ROLE" = agent ] || UNIT=${s.keys.unit('server')}`,
    '# Every server Ready (its Node, found by address), asked through this server\'s API server.',
    'servers_ready() {',
    `  for ip in ${servers.join(' ')}; do`,
    `    name=$(${s.kubectl} ${NODE_ADDRESS_LIST} 2>/dev/null | awk -v ip="$ip" '$2 == ip { print $1 }')`,
    '    [ -n "$name" ] || { NOT_READY=$ip; return 1; }',
    `    [ "$(${ready} 2>/dev/null)" = True ] || { NOT_READY="$name ($ip)"; return 1; }`,
    '  done',
    '}',
    'if [ "$ROLE" = server ]; then',
    `  servers_ready || { log "server $NOT_READY is not Ready: apply to one server at a time, the next once every server is Ready again; nothing changed here"; exit 1; }`,
    'fi',
    'printf \'%s\\n\' "$NEW" > "$CONFIG_FILE.new"',
    'chmod 0600 "$CONFIG_FILE.new"',
    'mv -f "$CONFIG_FILE.new" "$CONFIG_FILE"',
    ...boundedStartLines('restart', '"$UNIT"', `it exits and systemd keeps restarting it (journalctl -u ${s.keys.unit('server')}, or ${s.keys.unit('agent')} on an agent): the new config is refused or keeps it from starting. Apply to no other node; fix the setting, merge, deploy the base stack and run this again`, s.keys.title),
    'if [ "$ROLE" = server ]; then',
    '  n=0',
    `  until servers_ready; do`,
    '    n=$((n + 1))',
    `    [ "$n" -le ${APPLY_GATE.tries} ] || { log "server $NOT_READY is not Ready ${APPLY_GATE.tries * APPLY_GATE.interval} s after $NODE restarted: apply to no other server until it is"; exit 1; }`,
    `    sleep ${APPLY_GATE.interval}`,
    '  done',
    '  log "$NODE: config applied, $UNIT restarted, every server Ready: the next server may go"',
    'else',
    '  log "$NODE: config applied, $UNIT restarted"',
    'fi',
    '',
  ];
  return bootScriptOf(TAG, head, body);
}
