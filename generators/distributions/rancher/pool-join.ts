/**
 * How an instance of an auto-scaled pool of this family leaves its launch lifecycle hook (PoolJoin kind
 * 'boot', generators/infra/aws/facts.ts): the hook (DefaultResult ABANDON) holds every new instance in
 * Pending:Wait, so an instance refresh counts it neither healthy nor in service, and retires no old
 * instance for it, until its own boot script completes the hook:
 *
 * - CONTINUE once the agent's systemd unit has started. Its unit is Type=notify with no start timeout,
 *   so `systemctl start` returns only after the agent's READY=1, which the family's supervisor sends only
 *   after it validated the token, opened the tunnel, saw the API server ready and found its own Node
 *   object registered (each member's userdata.ts cites its unit file and the supervisor's source). That
 *   is what the boot can observe without cluster credentials: the Node exists; Ready (CNI) is not awaited.
 * - ABANDON from an EXIT trap when the boot script fails (exit code kept), an agent that is not ready within
 *   SERVICE_READY_SECONDS included (./boot.ts boundedStartLines: the unit's start has no timeout of its own): the group terminates the
 *   instance and launches another; a refresh whose new instances fail stops replacing and rolls back
 *   instead of replacing every working node with a dead one.
 *   User data refusing to boot because it carries SSM placeholders stops right after the trap is set
 *   (./boot.ts guardPlaceholders, EXIT_TRAP_LINE): abandoned at once too.
 * - Nothing within the heartbeat timeout (a boot that hangs): the hook's DefaultResult, ABANDON. A boot that waits
 *   (a member's agent for its secure agent token, up to 30 minutes) records heartbeats meanwhile and once after
 *   (HEARTBEAT_POLLS), so the wait does not eat the start's time.
 *
 * The instance learns its group and hook from its user data (the group's name is fixed:
 * AutoScalingGroupName in the nodes stack); the instance id from IMDSv2 (hop limit 1 suffices: the
 * boot script runs on the host). Instance tags in IMDS (`aws:autoscaling:groupName`) would need
 * InstanceMetadataTags, which the launch templates keep disabled (EC2 API reference,
 * LaunchTemplateInstanceMetadataOptions: instanceMetadataTags, default disabled). The pattern is AWS's
 * own (EC2 Auto Scaling user guide, "Tutorial: Configure user data to retrieve the target lifecycle state
 * through instance metadata": a user data script completes the launch hook, with
 * autoscaling:CompleteLifecycleAction on `arn:aws:autoscaling:…:autoScalingGroup:*:autoScalingGroupName/<group>`).
 *
 * Re-runs: cloud-init runs the user data once per instance (canonical/cloud-init@0167c1b9
 * cloudinit/config/cc_scripts_user.py:34: PER_INSTANCE), so a reboot sends nothing. A manual re-run
 * finds the marker written after CONTINUE and sends no second completion (AWS answers one for an
 * instance no longer waiting with ValidationError "No active Lifecycle Action found", exit code 254),
 * and its failure abandons nothing.
 */
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import type { PoolJoin } from '../../infra/aws/facts.js';
import { poolGroupName } from '../../infra/aws/policy.js';
import { EXIT_TRAP_LINE, shQuote } from './boot.js';
import type { BootSettings } from './boot-settings.js';

/** The launch lifecycle hook of the family's auto-scaled pools. */
export const POOL_JOIN_HOOK = 'node-joined';
/**
 * How long the hook waits for the boot script (AWS: 30 to 7200 s). The boot installs the aws CLI,
 * downloads and verifies the release (a tarball of hundreds of MB on one member), may wait for a
 * secure join token, and starts the agent, which pulls its runtime images before READY=1: 30 minutes
 * is several times a normal boot and still lets a refresh stop within the hour when instances never join.
 */
export const POOL_JOIN_HEARTBEAT_SECONDS = 1800;
/**
 * A boot that waits (a member's wait for a join token, 10 s polls) records a heartbeat every this many polls, and
 * once more when the wait is over, so that the wait and then the bounded start (SERVICE_READY_SECONDS) each have the
 * whole heartbeat timeout: RecordLifecycleActionHeartbeat "extends the timeout by the length of time defined using
 * the PutLifecycleHook API call" (EC2 Auto Scaling API reference, RecordLifecycleActionHeartbeat; at most 100 times
 * the heartbeat timeout or 48 hours in all: the same reference, LifecycleHook GlobalTimeout).
 * Without it, a wait of up to 30 minutes plus a start of up to 15 outlived the 30-minute timeout: the hook abandoned
 * an instance in the middle of a start that would have succeeded.
 */
export const HEARTBEAT_POLLS = 30;
/** Written after CONTINUE: this instance has left the hook. */
export const POOL_JOINED_MARKER = '/var/lib/odp-gitops/pool-joined';

/** `joins`: how a new instance joins, in words (the member's); `waits`: its boot waits for a join token (heartbeats). */
export function rancherPoolJoin(title: string, joins: string, waits: boolean): PoolJoin {
  return {
    kind: 'boot',
    hookName: POOL_JOIN_HOOK,
    heartbeatSeconds: POOL_JOIN_HEARTBEAT_SECONDS,
    ...(waits ? { heartbeats: true } : {}),
    why: `${joins}; the launch lifecycle hook ${POOL_JOIN_HOOK} holds it in Pending:Wait until its boot script completes it: CONTINUE once the ${title} agent started (its Node is registered), ABANDON (the instance is terminated) when the boot fails, ABANDON after ${POOL_JOIN_HEARTBEAT_SECONDS} s without an answer; an instance refresh retires an old instance only when its replacement joined`,
  };
}

/**
 * A pool instance's lines (empty for a fixed node): `head` right after the header, `done` at the end, `heartbeat` inside
 * a poll loop counting in `$n`, `waited` after such a loop (those two only for a boot that `waits`).
 */
export interface PoolJoinLines {
  head: string[];
  done: string[];
  heartbeat: string[];
  waited: string[];
}

/** Whether a target is the launch template of an auto-scaled pool. */
export const isPoolInstance = (t: ConfigTarget): boolean => t.node === undefined && t.pool.count !== undefined;

/**
 * The lines a pool instance's boot script starts with (right after its header, before anything can
 * fail) and ends with; empty for a fixed node. `unit` is the agent's systemd unit.
 */
export function poolJoinLines(m: EnvironmentModel, t: ConfigTarget, tag: string, unit: string, s: BootSettings, waits = false): PoolJoinLines {
  if (!isPoolInstance(t)) return { head: [], done: [], heartbeat: [], waited: [] };
  // The group's name is one of the boot's settings (./boot-settings.ts): the script reads it as $POOL_GROUP.
  s.define('POOL_GROUP', poolGroupName(m, t.pool));
  const say = (text: string): string => `echo "${tag}: ${text}" >&2`;
  const head = [
    `# Auto-scaled pool: the launch lifecycle hook ${POOL_JOIN_HOOK} of group $POOL_GROUP holds this instance in`,
    `# Pending:Wait until this script completes it: CONTINUE once ${unit} started, ABANDON when the boot fails (EXIT trap),`,
    `# ABANDON after ${POOL_JOIN_HEARTBEAT_SECONDS} s without an answer (the hook's DefaultResult).`,
    `POOL_HOOK=${shQuote(POOL_JOIN_HOOK)}`,
    `POOL_JOINED=${POOL_JOINED_MARKER}`,
    '# pool_hook <aws autoscaling command> [its options]: on this instance\'s lifecycle action.',
    'pool_hook() {',
    '  op=$1; shift',
    "  t=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300') || return 1",
    '  id=$(curl -sf -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/instance-id) || return 1',
    '  r=$(curl -sf -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/placement/region) || return 1',
    '  command -v aws >/dev/null 2>&1 || snap install aws-cli --classic >/dev/null || return 1',
    '  aws autoscaling "$op" --region "$r" --auto-scaling-group-name "$POOL_GROUP" --lifecycle-hook-name "$POOL_HOOK" --instance-id "$id" "$@"',
    '}',
    ...(waits
      ? [
          '# A fresh heartbeat timeout for a boot that waits (RecordLifecycleActionHeartbeat restarts it).',
          'pool_heartbeat() {',
          `  pool_hook record-lifecycle-action-heartbeat || ${say(`could not record a heartbeat of the lifecycle hook $POOL_HOOK: the group abandons this instance ${POOL_JOIN_HEARTBEAT_SECONDS} s after the last one`)}`,
          '}',
        ]
      : []),
    'abandon_on_failure() {',
    '  rc=$?',
    '  if [ "$rc" -ne 0 ] && [ ! -e "$POOL_JOINED" ]; then',
    `    ${say('boot failed (exit $rc): abandoning this instance (lifecycle hook $POOL_HOOK of $POOL_GROUP)')}`,
    `    pool_hook complete-lifecycle-action --lifecycle-action-result ABANDON || ${say(`could not complete the lifecycle hook: the group abandons this instance after ${POOL_JOIN_HEARTBEAT_SECONDS} s`)}`,
    '  fi',
    '  exit "$rc"',
    '}',
    EXIT_TRAP_LINE,
  ];
  const done = [
    '# Joined: release the instance from the lifecycle hook (once; a re-run of this script sends nothing).',
    'if [ -e "$POOL_JOINED" ]; then',
    `  ${say('this instance already left the lifecycle hook $POOL_HOOK')}`,
    'else',
    `  pool_hook complete-lifecycle-action --lifecycle-action-result CONTINUE || { ${say('could not complete the lifecycle hook $POOL_HOOK of $POOL_GROUP with CONTINUE')}; exit 1; }`,
    `  install -d -m 0700 ${POOL_JOINED_MARKER.slice(0, POOL_JOINED_MARKER.lastIndexOf('/'))}`,
    '  : > "$POOL_JOINED"',
    `  ${say('released from the lifecycle hook $POOL_HOOK: the instance goes InService')}`,
    'fi',
  ];
  if (!waits) return { head, done, heartbeat: [], waited: [] };
  return { head, done, heartbeat: [`[ $((n % ${HEARTBEAT_POLLS})) -ne 0 ] || pool_heartbeat`], waited: ['pool_heartbeat'] };
}
