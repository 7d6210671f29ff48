/**
 * Deterministic rendering of the charts: each Application's chart (name and version) is looked up in
 * the catalog's determinism table (catalog/determinism.ts) and its values files, merged in order,
 * must keep every template of that chart off its genCA / randAlphaNum / lookup / now path.
 */
import { DETERMINISM_RULES, determinismViolations, valueAt } from '../../catalog/determinism.js';
import { mergeDeep } from '../../load/loader.js';
import type { Diagnostic } from '../diagnostics.js';
import type { TreeChecker } from './registry.js';
import { finding, isMap, type ParsedDoc, type ParsedFile } from './tree.js';

const show = (v: unknown): string => (v === undefined ? 'unset (chart default)' : JSON.stringify(v));

export const deterministicValues: TreeChecker = {
  name: 'policy.determinism',
  check(tree) {
    const out: Diagnostic[] = [];
    const charts = new Set(DETERMINISM_RULES.map((r) => r.chart));
    const byPath = new Map(tree.files.map((f) => [f.file, f]));
    for (const file of tree.files) {
      for (const doc of file.docs) {
        const app = doc.value;
        if (!isMap(app) || app.kind !== 'Application' || !isMap(app.spec)) continue;
        const sources = Array.isArray(app.spec.sources) ? app.spec.sources.filter(isMap) : isMap(app.spec.source) ? [app.spec.source] : [];
        for (const s of sources) {
          if (typeof s.chart !== 'string' || !charts.has(s.chart) || typeof s.targetRevision !== 'string') continue;
          const helm = isMap(s.helm) ? s.helm : {};
          const files: { f: ParsedFile; d: ParsedDoc }[] = [];
          for (const vf of Array.isArray(helm.valueFiles) ? helm.valueFiles : []) {
            const m = typeof vf === 'string' ? /^\$[A-Za-z0-9_-]+\/(.+)$/.exec(vf) : null;
            const f = m ? byPath.get(m[1]!) : undefined;
            if (f?.docs[0]) files.push({ f, d: f.docs[0] });
          }
          const values = files.reduce<unknown>((acc, x) => mergeDeep(acc, x.d.value), isMap(helm.valuesObject) ? helm.valuesObject : {});
          for (const r of determinismViolations(s.chart, s.targetRevision, values)) {
            // At the last values file that sets the key, else at the first one (or the Application).
            const at = [...files].reverse().find((x) => valueAt(x.d.value, r.path) !== undefined) ?? files[0];
            const v = valueAt(values, r.path);
            const expected = r.nonEmptyString ? 'a non-empty string' : (r.allowed ?? []).map(show).join(' or ');
            const message = `${show(v)} lets chart ${r.chart} ${r.version} render ${r.template} with ${r.functions.join('/')}, whose output changes on every render (permanently OutOfSync under Argo CD); expected ${expected}`;
            out.push(at ? finding(at.f, at.d, 'policy.determinism', r.path, message, { hint: r.fix }) : finding(file, doc, 'policy.determinism', ['spec'], message, { hint: r.fix }));
          }
        }
      }
    }
    return out;
  },
};
