import { join } from 'node:path';
import { renderEnvironment } from '../pipeline.js';
import { FindingsError, hasErrors, InputError } from '../validate/diagnostics.js';
import { readRenderedDir, onlyEnvironments } from '../diff/sources.js';
import { manifestDisagreements, parseManifest, PROVENANCE_FILE, staleReason } from '../write/provenance.js';
import { listFiles, listRenderedEnvironments, planEnvironment, RENDERED_DIR } from '../write/writer.js';
import { parseCommand, plural, run, splitList, summary } from './common.js';
import { prepareAll } from './prepare.js';

const HELP = `Usage: npm run check [-- --env a,b]

Render the environments in memory and compare with rendered/ (the CI gate). Exit 1 listing stale,
missing and extra files, each stale file with why (from rendered/<env>/${PROVENANCE_FILE}: which
inputs changed, or none: then the generator changed or the file was edited), and every way a
committed provenance manifest disagrees with the tree it describes. Then run npm run synth and
commit. Writes nothing.

Options:
  --env a,b    only these environments (default: all, and then trees of deleted environments
               are reported too)`;

async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const { values, common } = parseCommand(argv, { env: { type: 'string' } }, HELP);
  const requested = splitList(values.env);
  const { prepared, diagnostics, names } = prepareAll(common.root, requested);
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  const renderedRoot = join(common.root, RENDERED_DIR);
  const onDisk = onlyEnvironments(readRenderedDir(common.root), names);
  const lines: string[] = [];
  let total = 0;
  for (const p of prepared) {
    const files = renderEnvironment(p);
    total += files.length + 1;
    const own = new Map([...onDisk].filter(([k]) => k.startsWith(`${p.name}/`)).map(([k, v]) => [k.slice(p.name.length + 1), v]));
    const manifestText = own.get(PROVENANCE_FILE);
    const committed = manifestText === undefined ? undefined : parseManifest(manifestText);
    const plan = planEnvironment(renderedRoot, p.name, files);
    const byPath = new Map(files.map((f) => [f.path, f]));
    for (const f of plan.stale) {
      const why = byPath.has(f) ? staleReason(committed, byPath.get(f)!) : '';
      lines.push(`stale    ${RENDERED_DIR}/${p.name}/${f}${why ? `  (${why})` : ''}`);
    }
    for (const f of plan.missing) lines.push(`missing  ${RENDERED_DIR}/${p.name}/${f}`);
    for (const f of plan.extra) lines.push(`extra    ${RENDERED_DIR}/${p.name}/${f}`);
    if (own.size > 0) for (const d of manifestDisagreements(manifestText, own)) lines.push(`manifest ${RENDERED_DIR}/${p.name}/${PROVENANCE_FILE}: ${d}`);
  }
  if (!requested)
    for (const orphan of listRenderedEnvironments(renderedRoot).filter((e) => !names.includes(e)))
      for (const f of listFiles(join(renderedRoot, orphan))) lines.push(`extra    ${RENDERED_DIR}/${orphan}/${f}  (no environments/${orphan}.yaml)`);
  const what = `${plural(names.length, 'environment')}, ${plural(total, 'file')}`;
  if (lines.length > 0) {
    process.stderr.write(`${lines.join('\n')}\n\nrendered/ is out of date: run npm run synth and commit the result.\n`);
    summary('check', `${what}: ${plural(lines.length, 'finding')}`, started);
    throw new FindingsError('');
  }
  summary('check', `${what}: rendered/ is up to date`, started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
