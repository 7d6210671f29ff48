import { readEnvironmentSources } from '../load/loader.js';
import { prepareEnvironment, selectEnvironments } from '../pipeline.js';
import { readRenderedDir, onlyEnvironments } from '../diff/sources.js';
import { formatDiagnostic, sortDiagnostics, UsageError, type Diagnostic } from '../validate/diagnostics.js';
import { checkRenderedTree } from '../validate/rendered/registry.js';
import { parseRenderedTree } from '../validate/rendered/tree.js';
import type { EnvironmentModel } from '../model/types.js';
import { checkRenderedK3s } from '../render/k3s/check.js';
import { RENDERED_DIR } from '../write/writer.js';
import { parseCommand, run, splitList } from './common.js';

const HELP = `Usage: npm run validate [-- --env a,b]

One report over the environment files and the whole rendered tree:
  1. environment files: JSON Schema, then semantic rules;
  2. rendered/: Kubernetes objects and custom resources strictly against their schemas (unknown
     fields rejected), Talos documents against the Talos rules;
  3. policies: no secret-shaped value, images pinned (never latest), charts by exact version, PSS
     labels on workload namespaces, requests on every container, no wildcard in AppProjects, every
     Application source path and values file exists, no object rendered twice.
Each finding: file:line:col  document.path: message  (hint). Exit 1 when there is an error;
warnings alone exit 0.`;

async function main(argv: string[]): Promise<number> {
  const { values, common } = parseCommand(argv, { env: { type: 'string' } }, HELP);
  const sources = readEnvironmentSources(common.root);
  const requested = splitList(values.env);
  const { names, unknown } = selectEnvironments(sources, requested);
  if (unknown.length > 0) throw new UsageError(`no such environment: ${unknown.join(', ')}`);
  const findings: Diagnostic[] = [];
  const versions = new Map<string, string>();
  const models: EnvironmentModel[] = [];
  for (const name of names) {
    const r = prepareEnvironment(name, sources);
    findings.push(...r.diagnostics);
    if (r.prepared) {
      versions.set(name, r.prepared.model.cluster.kubernetesVersion);
      models.push(r.prepared.model);
    }
  }
  const files = onlyEnvironments(readRenderedDir(common.root), requested);
  const tree = parseRenderedTree(files, versions);
  findings.push(...(await checkRenderedTree(tree)));
  // K3s configs and user-data need the model (which target is a server, which an agent).
  for (const m of models) {
    const own = new Map([...files].filter(([p]) => p.startsWith(`${m.name}/`)).map(([p, c]) => [p.slice(m.name.length + 1), c]));
    findings.push(...checkRenderedK3s(m, own));
  }
  for (const d of sortDiagnostics(findings)) process.stdout.write(formatDiagnostic(d) + '\n');
  const errors = findings.filter((d) => d.severity === 'error').length;
  const warnings = findings.length - errors;
  process.stdout.write(`${names.length} environments, ${files.size} rendered files in ${RENDERED_DIR}/: ${errors} errors, ${warnings} warnings\n`);
  return errors > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
