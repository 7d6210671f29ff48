/** Kubernetes objects of the rendered tree against their schemas (strict), via k8s-models.ts. */
import type { Diagnostic } from '../diagnostics.js';
import { validateObject } from '../k8s-models.js';
import type { FileChecker } from './registry.js';
import { finding, isMap, k8sIdentity } from './tree.js';

/** Not Kubernetes objects: Talos machine configs and schematics, Helm values. */
const NOT_KUBERNETES = /^(talos|values)\//;

export const kubernetesSchemaChecker: FileChecker = {
  name: 'kubernetes-schema',
  pattern: /\.ya?ml$/,
  async check(f) {
    if (NOT_KUBERNETES.test(f.path)) return [];
    const out: Diagnostic[] = [];
    for (const doc of f.docs) {
      const id = k8sIdentity(doc.value);
      if (!id || !isMap(doc.value)) continue;
      const errors = await validateObject(doc.value);
      if (errors === undefined) {
        out.push(finding(f, doc, 'k8s.no-schema', ['kind'], `no schema known for ${id.apiVersion} ${id.kind}: not validated`, { severity: 'warning', hint: 'add a model package for its API group in generators/validate/k8s-models.ts' }));
        continue;
      }
      for (const e of errors) out.push(finding(f, doc, 'k8s.schema', e.path, `${id.kind} ${id.name}: ${e.message}`, { key: e.key }));
    }
    return out;
  },
};
