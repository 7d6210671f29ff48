/**
 * `npm run diff`: the semantic diff of the rendered tree (wiring over generators/diff/).
 */
import { distributions } from '../distributions/registry.js';
import { diffTrees } from '../diff/diff.js';
import { headFindings } from '../diff/findings.js';
import { formatJson, formatMarkdown, formatText } from '../diff/format.js';
import { defaultBase, onlyEnvironments, readRenderedAtRef, readRenderedDir, renderWorkingTree, WORKTREE } from '../diff/sources.js';
import { UsageError } from '../validate/diagnostics.js';
import { listEnvironmentNames, readEnvironmentSources } from '../load/loader.js';
import { planSummaries } from '../upgrade-plan/review.js';
import { costLeadSection } from '../cost/review.js';
import { sourcesAt } from './git.js';
import { parseCommand, parseWait, plural, progressReporter, run, splitList, summary, waitHelp, WAIT_OPTION, withRenderedLock, PROGRESS_HELP } from './common.js';

const HELP = `Usage: npm run diff [-- --base REF|${WORKTREE}] [--committed] [--format text|markdown|json] [--env a,b]

Semantic diff of the rendered output: the working tree's environments rendered in memory (head)
against rendered/ at a git revision (base; default: the merge base with main, else origin/main,
else HEAD). Grouped by environment → object → field path; changed node configs get their apply
impact, most disruptive first:
${distributions()
  .map((d) => `  ${d.name.padEnd(8)}${d.diff.report.actions.join(', ')}`)
  .join('\n')}
Secret-shaped values are masked.

  --base REF      git revision whose rendered/ is the base
  --base ${WORKTREE}  (or --committed) rendered/ on disk as the base: what npm run synth would change
  --format        text (default), markdown (a PR comment, at most 65536 characters) or json;
                  text and markdown lead with what changes in the cluster (namespaces, cluster-scoped
                  permissions, chart versions, node steps in order, AWS replacements, what GitOps does
                  not apply, and against a git revision the monthly cost delta of each pool, priced
                  from each side's lock), then the warnings of validate on the head
  --env a,b       only these environments
${waitHelp(18)}
                  (only with --base ${WORKTREE}: then diff reads rendered/ under its lock, like check)
${PROGRESS_HELP}

Exit 0 whether or not there are changes; 2 on invalid input; 3 when another run still holds
rendered/ after --wait.`;

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const { values, common } = parseCommand(argv, { base: { type: 'string' }, committed: { type: 'boolean' }, format: { type: 'string' }, env: { type: 'string' }, ...WAIT_OPTION }, HELP);
  const wait = parseWait(values.wait);
  const format = String(values.format ?? 'text');
  if (!['text', 'markdown', 'json'].includes(format)) throw new UsageError(`--format ${format}: expected text, markdown or json\n\n${HELP}`);
  if (values.committed && values.base !== undefined && values.base !== WORKTREE) throw new UsageError('--committed and --base REF exclude each other');
  const envs = splitList(values.env);
  const useWorktree = values.committed === true || values.base === WORKTREE;
  const baseRef = useWorktree ? WORKTREE : typeof values.base === 'string' ? values.base : defaultBase(common.root);
  const read = (): { head: ReturnType<typeof renderWorkingTree>; base: Map<string, string> } => ({
    head: renderWorkingTree(common.root, envs, progressReporter(envs ?? listEnvironmentNames(readEnvironmentSources(common.root)))),
    base: onlyEnvironments(useWorktree ? readRenderedDir(common.root) : readRenderedAtRef(common.root, baseRef), envs),
  });
  // rendered/ on disk is read under its lock (never half-swapped by a running synth); a git revision needs none.
  const { head, base } = useWorktree ? await withRenderedLock(common.root, 'diff', wait, read, { readOnly: true }) : read();
  const ctx = { base: useWorktree ? 'rendered/ (on disk)' : `rendered/ at ${baseRef.length === 40 ? baseRef.slice(0, 12) : baseRef}`, head: 'working tree (fresh render)' };
  const d = diffTrees(base, head.files, head.context);
  // The run's warnings lead the reports for people after the cluster changes (validate on the head, in memory).
  const warnings = format === 'json' ? undefined : await headFindings(head.files, head.models, head.warnings, envs === undefined);
  // Against a git revision: the environment files on both sides, for the upgrade plans' summaries
  // (the review comment) and the cost delta, each side priced from its own lock.
  const sides = useWorktree || format === 'json' ? undefined : { base: sourcesAt(common.root, baseRef), head: readEnvironmentSources(common.root) };
  const notes = format === 'markdown' && sides ? planSummaries(sides.base, sides.head, d.envs.map((e) => e.env), { base, head: head.files }) : [];
  const leadSections = sides ? [costLeadSection(sides.base, sides.head)] : [];
  const out = format === 'json' ? formatJson(d, ctx) : format === 'markdown' ? formatMarkdown(d, { ...ctx, ...(warnings ? { warnings } : {}), notes, leadSections }) : formatText(d, { ...ctx, ...(warnings ? { warnings } : {}), leadSections });
  process.stdout.write(out);
  const t = d.totals;
  const what = d.envs.length === 0 ? 'no change' : `${plural(d.envs.length, 'environment')} changed: ${t.added} added, ${t.removed} removed, ${t.changed} changed, ${t.moved} moved`;
  // Markdown and JSON on stdout are for machines (the PR comment): the summary goes to stderr then.
  summary('diff', `${what} against ${ctx.base}`, started, format === 'text' ? process.stdout : process.stderr);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'diff');
