/**
 * The rendered-tree checkers, in one registry. A file checker runs on every rendered file whose
 * env-relative path matches its pattern; a tree checker sees the whole tree (cross-file policies).
 *
 * The distributions and engines plug theirs in (Distribution.checks, Engine.checks): the core's
 * Kubernetes schema check first, then the distributions' node-config checkers, then the core policies,
 * then the engines'. A checker over parsed documents is wrapped with `documentsChecker(pattern, …)`,
 * which positions its findings.
 */
import type { DocPath } from '../../lib/paths.js';
import type { Diagnostic, Severity } from '../diagnostics.js';
import { distributions } from '../../distributions/registry.js';
import { engines } from '../../engines/registry.js';
import { podSecurityChecker } from './domain.js';
import { gpuDevicePluginChecker } from './gpu.js';
import { kubernetesSchemaChecker } from './kubernetes.js';
import { POLICY_FILE_CHECKERS, POLICY_TREE_CHECKERS } from './policies.js';
import { placeholderChecker } from './placeholders.js';
import { finding, type ParsedFile, type RenderedTree } from './tree.js';
import { awsChecker } from '../../infra/aws/check.js';

export interface FileChecker {
  name: string;
  /** Env-relative paths it applies to, e.g. /^manifests\//. */
  pattern: RegExp;
  check(file: ParsedFile, tree: RenderedTree): Diagnostic[] | Promise<Diagnostic[]>;
}

export interface TreeChecker {
  name: string;
  check(tree: RenderedTree): Diagnostic[];
}

/** A finding about document `doc` (0-based index) of a file; positioned by `documentsChecker`. */
export interface DocumentFinding {
  rule: string;
  doc: number;
  path: DocPath;
  message: string;
  hint?: string;
  severity?: Severity;
}

/** A checker over the parsed documents of one file (env-relative path). */
export type DocumentsChecker = (file: string, docs: readonly unknown[]) => DocumentFinding[];

/** Wrap a DocumentsChecker as a FileChecker for the paths matching `pattern`. */
export function documentsChecker(name: string, pattern: RegExp, check: DocumentsChecker): FileChecker {
  return {
    name,
    pattern,
    check: (f) =>
      check(
        f.path,
        f.docs.map((d) => d.value),
      ).map((x) => finding(f, f.docs[x.doc], x.rule, x.path, x.message, { hint: x.hint, severity: x.severity })),
  };
}

/**
 * Every file checker: the schema check, the distributions', the core policies (the AWS layer's
 * among them), the engines', then the placeholders of new environments.
 */
export function fileCheckers(): FileChecker[] {
  return [kubernetesSchemaChecker, ...distributions().flatMap((d) => d.checks.files ?? []), podSecurityChecker, awsChecker, ...POLICY_FILE_CHECKERS, ...engines().flatMap((e) => e.checks.files ?? []), placeholderChecker];
}

/** Every tree checker: the core policies, then the engines'. */
export function treeCheckers(): TreeChecker[] {
  return [...POLICY_TREE_CHECKERS, gpuDevicePluginChecker, ...engines().flatMap((e) => e.checks.tree ?? [])];
}

/** Run every checker over the tree: YAML errors, file checkers by pattern, tree checkers. */
export async function checkRenderedTree(tree: RenderedTree, files: readonly FileChecker[] = fileCheckers(), trees: readonly TreeChecker[] = treeCheckers()): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const f of tree.files) {
    out.push(...f.errors);
    if (f.errors.length > 0) continue;
    for (const c of files) if (c.pattern.test(f.path)) out.push(...(await c.check(f, tree)));
  }
  for (const c of trees) out.push(...c.check(tree));
  return out;
}
