import { readEnvironmentSources } from '../load/loader.js';
import { formatBench, runBench } from '../bench/bench.js';
import { UsageError } from '../validate/diagnostics.js';
import { parseCommand, run, splitList, summary } from './common.js';

const HELP = `Usage: npm run bench [-- --n 10,100]

Scale benchmark: N synthetic environments (copies of prod — its pools, add-ons and workloads —
with other names and address ranges) rendered in memory through the real pipeline. Prints the time
per environment next to the floor: a bare node process serializing the same objects with yaml
(the rendered files parsed back to objects), and their ratio. Writes nothing.`;

async function main(argv: string[]): Promise<number> {
  const { values, common } = parseCommand(argv, { n: { type: 'string' } }, HELP);
  const ns = (splitList(values.n) ?? ['10', '100']).map(Number);
  if (ns.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--n ${String(values.n)}: expected positive integers, e.g. 10,100`);
  const started = performance.now();
  const sources = readEnvironmentSources(common.root);
  const rows = ns.map((n) => runBench(common.root, sources, n));
  process.stdout.write(formatBench(rows));
  summary('bench', `${rows.map((r) => `N=${r.environments}: ${r.renderMsPerEnv.toFixed(0)} ms per environment, ${r.ratio.toFixed(1)}× the floor`).join('; ')}`, started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
