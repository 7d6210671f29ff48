/** Names of the add-ons the catalog knows; any other add-on name is a third-party chart. */
export const CATALOG_ADDONS = [
  'argo-cd',
  'aws-cloud-controller-manager',
  'aws-ebs-csi-driver',
  'aws-load-balancer-controller',
  'cert-manager',
  'cilium',
  'etcd-backup',
  'external-secrets',
  'flux-operator',
  'kube-prometheus-stack',
  'kubelet-csr-approver',
  'metrics-server',
  'nvidia-device-plugin',
] as const;

export type CatalogAddonName = (typeof CATALOG_ADDONS)[number];

export const isCatalogAddon = (name: string): name is CatalogAddonName => (CATALOG_ADDONS as readonly string[]).includes(name);
