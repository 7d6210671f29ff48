/**
 * A fixed node's config file (/etc/rancher/<name>/config.yaml: every cluster setting of the member — extraArgs, the
 * API's SANs, the kubelet's and the components' flags) is not in its user data: the environment's base stack owns one
 * SSM String parameter per fixed node (`/odp/<env>/<name>/config/<node>`, not secret: the config names the token
 * files, never a token), which the node's boot script reads once at first boot, as it reads the release (./release.ts).
 *
 * Why: EC2 user data cannot change on a running instance. A changed AWS::EC2::Instance UserData is an update with
 * "Update requires: Some interruptions" (AWS CloudFormation user guide, AWS::EC2::Instance, UserData: "If the root
 * volume is an EBS volume and you update user data, CloudFormation restarts the instance"), and cloud-init runs the
 * user data's runcmd once per instance (canonical/cloud-init@0167c1b9 cloudinit/config/cc_runcmd.py:39-41,60 and
 * cc_scripts_user.py:34: PER_INSTANCE): with the config in the user data, any settings merge stopped and started every
 * fixed server (one after another along the DependsOn chain, the next once EC2 said running, not once the node was
 * back) and changed nothing on them. Now such a merge changes the parameters only (an update of the base stack, no
 * instance touched); a new instance (a replacement, a raised `replacement`) boots with the current value; a running
 * node gets it through ./apply-config.sh (rendered `<name>/apply-config.sh`), one server at a time, each gated.
 *
 * Auto-scaled pools keep their config in the launch template's user data: a change is a new version, and the instance
 * refresh replaces each instance, drained, with one that boots it (infra/aws/stacks.ts UpdatePolicy).
 */
import type { ConfigTarget, EnvironmentModel, Node } from '../../model/types.js';
import { SSM_STANDARD_LIMIT, type BootParameter } from '../../infra/aws/facts.js';
import { shQuote } from './boot.js';
import { LITERAL, type BootValues } from './boot-settings.js';
import type { RancherKeys } from './model.js';


/** The parameter of a fixed node: `/odp/<env>/<name>/config/<node>`. */
export const configParameterName = (keys: Pick<RancherKeys, 'name'>, m: Pick<EnvironmentModel, 'name'>, node: Pick<Node, 'name'>): string => `/odp/${m.name}/${keys.name}/config/${node.name}`;

/** Every fixed node's parameter (their common prefix, for the instance profile's ssm:GetParameter). */
export const configParameterPrefix = (keys: Pick<RancherKeys, 'name'>, m: Pick<EnvironmentModel, 'name'>): string => `/odp/${m.name}/${keys.name}/config/`;

/**
 * The value: the config text without its final newline (the CLI's `--output text` and `$(…)` drop it; the node writes
 * `printf '%s\n'`, so the file on the node is the config text exactly).
 */
export const configValue = (config: string): string => config.replace(/\n+$/, '');

/** The file a node holds for a config (what the boot and apply-config.sh write; its sha256 is what they compare). */
export const configFileText = (config: string): string => `${configValue(config)}\n`;

/** The base stack's parameter of one fixed node's config. */
export function configParameter(keys: Pick<RancherKeys, 'name' | 'title'>, m: EnvironmentModel, node: Node, config: string): BootParameter {
  // A value over SSM_ADVANCED_LIMIT is refused before anything is written, at the node's pool (infra/aws/rules.ts).
  const value = configValue(config);
  return {
    name: configParameterName(keys, m, node),
    value,
    ...(Buffer.byteLength(value) > SSM_STANDARD_LIMIT ? { tier: 'Advanced' as const } : {}),
    description: `odp-gitops: the ${keys.title} config (/etc/rancher/${keys.name}/config.yaml) of fixed node ${node.name} (${node.ip}) of environment ${m.name}, read at its first boot. A running node gets a new value only by sh ${keys.name}/apply-config.sh ${node.name} (rendered/${m.name}/${keys.name}/, as root on the node, one server at a time). Generated; do not edit.`,
    source: 'distributions/rancher/node-config.ts',
    pool: node.pool,
  };
}

/** Whether a target's config comes from its parameter (a fixed node) rather than its user data (a pool's). */
export const configFromParameter = (t: ConfigTarget): t is ConfigTarget & { node: Node } => t.node !== undefined;

/** The boot setting (./boot-settings.ts) that names a fixed node's config parameter; the script reads `ssm_parameter "$CONFIG_PARAM"`. */
export const CONFIG_PARAM_SETTING = 'CONFIG_PARAM';

/**
 * Boot-script lines writing a fixed node's config from its parameter (ssm_parameter: retried while the instance
 * profile's credentials arrive, then the boot stops naming it). Nothing before them starts the service.
 */
export function configReadLines(keys: Pick<RancherKeys, 'name' | 'title'>, m: EnvironmentModel, node: Node, path: string, s: BootValues = LITERAL): string[] {
  const param = s.ref(CONFIG_PARAM_SETTING, configParameterName(keys, m, node));
  return [
    // Not this user data (a settings change stops no instance), read once at first boot; apply-config.sh brings a running
    // node to a new value.
    `# The ${keys.title} config: SSM parameter ${param} of the base stack (apply-config.sh changes a running node's).`,
    `CONFIG=$(ssm_parameter ${shQuote(param)})`,
    `[ -n "$CONFIG" ] || { log ${shQuote(`SSM parameter ${param} is empty: the base stack writes it (npm run synth, deploy the base stack)`)}; exit 1; }`,
    `printf '%s\\n' "$CONFIG" > ${path}`,
    `chmod 0600 ${path}`,
  ];
}
