/**
 * `npm run plan`: the upgrade plan of the change to one environment, against a git revision (wiring
 * over generators/upgrade-plan/).
 */
import { defaultBase, onlyEnvironments, readRenderedAtRef } from '../diff/sources.js';
import { baseChartVersions, engineVersions } from '../upgrade-plan/base-charts.js';
import { readEnvironmentSources, resolveEnvironment } from '../load/loader.js';
import { commitOrFail, sourcesAt } from './git.js';
import { prepareEnvironment, renderEnvironment } from '../pipeline.js';
import { formatPlan, upgradePlan } from '../upgrade-plan/plan.js';
import { roleChanges } from '../upgrade-plan/roles.js';
import { exportChanges } from '../upgrade-plan/exports.js';
import { untaggedGroups } from '../upgrade-plan/drain-tags.js';
import { FindingsError, hasErrors, InputError, UsageError } from '../validate/diagnostics.js';
import { parseCommand, plural, run, summary } from './common.js';
import { selectOrFail } from './prepare.js';

const HELP = `Usage: npm run plan -- --env E [--base REF]

The ordered steps the change to environment E requires (the working tree against E's environment
files at REF; default: the merge base with main, else origin/main, else HEAD), each with its gate and
why it is safe or not:
  - first, pool groups the change gives the drain handler's hook and tag while their running instances
    carry no tag (read off rendered/ at REF and the fresh render): tag them before merging
    (deploy.sh drain-tags), or each is terminated undrained, at once when the change replaces them
  - the distribution's release, then Kubernetes: one minor at a time (a jump of two minors, or a
    downgrade, is refused, naming the version-skew rule), control planes before kubelets
  - control planes one at a time, the datastore's quorum kept (a single control plane: the API is down)
  - worker pools one node at a time: a PodDisruptionBudget that allows no disruption refuses; a pool of
    one node its workloads are pinned to cannot be drained without downtime
  - chart version changes (an environment's pin, or the catalog's: read off rendered/ at REF), a new
    major with the chart's upgrade notes; a chart whose kubeVersion refuses the Kubernetes version, or
    whose kubeVersion at that version is not recorded (a caution, never a guess)
  - the GitOps engine's own release (besides its chart) when it changes
  - IAM roles the AWS base stack creates or deletes while objects name them (secret stores, IRSA
    ServiceAccounts; read off rendered/ at REF and the fresh render): roles added → update the stack
    first, then merge; roles removed → merge, wait for the sync, then update the stack

Options:
  --env E       the environment
  --base REF    the git revision to compare with
  --root DIR    the repository to work on (default: this one)
  -h, --help    this help

Exit codes: 0 a plan without refused steps, 1 a step is refused, 2 invalid input or usage.`;



export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const { values, common } = parseCommand(argv, { env: { type: 'string' }, base: { type: 'string' } }, HELP);
  if (typeof values.env !== 'string') throw new UsageError(`--env is required\n\n${HELP}`);
  const env = values.env;
  const root = common.root;
  const sources = readEnvironmentSources(root);
  selectOrFail(sources, [env]);
  const ref = typeof values.base === 'string' ? values.base : defaultBase(root);
  commitOrFail(root, ref);
  const head = prepareEnvironment(env, sources);
  if (!head.prepared || hasErrors(head.diagnostics)) throw new InputError(head.diagnostics);
  const base = resolveEnvironment(env, sourcesAt(root, ref)).env?.data;
  // The charts the base ran, read off its rendered tree: a change of the catalog's pin shows too.
  const baseTree = base ? onlyEnvironments(readRenderedAtRef(root, ref), [env]) : undefined;
  const baseCharts = base && baseTree ? baseChartVersions(env, base, baseTree, head.prepared.model) : undefined;
  // The engine's own releases: the base's tree against the head's fresh render.
  const headTree = new Map(renderEnvironment(head.prepared).map((f) => [`${env}/${f.path}`, f.content]));
  const engine = baseTree ? { base: engineVersions(env, baseTree), head: engineVersions(env, headTree) } : undefined;
  // IAM roles the base stack adds or removes while objects name them: the stack before or after the merge.
  const roles = baseTree ? roleChanges(env, baseTree, headTree) : undefined;
  // Pool instances the change leaves without the drain handler's tag: tag them before merging.
  const untagged = baseTree ? untaggedGroups(head.prepared.model, baseTree, headTree) : undefined;
  // Exports the nodes stack starts or stops importing: which AWS stack is updated first.
  const exportsOrder = baseTree ? exportChanges(env, baseTree, headTree) : undefined;
  const plan = upgradePlan(base, head.prepared.model, head.prepared.data, baseCharts, engine, roles, untagged, exportsOrder);
  process.stdout.write(`${base ? '' : `${env} has no environment file at ${ref}: a new environment, nothing to upgrade.\n`}${formatPlan(plan)}`);
  const refused = plan.steps.filter((s) => s.verdict === 'refused').length;
  const what = `${env} against ${ref.length === 40 ? ref.slice(0, 12) : ref}: ${plural(plan.steps.length, 'step')}`;
  if (refused > 0) {
    summary('plan', `${what}, ${refused} refused`, started, process.stderr);
    throw new FindingsError('');
  }
  summary('plan', what, started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'plan');
