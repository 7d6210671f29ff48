import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEVICE_PLUGIN_CHART_DEFAULTS } from '../generators/catalog/nvidia-device-plugin.js';
import { helmMerge, nodeMatches, parseTaint, tolerates, untolerated } from '../generators/lib/scheduling.js';
import { devicePluginPlacement } from '../generators/validate/rendered/gpu.js';
import { SHARED } from './helpers.js';

describe('scheduling semantics', () => {
  it('node affinity: terms ORed, expressions ANDed, empty term matches nothing', () => {
    const labels = { a: '1', b: 'x' };
    expect(nodeMatches(labels, undefined, [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }, { key: 'b', operator: 'Exists' }] }])).toBe(true);
    expect(nodeMatches(labels, undefined, [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['2'] }] }, { matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }] }])).toBe(true);
    expect(nodeMatches(labels, undefined, [{ matchExpressions: [] }])).toBe(false);
    expect(nodeMatches(labels, undefined, [])).toBe(false);
    expect(nodeMatches(labels, undefined, undefined)).toBe(true);
    expect(nodeMatches(labels, { a: '1' }, undefined)).toBe(true);
    expect(nodeMatches(labels, { a: '2' }, undefined)).toBe(false);
    expect(nodeMatches({ n: '5' }, undefined, [{ matchExpressions: [{ key: 'n', operator: 'Gt', values: ['4'] }] }])).toBe(true);
    expect(nodeMatches(labels, undefined, [{ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }])).toBe(false);
  });

  it('tolerations: key/operator/value/effect as the scheduler reads them', () => {
    const taint = { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' };
    expect(tolerates({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }, taint)).toBe(true);
    expect(tolerates({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoExecute' }, taint)).toBe(false);
    expect(tolerates({ key: 'nvidia.com/gpu', value: 'present' }, taint)).toBe(true);
    expect(tolerates({ key: 'nvidia.com/gpu', value: 'other' }, taint)).toBe(false);
    expect(tolerates({ operator: 'Exists' }, taint)).toBe(true);
    expect(untolerated([], [taint, { key: 'soft', effect: 'PreferNoSchedule' }])).toStrictEqual([taint]);
    expect([parseTaint('a=b:NoSchedule'), parseTaint('a:NoExecute'), parseTaint('a=b')]).toStrictEqual([{ key: 'a', value: 'b', effect: 'NoSchedule' }, { key: 'a', effect: 'NoExecute' }, undefined]);
  });

  it('Helm merge: maps merge, lists replace, null deletes', () => {
    expect(helmMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null, e: 2 })).toStrictEqual({ a: { b: 1, c: [3] }, e: 2 });
  });

  it('device plugin placement: our values over the chart defaults', () => {
    expect(devicePluginPlacement({}).terms).toHaveLength(3);
    const p = devicePluginPlacement({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'x', operator: 'Exists' }] }] } } }, tolerations: [] });
    expect(p).toStrictEqual({ nodeSelector: {}, terms: [{ matchExpressions: [{ key: 'x', operator: 'Exists' }] }], tolerations: [] });
  });

  const upstream = join(SHARED, 'upstream', 'charts', 'nvidia-device-plugin', '0.20.0', 'values.yaml');
  it.skipIf(!existsSync(upstream))('the chart defaults the GPU check assumes are the pinned chart values', () => {
    const v = parse(readFileSync(upstream, 'utf8')) as Record<string, unknown>;
    expect({ nodeSelector: v.nodeSelector, affinity: v.affinity, tolerations: v.tolerations }).toStrictEqual(DEVICE_PLUGIN_CHART_DEFAULTS);
  });
});
