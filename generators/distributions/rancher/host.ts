/**
 * Host pieces of the family's boot scripts that the installers must not undo: node identity and the
 * datastore in a root-only config drop-in, the CIS kernel parameters asserted after `sysctl --system`
 * (naming the file that overrode one), and the NVIDIA container toolkit settings that make the device
 * plugin's volume-mount device lists the only way to a GPU.
 *
 * Sources:
 * - The supervisor's configfilearg parser reads config.yaml, then config.yaml.d/*.yaml in
 *   alphabetical order (last value wins) and inserts them as flags before the user's; urfave/cli
 *   v2.27.7 takes an environment variable only as a flag's default, so a key in these files beats
 *   `<NAME>_NODE_NAME` / `<NAME>_DATASTORE_ENDPOINT` from the unit's environment files.
 * - The installers never write /etc/rancher/<name>/ (one install.sh only mkdirs it for OpenRC; the
 *   other does not mention it); one rewrites its service env file on every run (create_env_file:
 *   `tee` of every exported <NAME>_* variable), so nothing the node needs may live only there.
 * - sysctl.d(5) "CONFIGURATION DIRECTORIES AND PRECEDENCE": files of /etc/sysctl.d, /run/sysctl.d,
 *   /usr/local/lib/sysctl.d, /usr/lib/sysctl.d sorted by name across directories, a same-named file
 *   in an earlier directory masking the later; the lexicographically latest file setting a key wins.
 *   sysctl(8) (procps) `--system` reads /etc/sysctl.conf last.
 * - NVIDIA container toolkit config.toml: `accept-nvidia-visible-devices-as-volume-mounts = true`,
 *   `accept-nvidia-visible-devices-envvar-when-unprivileged = false` (the GPU Operator page of the
 *   family's docs sets both with DEVICE_LIST_STRATEGY=volume-mounts: an unprivileged pod's
 *   NVIDIA_VISIBLE_DEVICES=all is then ignored; only devices the plugin allocated are mounted).
 */
import { shQuote } from './boot.js';

/** The directory of config drop-ins the supervisor reads after config.yaml (`name`: the distribution). */
export const configDropInDir = (name: string): string => `/etc/rancher/${name}/config.yaml.d`;
/** The drop-in with the node's identity and datastore, written at boot. */
export const NODE_DROP_IN = '10-node.yaml';

/**
 * Lines that write node-name (the EC2 private DNS name) and, when `dsnVariable` is given, the
 * datastore-endpoint from that shell variable into the root-only drop-in (`umask 077` is in force).
 * The content goes to a temporary file beside it (not `*.yaml`: the supervisor reads only those) and is renamed over
 * it once complete, at first boot too: a failed write (full disk) never leaves a drop-in without its datastore line,
 * with which a start (systemd's restarts, a re-run of the boot script) would come up on a new embedded etcd or SQLite.
 * `replace`: the drop-in exists and a server runs with it (a runbook, not the first boot): the message says it is
 * unchanged. (dash's `set -e` exits inside a failing `||` group's command too: the cleanup is `rm … || :`.)
 */
export function identityDropInLines(name: string, dsnVariable?: string, replace = false): string[] {
  const dir = configDropInDir(name);
  const file = `${dir}/${NODE_DROP_IN}`;
  const target = `${file}.new`;
  const write = `{ printf 'node-name: "%s"\\n' "$NODE_NAME"${dsnVariable ? `; printf 'datastore-endpoint: "%s"\\n' "$${dsnVariable}"` : ''}; } > ${target}`;
  return [
    '# Node identity and datastore: a root-only config drop-in the installer never rewrites (config beats the environment).',
    '# The AWS cloud controller manager finds instances by their private DNS name.',
    'NODE_NAME=$(imds local-hostname)',
    'case "$NODE_NAME" in ""|*[!a-z0-9.-]*) log "unexpected EC2 local-hostname \'$NODE_NAME\'"; exit 1 ;; esac',
    `install -d -m 0700 ${dir}`,
    `${write} && chmod 0600 ${target} && mv -f ${target} ${file} || { rm -f ${target} 2>/dev/null || :; log ${shQuote(`could not write ${file}${replace ? ': it is unchanged' : ''}`)}; exit 1; }`,
    ...(dsnVariable ? [`unset ${dsnVariable} PGPASSWORD_ENC`] : []),
  ];
}

/** Shell function: the file `sysctl --system` took a key's value from (the last that sets it), per sysctl.d(5) and sysctl(8). */
// The latest file by name across the sysctl.d directories (an earlier directory masks a same-named file of a later
// one), then /etc/sysctl.conf (sysctl.d(5), sysctl(8)).
const SYSCTL_SOURCE = `# The file sysctl --system applied $1 from (sysctl.d(5)).
sysctl_source() {
  k=$(printf '%s' "$1" | sed 's/\\./\\\\./g'); last=
  for f in $(for d in /etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d; do for x in "$d"/*.conf; do [ -e "$x" ] && echo "\${x##*/} $x"; done; done | sort -s -k1,1 | awk '!seen[$1]++ {print $2}') /etc/sysctl.conf; do
    [ -f "$f" ] && grep -Eq "^[[:space:]]*-?$k[[:space:]]*=" "$f" && last=$f
  done
  echo "\${last:-no file}"
}`;

/**
 * Lines that apply the kernel parameters (`sysctl --system`) and assert each required value, naming
 * the file that overrode one; the script stops (the service would refuse to start anyway).
 */
export function sysctlAssertLines(values: Readonly<Record<string, string>>, ownFile: string): string[] {
  const pairs = Object.entries(values).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    SYSCTL_SOURCE,
    'sysctl --system >/dev/null',
    `for kv in ${pairs}; do`,
    '  k=${kv%%=*}; want=${kv#*=}; have=$(sysctl -n "$k")',
    `  [ "$have" = "$want" ] || { log "kernel parameter $k is $have, not $want: $(sysctl_source "$k") overrides ${ownFile}"; bad=1; }`,
    'done',
    '[ -z "${bad:-}" ] || exit 1',
  ];
}

/**
 * The device plugin's side of the same choice (chart value `deviceListStrategy`, the plugin's
 * DEVICE_LIST_STRATEGY): allocated GPUs are passed as volume mounts under /var/run/nvidia-container-devices,
 * which the toolkit settings below accept while they ignore NVIDIA_VISIBLE_DEVICES of unprivileged pods.
 */
export const NVIDIA_DEVICE_PLUGIN_VALUES: Readonly<Record<string, unknown>> = { deviceListStrategy: 'volume-mounts' };

/** The toolkit settings that leave the device plugin's volume mounts as the only device list. */
export const NVIDIA_TOOLKIT_SETTINGS: Readonly<Record<string, string>> = {
  'accept-nvidia-visible-devices-as-volume-mounts': 'true',
  'accept-nvidia-visible-devices-envvar-when-unprivileged': 'false',
};

/**
 * Lines that require the NVIDIA runtime of the GPU AMI and set the toolkit's device-list settings in
 * its config.toml (`nvidia-ctk config --in-place --set`), then show them.
 */
export function nvidiaToolkitLines(): string[] {
  const sets = Object.entries(NVIDIA_TOOLKIT_SETTINGS).map(([k, v]) => `--set ${shQuote(`${k}=${v}`)}`).join(' ');
  return [
    'command -v nvidia-container-runtime >/dev/null 2>&1 || { log "nvidia-container-runtime not found: use the NVIDIA GPU AMI (driver + container toolkit)"; exit 1; }',
    'command -v nvidia-ctk >/dev/null 2>&1 || { log "nvidia-ctk not found: the NVIDIA container toolkit is too old to configure"; exit 1; }',
    '# GPUs only through the device plugin\'s volume mounts: NVIDIA_VISIBLE_DEVICES of an unprivileged pod is ignored.',
    `nvidia-ctk config --in-place ${sets}`,
  ];
}
