#!/usr/bin/env node
/**
 * A kubectl stub for npm run promote's health gate (test/promote-health.test.ts): `kubectl --context CTX get RESOURCE
 * (--namespace NS | --all-namespaces) [--selector k=v[,k=v]] --output json` answers from the world file named by
 * KUBECTL_STUB_WORLD: { contexts: { <name>: { unreachable?: "host:port", objects: { <resource>: [object, …] } } } }
 * (`--request-timeout` is accepted and moot: the stub answers at once).
 * Objects are served as the API server lists them (a List with `items`, filtered by namespace and label equality);
 * their status is whatever the test wrote, shaped as the controllers write it. Failures as kubectl reports them:
 * - an unknown context, exit 1, as kubectl v1.32.4 prints it (run here): with --namespace, `error: context "<name>" does
 *   not exist` (client-go's clientcmd, resolving the namespace first); without, `Error in configuration: context was not
 *   found for specified context: <name>` (clientcmd validation, kubectl pkg/cmd/util/helpers.go:191-192);
 * - an unreachable API server: `The connection to the server <host:port> was refused - did you specify the right host
 *   or port?`, exit 1 (kubernetes/kubectl pkg/cmd/util/helpers.go:262-272 at dee3483a3);
 * - a resource the cluster does not serve (its CRD not installed): `error: the server doesn't have a resource type
 *   "<plural>" in group "<group>"`, exit 1 (same file :194-200).
 * Every call is appended to KUBECTL_STUB_LOG when set.
 */
import { appendFileSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (process.env.KUBECTL_STUB_LOG) appendFileSync(process.env.KUBECTL_STUB_LOG, `${args.join(' ')}\n`);
const fail = (message) => {
  process.stderr.write(`${message}\n`);
  process.exit(1);
};
let context;
let namespace;
let all = false;
let selector;
let output;
const rest = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--context') context = args[++i];
  else if (a === '--namespace' || a === '-n') namespace = args[++i];
  else if (a === '--all-namespaces' || a === '-A') all = true;
  else if (a === '--selector' || a === '-l') selector = args[++i];
  else if (a === '--output' || a === '-o') output = args[++i];
  else if (a === '--request-timeout') i++; // the stub answers at once
  else rest.push(a);
}
if (rest[0] !== 'get' || rest.length !== 2 || output !== 'json') fail(`kubectl stub: only "get RESOURCE -o json" is modelled, not: ${args.join(' ')}`);
const world = JSON.parse(readFileSync(process.env.KUBECTL_STUB_WORLD, 'utf8'));
if (context === undefined) fail('error: current-context is not set');
const cluster = world.contexts?.[context];
if (!cluster) fail(namespace !== undefined ? `error: context "${context}" does not exist` : `Error in configuration: context was not found for specified context: ${context}`);
if (cluster.unreachable) {
  // client-go's discovery logs each failed attempt before kubectl prints its own message.
  const h = cluster.unreachable;
  process.stderr.write(`E1209 12:00:00.000000    4242 memcache.go:265] "Unhandled Error" err="couldn't get current server API group list: Get \\"https://${h}/api?timeout=32s\\": dial tcp ${h}: connect: connection refused"\n`);
  fail(`The connection to the server ${h} was refused - did you specify the right host or port?`);
}
const resource = rest[1];
const objects = cluster.objects?.[resource];
if (!objects) fail(`error: the server doesn't have a resource type "${resource.split('.')[0]}" in group "${resource.split('.').slice(1).join('.')}"`);
const wanted = (selector ?? '').split(',').filter(Boolean).map((kv) => kv.split('='));
const items = objects.filter(
  (o) => (all || o.metadata?.namespace === (namespace ?? 'default')) && wanted.every(([k, v]) => o.metadata?.labels?.[k] === v),
);
process.stdout.write(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, null, 2)}\n`);
