/**
 * The fields of every Talos config document a patch may write, with each field's value type, for
 * refusing a misspelt field or a value of the wrong shape in `cluster.talos.patches` /
 * `nodePools[].talos.patches` before anything is rendered. Talos refuses both when it loads the
 * config: its decoder is strict (configloader decodes each document with yaml.v3 KnownFields), and
 * the JSON Schema sets additionalProperties: false on every section.
 *
 * Source: siderolabs/talos at v1.13.9 (commit 3ebd10a7c1bd0f81742bdcd0c3fe56d727db7401): the structs'
 * yaml tags and Go types in pkg/machinery/config/types/v1alpha1/v1alpha1_types.go (the v1alpha1
 * document) and, for the other documents, the files named beside each kind under
 * pkg/machinery/config/types/; the same names as the published config.schema.json of that tag, except
 * where the Go source is authoritative and the schema is not (noted below). Maintained by hand:
 * test/talos-patches.test.ts compares it with the schema when the optional upstream data is present.
 *
 * Value types, as yaml.v3 decodes into the Go field: S a scalar (a Go string takes any YAML scalar,
 * 644 or true included), I an integer, B a boolean (a quoted "true" is a string and refused), L a
 * list, M a map (a free map such as extraArgs or sysctls is not walked; a struct is a section of its
 * own), A anything (types with their own decoding: PEM key pairs, acceptedCAs, routing-rule actions).
 * A null value is accepted everywhere (Talos reads it as unset), and `$patch: delete` anywhere.
 */
export const TALOS_RELEASE_OF_FIELDS = 'v1.13.9';

const S = 'scalar';
const I = 'int';
const B = 'bool';
const L = 'list';
const M = 'map';
const A = 'any';
export type TalosFieldType = typeof S | typeof I | typeof B | typeof L | typeof M | typeof A;

/** Section path (dot-separated, `[]` for a list's items; '' the document) → field → value type. */
export type FieldTable = Readonly<Record<string, Readonly<Record<string, TalosFieldType>>>>;

/**
 * Fields Talos still reads but the schema leaves out (`docgen:nodoc`): gen config writes `persist`,
 * and machine.network is rendered on some releases. Their insides are not checked.
 */
export const TALOS_NODOC_FIELDS: Readonly<Record<string, Readonly<Record<string, TalosFieldType>>>> = {
  '': { persist: B },
  machine: { network: M, disks: L, env: M, time: M, registries: M, systemDiskEncryption: M },
};

/**
 * Kinds whose registered name (the Go source's `registry.Register`) differs from the schema's enum:
 * network/kubespan_endpoints.go registers "KubeSpanEndpointsConfig"; the schema says "KubeSpanEndpoints".
 */
export const TALOS_SCHEMA_KIND_NAMES: Readonly<Record<string, string>> = { KubeSpanEndpointsConfig: 'KubeSpanEndpoints' };

/** The v1alpha1 document (v1alpha1_types.go: Config, MachineConfig, ClusterConfig and the structs they hold). */
export const TALOS_V1ALPHA1_FIELDS: FieldTable = {
  '': { cluster: M, debug: B, machine: M, version: S },
  cluster: { acceptedCAs: A, adminKubeconfig: M, aescbcEncryptionSecret: S, aggregatorCA: A, allowSchedulingOnControlPlanes: B,
    apiServer: M, ca: A, clusterName: S, controlPlane: M, controllerManager: M, coreDNS: M, discovery: M, etcd: M,
    externalCloudProvider: M, extraManifestHeaders: M, extraManifests: L, id: S, inlineManifests: L, network: M, proxy: M,
    scheduler: M, secret: S, secretboxEncryptionSecret: S, serviceAccount: A, token: S },
  'cluster.adminKubeconfig': { certLifetime: S },
  'cluster.apiServer': { admissionControl: L, auditPolicy: M, authorizationConfig: L, certSANs: L, env: M, extraArgs: M,
    extraVolumes: L, image: S, resources: M },
  'cluster.apiServer.admissionControl[]': { configuration: M, name: S },
  'cluster.apiServer.authorizationConfig[]': { name: S, type: S, webhook: M },
  'cluster.apiServer.extraVolumes[]': { hostPath: S, mountPath: S, readonly: B },
  'cluster.controlPlane': { endpoint: S, localAPIServerPort: I },
  'cluster.controllerManager': { env: M, extraArgs: M, extraVolumes: L, image: S, resources: M },
  'cluster.controllerManager.extraVolumes[]': { hostPath: S, mountPath: S, readonly: B },
  'cluster.coreDNS': { disabled: B, image: S },
  'cluster.discovery': { enabled: B, registries: M },
  'cluster.discovery.registries': { kubernetes: M, service: M },
  'cluster.discovery.registries.kubernetes': { disabled: B },
  'cluster.discovery.registries.service': { disabled: B, endpoint: S },
  'cluster.etcd': { advertisedSubnets: L, ca: A, extraArgs: M, image: S, listenSubnets: L },
  'cluster.externalCloudProvider': { enabled: B, manifests: L },
  'cluster.inlineManifests[]': { contents: S, name: S },
  'cluster.network': { cni: M, dnsDomain: S, podSubnets: L, serviceSubnets: L },
  'cluster.network.cni': { flannel: M, name: S, urls: L },
  'cluster.network.cni.flannel': { extraArgs: L, kubeNetworkPoliciesEnabled: B },
  'cluster.proxy': { disabled: B, extraArgs: M, image: S, mode: S },
  'cluster.scheduler': { config: M, env: M, extraArgs: M, extraVolumes: L, image: S, resources: M },
  'cluster.scheduler.extraVolumes[]': { hostPath: S, mountPath: S, readonly: B },
  machine: { acceptedCAs: A, baseRuntimeSpecOverrides: M, ca: A, certSANs: L, controlPlane: M, features: M, files: L, install: M,
    kernel: M, kubelet: M, logging: M, nodeAnnotations: M, nodeLabels: M, nodeTaints: M, pods: L, seccompProfiles: L, sysctls: M,
    sysfs: M, token: S, type: S, udev: M },
  'machine.controlPlane': { controllerManager: M, scheduler: M },
  'machine.controlPlane.controllerManager': { disabled: B },
  'machine.controlPlane.scheduler': { disabled: B },
  'machine.features': { diskQuotaSupport: B, hostDNS: M, imageCache: M, kubePrism: M, kubernetesTalosAPIAccess: M,
    nodeAddressSortAlgorithm: S },
  'machine.features.hostDNS': { enabled: B, forwardKubeDNSToHost: B, resolveMemberNames: B },
  'machine.features.imageCache': { localEnabled: B },
  'machine.features.kubePrism': { enabled: B, port: I },
  'machine.features.kubernetesTalosAPIAccess': { allowedKubernetesNamespaces: L, allowedRoles: L, enabled: B },
  'machine.files[]': { content: S, op: S, path: S, permissions: I },
  'machine.install': { disk: S, diskSelector: M, grubUseUKICmdline: B, image: S, legacyBIOSSupport: B, wipe: B },
  'machine.install.diskSelector': { busPath: S, modalias: S, model: S, name: S, serial: S, size: S, type: S, uuid: S, wwid: S },
  'machine.kernel': { modules: L },
  'machine.kernel.modules[]': { name: S, parameters: L },
  'machine.kubelet': { clusterDNS: L, credentialProviderConfig: M, defaultRuntimeSeccompProfileEnabled: B,
    disableManifestsDirectory: B, extraArgs: M, extraConfig: M, extraMounts: L, image: S, nodeIP: M, registerWithFQDN: B,
    skipNodeRegistration: B },
  'machine.kubelet.extraMounts[]': { destination: S, gidMappings: L, options: L, source: S, type: S, uidMappings: L },
  'machine.kubelet.extraMounts[].gidMappings[]': { containerID: I, hostID: I, size: I },
  'machine.kubelet.extraMounts[].uidMappings[]': { containerID: I, hostID: I, size: I },
  'machine.kubelet.nodeIP': { validSubnets: L },
  'machine.logging': { destinations: L },
  'machine.logging.destinations[]': { endpoint: S, extraTags: M, format: S },
  'machine.seccompProfiles[]': { name: S, value: M },
  'machine.udev': { rules: L },
};

/** block.EncryptionSpec (block/encryption.go), the `encryption` of the volume documents. */
const ENCRYPTION = {
  encryption: { blockSize: I, cipher: S, keySize: I, keys: L, options: L, provider: S },
  'encryption.keys[]': { kms: M, lockToState: B, nodeID: S, slot: I, static: M, tpm: M },
  'encryption.keys[].kms': { endpoint: S },
  'encryption.keys[].static': { passphrase: S },
  'encryption.keys[].tpm': { checkSecurebootStatusOnEnroll: B, options: M },
  'encryption.keys[].tpm.options': { pcrs: L },
} as const;

/** block.ProvisioningSpec (block/volume_config.go), the `provisioning` of the volume documents. */
const PROVISIONING = {
  provisioning: { diskSelector: M, grow: B, maxSize: S, minSize: S },
  'provisioning.diskSelector': { match: S },
} as const;

/** network.AddressConfig and RouteConfig (network/link.go CommonLinkConfig), in every link document. */
const LINK_ADDRESSES = {
  'addresses[]': { address: S, routePriority: I },
  'routes[]': { destination: S, gateway: S, metric: I, mtu: I, source: S, table: S },
} as const;

/** The other documents a patch may add or change, by kind: section path ('' the document) → field → value type. apiVersion and kind are checked apart. */
export const TALOS_DOCUMENT_FIELDS: Readonly<Record<string, FieldTable>> = {
  // network/blackhole_route.go
  BlackholeRouteConfig: {
    '': { metric: I, name: S },
  },
  // network/bond.go
  BondConfig: {
    '': { adActorSysPrio: I, adLACPActive: S, adSelect: S, adUserPortKey: I, addresses: L, allSlavesActive: I, arpAllTargets: S,
      arpInterval: I, arpIpTargets: L, arpValidate: S, bondMode: S, downdelay: I, failOverMac: S, hardwareAddr: S, lacpRate: S,
      links: L, lpInterval: I, miimon: I, minLinks: I, missedMax: I, mtu: I, multicast: B, name: S, nsIp6Targets: L,
      numPeerNotif: I, packetsPerSlave: I, peerNotifDelay: I, primaryReselect: S, resendIGMP: I, routes: L, tlbLogicalLb: I,
      up: B, updelay: I, useCarrier: B, xmitHashPolicy: S },
    ...LINK_ADDRESSES,
  },
  // network/bridge.go
  BridgeConfig: {
    '': { addresses: L, hardwareAddr: S, links: L, mtu: I, multicast: B, name: S, routes: L, stp: M, up: B, vlan: M },
    ...LINK_ADDRESSES,
    stp: { enabled: B },
    vlan: { filtering: B },
  },
  // network/dhcp4.go
  DHCPv4Config: {
    '': { clientIdentifier: S, duidRaw: S, ignoreHostname: B, name: S, routeMetric: I },
  },
  // network/dhcp6.go
  DHCPv6Config: {
    '': { clientIdentifier: S, duidRaw: S, ignoreHostname: B, name: S, routeMetric: I },
  },
  // network/dummy.go
  DummyLinkConfig: {
    '': { addresses: L, hardwareAddr: S, mtu: I, multicast: B, name: S, routes: L, up: B },
    ...LINK_ADDRESSES,
  },
  // runtime/environment.go
  EnvironmentConfig: {
    '': { variables: M },
  },
  // network/ethernet.go
  EthernetConfig: {
    '': { channels: M, features: M, name: S, rings: M, wakeOnLan: L },
    channels: { combined: I, other: I, rx: I, tx: I },
    rings: { 'cqe-size': I, rx: I, 'rx-buf-len': I, 'rx-jumbo': I, 'rx-mini': I, 'rx-push': B, 'tcp-data-split': B, tx: I,
      'tx-push': B, 'tx-push-buf-len': I },
  },
  // runtime/event_sink.go
  EventSinkConfig: {
    '': { endpoint: S },
  },
  // block/existing_volume_config.go
  ExistingVolumeConfig: {
    '': { discovery: M, mount: M, name: S },
    discovery: { volumeSelector: M },
    'discovery.volumeSelector': { match: S },
    mount: { disableAccessTime: B, readOnly: B, secure: B },
  },
  // runtime/extensions/service_config.go
  ExtensionServiceConfig: {
    '': { configFiles: L, environment: L, name: S },
    'configFiles[]': { content: S, mountPath: S },
  },
  // block/external_volume_config.go
  ExternalVolumeConfig: {
    '': { filesystemType: S, mount: M, name: S },
    mount: { disableAccessTime: B, readOnly: B, secure: B, virtiofs: M },
    'mount.virtiofs': { tag: S },
  },
  // network/hcloud_vip.go
  HCloudVIPConfig: {
    '': { apiToken: S, link: S, name: S },
  },
  // network/hostname.go
  HostnameConfig: {
    '': { auto: S, hostname: S },
  },
  // security/image_verification.go (registered at v1.13.9; the published schema leaves it out)
  ImageVerificationConfig: {
    '': { rules: L },
    'rules[]': { deny: B, image: S, keyless: M, publicKey: M, skip: B },
    'rules[].keyless': { issuer: S, subject: S, subjectRegex: S },
    'rules[].publicKey': { certificate: S },
  },
  // runtime/kmsg_log.go
  KmsgLogConfig: {
    '': { name: S, url: S },
  },
  // network/kubespan.go
  KubeSpanConfig: {
    '': { advertiseKubernetesNetworks: B, allowDownPeerBypass: B, enabled: B, filters: M, harvestExtraEndpoints: B, mtu: I },
    filters: { endpoints: L, excludeAdvertisedNetworks: L },
  },
  // network/kubespan_endpoints.go
  KubeSpanEndpointsConfig: {
    '': { extraAnnouncedEndpoints: L },
  },
  // network/layer2_vip.go
  Layer2VIPConfig: {
    '': { link: S, name: S },
  },
  // network/link_alias.go
  LinkAliasConfig: {
    '': { name: S, selector: M },
    selector: { match: S },
  },
  // network/link.go
  LinkConfig: {
    '': { addresses: L, mtu: I, multicast: B, name: S, routes: L, up: B },
    ...LINK_ADDRESSES,
  },
  // network/default_action_config.go
  NetworkDefaultActionConfig: {
    '': { ingress: S },
  },
  // network/rule_config.go
  NetworkRuleConfig: {
    '': { ingress: L, name: S, portSelector: M },
    'ingress[]': { except: S, subnet: S },
    portSelector: { ports: L, protocol: S },
  },
  // runtime/oom.go
  OOMConfig: {
    '': { cgroupRankingExpression: S, sampleInterval: S, strictCgroupClassOrdering: B, triggerExpression: S },
  },
  // hardware/pci_driver_rebind_config.go
  PCIDriverRebindConfig: {
    '': { name: S, targetDriver: S },
  },
  // block/raw_volume_config.go
  RawVolumeConfig: {
    '': { encryption: M, name: S, provisioning: M },
    ...ENCRYPTION,
    ...PROVISIONING,
  },
  // cri/registry_auth.go
  RegistryAuthConfig: {
    '': { auth: S, identityToken: S, name: S, password: S, username: S },
  },
  // cri/registry_mirror.go
  RegistryMirrorConfig: {
    '': { endpoints: L, name: S, skipFallback: B },
    'endpoints[]': { overridePath: B, url: S },
  },
  // cri/registry_tls.go
  RegistryTLSConfig: {
    '': { ca: S, clientIdentity: A, insecureSkipVerify: B, name: S },
  },
  // network/resolver.go
  ResolverConfig: {
    '': { nameservers: L, searchDomains: M },
    'nameservers[]': { address: S },
    searchDomains: { disableDefault: B, domains: L },
  },
  // network/routing_rule.go
  RoutingRuleConfig: {
    '': { action: S, dst: S, fwMark: I, fwMask: I, iifName: S, name: S, oifName: S, src: S, table: S },
  },
  // siderolink/siderolink.go
  SideroLinkConfig: {
    '': { apiUrl: S, uniqueToken: S },
  },
  // network/static_host.go
  StaticHostConfig: {
    '': { hostnames: L, name: S },
  },
  // block/swap_volume_config.go
  SwapVolumeConfig: {
    '': { encryption: M, name: S, provisioning: M },
    ...ENCRYPTION,
    ...PROVISIONING,
  },
  // network/tcp_probe.go
  TCPProbeConfig: {
    '': { endpoint: S, failureThreshold: I, interval: S, name: S, timeout: S },
  },
  // network/time_sync.go
  TimeSyncConfig: {
    '': { bootTimeout: S, enabled: B, ntp: M, ptp: M },
    ntp: { servers: L },
    ptp: { devices: L },
  },
  // security/trusted_roots.go
  TrustedRootsConfig: {
    '': { certificates: S, name: S },
  },
  // block/user_volume_config.go
  UserVolumeConfig: {
    '': { encryption: M, filesystem: M, mount: M, name: S, provisioning: M, volumeType: S },
    ...ENCRYPTION,
    filesystem: { projectQuotaSupport: B, type: S },
    mount: { disableAccessTime: B, secure: B },
    ...PROVISIONING,
  },
  // network/vlan.go
  VLANConfig: {
    '': { addresses: L, mtu: I, multicast: B, name: S, parent: S, routes: L, up: B, vlanID: I, vlanMode: S },
    ...LINK_ADDRESSES,
  },
  // network/vrf.go
  VRFConfig: {
    '': { addresses: L, hardwareAddr: S, links: L, mtu: I, multicast: B, name: S, routes: L, table: S, up: B },
    ...LINK_ADDRESSES,
  },
  // block/volume_config.go
  VolumeConfig: {
    '': { encryption: M, mount: M, name: S, provisioning: M },
    ...ENCRYPTION,
    mount: { secure: B },
    ...PROVISIONING,
  },
  // runtime/watchdog_timer.go
  WatchdogTimerConfig: {
    '': { device: S, timeout: S },
  },
  // network/wireguard.go
  WireguardConfig: {
    '': { addresses: L, firewallMark: I, listenPort: I, mtu: I, multicast: B, name: S, peers: L, privateKey: S, routes: L, up: B },
    'addresses[]': { address: S, routePriority: I },
    'peers[]': { allowedIPs: L, endpoint: S, persistentKeepaliveInterval: S, presharedKey: S, publicKey: S },
    'routes[]': { destination: S, gateway: S, metric: I, mtu: I, source: S, table: S },
  },
  // block/zswap_config.go
  ZswapConfig: {
    '': { maxPoolPercent: I, shrinkerEnabled: B },
  },
};

/** The fields of a v1alpha1 section, the nodoc ones included. */
export const talosFieldsOf = (section: string): Readonly<Record<string, TalosFieldType>> | undefined =>
  TALOS_V1ALPHA1_FIELDS[section] && { ...TALOS_V1ALPHA1_FIELDS[section], ...TALOS_NODOC_FIELDS[section] };

/** Whether a value has the shape of a field's type (null always: Talos reads it as unset). */
export function talosValueMatches(type: TalosFieldType, v: unknown): boolean {
  if (v === null || v === undefined || type === A) return true;
  if (typeof v === 'object' && !Array.isArray(v) && (v as Record<string, unknown>).$patch === 'delete') return true;
  switch (type) {
    case S:
      return typeof v !== 'object';
    case I:
      return typeof v === 'number' && Number.isInteger(v);
    case B:
      return typeof v === 'boolean';
    case L:
      return Array.isArray(v);
    case M:
      return typeof v === 'object' && !Array.isArray(v);
  }
}

export const TALOS_TYPE_TEXT: Readonly<Record<TalosFieldType, string>> = {
  scalar: 'a scalar (a string, number or boolean)',
  int: 'an integer',
  bool: 'true or false (unquoted)',
  list: 'a list',
  map: 'a map',
  any: 'anything',
};
