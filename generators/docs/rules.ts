/**
 * Every rule id the generator reports, read off its code: wherever a finding is made, whatever folder
 * it lives in. A finding is made in one of two ways, and both are recognised by their shape, not by
 * file or function names:
 *
 * - a call to a function with a parameter named `rule` (`report('workload-requests', path, message,
 *   { hint })`, `finding(file, doc, 'policy.pinned-images', …)`, a local wrapper …): the argument in
 *   that position is the rule id, the one in the `message` position its message, `hint` and
 *   `severity` come from their positions or from an options object;
 * - an object literal with `rule` and `message` properties (a Diagnostic written out).
 *
 * Wrappers are followed: a function taking `rule` that builds `prefix.${rule}` or passes `rule` on to
 * another reporter gives its callers' ids that prefix and its own messages. An id built from a
 * parameter's field (`${spec.rule}-rendered`) is expanded with every object literal declared with
 * that parameter's type. What cannot be resolved statically stays a placeholder: `schema.‹keyword›`.
 */
import type * as TS from 'typescript';
import { code, compareText, escapeText, generatedPage, headingText, listItem, slug, wrap, type Page } from './markdown.js';
import { type SourceFile, typescript } from './source-index.js';

export type RuleSeverity = 'error' | 'warning' | 'error or warning';

export interface RuleUse {
  id: string;
  severity: RuleSeverity;
  /**
   * The message (its variants, when the code chooses between whole sentences), run-time parts as
   * ‹name› (a variable), ‹a | b› (one of these) or … (computed). Empty when it is not written out there.
   */
  messages: string[];
  /** The hint: what to do about it (its variants). */
  hints: string[];
  /** Repository-relative source file. */
  file: string;
}

/** A value a parameter stands for inside its function: \u0000name\u0000. */
const PARAM = (name: string): string => `\u0000${name}\u0000`;
const PARAM_RE = /\u0000([^\u0000]*)\u0000/g;
const COMPUTED = '…';
const placeholder = (name: string): string => `‹${name}›`;

interface Signature {
  params: string[];
  node?: TS.SignatureDeclaration;
  file: SourceFile;
}

interface ReporterInfo {
  sig: Signature;
  rule: number;
  message: number;
  hint: number;
  severity: number;
  /** The rule id the reporter reports for a given `rule` argument, \u0000rule\u0000 standing for it. */
  transforms: string[];
  /** Messages (hint, severity) made inside the reporter, for callers that pass no message. */
  inner: Use[];
}

type Use = Omit<RuleUse, 'id' | 'file'>;

type FnNode = TS.FunctionDeclaration | TS.ArrowFunction | TS.FunctionExpression | TS.MethodDeclaration;

export function extractRules(files: readonly SourceFile[]): RuleUse[] {
  const ts = typescript();
  const isFn = (n: TS.Node): n is FnNode => ts.isFunctionDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isMethodDeclaration(n);
  const paramNames = (fn: TS.SignatureDeclaration): string[] => fn.parameters.map((p) => (ts.isIdentifier(p.name) ? p.name.text : ''));

  // Index: exported functions by name, function type aliases, object literals declared with a type.
  const globalFns = new Map<string, Signature[]>();
  const typeAliases = new Map<string, Signature>();
  const typedObjects = new Map<string, TS.ObjectLiteralExpression[]>();
  const fileOf = new Map<TS.SourceFile, SourceFile>();
  for (const file of files) {
    fileOf.set(file.sf, file);
    const visit = (n: TS.Node): void => {
      if (ts.isFunctionDeclaration(n) && n.name && ts.isSourceFile(n.parent)) push(globalFns, n.name.text, { params: paramNames(n), node: n, file });
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) {
        const init = unwrap(n.initializer);
        if ((ts.isArrowFunction(init) || ts.isFunctionExpression(init)) && ts.isVariableStatement(n.parent.parent) && ts.isSourceFile(n.parent.parent.parent)) push(globalFns, n.name.text, { params: paramNames(init), node: init, file });
        if (n.type && ts.isTypeReferenceNode(n.type) && ts.isObjectLiteralExpression(init)) push(typedObjects, n.type.typeName.getText(file.sf), init);
      }
      if (ts.isTypeAliasDeclaration(n) && ts.isFunctionTypeNode(n.type)) typeAliases.set(n.name.text, { params: paramNames(n.type), node: n.type, file });
      ts.forEachChild(n, visit);
    };
    visit(file.sf);
  }

  function unwrap(e: TS.Expression): TS.Expression {
    while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
    return e;
  }

  type Decl = { kind: 'param'; fn: FnNode; param: TS.ParameterDeclaration } | { kind: 'const'; init?: TS.Expression; fn?: TS.SignatureDeclaration } | { kind: 'other' };

  /** What `name` refers to at `at`: a parameter of an enclosing function, a const (its initializer) … */
  function declarationOf(name: string, at: TS.Node): Decl | undefined {
    for (let p: TS.Node | undefined = at.parent; p; p = p.parent) {
      if (isFn(p)) {
        const param = p.parameters.find((x) => ts.isIdentifier(x.name) && x.name.text === name);
        if (param) return { kind: 'param', fn: p, param };
      }
      if ((ts.isForOfStatement(p) || ts.isForInStatement(p) || ts.isForStatement(p)) && p.initializer && ts.isVariableDeclarationList(p.initializer)) {
        if (p.initializer.declarations.some((d) => bindsName(d.name, name))) return { kind: 'other' };
      }
      if (ts.isCatchClause(p) && p.variableDeclaration && bindsName(p.variableDeclaration.name, name)) return { kind: 'other' };
      const statements = ts.isBlock(p) || ts.isSourceFile(p) || ts.isCaseClause(p) || ts.isDefaultClause(p) ? p.statements : undefined;
      if (!statements) continue;
      for (const s of statements) {
        if (ts.isFunctionDeclaration(s) && s.name?.text === name) return { kind: 'const', fn: s };
        if (!ts.isVariableStatement(s)) continue;
        for (const d of s.declarationList.declarations) {
          if (ts.isIdentifier(d.name) && d.name.text === name) {
            const init = d.initializer && unwrap(d.initializer);
            const constant = (s.declarationList.flags & ts.NodeFlags.Const) !== 0;
            if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) return { kind: 'const', init, fn: init };
            return constant ? { kind: 'const', init } : { kind: 'other' };
          }
          if (bindsName(d.name, name)) return { kind: 'other' };
        }
      }
    }
    return undefined;
  }

  function bindsName(b: TS.BindingName, name: string): boolean {
    if (ts.isIdentifier(b)) return b.text === name;
    return b.elements.some((e) => !ts.isOmittedExpression(e) && bindsName(e.name, name));
  }

  /** The signature a call goes to: a function in scope, a parameter of a function type, an exported function. */
  function signatureOf(call: TS.CallExpression): Signature | undefined {
    const callee = call.expression;
    if (!ts.isIdentifier(callee)) return undefined;
    const sf = call.getSourceFile();
    const d = declarationOf(callee.text, call);
    if (d?.kind === 'const' && d.fn) return { params: paramNames(d.fn), node: d.fn, file: fileOf.get(sf)! };
    if (d?.kind === 'param') {
      const t = paramType(d.param, d.fn);
      if (t && ts.isFunctionTypeNode(t)) return { params: paramNames(t), node: t, file: fileOf.get(sf)! };
      if (t && ts.isTypeReferenceNode(t)) return typeAliases.get(t.typeName.getText());
      return undefined;
    }
    if (d) return undefined;
    const global = globalFns.get(callee.text);
    return global?.length === 1 ? global[0] : undefined;
  }

  /**
   * A parameter's declared type, or, for a function written as the value of a variable declared with
   * a function type (`const rule: Rule = (ctx, report) => …`), the type that function type gives it.
   */
  function paramType(param: TS.ParameterDeclaration, fn: FnNode): TS.TypeNode | undefined {
    if (param.type) return param.type;
    const v = fn.parent;
    if (!ts.isVariableDeclaration(v) || !v.type || !ts.isTypeReferenceNode(v.type)) return undefined;
    const alias = typeAliases.get(v.type.typeName.getText());
    const i = fn.parameters.indexOf(param);
    return alias?.node && i >= 0 ? alias.node.parameters[i]?.type : undefined;
  }

  const reporters = new Map<TS.Node | Signature, ReporterInfo | null>();
  /** The reporter behind a signature: where its rule, message, hint and severity go, and what it does with them. */
  function reporterOf(sig: Signature | undefined): ReporterInfo | undefined {
    if (!sig) return undefined;
    const key = sig.node ?? sig;
    if (reporters.has(key)) return reporters.get(key) ?? undefined;
    const rule = sig.params.indexOf('rule');
    if (rule < 0) {
      reporters.set(key, null);
      return undefined;
    }
    const info: ReporterInfo = { sig, rule, message: sig.params.indexOf('message'), hint: sig.params.indexOf('hint'), severity: sig.params.indexOf('severity'), transforms: [], inner: [] };
    reporters.set(key, info);
    const body = sig.node && (isFn(sig.node) ? sig.node.body : undefined);
    if (body) {
      const visit = (n: TS.Node): void => {
        for (const f of findingsAt(n)) {
          if (!f.ids.some((id) => id.includes(PARAM('rule')))) continue;
          for (const id of f.ids) if (id.includes(PARAM('rule'))) pushUnique(info.transforms, id);
          info.inner.push(...f.uses);
        }
        ts.forEachChild(n, visit);
      };
      visit(body);
    }
    if (info.transforms.length === 0) info.transforms.push(PARAM('rule'));
    return info;
  }

  interface Found {
    ids: string[];
    uses: Use[];
  }

  /** The finding a node makes, if it makes one: a reporter call, or a Diagnostic object literal. */
  function findingsAt(n: TS.Node): Found[] {
    if (ts.isCallExpression(n)) {
      const r = reporterOf(signatureOf(n));
      const arg = r && n.arguments[r.rule];
      if (!r || !arg || ts.isSpreadElement(arg)) return [];
      const given = values(arg, 0, arg, true);
      const ids = given.flatMap((v) => r.transforms.map((t) => t.split(PARAM('rule')).join(v)));
      const options = n.arguments.find((a, i) => i !== r.rule && i !== r.message && ts.isObjectLiteralExpression(unwrap(a))) as TS.ObjectLiteralExpression | undefined;
      const hint = r.hint >= 0 ? n.arguments[r.hint] : options && property(options, 'hint');
      const sev = r.severity >= 0 ? n.arguments[r.severity] : options && property(options, 'severity');
      const hints = hintTexts(hint);
      if (r.message >= 0) {
        const messages = n.arguments[r.message] ? texts(n.arguments[r.message]!) : [];
        const severity = sev ? severityOf(sev) : r.inner.length > 0 ? combined(r.inner.map((u) => u.severity)) : 'error';
        return [{ ids, uses: [{ severity, messages, hints }] }];
      }
      return [{ ids, uses: r.inner.length > 0 ? r.inner.map((u) => ({ ...u, ...(sev ? { severity: severityOf(sev) } : {}), ...(hint ? { hints } : {}) })) : [{ severity: sev ? severityOf(sev) : 'error', messages: [], hints }] }];
    }
    if (ts.isObjectLiteralExpression(n)) {
      const rule = property(n, 'rule');
      const message = property(n, 'message');
      if (!rule || !message) return [];
      const sev = property(n, 'severity');
      const severity = sev ? severityOf(sev) : 'error';
      return [{ ids: values(rule, 0, n, true), uses: [{ severity, messages: texts(message), hints: hintTexts(property(n, 'hint')) }] }];
    }
    return [];
  }

  /**
   * A property's value expression in an object literal (`rule: x`, the shorthand `rule`, or from an
   * object spread into it: `{ ...base, message }` with `const base = { rule: … }`); the last one wins.
   */
  function property(o: TS.ObjectLiteralExpression, name: string, depth = 0): TS.Expression | undefined {
    let found: TS.Expression | undefined;
    for (const p of o.properties) {
      if (ts.isPropertyAssignment(p) && p.name.getText() === name) found = p.initializer;
      else if (ts.isShorthandPropertyAssignment(p) && p.name.text === name) found = p.name;
      else if (ts.isSpreadAssignment(p) && depth < 4) {
        const e = unwrap(p.expression);
        const d = ts.isIdentifier(e) ? declarationOf(e.text, e) : undefined;
        const init = d?.kind === 'const' && d.init ? unwrap(d.init) : undefined;
        const inner = init && ts.isObjectLiteralExpression(init) ? property(init, name, depth + 1) : undefined;
        if (inner) found = inner;
      }
    }
    return found;
  }

  function severityOf(e: TS.Expression): RuleSeverity {
    const vs = values(e).filter((v) => v === 'error' || v === 'warning');
    return vs.length === 1 ? (vs[0] as RuleSeverity) : vs.length === 0 ? 'error' : 'error or warning';
  }
  const combined = (ss: RuleSeverity[]): RuleSeverity => (new Set(ss).size === 1 ? ss[0]! : 'error or warning');

  const hintTexts = (e: TS.Expression | undefined): string[] => (e ? texts(e).filter((x) => x !== COMPUTED && !/^‹[^›]*›$/.test(x)) : []);

  /**
   * The strings an expression can be: literals, templates (each part resolved, or a placeholder),
   * both branches of a conditional, a const's initializer; a parameter of the enclosing function as
   * \u0000name\u0000 (what a wrapper's callers supply).
   */
  function values(e: TS.Expression, depth = 0, site: TS.Node = e, ruleId = false): string[] {
    e = unwrap(e);
    if (depth > 8) return [COMPUTED];
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e.text];
    if (ts.isConditionalExpression(e)) return [...values(e.whenTrue, depth + 1, site, ruleId), ...values(e.whenFalse, depth + 1, site, ruleId)];
    if (ts.isBinaryExpression(e) && (e.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || e.operatorToken.kind === ts.SyntaxKind.BarBarToken)) return [...values(e.left, depth + 1, site, ruleId), ...values(e.right, depth + 1, site, ruleId)];
    if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) return product(values(e.left, depth + 1, site, ruleId), values(e.right, depth + 1, site, ruleId));
    if (ts.isTemplateExpression(e)) {
      let out = [e.head.text];
      for (const span of e.templateSpans) out = product(product(out, part(span.expression, depth + 1, site, ruleId)), [span.literal.text]);
      return out;
    }
    if (ts.isIdentifier(e)) {
      if (e.text === 'undefined') return [];
      const d = declarationOf(e.text, e);
      if (d?.kind === 'param') return [PARAM(e.text)];
      if (d?.kind === 'const' && d.init && !d.fn) return values(d.init, depth + 1, site, ruleId);
      return [placeholder(e.text)];
    }
    if (ts.isPropertyAccessExpression(e)) return [placeholder(e.name.text)];
    return [COMPUTED];
  }

  /** One `${…}` of a template: a parameter's field expanded from the typed objects, or a placeholder. */
  function part(e: TS.Expression, depth: number, site: TS.Node, ruleId: boolean): string[] {
    e = unwrap(e);
    // Inside `switch (e.keyword) { case 'type': … }` the expression is that case's value.
    const text = e.getText();
    for (let p: TS.Node | undefined = site; p; p = p.parent) {
      if (!(ts.isCaseClause(p) || ts.isDefaultClause(p)) || !ts.isSwitchStatement(p.parent.parent) || p.parent.parent.expression.getText() !== text) continue;
      if (ts.isCaseClause(p) && (ts.isStringLiteral(p.expression) || ts.isNoSubstitutionTemplateLiteral(p.expression))) return [p.expression.text];
      break;
    }
    if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression)) {
      const d = declarationOf(e.expression.text, e);
      const t = d?.kind === 'param' ? paramType(d.param, d.fn) : undefined;
      if (ruleId && t && ts.isTypeReferenceNode(t)) {
        const objects = typedObjects.get(t.typeName.getText()) ?? [];
        const found = objects.map((o) => property(o, e.name.text)).filter((x): x is TS.Expression => x !== undefined && (ts.isStringLiteral(x) || ts.isNoSubstitutionTemplateLiteral(x)));
        if (found.length > 0) return found.map((x) => (x as TS.StringLiteral).text);
      }
      return [placeholder(e.name.text)];
    }
    const v = values(e, depth, site, ruleId).map((x) => (x.includes('\u0000') && x !== PARAM('rule') ? x.replace(PARAM_RE, (_m, n: string) => placeholder(n)) : x));
    if (v.length === 0 || v.length > 4) return [COMPUTED];
    // A choice inside a sentence reads as one: ‹a | b›. (A rule id's parts stay apart: each is an id.)
    if (v.length === 1 || v.includes(PARAM('rule')) || ruleId) return v;
    const filled = v.filter((x) => x !== '');
    return [filled.length === 1 ? `[${filled[0]}]` : placeholder(filled.join(' | '))];
  }

  /** Message text: like values(), but parameters read as placeholders and long alternatives collapse. */
  function texts(e: TS.Expression): string[] {
    const vs = values(e)
      .map((v) => v.replace(PARAM_RE, (_m, n: string) => placeholder(n)))
      .filter((v) => v.trim() !== '' && v !== COMPUTED);
    return [...new Set(vs)].slice(0, 6);
  }

  // Every finding made outside a reporter's own pass-through.
  const out: RuleUse[] = [];
  for (const file of files) {
    const visit = (n: TS.Node): void => {
      for (const f of findingsAt(n)) {
        for (const id of f.ids) {
          if (id.includes('\u0000') || id === COMPUTED || /^‹[^›]*›$/.test(id) || !/^[a-z‹]/.test(id)) continue;
          for (const u of f.uses) out.push({ id, file: file.path, ...u });
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(file.sf);
  }
  return dedupe(out);
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

function pushUnique(l: string[], v: string): void {
  if (!l.includes(v)) l.push(v);
}

function product(a: string[], b: string[]): string[] {
  if (a.length === 0 || b.length === 0) return a.length === 0 ? b : a;
  const out: string[] = [];
  for (const x of a) for (const y of b) out.push(x + y);
  return out.slice(0, 16);
}

function dedupe(uses: RuleUse[]): RuleUse[] {
  const seen = new Set<string>();
  return uses
    .filter((u) => {
      const k = JSON.stringify([u.id, u.severity, u.messages, u.hints, u.file]);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .sort((a, b) => compareText(a.id, b.id) || compareText(a.file, b.file));
}

/** The group a rule id is listed under: its first word (`workload-requests` → workload, `aws.spec` → aws). */
export const ruleGroup = (id: string): string => id.split(/[.-]/)[0]!;

/** docs/reference/rules.md: every rule id, grouped by its first word, each use with its message and fix. */
export function rulesPage(uses: readonly RuleUse[]): Page {
  const byId = new Map<string, RuleUse[]>();
  for (const u of uses) (byId.get(u.id) ?? byId.set(u.id, []).get(u.id)!).push(u);
  const ids = [...byId.keys()].sort();
  const groups = [...new Set(ids.map(ruleGroup))].sort();
  const body: string[] = [];
  const seen = new Map<string, number>();
  for (const g of groups) slug(g, seen);
  body.push('## All rule ids', '');
  body.push(...wrap(ids.map((id) => `[${code(id)}](#${slug(headingText(code(id)), seen)})`).join(', ')), '');
  for (const g of groups) {
    body.push(`## ${g}`, '');
    for (const id of ids.filter((x) => ruleGroup(x) === g)) {
      body.push(`### ${code(id)}`, '');
      for (const u of byId.get(id)!) {
        body.push(...listItem(`**${u.severity}** in ${code(u.file)}${u.messages.length + u.hints.length > 0 ? ':' : ' (message made elsewhere)'}`));
        for (const m of u.messages) body.push(...listItem(escapeText(m), '-', '  '));
        for (const h of u.hints) body.push(...listItem(`Fix: ${escapeText(h)}`, '-', '  '));
      }
      body.push('');
    }
  }
  const intro = [
    ...wrap(
      'Every finding the commands print ends its line with the rule that made it: `synth`, `check` and `validate` report ' +
        '`file:line:col  path: message  (fix)`, and a warning about an environment file ends with `[rule-id]`, which ' +
        "the environment's `acknowledge:` list takes to silence it (see [the environment fields](environment.md#acknowledge)).",
    ),
    '',
    ...wrap(
      'This page is read off the code by `npm run docs`: every call that reports a finding (a function with a parameter ' +
        'named `rule`, wrappers followed) and every finding written out as an object, wherever it lives. Each entry gives ' +
        'the severity, the source file, the message and the fix printed after it. Parts filled in at run time read ' +
        '‹name› (a value), ‹a | b› (one of these), \\[text\\] (present or not) or … (computed); a rule id reported from ' +
        'several places lists each.',
    ),
  ];
  return generatedPage('docs/reference/rules.md', 'Rule ids', intro, body);
}
