/**
 * A controller that registers its own CRD at start-up (the system-upgrade-controller creates the Plan
 * CRD itself: rancher/system-upgrade-controller pkg/upgrade/controller.go:147, 184-194 @ v0.20.1) provides
 * that kind once its Deployment is Ready: the Plans are ordered after it (Flux dependsOn, Argo CD wave)
 * and the first-sync simulator finds no missing CRD.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cap, objectFacts, REGISTERS_CRDS } from '../generators/plan/needs.js';
import { renderExample } from './helpers.js';

describe('CRDs a controller registers itself', () => {
  it('the annotation on a Deployment provides the kinds it lists', () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'c', namespace: 'x', annotations: { [REGISTERS_CRDS]: 'upgrade.cattle.io/Plan, example.com/Thing' } }, spec: {} };
    expect(objectFacts(d, 'x').provides).toStrictEqual([cap.crd('upgrade.cattle.io', 'Plan'), cap.crd('example.com', 'Thing')]);
    expect(objectFacts({ ...d, metadata: { name: 'c', namespace: 'x' } }, 'x').provides).toStrictEqual([]);
  });

  it('the upgrade Plans of a Flux environment depend on the controller that creates their CRD', () => {
    const files = renderExample('staging-k3s');
    const ks = parse(files.find((f) => f.path === 'flux/kustomizations/system-upgrade-plans.yaml')!.content);
    expect(ks.spec.dependsOn.map((d: { name: string }) => d.name)).toContain('system-upgrade-controller');
  });

  it('the upgrade Plans of an Argo CD environment are in a later wave than the controller', () => {
    const files = renderExample('dev-k3s');
    const wave = (unit: string) => Number(parse(files.find((f) => f.path === `apps/${unit}.yaml`)!.content).metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave('system-upgrade-plans')).toBeGreaterThan(wave('system-upgrade-controller'));
  });
});
