/**
 * The one list of distributions: the core reaches a distribution only through these functions. The
 * order is the order of their schema fragments, rules and checks; the first is the default.
 */
import { k3s } from './k3s/index.js';
import type { RancherDiffEntries } from './rancher/impact.js';
import type { K3sClusterInput, K3sPoolInput } from './k3s/model.js';
import { rke2 } from './rke2/index.js';
import type { Rke2ClusterInput, Rke2PoolInput } from './rke2/model.js';
import { talos } from './talos/index.js';
import type { TalosDiffEntries, TalosDiffTotals } from './talos/diff.js';
import type { TalosBackupInput, TalosClusterInput, TalosPoolInput } from './talos/model.js';
import type { Distribution } from './types.js';

/** The `cluster` keys of the built-in distributions (their schema fragments), for EnvironmentInput. */
export type ClusterInputs = TalosClusterInput & K3sClusterInput & Rke2ClusterInput;
/** The `cluster.datastore.backup` keys of the built-in distributions, for EnvironmentInput. */
export type BackupInputs = TalosBackupInput;
/** The `nodePools[]` keys of the built-in distributions, for NodePoolInput. */
export type PoolInputs = TalosPoolInput & K3sPoolInput & Rke2PoolInput;

/** The keys the built-in distributions add to an environment's diff (Distribution.diff.impact), for EnvDiff. */
export type DiffEntries = TalosDiffEntries & RancherDiffEntries<'k3s'> & RancherDiffEntries<'rke2'>;
/** The keys they add to the diff's totals, for TreeDiff. */
export type DiffTotals = TalosDiffTotals;

/** Distributions registered at run time (tests: a toy from test/fixtures/toy/). */
const registered: Distribution[] = [];

/**
 * Every distribution, built in first. A function, not a constant: the distributions' modules import
 * core modules that import this one, so the list is read when it is used, never while modules load.
 */
export function distributions(): readonly Distribution[] {
  return [talos, k3s, rke2, ...registered];
}

/** The distribution named `name` (the `cluster.distribution` value), if registered. */
export function distributionNamed(name: string | undefined): Distribution | undefined {
  return distributions().find((d) => d.name === name);
}

/** The distribution of a validated environment (the schema admits registered names only). */
export function distributionOf(model: { cluster: { distribution: string } }): Distribution {
  const d = distributionNamed(model.cluster.distribution);
  if (!d) throw new Error(`no distribution '${model.cluster.distribution}' is registered (${distributions().map((x) => x.name).join(', ')})`);
  return d;
}

/** The registered distributions that run a datastore type (`cluster.datastore.type`), in registry order (for hints). */
export const distributionsRunning = (type: string): Distribution[] => distributions().filter((d) => d.datastores.includes(type));

/** Add a distribution until the returned function is called (tests). */
export function registerDistribution(d: Distribution): () => void {
  if (distributionNamed(d.name)) throw new Error(`a distribution '${d.name}' is registered already`);
  registered.push(d);
  return () => {
    const i = registered.indexOf(d);
    if (i !== -1) registered.splice(i, 1);
  };
}
