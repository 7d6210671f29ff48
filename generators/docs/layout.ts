/**
 * docs/reference/rendered-layout.md: what `rendered/<env>/` holds, derived from a render of the
 * example environments (test/fixtures/examples, in memory): every file path is turned into a
 * pattern by replacing the names it is made of (nodes, pools, node classes, delivery units, add-ons,
 * workloads, namespaces, tenants, managed environments, an object's kind and name) with their kind,
 * each file taking the pattern that covers the most files. For each pattern: when it is rendered
 * (the model setting that tells, found by comparing the environments that have it with those that
 * do not) and one line on what it is, from docs/reference/rendered-layout.descriptions.yaml, which
 * must describe exactly the patterns the render produces (a new path fails `npm run docs`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ENV_DIR, listEnvironmentNames, readEnvironmentSources } from '../load/loader.js';
import type { EnvironmentModel } from '../model/types.js';
import { distributionOf } from '../distributions/registry.js';
import { SYNC_POLICY_KEY } from '../engines/registry.js';
import { prepareEnvironment, renderEnvironment } from '../pipeline.js';
import { deliveryPlan } from '../plan/index.js';
import { TENANTS } from '../plan/types.js';
import { PROVENANCE_FILE } from '../render/header.js';
import { parseYamlStream } from '../lib/yaml.js';
import { code, compareText, escapeText, generatedPage, listItem, wrap, type Page } from './markdown.js';

/** Where the example environments are (a repository-shaped folder: environments/ only). */
export const EXAMPLES_DIR = 'test/fixtures/examples';
/**
 * Environments of the test fixtures that must validate: one per file, on the fixtures' shared base
 * and lock (test/fixtures/_fixture*.), with the environments a hub manages in <name>.fleet/.
 */
export const VALID_DIR = 'test/fixtures/valid';
/** The hand-written line per pattern. */
export const LAYOUT_DESCRIPTIONS = 'docs/reference/rendered-layout.descriptions.yaml';

export interface RenderedExample {
  env: string;
  model: EnvironmentModel;
  /** Env-relative paths and contents, the provenance manifest included. */
  files: { path: string; content: string }[];
}

/** The source sets to render: the examples, then each valid fixture with its base, lock and fleet. */
function sourceSets(root: string): Map<string, string>[] {
  const sets = [readEnvironmentSources(join(root, EXAMPLES_DIR))];
  const fixtures = join(root, VALID_DIR, '..');
  let valid: string[] = [];
  try {
    valid = readdirSync(join(root, VALID_DIR)).filter((f) => f.endsWith('.yaml')).sort();
  } catch {
    return sets;
  }
  const shared = readdirSync(fixtures).filter((f) => f.startsWith('_') && (f.endsWith('.yaml') || f.endsWith('.json')));
  const lock = shared.find((f) => f.endsWith('.ssm.lock.json'));
  for (const file of valid) {
    const name = file.replace(/\.yaml$/, '');
    const sources = new Map<string, string>();
    for (const f of shared) sources.set(`${ENV_DIR}/${f}`, readFileSync(join(fixtures, f), 'utf8'));
    const withLock = (env: string, dir: string): void => {
      const own = join(dir, `${env}.ssm.lock.json`);
      if (existsSync(own)) sources.set(`${ENV_DIR}/${env}.ssm.lock.json`, readFileSync(own, 'utf8'));
      else if (lock) sources.set(`${ENV_DIR}/${env}.ssm.lock.json`, readFileSync(join(fixtures, lock), 'utf8'));
    };
    sources.set(`${ENV_DIR}/${file}`, readFileSync(join(root, VALID_DIR, file), 'utf8'));
    withLock(name, join(root, VALID_DIR));
    const fleet = join(root, VALID_DIR, `${name}.fleet`);
    if (existsSync(fleet))
      for (const f of readdirSync(fleet).filter((x) => x.endsWith('.yaml')).sort()) {
        sources.set(`${ENV_DIR}/${f}`, readFileSync(join(fleet, f), 'utf8'));
        withLock(f.replace(/\.yaml$/, ''), fleet);
      }
    sets.push(sources);
  }
  return sets;
}

/** Render the example environments and the valid fixtures in memory (each environment once). */
export function renderExamples(root: string): RenderedExample[] {
  const out: RenderedExample[] = [];
  for (const sources of sourceSets(root)) {
    for (const env of listEnvironmentNames(sources)) {
      if (out.some((e) => e.env === env)) continue;
      const r = prepareEnvironment(env, sources);
      if (!r.prepared) throw new Error(`the example environment ${env} does not render: ${r.diagnostics.map((d) => d.message).join('; ')}`);
      const files = renderEnvironment(r.prepared).map((f) => ({ path: f.path, content: f.content }));
      files.push({ path: PROVENANCE_FILE, content: '{}' });
      out.push({ env, model: r.prepared.model, files });
    }
  }
  return out;
}

/** The names an environment's paths are made of, by what they name (most specific first). */
function vocabulary(e: RenderedExample, all: readonly RenderedExample[]): [string, string[]][] {
  const plan = deliveryPlan(e.model);
  return [
    ['node-or-pool', e.model.configTargets.map((t) => t.name)],
    ['class', [...new Set(e.model.pools.map((p) => distributionOf(e.model).aws.imageClass(e.model, p).name))]],
    ['unit', plan.map((u) => u.name)],
    ['namespace', [...new Set(plan.map((u) => u.namespace))]],
    ['tenant', [...TENANTS]],
    // Another environment's name in a path: the environments a hub manages.
    ['managed-env', all.map((x) => x.env).filter((n) => n !== e.env)],
  ];
}

/**
 * The one Kubernetes object a file holds, as `<kind>-<name>` would spell it: `<kind>-<name>`, or `<kind>-<namespace>-<name>`
 * (an add-on's object outside its namespace: render/delivery/render.ts manifestFileName), both read as `<kind>-<name>`.
 */
function objectNames(content: string): string[] {
  try {
    const docs = parseYamlStream(content) as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } }[];
    const d = docs.length === 1 ? docs[0] : undefined;
    if (typeof d?.kind !== 'string' || typeof d.metadata?.name !== 'string') return [];
    const kind = d.kind.toLowerCase();
    return [`${kind}-${d.metadata.name}`, ...(typeof d.metadata.namespace === 'string' ? [`${kind}-${d.metadata.namespace}-${d.metadata.name}`] : [])];
  } catch {
    return [];
  }
}

/** Every way a path segment can be read: literally, or with a name replaced by its kind. */
function segmentCandidates(seg: string, vocab: [string, string[]][], objects: readonly string[] = []): string[] {
  const out = [seg];
  if (objects.includes(seg)) out.push('<kind>-<name>');
  for (const [label, names] of vocab) {
    for (const n of names) {
      if (!n) continue;
      if (seg === n) out.push(`<${label}>`);
      else if (seg.startsWith(`${n}-`)) out.push(`<${label}>${seg.slice(n.length)}`);
      else if (seg.endsWith(`-${n}`)) out.push(`${seg.slice(0, -n.length)}<${label}>`);
    }
  }
  return [...new Set(out)];
}

function fileCandidates(path: string, content: string, vocab: [string, string[]][]): string[] {
  const parts = path.split('/');
  const last = parts.pop()!;
  const dot = last.lastIndexOf('.');
  const stem = dot > 0 ? last.slice(0, dot) : last;
  const ext = dot > 0 ? last.slice(dot) : '';
  const objects = /\.ya?ml$/.test(ext) ? objectNames(content) : [];
  let out = [''];
  for (const seg of parts) out = out.flatMap((p) => segmentCandidates(seg, vocab).map((c) => `${p}${c}/`));
  return out.flatMap((p) => segmentCandidates(stem, vocab, objects).map((c) => `${p}${c}${ext}`));
}

export interface LayoutPattern {
  pattern: string;
  envs: string[];
  files: number;
}

/** The patterns of the examples' paths: each file reads as the candidate that covers the most files. */
export function layoutPatterns(examples: readonly RenderedExample[]): LayoutPattern[] {
  const perFile: { env: string; candidates: string[] }[] = [];
  const count = new Map<string, number>();
  for (const e of examples) {
    const vocab = vocabulary(e, examples);
    for (const f of e.files) {
      const candidates = fileCandidates(f.path, f.content, vocab);
      perFile.push({ env: e.env, candidates });
      for (const c of candidates) count.set(c, (count.get(c) ?? 0) + 1);
    }
  }
  const patterns = new Map<string, LayoutPattern>();
  for (const f of perFile) {
    // Most files covered; on a tie the literal path (first candidate), then the earlier kind. An
    // object's kind and name say less than the names of the model: they count half.
    const score = (c: string): number => count.get(c)! / (c.includes('<kind>-<name>') ? 2 : 1);
    const best = f.candidates.reduce((a, b) => (score(b) > score(a) ? b : a));
    const p = patterns.get(best) ?? patterns.set(best, { pattern: best, envs: [], files: 0 }).get(best)!;
    p.files++;
    if (!p.envs.includes(f.env)) p.envs.push(f.env);
  }
  return [...patterns.values()].sort((a, b) => compareText(a.pattern, b.pattern));
}

/** Scalar settings of each model (`cluster.name=odp-dev`), and which paths are set or non-empty. */
function settings(model: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, path: string, depth: number): void => {
    if (Array.isArray(v)) {
      out.set(`${path}#non-empty`, String(v.length > 0));
      return;
    }
    if (typeof v === 'object' && v !== null) {
      if (path) out.set(`${path}#set`, 'true');
      // A distribution's own part of the model (`extension`) is not a setting anyone writes by that name.
      if (depth < 3) for (const [k, x] of Object.entries(v)) if (k !== 'extension') walk(x, path ? `${path}.${k}` : k, depth + 1);
      return;
    }
    if (v !== undefined && path) out.set(path, String(v));
  };
  walk(model, '', 0);
  return out;
}

/** A setting's value in an example (settings(): `#set` / `#non-empty` keys are `false` when absent). */
const settingValue = (s: ReadonlyMap<string, string>, key: string): string => s.get(key) ?? (key.includes('#') ? 'false' : '(unset)');

/** A setting and its value, in words. The model's `fleet` is read from the sync policy section of the environment file: name the key written. */
function say(modelKey: string, v: string): string {
  const key = modelKey.replace(/^fleet\./, `${SYNC_POLICY_KEY}.`);
  if (key.endsWith('#set')) return `${code(key.slice(0, -4))} is ${v === 'true' ? 'set' : 'not set'}`;
  if (key.endsWith('#non-empty')) return `${code(key.slice(0, -10))} is ${v === 'true' ? 'not empty' : 'empty'}`;
  return `${code(key)} is ${code(v)}`;
}

/**
 * A condition declared in the descriptions file (`when`: settings and their values, all of which hold), in words; or
 * why it does not say which examples have the pattern (the examples that disagree), so a declaration cannot go stale.
 */
export function declaredCondition(when: Readonly<Record<string, string>>, envs: readonly string[], examples: readonly RenderedExample[]): { text: string } | { wrong: string[] } {
  const wrong = examples.filter((e) => {
    const s = settings(e.model);
    const holds = Object.entries(when).every(([k, v]) => settingValue(s, k) === v);
    return holds !== envs.includes(e.env);
  });
  if (wrong.length > 0) return { wrong: wrong.map((e) => `${e.env} (${envs.includes(e.env) ? 'has it, the condition does not hold' : 'has not, the condition holds'})`) };
  return { text: `when ${Object.entries(when).map(([k, v]) => say(k, v)).join(' and ')}` };
}

/**
 * When a pattern is rendered, in words (`gitops` is `…`), or else the examples that have it: the one setting, or the
 * pair of settings, that holds exactly in the examples having it. Inferred, so it can name a coincidence of the
 * examples (a version pinned only where a file appears): such patterns declare their condition (`when` in the
 * descriptions file), which is checked against the examples instead.
 */
export function condition(envs: readonly string[], examples: readonly RenderedExample[]): string {
  if (envs.length === examples.length) return 'every environment';
  const s = new Map(examples.map((e) => [e.env, settings(e.model)]));
  const keys = new Set([...s.values()].flatMap((m) => [...m.keys()]));
  const value = (env: string, key: string): string => settingValue(s.get(env)!, key);
  const matches = (key: string, v: string): boolean => examples.every((e) => (value(e.env, key) === v) === envs.includes(e.env));
  // A pair when no single setting tells.
  // A setting every example spells differently (a name, a description) tells nothing about a kind of environment.
  const distinct = (k: string): number => new Set(examples.map((e) => value(e.env, k))).size;
  // A setting is one every example has (what is set or not is said by the #set keys).
  const telling = [...keys].filter((k) => k.includes('#') || (distinct(k) < examples.length && examples.every((e) => s.get(e.env)!.has(k) && value(e.env, k).length <= 40)));
  // The fewest possible values first (a switch before a name), then the shallowest.
  const ordered = telling.sort((a, b) => distinct(a) - distinct(b) || a.split('.').length - b.split('.').length || compareText(a, b));
  const single: [string, string][] = [];
  for (const k of ordered) {
    const v = value(envs[0]!, k);
    if (matches(k, v)) return `when ${say(k, v)}`;
    if (envs.every((e) => value(e, k) === v)) single.push([k, v]);
  }
  for (let i = 0; i < single.length; i++)
    for (let j = i + 1; j < single.length; j++) {
      const [a, av] = single[i]!;
      const [b, bv] = single[j]!;
      if (examples.every((e) => (value(e.env, a) === av && value(e.env, b) === bv) === envs.includes(e.env))) return `when ${say(a, av)} and ${say(b, bv)}`;
    }
  return `in the examples ${envs.map(code).join(', ')}`;
}

/** A pattern's hand-written description, and the condition it is rendered under when declared (see declaredCondition). */
export interface LayoutDescription {
  text: string;
  when?: Record<string, string>;
}

/**
 * The hand-written descriptions, pattern → one line, or `{ text, when }` where `when` declares the settings (as the
 * page names them: `cluster.datastore.type`, `cluster.datastore.postgres#set`) under which the pattern is rendered.
 */
export function readLayoutDescriptions(root: string): Map<string, LayoutDescription> {
  const data = parse(readFileSync(join(root, LAYOUT_DESCRIPTIONS), 'utf8')) as Record<string, unknown>;
  return new Map(
    Object.entries(data ?? {}).map(([k, v]) => {
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const o = v as { text?: unknown; when?: unknown };
        const when = typeof o.when === 'object' && o.when !== null ? Object.fromEntries(Object.entries(o.when).map(([a, b]) => [a, String(b)])) : undefined;
        return [k, { text: String(o.text), ...(when ? { when } : {}) }];
      }
      return [k, { text: String(v) }];
    }),
  );
}

/** Exit 1 (like findings): the descriptions file is out of step with the rendered layout. */
export class LayoutDescriptionError extends Error {
  readonly exitCode = 1;
}

/** docs/reference/rendered-layout.md. Throws when a pattern has no description or a description no pattern. */
export function layoutPage(examples: readonly RenderedExample[], descriptions: ReadonlyMap<string, LayoutDescription>): Page {
  const patterns = layoutPatterns(examples);
  const missing = patterns.filter((p) => !descriptions.has(p.pattern)).map((p) => p.pattern);
  const unused = [...descriptions.keys()].filter((k) => !patterns.some((p) => p.pattern === k));
  if (missing.length + unused.length > 0)
    throw new LayoutDescriptionError(
      [
        `${LAYOUT_DESCRIPTIONS} must describe exactly the paths a render of the examples produces:`,
        ...missing.map((m) => `  no description for ${m}`),
        ...unused.map((u) => `  no rendered path matches ${u}`),
      ].join('\n'),
    );
  const conditions = new Map<string, string>();
  const wrong: string[] = [];
  for (const p of patterns) {
    const when = descriptions.get(p.pattern)!.when;
    if (!when) conditions.set(p.pattern, condition(p.envs, examples));
    else {
      const c = declaredCondition(when, p.envs, examples);
      if ('text' in c) conditions.set(p.pattern, c.text);
      else wrong.push(`  ${p.pattern}: its declared condition is not when it is rendered: ${c.wrong.join(', ')}`);
    }
  }
  if (wrong.length > 0) throw new LayoutDescriptionError([`${LAYOUT_DESCRIPTIONS}:`, ...wrong].join('\n'));
  const body: string[] = [];
  const dirs = [...new Set(patterns.map((p) => (p.pattern.includes('/') ? p.pattern.slice(0, p.pattern.indexOf('/')) : '')))];
  for (const d of dirs) {
    body.push(d === '' ? '## Top level' : `## ${d}/`, '');
    for (const p of patterns.filter((x) => (x.pattern.includes('/') ? x.pattern.slice(0, x.pattern.indexOf('/')) : '') === d)) {
      body.push(...listItem(`${code(`rendered/<env>/${p.pattern}`)} (${conditions.get(p.pattern)!}): ${escapeText(descriptions.get(p.pattern)!.text)}`));
    }
    body.push('');
  }
  const names = [
    ['<env>', 'the environment'],
    ['<node-or-pool>', 'a fixed node, or an auto-scaled pool (one config per pool)'],
    ['<class>', 'a node class: architecture, GPU and the pool extensions that need an image of their own'],
    ['<unit>', 'a delivery unit of the plan: an add-on, a workload namespace (`namespace-<namespace>`) or a workload'],
    ['<namespace>', 'a namespace holding workloads'],
    ['<tenant>', `one of ${TENANTS.map(code).join(', ')}`],
    ['<managed-env>', 'an environment this one manages as a hub'],
    ['<kind>-<name>', 'the one object the file holds: its kind in lower case and its name'],
  ];
  const intro = [
    ...wrap(
      'What `npm run synth` writes for each environment into `rendered/<env>/`, derived from a render of the example ' +
        `environments (\`${EXAMPLES_DIR}\`): each path with the names in it replaced by what they name, when it is rendered ` +
        '(the setting that tells, found by comparing the examples that have it with those that do not, or declared and ' +
        'checked against them), and what it is. ' +
        `The lines come from \`${LAYOUT_DESCRIPTIONS}\`, which must describe exactly these patterns. ` +
        'Besides the trees, synth writes one file directly under `rendered/`: `rendered/README.md`, the fleet matrix ' +
        '(one row per environment: distribution and release, Kubernetes, engine, every chart version, monthly cost, ' +
        'promotion state), checked by `npm run check` like the trees.',
    ),
    '',
    ...wrap('Every file starts with a short static header comment: generated, from which environment files, how to regenerate. Names in the patterns:'),
    '',
    ...names.flatMap(([n, what]) => listItem(`${code(n!)}: ${what}`)),
  ];
  return generatedPage('docs/reference/rendered-layout.md', 'Rendered layout', intro, body);
}
