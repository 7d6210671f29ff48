/**
 * The typed Kubernetes objects the renderers build, typed by the kubernetes-models interfaces but
 * without importing the model classes: each class module loads its compiled schema validators,
 * which made importing the ten kinds used here about 60% of a command's start-up. The renderers only
 * ever did `new Kind(data).toJSON()`, which this reproduces exactly (apiVersion and kind first, then
 * the data with undefined values left out at every depth; test/k8s-objects.test.ts compares each
 * kind with its class). Checking objects against the packages' schemas stays in
 * generators/validate/k8s-models.ts (`npm run validate`), which imports the classes it needs.
 */
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IRuntimeClass } from 'kubernetes-models/node.k8s.io/v1/RuntimeClass';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IStorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IClusterSecretStore } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore';
import type { IExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';

export interface TypeMeta {
  apiVersion: string;
  kind: string;
}

/** An object of kind T as `new T(data)` of kubernetes-models builds it. */
export type TypedObject<T extends TypeMeta> = T & { toJSON(): Record<string, unknown> };
export interface TypedKind<T extends TypeMeta> {
  new (data: Omit<T, keyof TypeMeta>): TypedObject<T>;
  readonly apiVersion: T['apiVersion'];
  readonly kind: T['kind'];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!value || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  const plainProto = proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
  return plainProto && Object.prototype.toString.call(value) === '[object Object]';
}

function withoutUndefined(data: unknown): unknown {
  if (Array.isArray(data)) return data.map(withoutUndefined);
  if (isPlainObject(data)) return setDefinedProps(data, {});
  return data;
}

function setDefinedProps<D extends object>(src: object, dst: D): D {
  for (const [k, v] of Object.entries(src)) if (v !== undefined) (dst as Record<string, unknown>)[k] = withoutUndefined(v);
  return dst;
}

/** A kind built like its kubernetes-models class (an engine's or add-on's own kinds are built with it, beside their code). */
export function kind<T extends TypeMeta>(apiVersion: T['apiVersion'], kindName: T['kind']): TypedKind<T> {
  return class {
    static readonly apiVersion = apiVersion;
    static readonly kind = kindName;
    constructor(data: Omit<T, keyof TypeMeta>) {
      setDefinedProps({ apiVersion, kind: kindName, ...data }, this);
    }
    toJSON(): Record<string, unknown> {
      return setDefinedProps(this, {});
    }
  } as unknown as TypedKind<T>;
}

export const CronJob = kind<ICronJob>('batch/v1', 'CronJob');
export const RuntimeClass = kind<IRuntimeClass>('node.k8s.io/v1', 'RuntimeClass');
export const Role = kind<IRole>('rbac.authorization.k8s.io/v1', 'Role');
export const RoleBinding = kind<IRoleBinding>('rbac.authorization.k8s.io/v1', 'RoleBinding');
export const StorageClass = kind<IStorageClass>('storage.k8s.io/v1', 'StorageClass');
export const ServiceAccount = kind<IServiceAccount>('v1', 'ServiceAccount');
export const ClusterSecretStore = kind<IClusterSecretStore>('external-secrets.io/v1', 'ClusterSecretStore');
export const ExternalSecret = kind<IExternalSecret>('external-secrets.io/v1', 'ExternalSecret');
