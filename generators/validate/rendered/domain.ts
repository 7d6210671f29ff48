/**
 * Rendered-tree checker of the workloads' domain: Pod Security Standards `restricted` on every pod
 * template of the manifests (the distributions' node-config checkers live in their folders).
 */
import { fromPointer } from '../../lib/paths.js';
import { checkRestricted } from '../pss.js';
import type { FileChecker } from './registry.js';
import { finding } from './tree.js';

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
