/**
 * Checker over rendered RKE2 files, for `npm run validate` (the shared checker in ../rancher/check.ts
 * with RKE2's flag tables): flags of the pinned release per role, value types, `#cloud-config`
 * user-data within EC2's limit embedding exactly the standalone config, no secret in any config.
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { Diagnostic } from '../../validate/diagnostics.js';
import { checkConfigText, checkRenderedTargets, type RenderedCheckSpec } from '../rancher/check.js';
import { RKE2_PATHS } from './config.js';
import { RKE2_CATALOG } from './flags.js';
import { RKE2_DIR } from './render.js';

// A function: the registry (imported through core modules) may load this module before ./config.js.
const SPEC = (): RenderedCheckSpec => ({ rule: 'rke2', product: 'RKE2', dir: RKE2_DIR, configPath: RKE2_PATHS.config, flags: RKE2_CATALOG, datastoreVariable: 'RKE2_DATASTORE_ENDPOINT' });

/** Check one rendered RKE2 config text; `file` is the path reported (relative to the repo). */
export function checkRke2ConfigText(file: string, text: string, role: 'server' | 'agent'): Diagnostic[] {
  return checkConfigText(SPEC(), file, text, role);
}

/** Check the RKE2 files of one rendered environment (`files`: path relative to rendered/<env>/ → text). */
export function checkRenderedRke2(m: EnvironmentModel, files: ReadonlyMap<string, string>): Diagnostic[] {
  if (m.cluster.distribution !== 'rke2') return [];
  return checkRenderedTargets(SPEC(), m, files);
}
