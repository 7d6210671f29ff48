/**
 * Build step (generators/build/build.mjs bundles and runs this): the environment schema's ajv
 * validator as standalone code in `dir`, named by precompiledName(), so the commands load it instead
 * of compiling the schema at every start. Older validators in `dir` are removed. The schema is the
 * composition of the built-in distributions and engines (generators/schema/compose.ts).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentSchemaText } from '../schema/compose.js';
import { environmentValidatorCode, precompiledName } from '../validate/schema.js';

export function writePrecompiled(dir: string): string {
  const text = environmentSchemaText();
  const name = precompiledName(text);
  mkdirSync(dir, { recursive: true });
  const existing = readdirSync(dir);
  if (!existing.includes(name)) {
    const tmp = join(dir, `.${name}.${process.pid}`);
    writeFileSync(tmp, environmentValidatorCode(text));
    renameSync(tmp, join(dir, name));
  }
  for (const f of existing) if (f !== name && /^environment-[0-9a-f]+\.cjs$/.test(f)) rmSync(join(dir, f), { force: true });
  return join(dir, name);
}
