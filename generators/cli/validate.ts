/**
 * `npm run validate`: one report over the environment files and the whole rendered tree.
 */
import { readRenderedDir, onlyEnvironments } from '../diff/sources.js';
import { sortDiagnostics, UsageError, type Diagnostic } from '../validate/diagnostics.js';
import { existsSync } from 'node:fs';
import { builtinSchemaNote } from '../validate/k8s-models.js';
import { loadKubernetesValidator } from '../validate/kubernetes.js';
import { kubernetesSchemaChecker, kubernetesSchemaCheckerWith } from '../validate/rendered/kubernetes.js';
import { checkRenderedTree, fileCheckers, treeCheckers } from '../validate/rendered/registry.js';
import { parseRenderedFile, parseRenderedTree, type ParsedFile, type RenderedTree } from '../validate/rendered/tree.js';
import { checkMotion } from '../validate/motion/index.js';
import { distributionOf, distributions } from '../distributions/registry.js';
import { baseOption, runningOf } from './running.js';
import { formatReported, parseCommand, parseWait, plural, progressReporter, run, splitList, summary, waitHelp, WAIT_OPTION, withRenderedLock, PROGRESS_HELP } from './common.js';
import { selectOrFail } from './prepare.js';
import { readEnvironmentSources } from '../load/loader.js';
import { prepareEnvironment } from '../pipeline.js';
import { explainAccess } from '../validate/access.js';
import { phaseTimes, phaseTimesSince } from '../lib/timing.js';
import type { EnvironmentModel } from '../model/types.js';

const HELP = `Usage: npm run validate [-- --env a,b] [--base REF] [--explain-access /ssm/name]

One report over the environment files and the whole rendered tree:
  1. environment files: JSON Schema, then semantic rules, and the versions they ask for against those
     rendered/<env>/.provenance.json records (a Kubernetes jump of two minors, a downgrade, or a release
     and Kubernetes change no order supports is refused, as npm run plan refuses it; with --base REF,
     the record at git revision REF, e.g. the pull request's base in CI);
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

With --explain-access NAME, validate prints instead the access graph of one SSM parameter in every
environment (of --env) that uses it: what it is, who needs it, the IAM identities that read it and
every route to it (reader → store or IMDS → role → parameter; ✗ marks a reader that does not need a
sensitive parameter), and where the environment file creates each route.

Options:
  --env a,b                    only these environments
  --base REF                   the running versions from rendered/ at git revision REF (CI: the
                               pull request's base; an empty REF, or one git does not know here:
                               exit 2; without git at all: the working tree, with a note)
  --explain-access NAME        the access graph of SSM parameter NAME (rule secret-access)
  --kubernetes-schemas DIR     OpenAPI v3 schemas of the target Kubernetes version
${waitHelp(31)}

${PROGRESS_HELP}

validate holds rendered/.odp-lock while it reads the tree, like synth and check (exit 3 when
another run still holds it after --wait).`;

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const { values, common } = parseCommand(argv, { env: { type: 'string' }, base: { type: 'string' }, 'kubernetes-schemas': { type: 'string' }, 'explain-access': { type: 'string' }, ...WAIT_OPTION }, HELP);
  if (typeof values['explain-access'] === 'string') return explain(common.root, splitList(values.env), values['explain-access']);
  const wait = parseWait(values.wait);
  // An empty or unknown --base (in a git work tree) is a usage error before the lock.
  const base = baseOption(common.root, values.base);
  return withRenderedLock(common.root, 'validate', wait, () => validateAll(common.root, values, base, started), { readOnly: true });
}

async function validateAll(root: string, values: Record<string, unknown>, base: string | undefined, started: number): Promise<number> {
  const requested = splitList(values.env);
  const sources = readEnvironmentSources(root);
  const names = selectOrFail(sources, requested);
  const schemaDir = values['kubernetes-schemas'];
  let checkers = fileCheckers();
  if (typeof schemaDir === 'string') {
    if (!existsSync(schemaDir)) throw new UsageError(`--kubernetes-schemas: no directory ${schemaDir}`);
    const openApi = loadKubernetesValidator(schemaDir);
    if (openApi.kinds.size === 0) throw new UsageError(`--kubernetes-schemas: no OpenAPI v3 documents (*.json) in ${schemaDir}`);
    checkers = checkers.map((c) => (c === kubernetesSchemaChecker ? kubernetesSchemaCheckerWith(openApi) : c));
  }
  const files = onlyEnvironments(readRenderedDir(root), requested);
  const envOf = (p: string): string => p.slice(0, p.indexOf('/'));
  const findings: Diagnostic[] = [];
  const models: EnvironmentModel[] = [];
  const versions = new Map<string, string>();
  const subnets = new Map<string, EnvironmentModel['aws']['vpc']['subnets']>();
  const parsed: ParsedFile[] = [];
  let acknowledged = 0;
  // One environment at a time, its file and then its rendered files (a line each on a terminal);
  // then the checks across the whole tree.
  const report = progressReporter(names);
  const checkFiles = async (env: string, model?: EnvironmentModel): Promise<{ count: number; found: Diagnostic[] }> => {
    const own = new Map([...files].filter(([p]) => envOf(p) === env));
    const tree = parseRenderedTree(own, versions, subnets);
    parsed.push(...tree.files);
    const found = await checkRenderedTree(tree, checkers, []);
    // Checks of node configs that need the model (which target is a server, which an agent).
    if (model) {
      const rel = new Map([...own].map(([p, c]) => [p.slice(env.length + 1), c]));
      found.push(...(distributionOf(model).checks.environment?.(model, rel) ?? []));
    }
    return { count: own.size, found };
  };
  for (const name of names) {
    const t0 = performance.now();
    const before = phaseTimes();
    // The versions its committed tree records: a version change upstream forbids is refused (validate/rules-skew.ts).
    const r = prepareEnvironment(name, sources, { running: runningOf(root, name, base) });
    acknowledged += r.acknowledged ?? 0;
    const m = r.prepared?.model;
    if (m) {
      models.push(m);
      versions.set(m.name, m.cluster.kubernetesVersion);
      subnets.set(m.name, m.aws.vpc.subnets);
    }
    const t1 = performance.now();
    const { count, found } = await checkFiles(name, m);
    const own = [...r.diagnostics, ...found];
    findings.push(...own);
    const errors = own.filter((d) => d.severity === 'error').length;
    report?.({ env: name, files: count, ms: performance.now() - t0, phases: { ...phaseTimesSince(before), 'rendered checks': performance.now() - t1 }, note: `${plural(errors, 'error')}, ${plural(own.length - errors, 'warning')}` });
  }
  // Trees under rendered/ of environments that were not validated above (deleted ones, without --env).
  for (const env of [...new Set([...files.keys()].map(envOf))].filter((e) => !names.includes(e)).sort()) findings.push(...(await checkFiles(env)).found);
  // A hub reads the fleet files of the environments it manages: with --env, those of environments not
  // selected join the tree as they are on disk (read by the checks across the tree, not checked themselves).
  const others = requested ? [...readRenderedDir(root)].filter(([p]) => !files.has(p) && p.endsWith('/fleet.yaml')).map(([p, c]) => parseRenderedFile(envOf(p), p.slice(envOf(p).length + 1), c)) : [];
  const tree: RenderedTree = { envs: [...new Set(parsed.map((f) => f.env))].sort(), files: [...parsed, ...others], kubernetesVersion: versions, subnets };
  for (const c of treeCheckers()) findings.push(...c.check(tree));
  // The first sync, simulated with each environment's engine (validate/motion/).
  findings.push(...checkMotion(tree, models));
  for (const d of sortDiagnostics(findings)) process.stdout.write(formatReported(d) + '\n');
  const note = typeof schemaDir === 'string' ? undefined : builtinSchemaNote(models.map((m) => ({ name: m.name, kubernetesVersion: m.cluster.kubernetesVersion })));
  if (note) process.stdout.write(note + '\n');
  const errors = findings.filter((d) => d.severity === 'error').length;
  const warnings = findings.length - errors;
  summary('validate', `${plural(names.length, 'environment')}, ${plural(files.size, 'rendered file')}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}${acknowledged > 0 ? ` (${acknowledged} acknowledged)` : ''}`, started);
  return errors > 0 ? 1 : 0;
}

/** --explain-access: the access graph of one parameter in every selected environment that uses it. */
function explain(root: string, requested: string[] | undefined, name: string): number {
  if (!name.startsWith('/')) throw new UsageError(`--explain-access: '${name}' is not an SSM parameter name (they start with /)`);
  const sources = readEnvironmentSources(root);
  let shown = 0;
  let failed = 0;
  for (const env of selectOrFail(sources, requested)) {
    const r = prepareEnvironment(env, sources);
    if (!r.prepared) {
      failed++;
      for (const d of sortDiagnostics(r.diagnostics.filter((x) => x.severity === 'error'))) process.stdout.write(formatReported(d) + '\n');
      continue;
    }
    const text = explainAccess(r.prepared.resolved, r.prepared.model, name);
    if (text.includes('\n  not a parameter this environment depends on\n') && text.includes('routes: none')) continue;
    process.stdout.write(text);
    shown++;
  }
  if (shown === 0 && failed === 0) process.stdout.write(`no environment${requested ? ` of ${requested.join(', ')}` : ''} uses or can read ${name}\n`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'validate');
