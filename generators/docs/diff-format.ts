/**
 * docs/reference/diff-format.md: what `npm run diff` prints, in its three formats. The sections are
 * shown on a sample (a change made in memory to an example environment, rendered before and after
 * and diffed as the command does), the JSON fields are read off the diff's types with their doc
 * comments, and the formatter's limits off its exported constants, so the page follows the code.
 */
import { parseDocument } from 'yaml';
import type * as TS from 'typescript';
import { diffTrees } from '../diff/diff.js';
import { formatJson, formatMarkdown, formatText } from '../diff/format.js';
import { envContext } from '../diff/sources.js';
import { listEnvironmentNames, readEnvironmentSources } from '../load/loader.js';
import { prepareEnvironment, renderEnvironment } from '../pipeline.js';
import { RENDERED_DIR } from '../write/writer.js';
import { join } from 'node:path';
import { code, escapeText, fence, generatedPage, listItem, wrap, type Page } from './markdown.js';
import { docComment, typescript, type SourceFile } from './source-index.js';
import { EXAMPLES_DIR } from './layout.js';

/** The module the formats come from, and the type the JSON format serializes (besides base and head). */
const FORMAT_MODULE = 'generators/diff/format.ts';
const ROOT_TYPE = 'TreeDiff';
/** Lines of a long sample shown before it is cut. */
const SAMPLE_LINES = 90;

export interface DiffSample {
  env: string;
  /** What was changed, in words. */
  change: string[];
  text: string;
  markdown: string;
  json: string;
}

/**
 * The sample: in the first example environment that lists workloads in its own file, the first
 * workload's image tag is bumped and a copy of it is added as a new workload in a new namespace.
 */
export function diffSample(root: string): DiffSample {
  const sources = readEnvironmentSources(join(root, EXAMPLES_DIR));
  for (const env of listEnvironmentNames(sources)) {
    const file = `environments/${env}.yaml`;
    const doc = parseDocument(sources.get(file)!);
    const workloads = doc.toJS()?.workloads as Record<string, unknown>[] | undefined;
    const first = workloads?.[0];
    if (!first || typeof first.image !== 'string' || !/\d+$/.test(first.image)) continue;
    const image = first.image.replace(/(\d+)$/, (n) => String(Number(n) + 1));
    const copyName = `${String(first.name)}-next`;
    const namespace = `${String(first.namespace ?? first.name)}-next`;
    const copy: Record<string, unknown> = { name: copyName, namespace, image: first.image, resources: first.resources };
    if (first.ports) copy.ports = first.ports;
    doc.setIn(['workloads', 0, 'image'], image);
    doc.addIn(['workloads'], doc.createNode(copy, { flow: true }));
    const head = new Map(sources).set(file, doc.toString());
    const before = prepareEnvironment(env, sources);
    const after = prepareEnvironment(env, head);
    if (!before.prepared || !after.prepared) continue;
    const tree = (p: NonNullable<typeof before.prepared>) => new Map(renderEnvironment(p).map((f) => [`${env}/${f.path}`, f.content]));
    const d = diffTrees(tree(before.prepared), tree(after.prepared), new Map([[env, envContext(after.prepared.model)]]));
    const ctx = { base: `${RENDERED_DIR}/ at main`, head: 'working tree (fresh render)' };
    return {
      env,
      change: [`workloads[0].image (${String(first.name)}): ${first.image} → ${image}`, `a new workload ${copyName}: a copy of ${String(first.name)} in a new namespace ${namespace}`],
      text: formatText(d, ctx),
      markdown: formatMarkdown(d, ctx),
      json: formatJson(d, ctx),
    };
  }
  throw new Error(`no example environment in ${EXAMPLES_DIR} lists a workload whose image tag ends in a number`);
}

export interface JsonField {
  path: string;
  type: string;
  doc?: string;
}

/** The JSON format's fields: the formatter's context (base, head) and the root type, members followed into the types they name. */
export function jsonFields(files: readonly SourceFile[]): JsonField[] {
  const ts = typescript();
  const decls = new Map<string, TS.InterfaceDeclaration | TS.TypeAliasDeclaration>();
  for (const f of files) {
    if (!f.path.startsWith('generators/diff/')) continue;
    for (const s of f.sf.statements) if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) decls.set(s.name.text, s);
  }
  const out: JsonField[] = [
    { path: 'base', type: 'string', doc: 'What the diff compares against: rendered/ at a git revision, or on disk.' },
    { path: 'head', type: 'string', doc: 'What is compared: the working tree rendered in memory.' },
  ];
  const seen = new Set<string>();
  const members = (t: TS.TypeNode): readonly TS.TypeElement[] => {
    if (ts.isTypeLiteralNode(t)) return t.members;
    if (ts.isIntersectionTypeNode(t)) return t.types.flatMap((x) => [...members(x)]);
    if (ts.isTypeReferenceNode(t)) {
      const d = decls.get(ts.isIdentifier(t.typeName) ? t.typeName.text : t.typeName.getText());
      if (d && ts.isInterfaceDeclaration(d)) return d.members;
      if (d && ts.isTypeAliasDeclaration(d)) return members(d.type);
    }
    return [];
  };
  const walk = (t: TS.TypeNode, path: string, depth: number): void => {
    if (depth > 6) return;
    for (const m of members(t)) {
      if (!ts.isPropertySignature(m) || !m.type) continue;
      const name = m.name.getText();
      const p = path ? `${path}.${name}` : name;
      out.push({ path: `${p}${m.questionToken ? '' : ''}`, type: m.type.getText().replace(/\s+/g, ' ') + (m.questionToken ? ' (optional)' : ''), doc: docComment(m, m.getSourceFile()) });
      let inner = m.type;
      let sub = p;
      while (ts.isArrayTypeNode(inner) || (ts.isTypeOperatorNode(inner) && ts.isArrayTypeNode(inner.type))) {
        inner = ts.isArrayTypeNode(inner) ? inner.elementType : (inner.type as TS.ArrayTypeNode).elementType;
        sub += '[]';
      }
      const key = `${sub}:${inner.getText(m.getSourceFile())}`;
      if (seen.has(key)) continue;
      seen.add(key);
      walk(inner, sub, depth + 1);
    }
  };
  const root = decls.get(ROOT_TYPE);
  if (!root) throw new Error(`no type ${ROOT_TYPE} in generators/diff/`);
  walk(ts.factory.createTypeReferenceNode(ROOT_TYPE), '', 0);
  return out;
}

/** The formatter's exported constants (limits, markers) with their doc comments. */
export function formatConstants(files: readonly SourceFile[]): { name: string; value: string; doc?: string }[] {
  const ts = typescript();
  const f = files.find((x) => x.path === FORMAT_MODULE);
  if (!f) throw new Error(`no ${FORMAT_MODULE}`);
  const out: { name: string; value: string; doc?: string }[] = [];
  for (const s of f.sf.statements) {
    if (!ts.isVariableStatement(s) || !s.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
    for (const d of s.declarationList.declarations) {
      const init = d.initializer;
      if (!init || !(ts.isNumericLiteral(init) || ts.isStringLiteral(init))) continue;
      out.push({ name: d.name.getText(), value: init.text, doc: docComment(s, f.sf) });
    }
  }
  return out;
}

function sample(lang: string, text: string): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  const shown = lines.length > SAMPLE_LINES ? [...lines.slice(0, SAMPLE_LINES), `… (${lines.length - SAMPLE_LINES} more lines)`] : lines;
  return fence(lang, shown.join('\n'));
}

export function diffFormatPage(s: DiffSample, fields: readonly JsonField[], constants: readonly { name: string; value: string; doc?: string }[]): Page {
  const body: string[] = [];
  body.push('## The sample', '');
  body.push(...wrap(`The samples below are made from the example environment ${code(s.env)} with this change, rendered before and after in memory:`), '');
  for (const c of s.change) body.push(...listItem(code(c)));
  body.push('');
  body.push(
    ...wrap(
      `Samples longer than ${SAMPLE_LINES} lines are cut; lines longer than the page's 120 characters continue on the next line after \`↪\`.`,
    ),
    '',
  );
  body.push('## text', '');
  body.push(
    ...wrap(
      'The default, for a terminal: a title line (base → head), the counts over all environments, one count line per ' +
        'environment, then *What changes in the cluster* (the same sections as the Markdown lead, below), the warnings ' +
        'of `npm run validate` on the head, then per environment (`== env ==`) the impact sections the change has (what ' +
        'applying it to the nodes takes, per distribution; what the AWS layer does), then one line per object: `+` ' +
        'added, `-` removed, `~` changed with one line per field change (`~ path: old → new`; a text file such as the ' +
        'README as a unified line diff), `→` moved or renamed.',
    ),
    '',
  );
  body.push(...sample('text', s.text), '');
  body.push('## markdown', '');
  body.push(
    ...wrap(
      'The pull-request comment CI posts and updates (`--format markdown`): the marker line the workflow finds its ' +
        'comment by, a title and the counts, then **What changes in the cluster**: new namespaces, new cluster-scoped ' +
        'permissions (ClusterRoles and bindings, CRDs, webhooks, kinds a tenant may newly manage), charts installed, ' +
        'upgraded (from → to, major bumps flagged) or removed, each with the other changes of the object installing it, ' +
        'every other changed GitOps object, named once, with its one-line consequence grouped by what it ' +
        'does (nodes upgraded by an upgrade Plan; access granted or changed: RBAC, NetworkPolicies, ExternalSecrets, what ' +
        'the engine may deploy; workloads started or stopped; configuration only: Helm values, ConfigMaps, alerts, the ' +
        "engine's sync settings, any other object by its changed fields), the nodes in the order to run them (control " +
        'planes one at a time, each gated on etcd ' +
        'and the API being healthy, then workers, then once-per-cluster steps), AWS resources replaced or rolled, and ' +
        'what GitOps does not apply (AWS stacks: instance types, DNS, load balancers; node configs) with the command ' +
        'that does. Then the warnings of `npm run validate` on the head (rule ids), the table of the changed ' +
        'environments, and one collapsible `<details>` per environment: its impact tables, one list item per changed ' +
        'object with one line per changed field (`! path: old → new`) in a `diff` block GitHub colours, text files as a ' +
        'unified line diff, and the added and removed objects (a new environment: counted by kind) only inside ' +
        'collapsed blocks. It is written for CommonMark as GitHub renders it. To fit the comment limit it summarises ' +
        'the largest environment\'s details level by level (`DETAIL_LEVELS`), never the lead. Against a git revision ' +
        'the lead ends with **Monthly cost (on-demand)**: one line per node pool whose cost changes ' +
        '(`+$584/month: general-amd64 m7i.xlarge → m7i.2xlarge × 4`), then the total, each side priced from its own ' +
        'lock; a price missing on either side is said, never guessed. More lead sections are providers added after ' +
        'the built-in ones (`generators/diff/lead-sections.ts`).',
    ),
    '',
  );
  body.push('Its limits and markers, from the formatter:', '');
  for (const c of constants) body.push(...listItem(`${code(c.name)} = ${code(c.value)}${c.doc ? `: ${escapeText(c.doc)}` : ''}`));
  body.push('', ...sample('markdown', s.markdown), '');
  body.push('## json', '');
  body.push(...wrap('For machines (`--format json`): one object holding every field below (optional ones only when they apply; `[]` marks a list).'), '');
  for (const f of fields) body.push(...listItem(`${code(f.path)}: ${code(f.type)}${f.doc ? ` — ${escapeText(f.doc)}` : ''}`));
  body.push('', ...sample('json', s.json), '');
  const intro = [
    ...wrap(
      '`npm run diff` renders the working tree\'s environments in memory and compares them with `rendered/` at a git ' +
        'revision (or on disk), object by object and field by field. Nothing secret is printed: secret-shaped values and ' +
        "every value of a Secret's data read `‹masked›`. This page shows its three formats on a sample and lists the JSON " +
        'fields; it is generated from the code (`npm run docs`).',
    ),
  ];
  return generatedPage('docs/reference/diff-format.md', 'Diff format', intro, body);
}
