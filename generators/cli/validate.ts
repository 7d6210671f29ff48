import { readEnvironmentSources } from '../load/loader.js';
import { prepareEnvironment, selectEnvironments } from '../pipeline.js';
import { formatDiagnostic, sortDiagnostics, UsageError, type Diagnostic } from '../validate/diagnostics.js';
import { parseCommand, run, splitList } from './common.js';

const HELP = `Usage: npm run validate [-- --env a,b]

Validate environment files (JSON Schema, then semantic rules) and report every finding at once as
file:line:col  path: message  (hint). Exit 1 when there is an error; warnings alone exit 0.`;

async function main(argv: string[]): Promise<number> {
  const { values, common } = parseCommand(argv, { env: { type: 'string' } }, HELP);
  const sources = readEnvironmentSources(common.root);
  const { names, unknown } = selectEnvironments(sources, splitList(values.env));
  if (unknown.length > 0) throw new UsageError(`no such environment: ${unknown.join(', ')}`);
  const findings: Diagnostic[] = [];
  for (const name of names) findings.push(...prepareEnvironment(name, sources).diagnostics);
  for (const d of sortDiagnostics(findings)) process.stdout.write(formatDiagnostic(d) + '\n');
  const errors = findings.filter((d) => d.severity === 'error').length;
  const warnings = findings.length - errors;
  process.stdout.write(`${names.length} environments: ${errors} errors, ${warnings} warnings\n`);
  return errors > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
