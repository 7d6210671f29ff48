/**
 * Who the External Secrets stores read SSM as. Every store reads with an IAM role scoped to the
 * parameters it serves, never with a node role (which also reads node tokens and datastore passwords).
 * The platform has one store per consumer namespace (namespaceStoreName), the engines a store each
 * for their own (Engine.secretStores):
 *
 * - `web-identity`: ESO requests a token for the store's ServiceAccount (TokenRequest, audience
 *   sts.amazonaws.com) and calls AssumeRoleWithWebIdentity (auth.jwt.serviceAccountRef;
 *   external-secrets v2.9.0 providers/v1/aws/auth/auth.go, see catalog/irsa.ts). Needs
 *   `aws.iam.mode: irsa`. A namespace's store takes the role `<cluster>-external-secrets-<ns>` (or the one
 *   role `addons.external-secrets.settings.iamRoleArn` names, shared by all), a dedicated store
 *   (Engine.secretStores) the role `<cluster>-<store>`; the AWS layer creates them.
 * - `assumed`: no `auth`, so ESO starts from the controller's default credential chain (the node's
 *   instance profile through IMDS) and assumes the store's `role` with it (auth.go lines 124-130 at
 *   v2.9.0; research/day2.md §14d). The role `<cluster>-external-secrets-<ns>` (platform store) or
 *   `<cluster>-<store>` is created by the AWS layer, trusted by the node roles the controller runs on.
 *   Anything else holding those node credentials (a pod on the pod network of a node with IMDS hop
 *   limit 2) can assume it too: the access graph (validate/access.ts) counts that route.
 */
import { createHash } from 'node:crypto';
import type { EnvironmentModel } from '../model/types.js';
import { partitionOf } from '../infra/aws/policy.js';
import { irsaRoleArn } from './irsa.js';
import { SSM_STORE, type DedicatedSecretStore } from './types.js';

export type StoreAuth = { kind: 'web-identity'; roleArn: string; serviceAccount: string } | { kind: 'assumed'; roleArn: string };

const roleArn = (m: EnvironmentModel, name: string): string => `arn:${partitionOf(m.aws.region)}:iam::${m.aws.accountId}:role/${name}`;

/**
 * The platform's stores: one ClusterSecretStore per namespace that holds an ExternalSecret of the
 * platform (add-ons' secrets, workloads' `{ secret }` variables), admitting that namespace only and
 * reading with a role scoped to what that namespace's ExternalSecrets read. `aws-ssm-parameter-store-<ns>`:
 * at most 24 + 63 characters (a namespace is a DNS label), within an object name's 253.
 */
export const namespaceStoreName = (namespace: string): string => `${SSM_STORE}-${namespace}`;
/** The namespace a platform store serves (undefined for an engine's dedicated store). */
export const storeNamespace = (store: string): string | undefined => (store.startsWith(`${SSM_STORE}-`) ? store.slice(SSM_STORE.length + 1) : undefined);

/** IAM's limit on a role name (AWS::IAM::Role RoleName: "up to 64 characters"). */
export const IAM_ROLE_NAME_MAX = 64;
/**
 * A name within IAM's 64 characters, deterministically: a longer one keeps its first 55 characters
 * and ends with `-` and 8 hex digits of the full name's SHA-256, so two long names that share their
 * first 55 characters still differ.
 */
export function fitRoleName(name: string): string {
  if (name.length <= IAM_ROLE_NAME_MAX) return name;
  return `${name.slice(0, IAM_ROLE_NAME_MAX - 9)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/**
 * The IAM role name of a store the AWS layer creates: `<cluster>-external-secrets-<namespace>` for a
 * platform store, `<cluster>-<store>` for a dedicated one, shortened to 64 characters (fitRoleName).
 */
export const storeRoleName = (m: EnvironmentModel, store: string): string => {
  const ns = storeNamespace(store);
  return fitRoleName(`${m.cluster.name}-${ns !== undefined ? `external-secrets-${ns}` : store}`);
};

/**
 * The identity of the platform store of `namespace`:
 * - `aws.iam.mode: irsa` with `addons.external-secrets.settings.iamRoleArn`: that one user-named role
 *   for every namespace's store, through the one ServiceAccount `serviceAccount` (its annotation names
 *   one role). The role reads what all of them read, so each namespace's store reads the others'
 *   parameters too: rule `secret-access` warns (validate/access.ts).
 * - `irsa` without it: the role `<cluster>-external-secrets-<ns>` through ServiceAccount
 *   `<serviceAccount>-<ns>`, which that role alone trusts.
 * - otherwise the node roles the controller runs on assume `<cluster>-external-secrets-<ns>`.
 */
export function platformStoreAuth(m: EnvironmentModel, settings: Record<string, unknown> | undefined, serviceAccount: string, namespace: string): StoreAuth {
  const shared = irsaRoleArn(m, settings);
  if (shared) return { kind: 'web-identity', roleArn: shared, serviceAccount };
  const arn = roleArn(m, storeRoleName(m, namespaceStoreName(namespace)));
  return m.aws.iam.mode === 'irsa' ? { kind: 'web-identity', roleArn: arn, serviceAccount: `${serviceAccount}-${namespace}` } : { kind: 'assumed', roleArn: arn };
}

/** A dedicated store's identity: its own role, through web identity when the cluster has an IRSA issuer. */
export function dedicatedStoreAuth(m: EnvironmentModel, store: DedicatedSecretStore): StoreAuth {
  const arn = roleArn(m, storeRoleName(m, store.name));
  return m.aws.iam.mode === 'irsa' ? { kind: 'web-identity', roleArn: arn, serviceAccount: store.name } : { kind: 'assumed', roleArn: arn };
}

/** The `provider.aws` auth of a store: a JWT ServiceAccount reference (in `namespace`) or a role to assume. */
export const storeProviderAuth = (auth: StoreAuth, namespace: string): Record<string, unknown> =>
  auth.kind === 'web-identity' ? { auth: { jwt: { serviceAccountRef: { name: auth.serviceAccount, namespace } } } } : { role: auth.roleArn };
