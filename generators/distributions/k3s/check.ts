/**
 * Checker over rendered K3s files, for `npm run validate` (the shared checker in ../rancher/check.ts
 * with K3s' flag tables): flags of the pinned release per role, value types, `#cloud-config`
 * user-data within EC2's limit embedding exactly the standalone config, no secret in any config.
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { Diagnostic } from '../../validate/diagnostics.js';
import { checkConfigText, checkRenderedTargets, type RenderedCheckSpec } from '../rancher/check.js';
import { K3S_PATHS } from './config.js';
import { K3S_CATALOG } from './flags.js';
import { K3S_DIR } from './render.js';

// A function: the registry (imported through core modules) may load this module before ./config.js.
const SPEC = (): RenderedCheckSpec => ({ rule: 'k3s', product: 'K3s', dir: K3S_DIR, configPath: K3S_PATHS.config, flags: K3S_CATALOG, datastoreVariable: 'K3S_DATASTORE_ENDPOINT' });

/** Check one rendered K3s config text; `file` is the path reported (relative to the repo). */
export function checkK3sConfigText(file: string, text: string, role: 'server' | 'agent'): Diagnostic[] {
  return checkConfigText(SPEC(), file, text, role);
}

/** Check the K3s files of one rendered environment (`files`: path relative to rendered/<env>/ → text). */
export function checkRenderedK3s(m: EnvironmentModel, files: ReadonlyMap<string, string>): Diagnostic[] {
  if (m.cluster.distribution !== 'k3s') return [];
  return checkRenderedTargets(SPEC(), m, files);
}
