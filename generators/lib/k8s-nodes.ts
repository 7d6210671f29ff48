/**
 * A fixed node's Kubernetes Node, for the commands the review comment prints. On AWS a Node is not named after the
 * environment file's node name: every distribution here names it after the EC2 hostname (each distribution's folder
 * says how: the platform's hostname, or node-name set at boot to the private DNS name). So `kubectl drain cp-2` finds
 * no Node; the node's private address, which the environment fixes, finds it: the Node's InternalIP (the kubelet's
 * --node-ip, reported in status.addresses).
 */

/** kubectl arguments listing every Node as `<name> <InternalIP>` lines (runbook scripts and review commands alike). */
export const NODE_ADDRESS_LIST = `get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}'`;

/** A shell expression printing the name of the Node whose InternalIP is `address` (validated as an IP before it is used). */
export function nodeNameByAddress(address: string): string {
  // A shell variable holding the address (a loop over a pool's addresses) is passed to awk as a variable, not spliced.
  const variable = /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(address);
  if (!variable && !/^[0-9a-fA-F.:]+$/.test(address)) throw new Error(`not an IP address: ${JSON.stringify(address)}`);
  const match = variable ? `awk -v a="${address}" '$2 == a { print $1 }'` : `awk '$2 == "${address}" { print $1 }'`;
  return `$(kubectl ${NODE_ADDRESS_LIST} | ${match})`;
}

/** How a command names a fixed node's Node: by its address when the environment gives one, else by its name. */
export function nodeRef(node: string, address: string | undefined): string {
  return address === undefined ? node : `"${nodeNameByAddress(address)}"`;
}

/** The review's drain of a fixed node about to be removed: the `removal` row of the one drain table (./node-drain.ts). */
export { removalDrain } from './node-drain.js';
