/**
 * The one list of GitOps engines: the core reaches an engine only through these functions. The order
 * is the order of their schema fragments, rules and checks; the first is the default (`gitops`).
 */
import type { SyncPolicyInput } from '../model/input.js';
import { argocd } from './argocd/index.js';
import { flux } from './flux/index.js';
import type { Engine } from './types.js';

/**
 * The environment key of the sync policy every engine follows (automated, prune, selfHeal) and of hub
 * mode (manages). It is named after the first engine and keeps that name: environment files stay valid.
 */
export const SYNC_POLICY_KEY = 'argocd';

/** The environment keys the engines read, for EnvironmentInput. */
export type EngineInputs = { [K in typeof SYNC_POLICY_KEY]?: SyncPolicyInput };

/** The sync policy section of an environment (`argocd:` in the file), if any. */
export const syncPolicyInput = (input: EngineInputs): SyncPolicyInput | undefined => input[SYNC_POLICY_KEY];

/** Engines registered at run time (tests: a toy from test/fixtures/toy/). */
const registered: Engine[] = [];

/**
 * Every engine, built in first. A function, not a constant: the engines' modules import core modules
 * that import this one, so the list is read when it is used, never while modules load.
 */
export function engines(): readonly Engine[] {
  return [argocd, flux, ...registered];
}

/** The engine an environment without `gitops` gets. */
export const defaultEngine = (): Engine => engines()[0]!;

/** The engine named `name` (the `gitops` value; undefined: the default), if registered. */
export function engineNamed(name: string | undefined): Engine | undefined {
  return name === undefined ? defaultEngine() : engines().find((e) => e.name === name);
}

/** The engine of a validated environment (the schema admits registered names only). */
export function engineOf(model: { gitops: string }): Engine {
  const e = engineNamed(model.gitops);
  if (!e) throw new Error(`no GitOps engine '${model.gitops}' is registered (${engines().map((x) => x.name).join(', ')})`);
  return e;
}

/** "gitops: <name>" of every engine but `name`, joined with "or" (for hints). */
export const otherEngines = (name: string): string =>
  engines()
    .filter((e) => e.name !== name)
    .map((e) => `gitops: ${e.name}`)
    .join(' or ');

/** Add an engine until the returned function is called (tests). */
export function registerEngine(e: Engine): () => void {
  if (engines().some((x) => x.name === e.name)) throw new Error(`an engine '${e.name}' is registered already`);
  registered.push(e);
  return () => {
    const i = registered.indexOf(e);
    if (i !== -1) registered.splice(i, 1);
  };
}
