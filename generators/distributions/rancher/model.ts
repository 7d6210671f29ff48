/**
 * The part of the environment the distributions of this family share, parameterized by each one's
 * descriptor: input keys (`<name>Version`, cluster.<name>, nodePools[].<name>) and model part (tokens, extra args).
 */
import type { EnvironmentInput, NodePoolInput } from '../../model/input.js';
import type { EnvironmentModel, NodePool, SecretRef } from '../../model/types.js';
import type { Distribution } from '../types.js';
import type { ArtifactFacts } from './artifacts.js';

/** config.yaml keys and values (flag long name → value; lists become repeated flags). */
export type ConfigArgs = Record<string, string | number | boolean | string[]>;

/** cluster.<name> in the environment file. */
export interface RancherClusterSettingsInput {
  token?: SecretRef;
  agentToken?: SecretRef;
  extraArgs?: ConfigArgs;
}

/** nodePools[].<name> in the environment file. */
export interface RancherPoolSettingsInput {
  extraArgs?: ConfigArgs;
}

/** A value in a file of the user data that is the cluster's for good (RancherKeys.fixedFiles). */
export interface FixedFile {
  /** The path the user data writes it to. */
  file: string;
  /** What it is, in the diff's reasons. */
  what: string;
  value(doc: unknown): string | undefined;
  /** What to do instead of replacing the node, from the old and the new value. */
  steps(from: string, to: string): string[];
}

/** What differs between the distributions of this family in the shared code: the descriptor each passes in. */
export interface RancherKeys {
  /** `cluster.distribution`, the key of its settings (cluster.<name>, nodePools[].<name>), its SSM paths and its rendered folder. */
  name: string;
  /** Product name in text. */
  title: string;
  /** The release key under cluster, e.g. `<name>Version`. */
  versionKey: string;
  /** config.yaml keys fixed when the cluster is created (CNI, CIDRs, DNS, datastore): changing one needs the cluster rebuilt. */
  fixedAtCreation: readonly string[];
  /**
   * Files the user data writes whose given value is, like fixedAtCreation, the cluster's for good: a change is a
   * rebuild, and `steps` says what to do instead (from the old and new value, shown as text). A function: read when
   * used, never while modules load.
   */
  fixedFiles?(): readonly FixedFile[];
  /** Its CLI is the supervisor's as is (the other members vendor and wrap it). */
  supervisor?: boolean;
  /** The systemd unit that runs it on a server or an agent (what a config change restarts). */
  unit(role: 'server' | 'agent'): string;
  /** The release's shape: the schema's pattern of the version key (what a boot accepts from the release parameter: ./release.ts). */
  releasePattern(): string;
  /** What its nodes download, pinned by content (a function: read when used, never while modules load). */
  artifacts(): ArtifactFacts;
  /**
   * Upgrades through the system-upgrade-controller (./addons/system-upgrade-controller.ts): the image
   * whose `upgrade` replaces the binary and restarts the service (tag-less: the controller tags it
   * with the Plan's version, + → -), and the datastore backup the server Plan takes first.
   */
  upgrade?: {
    image: string;
    /** The server Plan's `prepare` container (in the upgrade image, the host at /host) and what it does, in words. */
    backup(m: EnvironmentModel): { prepare?: { command: string[]; args: string[] }; text: string; postCompleteDelay?: string };
  };
}

/** A distribution of this family: the Distribution with the descriptor it passes the shared code. */
export interface RancherDistribution extends Distribution {
  readonly family: RancherKeys;
}

/** cluster.extension. */
export interface RancherCluster {
  /** The release, e.g. v1.35.9+… (required by the rules). */
  version?: string;
  /** SSM SecureString with the server token. */
  token: SecretRef;
  /** SSM SecureString with the agent token (workers join with it). */
  agentToken: SecretRef;
  /** Extra config keys for every server. */
  extraArgs: ConfigArgs;
}

/** A pool's extension. */
export interface RancherPool {
  /** Extra config keys of this pool. */
  extraArgs: ConfigArgs;
}

export const rancherCluster = (m: Pick<EnvironmentModel, 'cluster'>): RancherCluster => m.cluster.extension as RancherCluster;
export const rancherPool = (p: NodePool): RancherPool => p.extension as RancherPool;

const settingsOf = <T>(o: object, key: string): T | undefined => (o as Record<string, T | undefined>)[key];

export function rancherClusterModel(keys: RancherKeys, input: EnvironmentInput): RancherCluster {
  const s = settingsOf<RancherClusterSettingsInput>(input.cluster, keys.name);
  return {
    version: settingsOf<string>(input.cluster, keys.versionKey),
    token: s?.token ?? { secret: `/odp/${input.name}/${keys.name}/token` },
    agentToken: s?.agentToken ?? { secret: `/odp/${input.name}/${keys.name}/agent-token` },
    extraArgs: s?.extraArgs ?? {},
  };
}

export const rancherPoolModel = (keys: RancherKeys, p: NodePoolInput): RancherPool => ({ extraArgs: settingsOf<RancherPoolSettingsInput>(p, keys.name)?.extraArgs ?? {} });
