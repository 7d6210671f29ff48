/**
 * `npm run artifacts -- record [--product P --version V]`: record the sha256 of what the family's
 * nodes download into each distribution's artifacts.lock.json (../record.ts; needs network to
 * github.com), then `npm run synth` puts them into the user data.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distributions } from '../../registry.js';
import type { RancherDistribution } from '../model.js';
import { recordArtifacts, lockText } from '../record.js';
import { UsageError } from '../../../validate/diagnostics.js';
import { parseCommand, run, summary } from '../../../cli/common.js';

const HELP = `Usage: npm run artifacts -- record [--product P --version V]

  record  Download every artifact the nodes of this family install for the releases the generator pins
          (or one --product/--version), check each against the release's own checksum file, and write
          the sha256 into generators/distributions/<name>/artifacts.lock.json. Needs network to github.com.
          A value that cannot be read or disagrees is not written: the nodes keep refusing that release.

Options: --root DIR (repository), --debug, -h/--help.
Exit codes: 0 ok, 1 some artifacts not recorded, 2 usage.`;

export async function main(argv: string[]): Promise<number> {
  const { values, positionals, common } = parseCommand(argv, { product: { type: 'string' }, version: { type: 'string' } }, HELP, true);
  if (positionals.join(' ') !== 'record') throw new UsageError(HELP);
  const started = performance.now();
  const today = new Date().toISOString().slice(0, 10);
  const origins = { github: process.env.ODP_GITHUB_ORIGIN, raw: process.env.ODP_RAW_ORIGIN };
  let recorded = 0;
  let missing = 0;
  for (const d of distributions()) {
    const keys = (d as Partial<RancherDistribution>).family;
    if (!keys) continue;
    const facts = keys.artifacts();
    const want = typeof values.product === 'string' && typeof values.version === 'string' ? [{ product: values.product, version: values.version }].filter((x) => facts.products.some((p) => p.product === x.product)) : undefined;
    if (want && want.length === 0) continue;
    const file = join(common.root, facts.lockFile);
    const { lock, outcomes } = await recordArtifacts({ ...facts, lock: JSON.parse(readFileSync(file, 'utf8')) }, { today, origins }, want);
    writeFileSync(file, lockText(lock));
    for (const o of outcomes) process.stderr.write(`${o.sha256 ? 'recorded' : 'NOT recorded'} ${o.product} ${o.version} ${o.key}${o.sha256 ? ` ${o.sha256}` : `: ${o.note}`}\n`);
    recorded += outcomes.filter((o) => o.sha256).length;
    missing += outcomes.filter((o) => !o.sha256).length;
  }
  summary('artifacts record', `${recorded} sha256 recorded, ${missing} not recorded${recorded > 0 ? '; run npm run synth' : ''}`, started, process.stdout);
  return missing > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'artifacts');
