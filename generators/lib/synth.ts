/** Typed objects (kubernetes-models) to plain manifests through one cdk8s App per environment. */
import type * as Cdk8s from 'cdk8s';
import { lazyModule } from './lazy.js';

/** Loaded at the first synthesis (see lazy.ts): a command that renders nothing does not import it. */
const cdk8s = lazyModule<typeof Cdk8s>('cdk8s');

/** Synthesize typed objects through one cdk8s App: returns plain manifests in insertion order. */
export function synthesize(envName: string, groups: Record<string, { toJSON(): unknown }[]>): Record<string, Record<string, unknown>[]> {
  const app = new cdk8s.App();
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [group, objects] of Object.entries(groups)) {
    const chart = new cdk8s.Chart(app, `${envName}-${group}`, { disableResourceNameHashes: true });
    for (const o of objects) {
      const json = o.toJSON() as { apiVersion: string; kind: string; metadata: { name: string } };
      new cdk8s.ApiObject(chart, `${json.kind}-${json.metadata.name}`, json);
    }
    out[group] = chart.toJson() as Record<string, unknown>[];
  }
  return out;
}
