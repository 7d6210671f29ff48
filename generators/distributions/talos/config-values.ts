/**
 * The values Talos accepts for the fields of its config documents that take one of a few names, for
 * refusing any other in a patch at its position (rule `talos-patch-value`). Next to the field table
 * (./config-fields.ts): same release, same section keys.
 *
 * Each entry names where Talos refuses another value. Where the schema's `enum` (from the `values:`
 * doc annotations of the Go types) and Talos' own check differ, `values` is what Talos accepts and
 * `schema` what the schema lists. Enums of the schema that are not enforced here are listed in
 * TALOS_ENUMS_NOT_CHECKED with the reason. test/talos-patches.test.ts compares both tables with the
 * schema's enums when the optional upstream data is present.
 *
 * Source: siderolabs/talos v1.13.9 (commit 3ebd10a7c1bd0f81742bdcd0c3fe56d727db7401). Decoding: the
 * fields typed with a pkg/machinery/nethelpers or resources/block enum decode through the generated
 * UnmarshalText (e.g. nethelpers/arpalltargets_enumer.go:756 BondMode → BondModeString:717, which tries
 * the name as written, then lower-cased, and errors otherwise), so the config does not load; those
 * compare without case (`anyCase`).
 */
import { TALOS_RELEASE_OF_FIELDS } from './config-fields.js';

export interface TalosEnum {
  values: readonly string[];
  /** Where Talos refuses another value (file:line at the release above). */
  source: string;
  /** The generated enum decoder lower-cases the name before its second lookup. */
  anyCase?: true;
  /** The schema's enum where it differs from what Talos accepts. */
  schema?: readonly string[];
  /** Talos does not refuse another value where we can read it: a warning with this reason, not an error. */
  warn?: string;
  /** Talos refuses other values, but the schema gives the field no enum. */
  notInSchema?: true;
}

const NET = 'pkg/machinery/nethelpers/arpalltargets_enumer.go';
const en = (values: readonly string[], source: string): TalosEnum => ({ values, source, anyCase: true });

/** block.EncryptionSpec (block/encryption.go) in every volume document. */
const ENCRYPTION_VALUES = {
  encryption: {
    // EncryptionProviderType decodes none or luks2 (resources/block/volumetype_enumer.go:410); Validate
    // accepts only luks2 for a spec that is set (block/encryption.go:182-187 "unsupported encryption provider").
    provider: { values: ['luks2'], source: 'pkg/machinery/config/types/block/encryption.go:182-187', anyCase: true },
    // A plain string; the schema's values come from the doc annotation. Talos parses it only when it
    // provisions the volume (internal/pkg/encryption/encryption.go:40 luks.ParseCipherKind, in
    // siderolabs/go-blockdevice, not readable here): warned, not refused.
    cipher: {
      values: ['aes-xts-plain64', 'xchacha12,aes-adiantum-plain64', 'xchacha20,aes-adiantum-plain64'],
      source: 'pkg/machinery/config/types/block/encryption.go:36-43 (doc annotation); parsed at provisioning by internal/pkg/encryption/encryption.go:40',
      warn: 'Talos checks the cipher only when it provisions the volume (go-blockdevice luks.ParseCipherKind), so this table cannot say it refuses others',
    },
  },
} as const;

/** kind ('' for the v1alpha1 document) → section ('' the document) → field → accepted values. */
export const TALOS_FIELD_VALUES: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, TalosEnum>>>>>> = {
  '': {
    // InstallConfig.DiskMatchExpression: "unsupported disk type" (v1alpha1/v1alpha1_provider.go:1423-1449),
    // called by Validate when the mode installs (v1alpha1_validation.go:105-107) and by the installer.
    'machine.install.diskSelector': { type: { values: ['ssd', 'hdd', 'nvme', 'sd'], source: 'pkg/machinery/config/types/v1alpha1/v1alpha1_provider.go:1423-1449' } },
    // The boot task writing machine.files: "unknown operation for file" (the file is not written and
    // the boot phase fails): internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_sequencer_tasks.go:571-598.
    'machine.files[]': { op: { values: ['create', 'append', 'overwrite'], source: 'internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_sequencer_tasks.go:571-598' } },
    // LoggingConfig.Validate: "unknown logging format" (v1alpha1/v1alpha1_logging.go:41-46).
    'machine.logging.destinations[]': { format: { values: ['json_lines'], source: 'pkg/machinery/config/types/v1alpha1/v1alpha1_logging.go:41-46' } },
    // Validate: nethelpers.AddressSortAlgorithmString, "invalid node address sort algorithm"
    // (v1alpha1_validation.go:348-352; the names: nethelpers/arpalltargets_enumer.go:324).
    // (kubernetesTalosAPIAccess.allowedRoles, checked the same way at v1alpha1_validation.go:341-345, is
    // the rendered-config rule talos-role's, per Talos minor: ./checks.ts, reported at the patch.)
    'machine.features': { nodeAddressSortAlgorithm: { values: ['v1', 'v2'], source: 'pkg/machinery/config/types/v1alpha1/v1alpha1_validation.go:348-352', anyCase: true, notInSchema: true } },
  },
  BondConfig: {
    '': {
      bondMode: en(['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'], `${NET}:660,756`),
      xmitHashPolicy: en(['layer2', 'layer3+4', 'layer2+3', 'encap2+3', 'encap3+4'], `${NET}:762,850`),
      arpValidate: en(['none', 'active', 'backup', 'all', 'filter', 'filter-active', 'filter-backup'], `${NET}:92,188`),
      arpAllTargets: en(['any', 'all'], `${NET}:10,86`),
      lacpRate: en(['slow', 'fast'], `${NET}:1318,1394`),
      failOverMac: en(['none', 'active', 'follow'], 'pkg/machinery/nethelpers/failovermac_enumer.go:10,51; failovermac.go:48'),
      adSelect: en(['stable', 'bandwidth', 'count'], `${NET}:406,486`),
      adLACPActive: en(['on', 'off'], `${NET}:492,568`),
      primaryReselect: en(['always', 'better', 'failure'], `${NET}:2631,2711`),
    },
  },
  DHCPv4Config: { '': { clientIdentifier: en(['none', 'mac', 'duid'], `${NET}:856,936`) } },
  DHCPv6Config: { '': { clientIdentifier: en(['none', 'mac', 'duid'], `${NET}:856,936`) } },
  NetworkDefaultActionConfig: { '': { ingress: en(['accept', 'block'], `${NET}:1048,1124`) } },
  // AutoHostnameKind decodes off, talos-addr and stable (${NET}:574); HostnameConfig.Validate then
  // refuses talos-addr ("invalid value for 'auto'", network/hostname.go:126-133).
  HostnameConfig: { '': { auto: { values: ['stable', 'off'], source: 'pkg/machinery/config/types/network/hostname.go:126-133', anyCase: true } } },
  NetworkRuleConfig: { portSelector: { protocol: en(['tcp', 'udp', 'icmp', 'icmpv6'], `${NET}:2762,2821`) } },
  VLANConfig: { '': { vlanMode: en(['802.1q', '802.1ad'], `${NET}:4694,4779`) } },
  // ExternalVolumeConfig.Validate: only virtiofs, every other FilesystemType is "invalid filesystem type"
  // (block/external_volume_config.go:174-185).
  ExternalVolumeConfig: { '': { filesystemType: { values: ['virtiofs'], source: 'pkg/machinery/config/types/block/external_volume_config.go:174-185', anyCase: true } } },
  UserVolumeConfig: {
    // VolumeType decodes seven names (resources/block/volumetype_enumer.go:10); Validate keeps three
    // ("unsupported volume type", block/user_volume_config.go:255-304).
    '': { volumeType: { values: ['directory', 'disk', 'partition'], source: 'pkg/machinery/config/types/block/user_volume_config.go:255-304', anyCase: true } },
    // FilesystemSpec.Validate: none (the default, xfs), xfs, ext4 (block/user_volume_config.go:381-388).
    filesystem: { type: { values: ['ext4', 'xfs', 'none'], schema: ['ext4', 'xfs'], source: 'pkg/machinery/config/types/block/user_volume_config.go:381-388', anyCase: true } },
    ...ENCRYPTION_VALUES,
  },
  RawVolumeConfig: { ...ENCRYPTION_VALUES },
  SwapVolumeConfig: { ...ENCRYPTION_VALUES },
  VolumeConfig: { ...ENCRYPTION_VALUES },
};

/**
 * Enums of the schema this table leaves alone, and why ('' kind = v1alpha1; `section.field`).
 */
export const TALOS_ENUMS_NOT_CHECKED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '': {
    // The decoder takes a document with machine/cluster keys as v1alpha1 whatever `version` says
    // (configloader/internal/decoder/decoder.go:168-179) and nothing checks the field afterwards
    // (ErrInvalidVersion, v1alpha1_validation.go:49, is never returned): documentation only.
    version: 'documentation only: the decoder picks the v1alpha1 document by its keys (decoder.go:168-179) and ErrInvalidVersion is never returned',
    // Both are rendered from typed settings and any patch to them is refused by talos-patch-managed.
    'machine.type': 'rendered from the pool role; talos-patch-managed refuses a patch to it',
    'cluster.network.cni.name': 'rendered from cluster.network.cni; talos-patch-managed refuses a patch to it',
  },
};

/** The accepted values of a field, if it takes one of a few names. */
export const talosValuesOf = (kind: string, section: string, field: string): TalosEnum | undefined => TALOS_FIELD_VALUES[kind]?.[section]?.[field];

/** Whether `value` is one Talos accepts for the field. */
export function talosValueAccepted(e: TalosEnum, value: unknown): boolean {
  if (value === null || value === undefined || typeof value === 'object') return true;
  const s = String(value);
  return e.values.includes(s) || (e.anyCase === true && e.values.includes(s.toLowerCase()));
}

export const TALOS_RELEASE_OF_VALUES = TALOS_RELEASE_OF_FIELDS;
