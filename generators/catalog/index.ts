/**
 * The add-on catalog: the core's entries (one module per add-on, each pinning its chart to an exact
 * version) and those the distributions and engines contribute (Distribution.addons, Engine.addon).
 */
import { distributions } from '../distributions/registry.js';
import { engines } from '../engines/registry.js';
import { awsCloudControllerManager } from './aws-cloud-controller-manager.js';
import { awsEbsCsiDriver } from './aws-ebs-csi-driver.js';
import { awsLoadBalancerController } from './aws-load-balancer-controller.js';
import { awsNodeTerminationHandler } from './aws-node-termination-handler.js';
import { certManager } from './cert-manager.js';
import { cilium } from './cilium.js';
import { externalSecrets } from './external-secrets.js';
import { kubePrometheusStack } from './kube-prometheus-stack.js';
import { metricsServer } from './metrics-server.js';
import { nvidiaDevicePlugin } from './nvidia-device-plugin.js';
import type { CatalogEntry } from './types.js';

/** The core's entries: what every environment may run, whatever its distribution and engine. */
const CORE = (): CatalogEntry[] => [awsCloudControllerManager, awsEbsCsiDriver, awsLoadBalancerController, awsNodeTerminationHandler, certManager, cilium, externalSecrets, kubePrometheusStack, metricsServer, nvidiaDevicePlugin];

/** Who contributes an entry that is not the core's: a distribution's or an engine's title. */
interface Contributed {
  entry: CatalogEntry;
  owner?: string;
}

let cached: { of: readonly object[]; entries: Map<string, Contributed> } | undefined;

/** Every entry by name, sorted by name (composed once per set of registered distributions and engines). */
function catalog(): Map<string, Contributed> {
  const ds = distributions();
  const es = engines();
  const of = [...ds, ...es];
  if (cached && cached.of.length === of.length && cached.of.every((x, i) => x === of[i])) return cached.entries;
  const all: Contributed[] = [
    ...CORE().map((entry) => ({ entry })),
    ...ds.flatMap((d) => (d.addons?.entries ?? []).map((entry) => ({ entry, owner: d.title }))),
    ...es.map((e) => ({ entry: e.addon, owner: e.title })),
  ];
  const entries = new Map<string, Contributed>();
  for (const c of all.sort((a, b) => (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0))) {
    const seen = entries.get(c.entry.name);
    // The same entry contributed by several distributions (a family's shared add-on) is one entry.
    if (seen && seen.entry === c.entry && seen.owner !== undefined && c.owner !== undefined) {
      entries.set(c.entry.name, { entry: c.entry, owner: `${seen.owner}/${c.owner}` });
      continue;
    }
    if (seen) throw new Error(`two catalog add-ons are named '${c.entry.name}'`);
    entries.set(c.entry.name, c);
  }
  cached = { of, entries };
  return entries;
}

/** The names of the add-ons the catalog knows, sorted; any other add-on name is a third-party chart. */
export const catalogNames = (): string[] => [...catalog().keys()];

export const isCatalogAddon = (name: string): boolean => catalog().has(name);

/** The entry of a catalog add-on (isCatalogAddon first). */
export function catalogEntry(name: string): CatalogEntry {
  const c = catalog().get(name);
  if (!c) throw new Error(`'${name}' is not in the add-on catalog`);
  return c.entry;
}

/** Every entry, sorted by name. */
export const catalogEntries = (): CatalogEntry[] => [...catalog().values()].map((c) => c.entry);

/** The title of the distribution or engine that contributes a catalog add-on (undefined: the core's). */
export const addonOwner = (name: string): string | undefined => catalog().get(name)?.owner;

/** Add-ons that cannot take a role: only the pod identity webhook would read their annotation (CatalogEntry.iamRole node-role). */
export const nodeRoleAddons = (): string[] => catalogEntries().filter((e) => e.iamRole === 'node-role').map((e) => e.name);
/** Add-ons that assume `settings.iamRoleArn` with IRSA (CatalogEntry.iamRole irsa). */
export const irsaAddons = (): string[] => catalogEntries().filter((e) => e.iamRole === 'irsa').map((e) => e.name);

/**
 * The order key (CatalogEntry.syncWave) of third-party charts declared by an environment: they are listed after every
 * catalog add-on. What is applied when comes from the delivery graph (plan/graph.ts), not from this number.
 */
export const THIRD_PARTY_SYNC_WAVE = 2;
