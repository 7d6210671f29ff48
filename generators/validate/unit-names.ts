/**
 * Names the delivery derives from the user's names, checked against the limits their consumers enforce, before
 * anything is written (it needs the model: the delivery plan and the engine's names of its objects):
 *
 * - `unit-name-length`: a delivery object's name (Engine.rules.unitNames: the environment's engine names each unit's
 *   objects with the functions its renderer uses, and says how long such a name may be and why) longer than that,
 *   reported at the namespace, add-on or workload name it is derived from, with the derived name, its length, the
 *   limit and the longest the source name may be.
 * - `helm-release-name`: a unit's Helm release name (its add-on's name) over Helm's 53 characters
 *   (plan/types.ts HELM_RELEASE_NAME_MAX), at the add-on.
 */
import { resolveAddons } from '../catalog/resolve.js';
import { engineOf } from '../engines/registry.js';
import { formatPath, type DocPath } from '../lib/paths.js';
import { locate, type ResolvedEnvironment } from '../load/loader.js';
import type { EnvironmentModel } from '../model/types.js';
import { deliveryPlan } from '../plan/index.js';
import { HELM_RELEASE_NAME_MAX, type DeliveryUnit } from '../plan/types.js';
import type { Diagnostic } from './diagnostics.js';

/** A name the user wrote, from which a unit's name is derived: where it is, what it is, its value. */
interface NameSource {
  path: DocPath;
  key: boolean;
  what: 'namespace' | 'add-on' | 'workload';
  value: string;
}

type Doc = { workloads?: { name?: unknown; namespace?: unknown }[]; addons?: Record<string, { namespace?: unknown } | null> };

/** Where namespace `ns` is written first: a workload's namespace (or the name of a workload without one), an add-on's namespace. */
function namespaceSource(doc: Doc, ns: string): NameSource | undefined {
  const workloads = Array.isArray(doc.workloads) ? doc.workloads : [];
  const explicit = workloads.findIndex((w) => w?.namespace === ns);
  if (explicit !== -1) return { path: ['workloads', explicit, 'namespace'], key: false, what: 'namespace', value: ns };
  const implicit = workloads.findIndex((w) => w?.namespace === undefined && w?.name === ns);
  if (implicit !== -1) return { path: ['workloads', implicit, 'name'], key: false, what: 'namespace', value: ns };
  const addon = Object.entries(doc.addons ?? {}).find(([, a]) => a?.namespace === ns)?.[0];
  return addon === undefined ? undefined : { path: ['addons', addon, 'namespace'], key: false, what: 'namespace', value: ns };
}

/**
 * The name in the environment file a unit's name is derived from; a unit none the user wrote names (a catalog add-on's,
 * whose names are the catalog's) is reported at the document, never skipped.
 */
function unitSource(doc: Doc, partNamespaces: ReadonlyMap<string, string>, u: DeliveryUnit): NameSource {
  return writtenSource(doc, partNamespaces, u) ?? { path: [], key: false, what: 'add-on', value: u.name };
}

function writtenSource(doc: Doc, partNamespaces: ReadonlyMap<string, string>, u: DeliveryUnit): NameSource | undefined {
  if (u.kind === 'workload') {
    const i = (Array.isArray(doc.workloads) ? doc.workloads : []).findIndex((w) => w?.name === u.name);
    return i === -1 ? undefined : { path: ['workloads', i, 'name'], key: false, what: 'workload', value: u.name };
  }
  if (u.kind === 'workload-namespace') return namespaceSource(doc, u.namespace);
  const ns = partNamespaces.get(u.name);
  if (ns !== undefined) return namespaceSource(doc, ns);
  return doc.addons && u.name in doc.addons ? { path: ['addons', u.name], key: true, what: 'add-on', value: u.name } : undefined;
}

export function unitNameDiagnostics(env: ResolvedEnvironment, m: EnvironmentModel): Diagnostic[] {
  const doc = env.data as Doc;
  const out: Diagnostic[] = [];
  const at = (rule: string, s: NameSource, message: string, hint: string): void => {
    const pos = locate(env, s.path, s.key);
    out.push({ severity: 'error', rule, file: pos.file, line: pos.line, col: pos.col, path: s.path, message, hint });
  };
  const partNamespaces = new Map(resolveAddons(m).flatMap((a) => (a.partForNamespace !== undefined ? [[a.name, a.partForNamespace] as const] : [])));

  // helm-release-name first: the fit it asks for, by source.
  const helmFit = new Map<string, number>();
  for (const u of deliveryPlan(m)) {
    if (!u.chart || u.chart.releaseName.length <= HELM_RELEASE_NAME_MAX) continue;
    const source = unitSource(doc, partNamespaces, u);
    const fit = HELM_RELEASE_NAME_MAX - (u.chart.releaseName.length - source.value.length);
    helmFit.set(`${formatPath(source.path)} ${source.value}`, fit);
    at(
      'helm-release-name',
      source,
      `add-on '${u.name}' is the Helm release name of its chart: ${u.chart.releaseName.length} characters; Helm takes at most ${HELM_RELEASE_NAME_MAX} (helm install and helm template refuse a longer one)`,
      `shorten the add-on name to at most ${fit} characters`,
    );
  }

  // Every name of the engine's objects over its limit, grouped by the name it derives from (one finding each).
  const limits = engineOf(m).rules.unitNames;
  if (limits) {
    const over = new Map<string, { source: NameSource; names: string[]; fit: number }>();
    for (const { name, unit } of limits.names(m)) {
      if (name.length <= limits.max) continue;
      const source = unitSource(doc, partNamespaces, unit);
      const key = `${formatPath(source.path)} ${source.value}`;
      const entry = over.get(key) ?? over.set(key, { source, names: [], fit: source.value.length }).get(key)!;
      entry.names.push(name);
      entry.fit = Math.min(entry.fit, limits.max - (name.length - source.value.length));
    }
    for (const { source, names, fit } of over.values()) {
      // The same name already refused by helm-release-name with a bound at least as strict: one finding.
      if ((helmFit.get(`${formatPath(source.path)} ${source.value}`) ?? Infinity) <= fit) continue;
      const list = names.map((n) => `'${n}' (${n.length} characters)`).join(', ');
      at('unit-name-length', source, `${source.what} '${source.value}' gives the ${limits.object}${names.length > 1 ? 's' : ''} ${list}; at most ${limits.max}: ${limits.why}`, `shorten the ${source.what === 'namespace' ? 'namespace' : `${source.what} name`} to at most ${fit} characters`);
    }
  }

  return out;
}
