/** Typed objects (kubernetes-models) to plain manifests through one cdk8s App per environment. */
import { ApiObject, App, Chart } from 'cdk8s';

/** Synthesize typed objects through one cdk8s App: returns plain manifests in insertion order. */
export function synthesize(envName: string, groups: Record<string, { toJSON(): unknown }[]>): Record<string, Record<string, unknown>[]> {
  const app = new App();
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [group, objects] of Object.entries(groups)) {
    const chart = new Chart(app, `${envName}-${group}`, { disableResourceNameHashes: true });
    for (const o of objects) {
      const json = o.toJSON() as { apiVersion: string; kind: string; metadata: { name: string } };
      new ApiObject(chart, `${json.kind}-${json.metadata.name}`, json);
    }
    out[group] = chart.toJson() as Record<string, unknown>[];
  }
  return out;
}
