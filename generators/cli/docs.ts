/**
 * `npm run docs`: regenerate docs/reference/ from the sources (npm run check fails when it is stale).
 */
import { writeReference, REFERENCE_DIR } from '../docs/index.js';
import { LAYOUT_DESCRIPTIONS } from '../docs/layout.js';
import { parseCommand, plural, run, summary } from './common.js';

const HELP = `Usage: npm run docs

Regenerate the reference pages in ${REFERENCE_DIR}/ from the sources: the environment fields
(from schemas/environment.schema.json), the rule ids (from the code that reports them), the
rendered layout (from a render of the example environments and valid fixtures under test/fixtures/,
one line per path pattern from ${LAYOUT_DESCRIPTIONS}),
the diff format (a sample diff and the diff's types) and the commands (each one's --help).
Writes only the pages whose content changes and removes pages no longer generated.

npm run check fails, naming the page, when one is stale (it renders them in memory): run this and
commit the pages with the change that caused it.

Exit 1 when a rendered path pattern has no description, or a description no pattern: add or
remove its line in the descriptions file.`;

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const { common } = parseCommand(argv, {}, HELP);
  const r = await writeReference(common.root);
  for (const p of r.written) process.stdout.write(`wrote    ${p}\n`);
  for (const p of r.removed) process.stdout.write(`removed  ${p}\n`);
  summary('docs', `${plural(r.written.length + r.unchanged, 'page')}: ${r.written.length} written, ${r.unchanged} unchanged, ${r.removed.length} removed`, started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'docs');
