/**
 * An environment's versions at a past commit, from its provenance manifest there: the manifest names
 * the environment files the tree was rendered from (`sources`), which are read at the same commit and
 * merged as synth merges them. Pure: files are read through `show(commit, path)`.
 */
import { resolveEnvironment } from '../load/loader.js';
import { parseManifest, PROVENANCE_FILE } from '../write/provenance.js';
import { promotableItems } from './items.js';

export const manifestPath = (env: string): string => `rendered/${env}/${PROVENANCE_FILE}`;

/** Item id → version in `env`'s rendered tree at `commit` (empty when the manifest or its sources cannot be read). */
export function versionsAt(env: string, commit: string, show: (commit: string, path: string) => string | undefined): Map<string, string | undefined> {
  const text = show(commit, manifestPath(env));
  const manifest = text === undefined ? undefined : parseManifest(text);
  if (!manifest) return new Map();
  const sources = new Map<string, string>();
  for (const f of manifest.sources) {
    const t = show(commit, f);
    if (t !== undefined) sources.set(f, t);
  }
  const data = resolveEnvironment(env, sources).env?.data;
  return new Map(data ? promotableItems(data).map((i) => [i.id, i.value]) : []);
}
