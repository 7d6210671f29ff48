/**
 * generators/lib/k8s-objects.ts builds objects as the kubernetes-models classes do, without
 * importing them: for every kind, same apiVersion and kind, and the same toJSON() (undefined values
 * dropped at every depth, in arrays too; other values kept as they are).
 */
import { describe, expect, it } from 'vitest';
import { CronJob as RealCronJob } from 'kubernetes-models/batch/v1/CronJob';
import { RuntimeClass as RealRuntimeClass } from 'kubernetes-models/node.k8s.io/v1/RuntimeClass';
import { Role as RealRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding as RealRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { StorageClass as RealStorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { ServiceAccount as RealServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterSecretStore as RealClusterSecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore';
import { ExternalSecret as RealExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import { Application as RealApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import { AppProject as RealAppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';
import * as lite from '../generators/lib/k8s-objects.js';
import * as argo from '../generators/engines/argocd/kinds.js';

type AnyKind = { apiVersion: string; kind: string; new (data: never): { toJSON(): unknown } };
const PAIRS: [string, AnyKind, AnyKind][] = [
  ['CronJob', lite.CronJob, RealCronJob],
  ['RuntimeClass', lite.RuntimeClass, RealRuntimeClass],
  ['Role', lite.Role, RealRole],
  ['RoleBinding', lite.RoleBinding, RealRoleBinding],
  ['StorageClass', lite.StorageClass, RealStorageClass],
  ['ServiceAccount', lite.ServiceAccount, RealServiceAccount],
  ['ClusterSecretStore', lite.ClusterSecretStore, RealClusterSecretStore],
  ['ExternalSecret', lite.ExternalSecret, RealExternalSecret],
  ['Application', argo.Application, RealApplication],
  ['AppProject', argo.AppProject, RealAppProject],
] as unknown as [string, AnyKind, AnyKind][];

const DATA = {
  metadata: { name: 'x', namespace: undefined, labels: { a: 'b', gone: undefined } },
  spec: { list: [{ k: 1, u: undefined }, [undefined, 2], 'text', null], n: 0, f: false, empty: {}, date: new Date(0) },
  absent: undefined,
};

describe('typed objects without the kubernetes-models classes', () => {
  it('cover every kind the modules export (the core and the engine ones; `kind` is the builder)', () => {
    expect(PAIRS.map(([n]) => n).sort()).toStrictEqual(Object.keys({ ...lite, ...argo }).filter((k) => k !== 'kind').sort());
  });

  it.each(PAIRS)('%s: same apiVersion, kind and toJSON() as the class', (_name, mine, theirs) => {
    expect([mine.apiVersion, mine.kind]).toStrictEqual([theirs.apiVersion, theirs.kind]);
    const a = new mine(DATA as never).toJSON();
    const b = new theirs(DATA as never).toJSON();
    expect(a).toStrictEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(Object.keys(a as object).slice(0, 2)).toStrictEqual(['apiVersion', 'kind']);
  });
});
