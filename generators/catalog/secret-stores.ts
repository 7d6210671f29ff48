/**
 * Who the External Secrets stores read SSM as. Every store reads with an IAM role scoped to the
 * parameters it serves, never with a node role (which also reads node tokens and datastore passwords):
 *
 * - `web-identity`: ESO requests a token for the store's ServiceAccount (TokenRequest, audience
 *   sts.amazonaws.com) and calls AssumeRoleWithWebIdentity (auth.jwt.serviceAccountRef;
 *   external-secrets v2.9.0 providers/v1/aws/auth/auth.go, see catalog/irsa.ts). Needs
 *   `aws.iam.mode: irsa`. The platform store takes the role `addons.external-secrets.settings.iamRoleArn`;
 *   a dedicated store (Engine.secretStores) the role `<cluster>-<store>`, which the AWS layer creates.
 * - `assumed`: no `auth`, so ESO starts from the controller's default credential chain (the node's
 *   instance profile through IMDS) and assumes the store's `role` with it (auth.go lines 124-130 at
 *   v2.9.0; research/day2.md §14d). The role `<cluster>-external-secrets` (platform store) or
 *   `<cluster>-<store>` is created by the AWS layer, trusted by the node roles the controller runs on.
 *   Anything else holding those node credentials (a pod on the pod network of a node with IMDS hop
 *   limit 2) can assume it too: the access graph (validate/access.ts) counts that route.
 */
import type { EnvironmentModel } from '../model/types.js';
import { partitionOf } from '../infra/aws/policy.js';
import { irsaRoleArn } from './irsa.js';
import { SSM_STORE, type DedicatedSecretStore } from './types.js';

export type StoreAuth = { kind: 'web-identity'; roleArn: string; serviceAccount: string } | { kind: 'assumed'; roleArn: string };

const roleArn = (m: EnvironmentModel, name: string): string => `arn:${partitionOf(m.aws.region)}:iam::${m.aws.accountId}:role/${name}`;

/** The IAM role name of a store the AWS layer creates. */
export const storeRoleName = (m: EnvironmentModel, store: string): string => `${m.cluster.name}-${store === SSM_STORE ? 'external-secrets' : store}`;

/** The platform store's identity (ServiceAccount `serviceAccount` when it uses web identity). */
export function platformStoreAuth(m: EnvironmentModel, settings: Record<string, unknown> | undefined, serviceAccount: string): StoreAuth {
  const arn = irsaRoleArn(m, settings);
  return arn ? { kind: 'web-identity', roleArn: arn, serviceAccount } : { kind: 'assumed', roleArn: roleArn(m, storeRoleName(m, SSM_STORE)) };
}

/** A dedicated store's identity: its own role, through web identity when the cluster has an IRSA issuer. */
export function dedicatedStoreAuth(m: EnvironmentModel, store: DedicatedSecretStore): StoreAuth {
  const arn = roleArn(m, storeRoleName(m, store.name));
  return m.aws.iam.mode === 'irsa' ? { kind: 'web-identity', roleArn: arn, serviceAccount: store.name } : { kind: 'assumed', roleArn: arn };
}

/** The `provider.aws` auth of a store: a JWT ServiceAccount reference (in `namespace`) or a role to assume. */
export const storeProviderAuth = (auth: StoreAuth, namespace: string): Record<string, unknown> =>
  auth.kind === 'web-identity' ? { auth: { jwt: { serviceAccountRef: { name: auth.serviceAccount, namespace } } } } : { role: auth.roleArn };
