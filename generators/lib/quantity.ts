/** Kubernetes resource quantities (`500m`, `1.5`, `512Mi`, `2G`) as numbers, for comparisons. */
const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** The quantities an environment may write (schemas/environment.schema.json, $defs.quantity). */
const QUANTITY = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * SUFFIX[m[2] ?? '']!;
}

/** Where an environment writes quantities: a workload's requests and limits, and its volumes' sizes. */
function quantityPaths(data: Record<string, unknown>): (string | number)[][] {
  const out: (string | number)[][] = [];
  const workloads = data.workloads;
  if (!Array.isArray(workloads)) return out;
  workloads.forEach((w: unknown, i) => {
    if (w === null || typeof w !== 'object') return;
    const x = w as { resources?: Record<string, unknown>; volumes?: unknown };
    for (const kind of ['requests', 'limits'])
      for (const r of ['cpu', 'memory']) if (x.resources && typeof x.resources[kind] === 'object' && x.resources[kind] !== null) out.push(['workloads', i, 'resources', kind, r]);
    if (Array.isArray(x.volumes)) x.volumes.forEach((_, j) => out.push(['workloads', i, 'volumes', j, 'size']));
  });
  return out;
}

/**
 * Quantities written as YAML numbers (`cpu: 0.5`, `memory: 1073741824`) as the strings Kubernetes
 * reads the same way: its Quantity takes a JSON number as well as a string (kubernetes/apimachinery
 * pkg/api/resource/quantity.go, Quantity.UnmarshalJSON strips optional quotes and parses the text),
 * and a number has no unit (cores, bytes). Changes `data` in place; returns the paths of numbers no
 * quantity string writes the same way (an exponent such as 1e-7).
 */
export function normalizeQuantities(data: Record<string, unknown>): (string | number)[][] {
  const refused: (string | number)[][] = [];
  for (const path of quantityPaths(data)) {
    const parent = path.slice(0, -1).reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), data) as Record<string, unknown> | undefined;
    const key = path[path.length - 1] as string;
    const v = parent?.[key];
    if (typeof v !== 'number') continue;
    const text = String(v);
    if (QUANTITY.test(text)) parent![key] = text;
    else refused.push(path);
  }
  return refused;
}
