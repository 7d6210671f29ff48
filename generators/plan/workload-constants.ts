/**
 * Names the workload manifests share with other parts of the platform. The StorageClass is created
 * by the add-on aws-ebs-csi-driver under exactly this name; a namespace's ClusterSecretStore by
 * external-secrets (catalog/secret-stores.ts namespaceStoreName).
 */

import { DEFAULT_STORAGE_CLASS } from '../catalog/aws-ebs-csi-driver.js';

/** EBS CSI StorageClass: gp3, encrypted (created by the aws-ebs-csi-driver add-on). */
export const STORAGE_CLASS = DEFAULT_STORAGE_CLASS;
/** Namespace of kube-prometheus-stack: its Prometheus scrapes the workloads' metrics ports. */
export const MONITORING_NAMESPACE = 'monitoring';
/** Helm release name of kube-prometheus-stack (its default ServiceMonitor selector is `release: <name>`). */
export const PROMETHEUS_RELEASE = 'kube-prometheus-stack';
/** Order of the workload namespaces' units: after every add-on (CRDs, controllers, stores). */
export const NAMESPACE_SYNC_WAVE = 10;
/** The workloads' units come after their namespaces exist. */
export const WORKLOAD_SYNC_WAVE = NAMESPACE_SYNC_WAVE + 1;

export const NAME_LABEL = 'app.kubernetes.io/name';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';

/** Names of the namespace-wide NetworkPolicies; no workload may use them. */
export const DEFAULT_DENY_POLICY = 'default-deny';
export const ALLOW_DNS_POLICY = 'allow-dns';
export const RESERVED_WORKLOAD_NAMES: readonly string[] = [DEFAULT_DENY_POLICY, ALLOW_DNS_POLICY];

/** Writable scratch space mounted at /tmp, since the root filesystem is read-only. */
export const TMP_DIR = '/tmp';
export const TMP_SIZE_LIMIT = '256Mi';
/** Names of the pod volumes the generator adds (scratch, config files, IRSA token). */
export const TMP_VOLUME = 'tmp';
export const CONFIG_VOLUME = 'config';
export const IRSA_TOKEN_VOLUME = 'aws-iam-token';
export const GENERATED_VOLUMES: readonly string[] = [TMP_VOLUME, CONFIG_VOLUME, IRSA_TOKEN_VOLUME];

/** IRSA without the EKS pod identity webhook: what the webhook would inject, written out. */
export const IRSA_TOKEN_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
export const IRSA_AUDIENCE = 'sts.amazonaws.com';
export const IRSA_TOKEN_EXPIRATION_SECONDS = 86400;

export { GPU_RESOURCE } from '../model/placement.js';
export const GPU_RUNTIME_CLASS = 'nvidia';
