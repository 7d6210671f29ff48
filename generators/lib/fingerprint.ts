/**
 * The generator's fingerprint: sha256 over its code (generators/), its schemas (schemas/, the chart
 * key tables included), its locked dependencies (package.json, package-lock.json) and tsconfig.json. Anything that
 * can change a rendered byte changes it; the incremental state is only trusted under the same
 * fingerprint. A compiled command (dist/, see generators/build/build.mjs) takes the hash its build
 * recorded in dist/.stamp: the inputs of the code that is actually running, without reading them again.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { BUILD_DIR } from './project-root.js';

const PARTS = ['generators', 'schemas', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** The build's record of its inputs, when this code runs from a bundle. */
function builtFrom(projectRoot: string): string | undefined {
  if (import.meta.url.endsWith('.ts')) return undefined;
  try {
    const stamp = JSON.parse(readFileSync(join(projectRoot, BUILD_DIR, '.stamp'), 'utf8')) as { inputs?: unknown };
    return typeof stamp.inputs === 'string' ? `build:${stamp.inputs}` : undefined;
  } catch {
    return undefined;
  }
}

export function generatorFingerprint(projectRoot: string): string {
  const built = builtFrom(projectRoot);
  if (built) return built;
  const h = createHash('sha256');
  const add = (rel: string): void => {
    const abs = join(projectRoot, rel);
    if (!existsSync(abs)) return;
    if (!statSync(abs).isDirectory()) {
      h.update(`${rel}\0`).update(readFileSync(abs)).update('\0');
      return;
    }
    for (const name of readdirSync(abs).sort()) add(`${rel}/${name}`);
  };
  for (const p of PARTS) add(p);
  return h.digest('hex');
}
