/**
 * Rendered-tree checkers contributed by the domains: Talos machine configs (Talos' own rules the
 * schema misses) and Pod Security Standards `restricted` on every pod template of the manifests.
 */
import { fromPointer } from '../../lib/paths.js';
import type { Diagnostic } from '../diagnostics.js';
import { checkRestricted } from '../pss.js';
import { checkTalosDocuments } from '../../distributions/talos/checks.js';
import type { FileChecker } from './registry.js';
import { finding } from './tree.js';

export const talosChecker: FileChecker = {
  name: 'talos-rules',
  pattern: /^talos\/[^/]+\.yaml$/,
  check(f) {
    return checkTalosDocuments(f.file, f.docs.map((d) => d.value)).map((d): Diagnostic => {
      const [index, ...path] = d.path;
      const doc = typeof index === 'number' ? f.docs[index] : undefined;
      return doc ? finding(f, doc, d.rule, path, d.message, { hint: d.hint, severity: d.severity }) : { ...d, file: f.file, line: 1, col: 1 };
    });
  },
};

const POD_KINDS = new Set(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);

export const podSecurityChecker: FileChecker = {
  name: 'pss-restricted',
  pattern: /^manifests\//,
  check(f) {
    return f.docs.flatMap((doc) => {
      const o = doc.value as { kind?: unknown; metadata?: { name?: unknown } };
      if (typeof o?.kind !== 'string' || !POD_KINDS.has(o.kind)) return [];
      return checkRestricted(o).map((issue) =>
        finding(f, doc, `pss.${issue.check}`, fromPointer(issue.pointer), `${o.kind} ${String(o.metadata?.name)}: ${issue.message} (Pod Security Standards restricted)`),
      );
    });
  },
};
