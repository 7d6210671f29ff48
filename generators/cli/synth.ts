import { join } from 'node:path';
import { envFile } from '../load/loader.js';
import { prepareAll } from './prepare.js';
import { renderEnvironment } from '../pipeline.js';
import { toYaml } from '../lib/yaml.js';
import { hasErrors, InputError } from '../validate/diagnostics.js';
import { listRenderedEnvironments, removeEnvironment, RENDERED_DIR, writeEnvironment } from '../write/writer.js';
import { parseCommand, printDiagnostics, progress, run, splitList } from './common.js';

const HELP = `Usage: npm run synth [-- options]

Render environments/<env>.yaml into rendered/<env>/. Offline and deterministic: SSM parameters come
from the committed environments/<env>.ssm.lock.json.

Options:
  --env a,b                render only these environments (default: all; trees of deleted
                           environments are removed only when rendering all)
  --print-resolved <env>   print the environment merged with its bases, and exit
  --debug                  stack traces for internal errors
  -h, --help               this help

Exit codes: 0 ok, 2 invalid environment or usage, 3 AWS failure.`;

async function main(argv: string[]): Promise<number> {
  const { values, common } = parseCommand(argv, { env: { type: 'string' }, 'print-resolved': { type: 'string' } }, HELP);
  const root = common.root;
  if (typeof values['print-resolved'] === 'string') {
    const name = values['print-resolved'];
    const { prepared, diagnostics } = prepareAll(root, [name]);
    if (hasErrors(diagnostics) || !prepared[0]) throw new InputError(diagnostics);
    process.stdout.write(`# ${envFile(name)} merged with its bases (${prepared[0].resolved.files.join(' ← ')})\n`);
    process.stdout.write(toYaml(prepared[0].resolved.data));
    return 0;
  }
  const requested = splitList(values.env);
  const { prepared, diagnostics, names } = prepareAll(root, requested);
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  printDiagnostics(diagnostics); // warnings
  // Render everything in memory first: nothing is written unless every environment renders.
  const rendered = prepared.map((p) => ({ p, files: renderEnvironment(p) }));
  const renderedRoot = join(root, RENDERED_DIR);
  for (const { p, files } of rendered) {
    const r = writeEnvironment(renderedRoot, p.name, files);
    progress(`${p.name}: ${files.length} files, ${r.written.length} written, ${r.removed.length} removed`);
  }
  if (!requested) {
    for (const orphan of listRenderedEnvironments(renderedRoot).filter((e) => !names.includes(e))) {
      removeEnvironment(renderedRoot, orphan);
      progress(`${orphan}: environment file gone, rendered tree removed`);
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
