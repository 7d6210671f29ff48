/**
 * generators/lib/synth.ts writes the engines' objects as cdk8s's ApiObject.toJson wrote them: checked
 * here against cdk8s itself (a dependency of the workloads) on arbitrary plain objects, with nulls,
 * undefined members, empty arrays and objects at every depth, in metadata and in the body.
 */
import { isDeepStrictEqual } from 'node:util';
import { ApiObject, App, Chart } from 'cdk8s';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestOf, synthesize } from '../generators/lib/synth.js';

function viaCdk8s(json: { apiVersion: string; kind: string; metadata: { name: string } }): unknown {
  const app = new App();
  const chart = new Chart(app, 'env-group', { disableResourceNameHashes: true });
  new ApiObject(chart, `${json.kind}-${json.metadata.name}`, json);
  return chart.toJson()[0];
}

const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['constructor', '__proto__', 'toJSON'].includes(k));
const leaf = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 4, noNullPrototype: true })),
})).node;
const object = fc.record({
  apiVersion: fc.constantFrom('v1', 'argoproj.io/v1alpha1', 'helm.toolkit.fluxcd.io/v2'),
  kind: fc.constantFrom('ConfigMap', 'Application', 'HelmRelease'),
  metadata: fc.record(
    { name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), namespace: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }), labels: fc.option(fc.dictionary(key, fc.oneof(fc.string({ maxLength: 5 }), fc.constant(null))), { nil: undefined }), annotations: value, finalizers: fc.option(fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }), { nil: undefined }), extra: value },
    { requiredKeys: ['name'] },
  ),
  spec: value,
  data: value,
});

describe('engine objects without a cdk8s App', () => {
  it('are what cdk8s ApiObject.toJson makes of the same plain object, key order included', () => {
    fc.assert(
      fc.property(object, (o) => {
        const ours = manifestOf(structuredClone(o) as never);
        const theirs = viaCdk8s(structuredClone(o) as never);
        return isDeepStrictEqual(ours, theirs) && JSON.stringify(ours) === JSON.stringify(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('refuse a second object of the same kind and name in a group, as the construct ids did', () => {
    const o = { toJSON: () => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }) };
    expect(() => synthesize('env', { g: [o, o] })).toThrow("There is already a Construct with name 'ConfigMap-a' in Chart [env-g]");
    expect(synthesize('env', { g: [o], h: [o] })).toEqual({ g: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }], h: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }] });
  });
});
