import { join } from 'node:path';
import { renderEnvironment } from '../pipeline.js';
import { FindingsError, hasErrors, InputError } from '../validate/diagnostics.js';
import { listFiles, listRenderedEnvironments, planEnvironment, RENDERED_DIR } from '../write/writer.js';
import { parseCommand, run } from './common.js';
import { prepareAll } from './prepare.js';

const HELP = `Usage: npm run check

Render every environment in memory and compare with rendered/. Exit 1 listing stale, missing and
extra files (the CI gate: run npm run synth and commit). Writes nothing.`;

async function main(argv: string[]): Promise<number> {
  const { common } = parseCommand(argv, {}, HELP);
  const { prepared, diagnostics, names } = prepareAll(common.root, undefined);
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  const renderedRoot = join(common.root, RENDERED_DIR);
  const lines: string[] = [];
  let total = 0;
  for (const p of prepared) {
    const files = renderEnvironment(p);
    total += files.length;
    const plan = planEnvironment(renderedRoot, p.name, files);
    for (const f of plan.stale) lines.push(`stale    ${RENDERED_DIR}/${p.name}/${f}`);
    for (const f of plan.missing) lines.push(`missing  ${RENDERED_DIR}/${p.name}/${f}`);
    for (const f of plan.extra) lines.push(`extra    ${RENDERED_DIR}/${p.name}/${f}`);
  }
  for (const orphan of listRenderedEnvironments(renderedRoot).filter((e) => !names.includes(e)))
    for (const f of listFiles(join(renderedRoot, orphan))) lines.push(`extra    ${RENDERED_DIR}/${orphan}/${f}  (no environments/${orphan}.yaml)`);
  if (lines.length > 0) throw new FindingsError(`${lines.join('\n')}\n\nrendered/ is out of date: run npm run synth and commit the result.`);
  process.stdout.write(`rendered/ is up to date (${prepared.length} environments, ${total} files)\n`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
