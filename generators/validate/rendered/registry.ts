/**
 * The rendered-tree checkers, in one registry. A file checker runs on every rendered file whose
 * env-relative path matches its pattern; a tree checker sees the whole tree (cross-file policies).
 *
 * Other areas plug in here: the Talos checker is a `DocumentsChecker` (`checkTalosDocuments(file,
 * docs)`) wrapped with `documentsChecker(/^talos\/[^/]+\.yaml$/, …)`, the K3s checker likewise for
 * `^k3s/`. Their findings are positioned by the adapter.
 */
import type { DocPath } from '../../lib/paths.js';
import type { Diagnostic, Severity } from '../diagnostics.js';
import { deterministicValues } from './determinism.js';
import { podSecurityChecker, talosChecker } from './domain.js';
import { gpuDevicePluginChecker } from './gpu.js';
import { fluxPolicies } from './flux.js';
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

/** The interface of the Talos (and K3s) checkers: file (env-relative path) and its parsed documents. */
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

export const FILE_CHECKERS: FileChecker[] = [kubernetesSchemaChecker, talosChecker, podSecurityChecker, awsChecker, ...POLICY_FILE_CHECKERS, placeholderChecker];

export const TREE_CHECKERS: TreeChecker[] = [...POLICY_TREE_CHECKERS, gpuDevicePluginChecker, deterministicValues, fluxPolicies];

/** Run every checker over the tree: YAML errors, file checkers by pattern, tree checkers. */
export async function checkRenderedTree(tree: RenderedTree, fileCheckers: readonly FileChecker[] = FILE_CHECKERS, treeCheckers: readonly TreeChecker[] = TREE_CHECKERS): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  for (const f of tree.files) {
    out.push(...f.errors);
    if (f.errors.length > 0) continue;
    for (const c of fileCheckers) if (c.pattern.test(f.path)) out.push(...(await c.check(f, tree)));
  }
  for (const c of treeCheckers) out.push(...c.check(tree));
  return out;
}
