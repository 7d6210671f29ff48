/**
 * The generator's fingerprint: sha256 over its code (generators/), its schemas (schemas/, the chart
 * key tables included) and its locked dependencies (package-lock.json). Anything that can change a
 * rendered byte changes it; the incremental state is only trusted under the same fingerprint.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

const PARTS = ['generators', 'schemas', 'package.json', 'package-lock.json'];

export function generatorFingerprint(projectRoot: string): string {
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
