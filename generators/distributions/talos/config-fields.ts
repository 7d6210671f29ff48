/**
 * The fields of the v1alpha1 machine config sections a patch most often touches, for refusing a
 * misspelt field in `cluster.talos.patches` / `nodePools[].talos.patches` (Talos refuses an unknown
 * field when it loads the config: its decoder is strict, and the JSON Schema says
 * additionalProperties: false for each of these sections).
 *
 * Source: siderolabs/talos pkg/machinery/config/types/v1alpha1/v1alpha1_types.go at v1.13.9 (the
 * structs' yaml tags; the same names as the published config.schema.json of that tag). Maintained by
 * hand: test/talos-patches.test.ts compares it with the schema when the optional upstream data is
 * present. Sections not listed (maps of free keys such as extraArgs, sysctls, nodeLabels,
 * extraConfig, and sections left out to keep this short) are not checked here.
 */
export const TALOS_RELEASE_OF_FIELDS = 'v1.13.9';

/** Fields Talos still reads but the schema leaves out (`docgen:nodoc`): gen config writes `persist`, and machine.network is rendered on some releases. */
export const TALOS_NODOC_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': ['persist'],
  machine: ['network', 'disks', 'env', 'time', 'registries', 'systemDiskEncryption'],
};

/** Section path (dot-separated, `[]` for a list's items; '' the document) → its fields. */
export const TALOS_V1ALPHA1_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': ['cluster', 'debug', 'machine', 'version'],
  machine: [
    'acceptedCAs', 'baseRuntimeSpecOverrides', 'ca', 'certSANs', 'controlPlane', 'features', 'files', 'install', 'kernel', 'kubelet',
    'logging', 'nodeAnnotations', 'nodeLabels', 'nodeTaints', 'pods', 'seccompProfiles', 'sysctls', 'sysfs', 'token', 'type', 'udev',
  ],
  cluster: [
    'acceptedCAs', 'adminKubeconfig', 'aescbcEncryptionSecret', 'aggregatorCA', 'allowSchedulingOnControlPlanes', 'apiServer', 'ca',
    'clusterName', 'controlPlane', 'controllerManager', 'coreDNS', 'discovery', 'etcd', 'externalCloudProvider', 'extraManifestHeaders',
    'extraManifests', 'id', 'inlineManifests', 'network', 'proxy', 'scheduler', 'secret', 'secretboxEncryptionSecret', 'serviceAccount', 'token',
  ],
  'machine.kubelet': [
    'clusterDNS', 'credentialProviderConfig', 'defaultRuntimeSeccompProfileEnabled', 'disableManifestsDirectory', 'extraArgs', 'extraConfig',
    'extraMounts', 'image', 'nodeIP', 'registerWithFQDN', 'skipNodeRegistration',
  ],
  'machine.install': ['disk', 'diskSelector', 'grubUseUKICmdline', 'image', 'legacyBIOSSupport', 'wipe'],
  'machine.features': ['diskQuotaSupport', 'hostDNS', 'imageCache', 'kubePrism', 'kubernetesTalosAPIAccess', 'nodeAddressSortAlgorithm'],
  'machine.files[]': ['content', 'op', 'path', 'permissions'],
  'cluster.network': ['cni', 'dnsDomain', 'podSubnets', 'serviceSubnets'],
  'cluster.apiServer': ['admissionControl', 'auditPolicy', 'authorizationConfig', 'certSANs', 'env', 'extraArgs', 'extraVolumes', 'image', 'resources'],
  'cluster.proxy': ['disabled', 'extraArgs', 'image', 'mode'],
  'cluster.etcd': ['advertisedSubnets', 'ca', 'extraArgs', 'image', 'listenSubnets'],
};

/** The fields of a section, the nodoc ones included. */
export const talosFieldsOf = (section: string): readonly string[] | undefined =>
  TALOS_V1ALPHA1_FIELDS[section] && [...TALOS_V1ALPHA1_FIELDS[section]!, ...(TALOS_NODOC_FIELDS[section] ?? [])];
