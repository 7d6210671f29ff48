/**
 * The runbook step that rotates the server token of a cluster of this family (`<name>/rotate-token.sh`), run as root
 * on the servers, on every datastore the family offers here (Kine on PostgreSQL, Kine on SQLite/Litestream, embedded
 * etcd). What the shared supervisor does (cited file:line in each member's token-rotate.ts, which passes its facts):
 *
 * - `<name> token rotate` authenticates to the local supervisor with the token of `<data-dir>/server/token` as user
 *   `server`. `--new-token <password>` is the only way to give it the new token (a flag: no environment variable, no
 *   file); the CLI overwrites its process title before it does anything else, so the token shows in `ps` only for the
 *   instant between exec and that call (pkg/cli/token/token.go serverAccess: gspt.SetProcTitle). The value is the
 *   password itself (the server stores it as user `server`'s password as given).
 * - The server sets the new password of user `server`, leaves user `node` (the agent token) when an agent token is
 *   configured (ours always is: agent-token-file on every server), rewrites `<data-dir>/server/token` as
 *   `K10<CA hash>::server:<new>` (before it touches the datastore), re-encrypts the bootstrap data in the datastore under the new token's key, deletes
 *   the old key, and keeps serving with the new token.
 * - A server (re)started with the old token finds only the new key ("bootstrap data already found and encrypted with
 *   different token") and does not start. So this server's token-file gets the new token before anything can
 *   restart it, and every other server must get it before its next start (`follow`).
 * - Agents join with the agent token, which the rotation leaves: nothing to do on agents, and new pool instances
 *   (agents) join through the whole rotation.
 *
 * Order: the token first, the cluster after, SSM's current token last. The new token is made on the server (16 bytes of
 * /dev/urandom as 32 hex digits, the shape upstream makes) and recorded as the PENDING token, a SecureString parameter
 * beside the current one (`<param>-pending`, same KMS key), before `token rotate --new-token` re-encrypts the bootstrap
 * data with it. So from the moment the datastore needs the new token, SSM holds it: losing the rotating server, or a
 * failed SSM write, never leaves the only copy on one disk. A failed pending write rotates nothing. After the rotation
 * this server restarts with the new token in its token-file (upstream asks every server to restart; a start proves the
 * datastore decrypts with it) and only then the pending token is promoted to the current parameter, the one the boot
 * path and the other runbooks read. The window between rotation and promotion is that one restart; a server booting
 * inside it is refused the current token and starts with the pending one (bootServerStartLines), saying so.
 *
 * `resume` (any server, also a replacement that booted with the pending token) settles an unfinished rotation (pending
 * differs from current) with upstream's own oracle: a server starts only with the token the bootstrap data is encrypted
 * under. It restarts this server with the current token, then with the pending one (the order a booting server tries
 * them in: bootServerStartLines), each start watched so that upstream's refusal ends it at once (./boot.ts
 * start_watched), promotes the one it starts with (or discards the pending one) and says which. `rotate` and `follow`
 * refuse while a rotation is unfinished.
 *
 * Other servers keep running through the rotation (their process keeps its bootstrap data) but must not restart until
 * they `follow` (token-file from the current parameter, restart).
 *
 * The pending and promoted values keep the current parameter's format: the secure K10 token where the first server
 * publishes it and joining nodes wait for it (the CA hash kept), the short password otherwise.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { shellValue } from '../../lib/shapes.js';
import type { Statement } from '../../infra/aws/facts.js';
import { ssmParameterArn } from '../../infra/aws/policy.js';
import { bootScriptOf, SERVICE_READY_SECONDS, shQuote, startWindows, watchedStartFailLine } from './boot.js';
import { rancherCluster } from './model.js';

export const TOKEN_ROTATE_SCRIPT = 'rotate-token.sh';
const TAG = 'odp-rotate-token';

/** The first release of each minor line with `<name> token rotate` (every later minor has it), with the source. */
export interface TokenRotateSince {
  lines: Readonly<Record<string, string>>;
  laterMinors: number;
  source: string;
  /** [minor, patch, build] of a release name, undefined when it is none. */
  parse(version: string): number[] | undefined;
}

/** Undefined when `version` has `token rotate`; otherwise why not (the README says it). */
export function tokenRotateUnsupported(name: string, since: TokenRotateSince, version: string | undefined): string | undefined {
  const v = version ? since.parse(version) : undefined;
  if (!v) return `the release ${version ?? '(none)'} is not one this step can compare`;
  if (v[0]! >= since.laterMinors) return undefined;
  const first = since.lines[`1.${v[0]}`];
  const f = first ? since.parse(first) : undefined;
  if (f && (v[1]! > f[1]! || (v[1] === f[1] && v[2]! >= f[2]!))) return undefined;
  return `${version} has no \`${name} token rotate\` (first in ${first ?? `v1.${since.laterMinors}`}: ${since.source})`;
}

export interface TokenRotateSpec {
  /** The family member: its CLI, its /etc/rancher/<name> and /var/lib/rancher/<name>. */
  name: string;
  title: string;
  /** The server's systemd unit and where its unit file is. */
  unit: string;
  unitPath: string;
  /** The server binary. */
  bin: string;
  /** The token-file of the servers' config (written at first boot from SSM). */
  tokenFile: string;
  since: TokenRotateSince;
}

/** The SSM parameter holding the pending server token of a rotation (the token chosen before the cluster takes it). */
export const pendingTokenParameter = (param: string): string => `${param}-pending`;

/**
 * The servers' grant on the pending token parameter: rotate-token.sh records the new token there before rotating and
 * reads it back on any server (resume, and the unfinished-rotation check of every mode). One statement, added to the
 * member's policy that already writes the token (a role holds at most 10 managed policies by default: IAM quotas).
 */
export const pendingTokenStatement = (m: EnvironmentModel): Statement => ({
  Effect: 'Allow',
  Action: ['ssm:GetParameter', 'ssm:PutParameter'],
  Resource: [ssmParameterArn(m, pendingTokenParameter(rancherCluster(m).token.secret))],
});

/**
 * Shell lines of a server's first start at boot, bounded (`seconds`) and watched (./boot.ts start_watched). The token-file
 * holds the token in `param`; when the datastore refuses it (upstream's refusal in the start's journal, seen within a
 * window) and the pending parameter holds another token (a rotation unfinished: a server booting between `token rotate`
 * and the promotion), the server starts once more with that one, bounded the same; current first, then pending, the
 * order `resume` tries them in. The log (cloud-init's output: the console and the journal) says which token started it,
 * or why neither did (start_cause); a start with the pending token says to run `resume` there, which promotes it.
 */
export function bootServerStartLines(o: { name: string; unit: string; seconds: number; param: string; tokenFile: string; why: string }): string[] {
  const pending = pendingTokenParameter(o.param);
  const windows = startWindows(o.seconds);
  const resume = `sh ${TOKEN_ROTATE_SCRIPT} resume`;
  return [
    `# The token in ${o.param}; refused, the one in ${pending} (a rotation unfinished: ${TOKEN_ROTATE_SCRIPT}).`,
    `rc=0; start_watched ${o.unit} ${windows} || rc=$?`,
    'TOKEN_USED=current',
    'if [ "$rc" -eq 3 ]; then',
    `  PENDING=$(aws ssm get-parameter --region "$REGION" --with-decryption --name ${shQuote(pending)} --query Parameter.Value --output text 2>/dev/null || :)`,
    `  CURRENT=$(cat ${o.tokenFile})`,
    '  case "$PENDING" in',
    `    ""|*[!A-Za-z0-9._:-]*|"$CURRENT") ;;`,
    '    *)',
    `      log ${shQuote(`the token in ${o.param} is refused: trying the one in ${pending}`)}`,
    `      printf '%s' "$PENDING" > ${o.tokenFile}`,
    `      rc=0; start_watched ${o.unit} ${windows} || rc=$?`,
    `      if [ "$rc" -eq 0 ]; then TOKEN_USED=pending; else printf '%s' "$CURRENT" > ${o.tokenFile}; fi ;;`,
    '  esac',
    'fi',
    watchedStartFailLine(o.unit, o.unit.replace(/\.service$/, ''), o.seconds, o.why),
    `if [ "$TOKEN_USED" = pending ]; then log ${shQuote(`${o.unit} started with the token in ${pending}: a rotation is unfinished; run ${resume} here`)}; else log ${shQuote(`${o.unit} started with the token in ${o.param}`)}; fi`,
  ];
}

/** The script of one environment, or undefined with the reason when its release has no `token rotate`. */
export function tokenRotateScript(m: EnvironmentModel, s: TokenRotateSpec): { script?: string; unsupported?: string } {
  const c = rancherCluster(m);
  const unsupported = tokenRotateUnsupported(s.name, s.since, c.version);
  if (unsupported) return { unsupported };
  const param = shellValue('ssm-name', c.token.secret, `cluster.${s.name}.token.secret`);
  const pending = pendingTokenParameter(param);
  const secure = `/var/lib/rancher/${s.name}/server/token`;
  const unit = `${s.unit}.service`;
  const run = (mode: string) => `sh ${TOKEN_ROTATE_SCRIPT} ${mode}`;
  // Fixed servers: name and address, each single-quoted (names and addresses are validated by the schema).
  const servers = m.controlPlaneNodes.map((n) => shQuote(`${n.name} ${n.ip}`)).join(' ');
  const head = [
    '#!/bin/sh',
    `# odp-gitops: rotate the ${s.title} server token of environment ${m.name} (SSM parameter ${param}), as root:`,
    `#   ${run('rotate')}   on ONE server: a new token is made here and recorded in ${pending} (pending) BEFORE`,
    `#                            ${s.name} token rotate --new-token re-encrypts the bootstrap data with it; this server restarts`,
    `#                            with it (its start proves the datastore takes it), then it is promoted to ${param}`,
    `#   ${run('follow')}   then on every other server, one at a time: token-file from ${param}, restart`,
    `#   ${run('resume')}   after any failure, on any server (also a replacement that did not start): restarts this`,
    `#                            server with the pending token, else with the one in ${param}, and finishes with the one it starts with`,
    '# Agents join with the agent token, which the rotation leaves: nothing to do on agents.',
  ];
  const body = [
    `[ -e ${s.unitPath} ] || { log ${shQuote(`no ${s.title} server unit (${s.unitPath}) on this node: run this on the servers (agents keep their agent token)`)}; exit 1; }`,
    `PARAM=${shQuote(param)}`,
    `PENDING_PARAM=${shQuote(pending)}`,
    `TOKEN_FILE=${s.tokenFile}`,
    `SECURE=${secure}`,
    '# The pending token as written to SSM (root-only, beside the token-file): put-parameter reads it from here, never from a command line.',
    `PENDING_FILE=/etc/rancher/${s.name}/odp-token-pending`,
    '# The password of a token: K10<CA hash>::server:<password> (secure) or <password> (short).',
    'password() { case "$1" in K10*::server:*) printf \'%s\' "${1#*::server:}" ;; *) printf \'%s\' "$1" ;; esac; }',
    '# Tokens are data, never code; still, only the shapes the servers write and this script makes pass.',
    'shape() { case "$2" in ""|*[!A-Za-z0-9._:-]*) log "$1 holds no token (empty, or characters beyond A-Z a-z 0-9 . _ : -)"; exit 1 ;; esac; }',
    '# Write a root-only file atomically (umask 077), without a trailing newline, as the boot script does.',
    'put_file() { printf \'%s\' "$2" > "$1.new" && chmod 0600 "$1.new" && mv -f "$1.new" "$1"; }',
    `# A file's content to an SSM SecureString (never on a command line), with the KMS key of ${param}.`,
    'put_ssm() {',
    '  key=$(aws ssm describe-parameters --region "$REGION" --parameter-filters "Key=Name,Values=$PARAM" --query \'Parameters[0].KeyId\' --output text) &&',
    '    aws ssm put-parameter --region "$REGION" --name "$1" --type SecureString --key-id "$key" --overwrite --value "file://$2" >/dev/null',
    '}',
    `# Restart this server with its token-file holding $1. It starts only if the datastore's bootstrap data decrypts`,
    '# with that token ("bootstrap data already found and encrypted with different token" otherwise: start_watched',
    `# returns 3 as soon as its journal says so, instead of waiting out the ${SERVICE_READY_SECONDS} s).`,
    `starts_with() { put_file "$TOKEN_FILE" "$1"; start_watched ${unit} ${startWindows(SERVICE_READY_SECONDS)}; }`,
    '# The next command on each other server (this one is known by its address).',
    'next_servers() {',
    '  SELF=$(imds local-ipv4 || true)',
    `  for s in ${servers}; do`,
    `    [ "\${s#* }" = "$SELF" ] || log "next, one server at a time, as root on \${s% *} (\${s#* }): ${run('follow')}"`,
    '  done',
    '}',
    '# pending -> current: from here a booting server reads the token the datastore needs.',
    'promote() {',
    `  put_ssm "$PARAM" "$PENDING_FILE" || { log ${shQuote(`writing ${param} failed: the datastore needs the token in ${pending} (this server runs with it, in ${s.tokenFile}); ${param} holds the old one. Run ${run('resume')} again here`)}; exit 1; }`,
    '  rm -f "$PENDING_FILE"',
    '  log "promoted the new token to $PARAM"',
    '  next_servers',
    '}',
    'IN_SSM=$(ssm_secret "$PARAM")',
    'shape "SSM parameter $PARAM" "$IN_SSM"',
    'ON_NODE=$(cat "$TOKEN_FILE")',
    'shape "$TOKEN_FILE" "$ON_NODE"',
    '# The pending token; none when the parameter does not exist yet (read once, no retries: absence is the normal case).',
    'PENDING=$(aws ssm get-parameter --region "$REGION" --with-decryption --name "$PENDING_PARAM" --query Parameter.Value --output text 2>/dev/null || true)',
    'UNFINISHED=',
    'if [ -n "$PENDING" ]; then shape "SSM parameter $PENDING_PARAM" "$PENDING"; [ "$(password "$PENDING")" = "$(password "$IN_SSM")" ] || UNFINISHED=1; fi',
    `[ -z "$UNFINISHED" ] || [ "\${1:-}" = resume ] || { log ${shQuote(`a rotation is unfinished (${pending} holds a token ${param} does not): run ${run('resume')} here first`)}; exit 1; }`,
    'case "${1:-}" in',
    'follow)',
    '  if [ "$(password "$ON_NODE")" = "$(password "$IN_SSM")" ]; then log "$TOKEN_FILE holds the token in $PARAM already: nothing to do"; exit 0; fi',
    '  # Restarted watched, as every start of this script (starts_with): a token the cluster does not hold ends it at once.',
    '  rc=0; starts_with "$IN_SSM" || rc=$?',
    `  ${watchedStartFailLine(unit, s.unit, SERVICE_READY_SECONDS, `check ${param} against the server that rotated (journalctl -u ${s.unit}). This server is down until it starts`)}`,
    `  log ${shQuote(`${s.unit} restarted with the token in ${param}`)}`,
    '  ;;',
    'rotate)',
    `  [ "$(password "$ON_NODE")" = "$(password "$IN_SSM")" ] || { log ${shQuote(`${s.tokenFile} differs from ${param}: another server rotated; run ${run('follow')} here`)}; exit 1; }`,
    '  # 16 random bytes as 32 hex digits, the shape the server makes itself (util.Random(16)).',
    '  NEW=$(od -An -tx1 -N16 /dev/urandom | tr -d \' \\n\')',
    `  case "$NEW" in *[!0-9a-f]*) NEW= ;; esac; [ "\${#NEW}" -eq 32 ] || { log 'could not make a token from /dev/urandom: nothing rotated'; exit 1; }`,
    `  # In ${param}'s own format: K10<CA hash>::server:<password> keeps its CA hash (the CA does not change), or the short one.`,
    '  case "$IN_SSM" in K10*::server:*) VALUE="${IN_SSM%%::*}::server:$NEW" ;; *) VALUE=$NEW ;; esac',
    '  put_file "$PENDING_FILE" "$VALUE"',
    `  put_ssm "$PENDING_PARAM" "$PENDING_FILE" || { rm -f "$PENDING_FILE"; log ${shQuote(`writing ${pending} failed: nothing rotated; the cluster, ${param} and ${s.tokenFile} keep the token they had`)}; exit 1; }`,
    `  log ${shQuote(`recorded the new token in ${pending}; rotating (${s.name} token rotate --new-token)`)}`,
    `  # --new-token is a flag only (no environment variable, no file: the supervisor's pkg/cli/cmds/token.go); the CLI hides`,
    '  # its arguments from ps as it starts (pkg/cli/token/token.go serverAccess: gspt.SetProcTitle).',
    `  if ! ${s.bin} token rotate --new-token "$NEW" >&2; then`,
    '    # The server writes server/token before it re-encrypts the bootstrap data (pkg/server/handlers/token.go tokenRotate).',
    `    if [ "$(password "$(cat "$SECURE")")" = "$NEW" ]; then log ${shQuote(`${s.name} token rotate failed after this server took the new token: the datastore needs the token in ${pending} if the re-encryption completed, else the one in ${param}; run ${run('resume')} here (it restarts ${s.unit} to find out)`)}`,
    '    else',
    '      # It never reached the re-encryption: the pending token is discarded at once (no restart needed to find out).',
    '      put_file "$PENDING_FILE" "$IN_SSM"',
    `      put_ssm "$PENDING_PARAM" "$PENDING_FILE" || { log ${shQuote(`${s.name} token rotate failed before this server took the new token: the datastore needs the token in ${param}, as before; discarding the one in ${pending} failed: run ${run('resume')} here`)}; exit 1; }`,
    '      rm -f "$PENDING_FILE"',
    `      log ${shQuote(`${s.name} token rotate failed before this server took the new token: the datastore needs the token in ${param}, as before (journalctl -u ${s.unit}); ${pending} discarded`)}`,
    '    fi',
    '    exit 1',
    '  fi',
    `  [ "$(password "$(cat "$SECURE")")" = "$NEW" ] || { log ${shQuote(`${secure} does not hold the new token after ${s.name} token rotate: run ${run('resume')} here`)}; exit 1; }`,
    '  # Upstream: every server restarts with the new token. This one first: its start proves the datastore takes it.',
    `  starts_with "$VALUE" || { log ${shQuote(`${s.unit} does not start again with the new token (journalctl -u ${s.unit}): ${param} untouched, the token is in ${pending}; run ${run('resume')} here`)}; exit 1; }`,
    '  promote',
    '  ;;',
    'resume)',
    '  if [ -z "$UNFINISHED" ]; then log "no rotation is unfinished ($PENDING_PARAM holds no token other than the one in $PARAM): nothing to do"; exit 0; fi',
    '  put_file "$PENDING_FILE" "$PENDING"',
    `  # The current token first, then the pending one: the order a booting server tries them in. Only upstream's refusal`,
    '  # of the token (3) moves on to the other: any other failure (the datastore unreachable) decides nothing.',
    `  log ${shQuote(`a rotation is unfinished: restarting ${s.unit} with the token in ${param}`)}`,
    '  rc=0; starts_with "$IN_SSM" || rc=$?',
    '  if [ "$rc" -eq 0 ]; then',
    '    # The rotation did not happen: the pending token is discarded (it becomes the current one again).',
    '    put_file "$PENDING_FILE" "$IN_SSM"',
    `    put_ssm "$PENDING_PARAM" "$PENDING_FILE" || { log ${shQuote(`the datastore needs the token in ${param} (this server runs with it), but writing ${pending} failed; run ${run('resume')} again`)}; exit 1; }`,
    '    rm -f "$PENDING_FILE"',
    `    log ${shQuote(`${s.unit} started with the token in ${param}: the rotation did not happen, the datastore needs that token; ${pending} discarded. Run ${run('rotate')} again`)}`,
    '  elif [ "$rc" -eq 3 ]; then',
    `    log ${shQuote(`the datastore refuses the token in ${param}: restarting ${s.unit} with the one in ${pending}`)}`,
    '    rc=0; starts_with "$PENDING" || rc=$?',
    `    [ "$rc" -eq 0 ] || { log "${s.unit} starts with neither the token in ${param} nor the one in ${pending}: $(start_cause ${unit}); both are kept"; exit 1; }`,
    `    log ${shQuote(`${s.unit} started with the token in ${pending}: the datastore needs it`)}`,
    '    promote',
    '  else',
    `    log "${s.unit} did not start with the token in ${param}, for another cause than the token: $(start_cause ${unit}). Nothing is decided (both tokens are kept): fix that and run ${run('resume')} again"`,
    '    exit 1',
    '  fi',
    '  ;;',
    `*) log ${shQuote(`usage: ${run('rotate')} (on one server), then ${run('follow')} (on each other server); ${run('resume')} after a failure`)}; exit 2 ;;`,
    'esac',
    '',
  ];
  const script = bootScriptOf(TAG, head, body);
  return { script };
}

/** The README's paragraph on rotating the server token (the runbook step, or why the release has none). */
export function tokenRotationText(m: EnvironmentModel, s: Pick<TokenRotateSpec, 'name' | 'title'>, rotate: { script?: string; unsupported?: string }): string {
  const param = rancherCluster(m).token.secret;
  const pending = pendingTokenParameter(param);
  const path = `\`${m.renderedDir}/${s.name}/${TOKEN_ROTATE_SCRIPT}\``;
  if (!rotate.script) return `Server token rotation: not rendered, ${rotate.unsupported}; upgrade first.\n`;
  return `Server token rotation (after a leak: anyone reaching the supervisor port can join a server with it, and it
decrypts the bootstrap data in the datastore): copy ${path} to the servers and run, as
root, \`sh ${TOKEN_ROTATE_SCRIPT} rotate\` on ONE server. It makes the new token there and records it in \`${pending}\` (pending)
BEFORE \`${s.name} token rotate --new-token\` re-encrypts the bootstrap data with it, so SSM always holds the token the
datastore needs; then that server restarts with it and only then it is promoted to \`${param}\`, which every boot reads.
Then \`sh ${TOKEN_ROTATE_SCRIPT} follow\` on every other server (\`rotate\` names each, with its address), one at a time
(token-file from SSM, restart). Until it has run \`follow\`, a server keeps running but must not restart: with the old
token it cannot decrypt the bootstrap data and does not start. If any step fails, or the rotating server is lost
before the promotion (a replacement booting then is refused the current token, starts with the pending one and says
so), the script's last line says which token the datastore needs and where it is; run \`sh ${TOKEN_ROTATE_SCRIPT} resume\` on any server (the replacement too): it restarts that server
with the current token, else the pending one, and promotes the one it starts with (or discards the pending one).
Agents and new pool instances join with the agent token, which the rotation leaves (this step does not rotate the
agent token). Keep the old token with the datastore backups taken before: restoring one needs it (SSM keeps it as the
parameter's previous version: \`aws ssm get-parameter-history\`).
`;
}
