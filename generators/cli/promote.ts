/**
 * `npm run promote`: move versions from one environment to another (wiring over generators/promote/):
 * plan the moves, check the target's gates (source, freeze, soak — the soak from git history — and, with
 * promotion.requireHealthy, the source cluster's health through kubectl),
 * validate the edited file, and write it unless --dry-run.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFile, listEnvironmentNames, readEnvironmentSources, resolveEnvironment } from '../load/loader.js';
import type { PromotionInput } from '../model/input.js';
import { prepareEnvironment } from '../pipeline.js';
import { applyMoves } from '../promote/edit.js';
import { carriedSince, formatDuration, iso, openFreeze, parseDuration, type HistoryCommit, type SourceHistory } from '../promote/gates.js';
import { manifestPath, versionsAt } from '../promote/history.js';
import { onlyWords, planPromotion, type AddonsRun, type Move } from '../promote/plan.js';
import { resolveAddons } from '../catalog/resolve.js';
import { FindingsError, hasErrors, InputError, UsageError } from '../validate/diagnostics.js';
import { formatReported, parseCommand, plural, run, splitList, summary } from './common.js';
import { git } from './git.js';
import { selectOrFail } from './prepare.js';
import { promotionStatus } from '../promote/status.js';
import { engineOf } from '../engines/registry.js';
import type { HealthQuery } from '../engines/types.js';
import { healthRefusals, type NeededCommit } from '../promote/health.js';

const HELP = `Usage: npm run promote -- --from A --to B [--only WHAT[,WHAT]] [--dry-run] [--now ISO] [--source-context CTX]
       npm run promote -- --status [--now ISO]

Move versions from environment A to environment B: B's environment file is edited in place (its
comments and layout kept; only each version's value changes), moving only versions — Kubernetes,
the distribution's release, chart versions pinned in addons.<name>.chart.version, workload image tags —
never what is B's own (sizes, counts, endpoints, accounts, values, image repositories). Prints what
moved and what stays different on purpose. Then run npm run synth and commit both.

Gates, from B's promotion: block (schema: promotion):
  source   promotion.from, when declared, must be A
  freeze   no window of promotion.freeze may be open now (cron schedule + duration, or a date range)
  soak     every version moved must have run in A for promotion.soak, measured from git history:
           the oldest commit of the unbroken run, back from the newest, whose rendered/A/.provenance.json
           (and the environment files it names) carried that version
  health   with promotion.requireHealthy: true, A's cluster must have applied, and be healthy at, a
           revision containing the commit that introduced each version moved (the soak gate's commit),
           read now with kubectl --context CTX (--source-context: A's cluster, or its hub's when a hub
           manages A): every delivery object of A Synced and Healthy / Ready=True, its Git revision a
           descendant of that commit (git merge-base --is-ancestor). kubectl failing refuses. Without
           the key the health is not checked, and promote says so.
  valid    B must still validate with the versions moved

--status prints, for every environment with a promotion.from, the versions it is behind its source
by and since when the source has carried each (the soak gate's measure, from git history), the soak
left and an open freeze window; it writes nothing and exits 0.

Options:
  --status          the promotion state of every environment (see above)
  --from A          the environment versions come from
  --to B            the environment whose file is edited
  --only WHAT       only these: charts, images, kubernetes, distribution (or the distribution's name),
                    an add-on's name, a workload's name (comma-separated)
  --dry-run         print what would move and the gates' verdicts; write nothing
  --now ISO         evaluate the gates at this moment (default: now), e.g. 2026-12-07T09:00Z
  --source-context CTX  the kubectl context of A's cluster, or of its hub (the health gate)
  --root DIR        the repository to work on (default: this one)
  -h, --help        this help

Exit codes: 0 promoted (or nothing to promote; with --dry-run: the gates pass), 1 a gate refuses
(naming the gate, the time left and the commit it measured from), 2 invalid input or usage.`;


/** The source's history through git: commits of its provenance manifest, versions read at each (memoized). */
function gitHistory(root: string, env: string): SourceHistory {
  let commits: HistoryCommit[] | undefined;
  const at = new Map<string, Map<string, string | undefined>>();
  return {
    commits: () =>
      (commits ??= (git(root, ['log', '--format=%H %ct', '--', manifestPath(env)]) ?? '')
        .split('\n')
        .filter(Boolean)
        .map((l) => ({ sha: l.split(' ')[0]!, time: Number(l.split(' ')[1]) }))),
    valueAt: (c, id) => {
      let v = at.get(c.sha);
      if (!v) at.set(c.sha, (v = versionsAt(env, c.sha, (sha, path) => git(root, ['show', `${sha}:${path}`]))));
      return v.get(id);
    },
  };
}

const show = (v: string | undefined): string => v ?? 'the catalog pin';

/**
 * Whether an environment runs an add-on, its catalog defaults included (an add-on off by default there, such as
 * nvidia-device-plugin without a GPU pool, is not run although its document may not say so); undefined when it does
 * not validate (the plan then reads the documents alone: plan.ts runsByDocument).
 */
function addonsRunIn(env: string, sources: ReturnType<typeof readEnvironmentSources>): ((addon: string) => boolean) | undefined {
  const prepared = prepareEnvironment(env, sources).prepared;
  if (!prepared) return undefined;
  const names = new Set(resolveAddons(prepared.model).map((a) => a.name));
  return (addon) => names.has(addon);
}

/** Both sides' add-ons as their models run them (plan.ts AddonsRun), when both validate. */
function addonsRun(from: string, to: string, sources: ReturnType<typeof readEnvironmentSources>): AddonsRun | undefined {
  const source = addonsRunIn(from, sources);
  const target = addonsRunIn(to, sources);
  return source && target ? { source, target } : undefined;
}

/** How long one kubectl request may take (kubectl's own default is to wait for the server without a limit). */
const KUBECTL_TIMEOUT = '30s';

/** `kubectl --context CTX get RESOURCE -o json`: its items, or why it failed (kubectl's own message: its last line). */
function kubectlGet(context: string, q: HealthQuery): { items: unknown[] } | { error: string } {
  const args = ['--context', context, '--request-timeout', KUBECTL_TIMEOUT, 'get', q.resource, ...(q.namespace !== undefined ? ['--namespace', q.namespace] : ['--all-namespaces']), ...(q.selector !== undefined ? ['--selector', q.selector] : []), '--output', 'json'];
  const shown = `kubectl ${args.join(' ')}`;
  const r = spawnSync('kubectl', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) return { error: `${shown}: ${r.error.message}` };
  if (r.status !== 0) return { error: `${shown} exited ${String(r.status ?? r.signal)}: ${(r.stderr || r.stdout).trim().split('\n').pop() || 'no message'}` };
  try {
    const list = JSON.parse(r.stdout) as { items?: unknown };
    if (Array.isArray(list.items)) return { items: list.items };
  } catch {
    // reported below
  }
  return { error: `${shown}: its output is not a JSON list (no items)` };
}

/** Whether `ancestor` is `descendant` or an ancestor of it in `root`'s repository (undefined: `descendant` is no commit of it). */
function isAncestorIn(root: string): (ancestor: string, descendant: string) => boolean | undefined {
  const memo = new Map<string, boolean | undefined>();
  return (ancestor, descendant) => {
    const key = `${ancestor} ${descendant}`;
    if (!memo.has(key)) memo.set(key, git(root, ['cat-file', '-e', `${descendant}^{commit}`]) === undefined ? undefined : git(root, ['merge-base', '--is-ancestor', ancestor, descendant]) !== undefined);
    return memo.get(key);
  };
}

/**
 * The health gate (promotion.requireHealthy): the commits introducing the moved versions in the source's history,
 * the source's delivery objects read with kubectl through its engine (Engine.health), their revisions checked for
 * ancestry. Never passes silently: no context, no engine support, kubectl failing, each refuses.
 */
function healthGate(root: string, from: string, sources: ReadonlyMap<string, string>, moves: readonly Move[], history: SourceHistory, context: string | undefined, file: string): { note: string; refusals: string[] } {
  const refusals: string[] = [];
  const needed: NeededCommit[] = [];
  for (const m of moves) {
    const since = carriedSince(history, m.item.id, m.to);
    if (since) needed.push({ what: `${m.item.id} ${show(m.to)}`, sha: since.sha });
    else refusals.push(`health gate: ${m.item.id} ${show(m.to)} is not in ${from}'s committed rendered tree (${manifestPath(from)}): no cluster can have applied it`);
  }
  const prepared = prepareEnvironment(from, sources).prepared;
  if (!prepared) return { note: `Health: ${from} not checked.`, refusals: [...refusals, `health gate: ${from} does not validate, so where its cluster is and what it runs are unknown (npm run validate)`] };
  const model = prepared.model;
  const engine = engineOf(model);
  const health = engine.health;
  if (!health) return { note: `Health: ${from} not checked.`, refusals: [...refusals, `health gate: ${engine.title} (${from}'s engine) cannot report its cluster's health to promote; remove promotion.requireHealthy from ${file} to promote without it`] };
  const where = health.where(model);
  if (context === undefined) return { note: `Health: ${from} not checked.`, refusals: [...refusals, `health gate: promotion.requireHealthy in ${file} needs --source-context: the kubectl context of ${where}`] };
  const items: unknown[][] = [];
  for (const q of health.queries(model)) {
    const r = kubectlGet(context, q);
    if ('error' in r) return { note: `Health: ${from} not checked.`, refusals: [...refusals, `health gate: ${from}'s cluster could not be read, so its health is unknown and not assumed: ${r.error}`] };
    items.push(r.items);
  }
  const observed = health.observe(model, items);
  if (needed.length === 0) return { note: `Health: ${from} read through context ${context}.`, refusals };
  refusals.push(...healthRefusals(observed, needed, isAncestorIn(root), `${where}, context ${context}`));
  return { note: `Health: ${observed.objects.length} ${engine.title} objects of ${from} read in ${where} (context ${context}); each must be applied and healthy at a descendant of ${[...new Set(needed.map((n) => n.sha.slice(0, 12)))].join(', ')}.`, refusals };
}

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const { values, common } = parseCommand(argv, { status: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' }, only: { type: 'string' }, 'dry-run': { type: 'boolean' }, now: { type: 'string' }, 'source-context': { type: 'string' } }, HELP);
  const root = common.root;
  if (values.status === true) {
    if (values.from !== undefined || values.to !== undefined || values.only !== undefined || values['dry-run'] !== undefined || values['source-context'] !== undefined) throw new UsageError(`--status takes no --from, --to, --only, --dry-run or --source-context\n\n${HELP}`);
    const now = typeof values.now === 'string' ? new Date(values.now) : new Date();
    if (Number.isNaN(now.getTime())) throw new UsageError(`--now ${String(values.now)}: not a date-time (e.g. 2026-12-07T09:00Z)`);
    const sources = readEnvironmentSources(root);
    const envs = listEnvironmentNames(sources).flatMap((env) => {
      const data = resolveEnvironment(env, sources).env?.data;
      const runs = data ? addonsRunIn(env, sources) : undefined;
      return data ? [{ env, data, ...(runs ? { runs } : {}) }] : [];
    });
    const histories = new Map<string, SourceHistory>();
    const historyOf = (env: string): SourceHistory => histories.get(env) ?? histories.set(env, gitHistory(root, env)).get(env)!;
    process.stdout.write(promotionStatus(envs, historyOf, now));
    summary('promote', `status of ${plural(envs.length, 'environment')}, nothing written`, started, process.stderr);
    return 0;
  }
  if (typeof values.from !== 'string' || typeof values.to !== 'string') throw new UsageError(`--from and --to are required\n\n${HELP}`);
  const from = values.from;
  const to = values.to;
  if (from === to) throw new UsageError(`--from and --to name the same environment (${from})`);
  const now = typeof values.now === 'string' ? new Date(values.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new UsageError(`--now ${String(values.now)}: not a date-time (e.g. 2026-12-07T09:00Z)`);
  const dryRun = values['dry-run'] === true;
  const sources = readEnvironmentSources(root);
  selectOrFail(sources, [from, to]);
  const resolve = (name: string): Record<string, unknown> => {
    const r = resolveEnvironment(name, sources);
    if (!r.env || hasErrors(r.diagnostics)) throw new InputError(r.diagnostics);
    return r.env.data;
  };
  const source = resolve(from);
  const target = resolve(to);
  const only = splitList(values.only);
  if (only) {
    const known = onlyWords(source, target);
    const unknown = only.filter((w) => !known.has(w));
    if (unknown.length > 0) throw new UsageError(`--only ${unknown.join(', ')}: not a kind, distribution, add-on or workload of ${from} or ${to}; have: ${[...known].sort().join(', ')}`);
  }
  const plan = planPromotion(source, target, only, addonsRun(from, to, sources));
  const out: string[] = [];
  const line = (s = ''): void => {
    out.push(s);
  };
  const moveText = (m: Move): string => `${m.item.id}: ${show(m.from)} → ${show(m.to)}`;
  line(`Promote ${from} → ${to}${only ? ` (only ${only.join(', ')})` : ''}${dryRun ? ' — dry run, nothing is written' : ''}`);
  line();
  line(plan.moves.length === 0 ? 'Nothing to move: every selected version is the same.' : `Moves (${plan.moves.length}):`);
  for (const m of plan.moves) line(`  ${moveText(m)}`);
  const stays: string[] = [
    ...plan.excluded.map((m) => `${moveText(m)}  (left out by --only)`),
    ...plan.onlySource.map((i) => `${i.id}: only in ${from}`),
    ...plan.onlyTarget.map((i) => `${i.id}: only in ${to}`),
    ...plan.ownSettings.map((s) => `${s}: ${to}'s own (never promoted)`),
  ];
  if (stays.length > 0) {
    line();
    line('Stays different on purpose:');
    for (const s of stays) line(`  ${s}`);
  }
  const print = (): void => {
    process.stdout.write(`${out.join("\n")}\n`);
  };
  if (plan.moves.length === 0) {
    print();
    summary('promote', `${from} → ${to}: nothing to move`, started);
    return 0;
  }

  // Gates.
  const promotion = target.promotion as PromotionInput | undefined;
  const head = git(root, ['rev-parse', '--short=12', 'HEAD'])?.trim() ?? 'no commit';
  const refusals: string[] = [];
  if (promotion?.from !== undefined && promotion.from !== from) refusals.push(`source gate: ${to} takes versions from ${promotion.from} (promotion.from in ${envFile(to)}), not from ${from}; no time makes this pass (measured at HEAD ${head})`);
  const freeze = openFreeze(promotion?.freeze ?? [], now);
  if (freeze) {
    const w = freeze.window;
    const what = w.schedule !== undefined ? `schedule "${w.schedule}" for ${w.duration}` : `${w.start} to ${w.end}`;
    refusals.push(`freeze gate: ${w.reason} (window ${what}, open since ${iso(freeze.opened)}): ${formatDuration(freeze.closes.getTime() - now.getTime())} left, until ${iso(freeze.closes)} (measured at HEAD ${head}, now ${iso(now)})`);
  }
  const history = gitHistory(root, from);
  if (promotion?.soak !== undefined) {
    const soak = parseDuration(promotion.soak);
    for (const m of plan.moves) {
      const since = carriedSince(history, m.item.id, m.to);
      if (!since) {
        const newest = history.commits()[0];
        refusals.push(`soak gate: ${m.item.id} ${show(m.to)} is not in ${from}'s committed rendered tree (${manifestPath(from)} at ${newest ? newest.sha.slice(0, 12) : 'no commit'}): commit it there (npm run synth), then wait ${promotion.soak}; ${promotion.soak} left`);
        continue;
      }
      const ran = now.getTime() - since.time * 1000;
      if (ran < soak) refusals.push(`soak gate: ${m.item.id} ${show(m.to)} has run in ${from} for ${formatDuration(ran)} of ${promotion.soak}: ${formatDuration(soak - ran)} left (measured from commit ${since.sha.slice(0, 12)}, ${iso(new Date(since.time * 1000))})`);
    }
  }

  if (promotion?.requireHealthy === true) {
    const health = healthGate(root, from, sources, plan.moves, history, typeof values['source-context'] === 'string' ? values['source-context'] : undefined, envFile(to));
    line();
    line(health.note);
    refusals.push(...health.refusals);
  } else {
    line();
    line(`Health: not checked — ${from}'s cluster was not asked whether it applied these versions (promotion.requireHealthy is not set in ${envFile(to)}${values['source-context'] !== undefined ? '; --source-context is not used' : ''}).`);
  }

  // The edit, and whether the target still validates with it.
  const file = envFile(to);
  const text = readFileSync(join(root, file), 'utf8');
  const edit = applyMoves(text, file, plan.moves);
  for (const s of edit.skipped) refusals.push(`edit: ${s}`);
  const edited = new Map(sources);
  edited.set(file, edit.text);
  const check = prepareEnvironment(to, edited);
  if (hasErrors(check.diagnostics)) refusals.push(`valid gate: ${to} does not validate with these versions; no time makes this pass:\n${check.diagnostics.filter((d) => d.severity === 'error').map((d) => `    ${formatReported(d)}`).join('\n')}`);

  if (refusals.length > 0) {
    line();
    line(`Refused (${plural(refusals.length, 'gate')}):`);
    for (const r of refusals) line(`  ${r}`);
    print();
    summary('promote', `${from} → ${to}: refused by ${plural(refusals.length, 'gate')}${dryRun ? ' (dry run)' : ''}; ${file} not written`, started, process.stderr);
    throw new FindingsError('');
  }
  if (dryRun) {
    line();
    line(`Gates pass. Dry run: ${file} not written.`);
    print();
    summary('promote', `${from} → ${to}: ${plural(plan.moves.length, 'version')} would move (dry run, nothing written)`, started);
    return 0;
  }
  writeFileSync(join(root, file), edit.text);
  line();
  line(`Gates pass. ${file} written: ${plural(edit.applied.length, 'version')} moved. Next: npm run synth, review npm run diff, commit.`);
  print();
  summary('promote', `${from} → ${to}: ${plural(plan.moves.length, 'version')} moved into ${file}`, started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'promote');
