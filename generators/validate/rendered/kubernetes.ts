/** Kubernetes objects of the rendered tree against their schemas (strict), via k8s-models.ts. */
import { TALOS_RELEASES } from '../../distributions/talos/release.js';
import type { Diagnostic } from '../diagnostics.js';
import { validateObject, type SchemaError } from '../k8s-models.js';
import { fromPointer } from '../../lib/paths.js';
import type { KubernetesValidator } from '../kubernetes.js';
import type { FileChecker } from './registry.js';
import { fluxInstanceErrors } from '../../engines/flux/checks.js';
import { finding, isMap, k8sIdentity } from './tree.js';

/** Not Kubernetes objects: Talos machine configs and schematics, Helm values. */
const NOT_KUBERNETES = /^(talos|values)\//;

/**
 * Talos' own custom resource (no model package exists): `talos.dev/v1alpha1 ServiceAccount`, which
 * Talos turns into a Secret with a Talos client config for the roles given (spec.roles, the
 * os:* roles of Talos' RBAC; see internal/app/machined/pkg/controllers/kubeaccess in siderolabs/talos).
 */
const TALOS_ROLES = [...new Set(Object.values(TALOS_RELEASES).flatMap((r) => r.roles))];
function talosServiceAccountErrors(o: Record<string, unknown>): SchemaError[] {
  const errors: SchemaError[] = [];
  for (const k of Object.keys(o)) if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) errors.push({ path: [k], key: true, message: `unknown field '${k}'` });
  const spec = o.spec;
  if (!isMap(spec)) return [...errors, { path: ['spec'], key: false, message: 'spec with roles is required' }];
  for (const k of Object.keys(spec)) if (k !== 'roles') errors.push({ path: ['spec', k], key: true, message: `unknown field '${k}' (a Talos ServiceAccount has spec.roles only)` });
  const roles = spec.roles;
  if (!Array.isArray(roles) || roles.length === 0) errors.push({ path: ['spec', 'roles'], key: false, message: 'spec.roles must list at least one role' });
  else roles.forEach((r, i) => {
    if (typeof r !== 'string' || !TALOS_ROLES.includes(r)) errors.push({ path: ['spec', 'roles', i], key: false, message: `'${String(r)}' is not a Talos role (${TALOS_ROLES.join(', ')})` });
  });
  return errors;
}

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
      if (NOT_KUBERNETES.test(f.path)) return [];
      const out: Diagnostic[] = [];
      for (const doc of f.docs) {
        const id = k8sIdentity(doc.value);
        if (!id || !isMap(doc.value)) continue;
        if (openApi?.kinds.has(`${id.apiVersion}/${id.kind}`)) {
          for (const i of openApi.validate(doc.value)) out.push(finding(f, doc, 'k8s.schema', fromPointer(i.pointer), `${id.kind} ${id.name}: ${i.message}`));
          continue;
        }
        const errors =
          id.apiVersion === 'talos.dev/v1alpha1' && id.kind === 'ServiceAccount'
            ? talosServiceAccountErrors(doc.value)
            : id.apiVersion === 'fluxcd.controlplane.io/v1' && id.kind === 'FluxInstance'
              ? fluxInstanceErrors(doc.value)
              : await validateObject(doc.value);
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
