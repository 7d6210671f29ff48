/** Kubernetes objects of the rendered tree against their schemas (strict), via k8s-models.ts. */
import { distributions } from '../../distributions/registry.js';
import { engines } from '../../engines/registry.js';
import type { Diagnostic } from '../diagnostics.js';
import { validateObject, type SchemaError } from '../k8s-models.js';
import { fromPointer } from '../../lib/paths.js';
import type { KubernetesValidator } from '../kubernetes.js';
import type { FileChecker } from './registry.js';
import { finding, isMap, k8sIdentity } from './tree.js';

/** Not Kubernetes objects: Helm values, and what a distribution says of its own files (node configs). */
const notKubernetes = (path: string): boolean => /^values\//.test(path) || distributions().some((d) => d.checks.notKubernetes?.test(path));

/** Schema checks of the kinds no model package covers, from the distributions and engines (`apiVersion/kind`). */
const customResource = (apiVersion: string, kind: string): ((o: Record<string, unknown>) => SchemaError[]) | undefined => {
  for (const x of [...distributions(), ...engines()]) {
    const check = x.checks.customResources?.[`${apiVersion}/${kind}`];
    if (check) return check;
  }
  return undefined;
};

/**
 * Kubernetes objects against their schemas, strictly. With `openApi` (an OpenAPI directory of the
 * environment's exact Kubernetes version, `npm run validate -- --kubernetes-schemas DIR`), the kinds
 * it knows are checked against it; every other kind against the kubernetes-models packages.
 */
export function kubernetesSchemaCheckerWith(openApi?: KubernetesValidator): FileChecker {
  return {
    name: 'kubernetes-schema',
    pattern: /\.ya?ml$/,
    async check(f) {
      if (notKubernetes(f.path)) return [];
      const out: Diagnostic[] = [];
      for (const doc of f.docs) {
        const id = k8sIdentity(doc.value);
        if (!id || !isMap(doc.value)) continue;
        if (openApi?.kinds.has(`${id.apiVersion}/${id.kind}`)) {
          for (const i of openApi.validate(doc.value)) out.push(finding(f, doc, 'k8s.schema', fromPointer(i.pointer), `${id.kind} ${id.name}: ${i.message}`));
          continue;
        }
        const custom = customResource(id.apiVersion, id.kind);
        const errors = custom ? custom(doc.value) : await validateObject(doc.value);
        if (errors === undefined) {
          out.push(finding(f, doc, 'k8s.no-schema', ['kind'], `no schema known for ${id.apiVersion} ${id.kind}: not validated`, { severity: 'warning', hint: 'add a model package for its API group in generators/validate/k8s-models.ts' }));
          continue;
        }
        for (const e of errors) out.push(finding(f, doc, 'k8s.schema', e.path, `${id.kind} ${id.name}: ${e.message}`, { key: e.key, ...(e.hint ? { hint: e.hint } : {}) }));
      }
      return out;
    },
  };
}

export const kubernetesSchemaChecker: FileChecker = kubernetesSchemaCheckerWith();
