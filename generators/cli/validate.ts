/**
 * `npm run validate`: one report over the environment files and the whole rendered tree.
 */
import { readRenderedDir, onlyEnvironments } from '../diff/sources.js';
import { sortDiagnostics, UsageError, type Diagnostic } from '../validate/diagnostics.js';
import { existsSync } from 'node:fs';
import { builtinSchemaNote } from '../validate/k8s-models.js';
import { loadKubernetesValidator } from '../validate/kubernetes.js';
import { kubernetesSchemaChecker, kubernetesSchemaCheckerWith } from '../validate/rendered/kubernetes.js';
import { checkRenderedTree, fileCheckers } from '../validate/rendered/registry.js';
import { parseRenderedTree } from '../validate/rendered/tree.js';
import { checkMotion } from '../validate/motion/index.js';
import { distributionOf, distributions } from '../distributions/registry.js';
import { RENDERED_DIR } from '../write/writer.js';
import { formatReported, parseCommand, plural, run, splitList, summary } from './common.js';
import { prepareAll } from './prepare.js';

const HELP = `Usage: npm run validate [-- --env a,b]

One report over the environment files and the whole rendered tree:
  1. environment files: JSON Schema, then semantic rules;
  2. rendered/: Kubernetes objects and custom resources strictly against their schemas (unknown
     fields rejected)${distributions().map((d) => (d.checks.help ? `, ${d.checks.help}` : '')).join('')};
  3. policies: no secret-shaped value, images pinned (never latest), charts by exact version, PSS
     labels on workload namespaces, requests on every container, no wildcard in AppProjects, every
     Application source path and values file exists, no object rendered twice, every Application
     within its AppProject (destination, repositories, manifest namespaces).
Built-in kinds are checked against the schemas kubernetes-models ships (Kubernetes 1.34 API; a note
names each environment on another minor). With
--kubernetes-schemas DIR (a directory of OpenAPI v3 documents of your exact Kubernetes version, e.g.
kubernetes/api/openapi-spec/v3 or kubectl-validate's builtins/<version>), the kinds it holds are
checked against it instead.

Each finding: file:line:col  document.path: message  (hint). A warning about an environment file
ends with its rule id: acknowledge: [{ rule, path, reason }] in that file silences it (an entry
matching no warning is an error). Exit 1 when there is an error;
warnings alone exit 0.

Options:
  --env a,b                    only these environments
  --kubernetes-schemas DIR     OpenAPI v3 schemas of the target Kubernetes version`;

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const { values, common } = parseCommand(argv, { env: { type: 'string' }, 'kubernetes-schemas': { type: 'string' } }, HELP);
  const requested = splitList(values.env);
  const { prepared, diagnostics, names, acknowledged } = prepareAll(common.root, requested);
  const findings: Diagnostic[] = [...diagnostics];
  const models = prepared.map((p) => p.model);
  const versions = new Map(models.map((m) => [m.name, m.cluster.kubernetesVersion]));
  const files = onlyEnvironments(readRenderedDir(common.root), requested);
  const tree = parseRenderedTree(files, versions, new Map(models.map((m) => [m.name, m.aws.vpc.subnets])));
  const schemaDir = values['kubernetes-schemas'];
  let checkers = fileCheckers();
  if (typeof schemaDir === 'string') {
    if (!existsSync(schemaDir)) throw new UsageError(`--kubernetes-schemas: no directory ${schemaDir}`);
    const openApi = loadKubernetesValidator(schemaDir);
    if (openApi.kinds.size === 0) throw new UsageError(`--kubernetes-schemas: no OpenAPI v3 documents (*.json) in ${schemaDir}`);
    checkers = checkers.map((c) => (c === kubernetesSchemaChecker ? kubernetesSchemaCheckerWith(openApi) : c));
  }
  findings.push(...(await checkRenderedTree(tree, checkers)));
  // The first sync, simulated with each environment's engine (validate/motion/).
  findings.push(...checkMotion(tree, models));
  // Checks of node configs that need the model (which target is a server, which an agent).
  for (const m of models) {
    const own = new Map([...files].filter(([p]) => p.startsWith(`${m.name}/`)).map(([p, c]) => [p.slice(m.name.length + 1), c]));
    findings.push(...(distributionOf(m).checks.environment?.(m, own) ?? []));
  }
  for (const d of sortDiagnostics(findings)) process.stdout.write(formatReported(d) + '\n');
  const note = typeof schemaDir === 'string' ? undefined : builtinSchemaNote(models.map((m) => ({ name: m.name, kubernetesVersion: m.cluster.kubernetesVersion })));
  if (note) process.stdout.write(note + '\n');
  const errors = findings.filter((d) => d.severity === 'error').length;
  const warnings = findings.length - errors;
  summary('validate', `${plural(names.length, 'environment')}, ${plural(files.size, 'rendered file')}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}${acknowledged > 0 ? ` (${acknowledged} acknowledged)` : ''}`, started);
  return errors > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
