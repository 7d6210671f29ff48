/**
 * The runbook step that rotates the server token of a cluster of this family (`<name>/rotate-token.sh`), run as root
 * on the servers, on every datastore the family offers here (Kine on PostgreSQL, Kine on SQLite/Litestream, embedded
 * etcd). What the shared supervisor does (cited file:line in each member's token-rotate.ts, which passes its facts):
 *
 * - `<name> token rotate` authenticates to the local supervisor with the token of `<data-dir>/server/token` as user
 *   `server`. Without --new-token the server makes the new token: no token ever appears on a command line.
 * - The server sets the new password of user `server`, leaves user `node` (the agent token) when an agent token is
 *   configured (ours always is: agent-token-file on every server), rewrites `<data-dir>/server/token` as
 *   `K10<CA hash>::server:<new>`, re-encrypts the bootstrap data in the datastore under the new token's key, deletes
 *   the old key, and keeps serving with the new token.
 * - A server (re)started with the old token finds only the new key ("bootstrap data already found and encrypted with
 *   different token") and does not start. So this server's token-file gets the new token before anything can
 *   restart it, and every other server must get it before its next start (`follow`).
 * - Agents join with the agent token, which the rotation leaves: nothing to do on agents, and new pool instances
 *   (agents) join through the whole rotation.
 *
 * Order: the cluster first, SSM after. If the rotation fails, SSM and every token-file still hold the token the
 * cluster accepts. Were SSM written first and the rotation then failed, a server booting meanwhile would take a token
 * the datastore cannot be decrypted with. After a successful rotation the new token is in this server's root-only
 * token-file before SSM is written; if writing SSM fails, a re-run on this server publishes it without rotating again
 * (a mark file, present from the start of a rotation until SSM has the token, tells this server from one that has
 * not followed yet: both hold a token-file that differs from SSM and matches their running token). Between the
 * rotation and `follow` a server runs on (its process keeps its bootstrap data) but must not restart; a server
 * launched in the seconds before SSM is written reads the old token and does not start (relaunch it).
 *
 * SSM keeps each member's format (`secureInSsm`): the secure K10 token where the first server publishes it and joining
 * nodes wait for it, the short password otherwise.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { shellValue } from '../../lib/shapes.js';
import { bootScriptOf, boundedStartLines, shQuote } from './boot.js';
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
  /** SSM and the token-file hold the secure K10 token (its first server publishes it) or the short password. */
  secureInSsm: boolean;
  since: TokenRotateSince;
}

/** The script of one environment, or undefined with the reason when its release has no `token rotate`. */
export function tokenRotateScript(m: EnvironmentModel, s: TokenRotateSpec): { script?: string; unsupported?: string } {
  const c = rancherCluster(m);
  const unsupported = tokenRotateUnsupported(s.name, s.since, c.version);
  if (unsupported) return { unsupported };
  const param = shellValue('ssm-name', c.token.secret, `cluster.${s.name}.token.secret`);
  const secure = `/var/lib/rancher/${s.name}/server/token`;
  // Fixed servers: name and address, each single-quoted (names and addresses are validated by the schema).
  const servers = m.controlPlaneNodes.map((n) => shQuote(`${n.name} ${n.ip}`)).join(' ');
  const head = [
    '#!/bin/sh',
    `# odp-gitops: rotate the ${s.title} server token of environment ${m.name} (SSM parameter ${param}), as root:`,
    `#   sh ${TOKEN_ROTATE_SCRIPT} rotate   on ONE server: ${s.name} token rotate re-encrypts the bootstrap data with a new token;`,
    '#                            this server\'s token-file gets it, then SSM (only once the rotation succeeded; a re-run',
    '#                            after a failed SSM write publishes it without rotating again)',
    `#   sh ${TOKEN_ROTATE_SCRIPT} follow   then on every other server, one at a time: token-file from SSM, restart`,
    '# Agents join with the agent token, which the rotation leaves: nothing to do on agents.',
  ];
  const body = [
    `[ -e ${s.unitPath} ] || { log ${shQuote(`no ${s.title} server unit (${s.unitPath}) on this node: run this on the servers (agents keep their agent token)`)}; exit 1; }`,
    `PARAM=${shQuote(param)}`,
    `TOKEN_FILE=${s.tokenFile}`,
    `SECURE=${secure}`,
    '# Present from the start of a rotation on this server until its token is in SSM: only this server may then publish.',
    `MARK=/var/lib/rancher/${s.name}/server/odp-token-unpublished`,
    '# The password of a token: K10<CA hash>::server:<password> (secure) or <password> (short).',
    'password() { case "$1" in K10*::server:*) printf \'%s\' "${1#*::server:}" ;; *) printf \'%s\' "$1" ;; esac; }',
    '# Tokens are data, never code; still, only the shapes the servers write and openssl rand -hex makes pass.',
    'shape() { case "$2" in ""|*[!A-Za-z0-9._:-]*) log "$1 holds no token (empty, or characters beyond A-Z a-z 0-9 . _ : -)"; exit 1 ;; esac; }',
    '# Write a root-only file atomically (umask 077), without a trailing newline, as the boot script does.',
    'put_file() { printf \'%s\' "$2" > "$1.new" && chmod 0600 "$1.new" && mv -f "$1.new" "$1"; }',
    '# The token-file\'s content to SSM (never on a command line), keeping the parameter\'s KMS key.',
    'publish() {',
    `  unpublished() { log ${shQuote(`writing ${param} failed: the cluster and this server's token-file hold the new token; run sh ${TOKEN_ROTATE_SCRIPT} rotate again here (it publishes without rotating)`)}; exit 1; }`,
    '  key=$(aws ssm describe-parameters --region "$REGION" --parameter-filters "Key=Name,Values=$PARAM" --query \'Parameters[0].KeyId\' --output text) || unpublished',
    '  aws ssm put-parameter --region "$REGION" --name "$PARAM" --type SecureString --key-id "$key" --overwrite --value "file://$TOKEN_FILE" >/dev/null || unpublished',
    '  log "published the new token to $PARAM"',
    '}',
    'IN_SSM=$(ssm_secret "$PARAM")',
    'shape "SSM parameter $PARAM" "$IN_SSM"',
    'ON_NODE=$(cat "$TOKEN_FILE")',
    'shape "$TOKEN_FILE" "$ON_NODE"',
    'case "${1:-}" in',
    'follow)',
    '  if [ "$(password "$ON_NODE")" = "$(password "$IN_SSM")" ]; then log "$TOKEN_FILE holds the token in $PARAM already: nothing to do"; exit 0; fi',
    '  put_file "$TOKEN_FILE" "$IN_SSM"',
    ...boundedStartLines('restart', `${s.unit}.service`, `it exits and systemd keeps restarting it (journalctl -u ${s.unit}): a token the cluster does not hold is refused ("bootstrap data already found and encrypted with different token"); check ${param} against the server that rotated. This server is down until it starts`, s.unit).map((l) => `  ${l}`),
    `  log ${shQuote(`${s.unit} restarted with the token in ${param}`)}`,
    '  ;;',
    'rotate)',
    '  RUNNING=$(cat "$SECURE")',
    '  shape "$SECURE" "$RUNNING"',
    '  if [ "$(password "$ON_NODE")" != "$(password "$IN_SSM")" ]; then',
    '    # Resume: this server rotated (marked; its token-file and running token agree) but SSM was not written. Without',
    '    # the mark, a server that has not followed yet looks the same: it must never publish its old token.',
    `    [ -e "$MARK" ] && [ "$(password "$ON_NODE")" = "$(password "$RUNNING")" ] || { log ${shQuote(`${s.tokenFile} differs from ${param} and from the running token: another server rotated; run sh ${TOKEN_ROTATE_SCRIPT} follow here`)}; exit 1; }`,
    '    log "this server rotated the token before but $PARAM was not written: publishing it"',
    '  else',
    `    log ${shQuote(`rotating the server token (${s.name} token rotate; the server makes the new token)`)}`,
    '    : > "$MARK"',
    `    ${s.bin} token rotate >&2 || { rm -f "$MARK"; log ${shQuote(`${s.name} token rotate failed: ${param} and ${s.tokenFile} are untouched and the cluster keeps its token (journalctl -u ${s.unit})`)}; exit 1; }`,
    '    NEW=$(cat "$SECURE")',
    '    shape "$SECURE" "$NEW"',
    `    [ "$(password "$NEW")" != "$(password "$ON_NODE")" ] || { log ${shQuote(`${secure} still holds the old token after ${s.name} token rotate: ${param} untouched`)}; exit 1; }`,
    '    # Before anything restarts this server: with the old token it could not start (bootstrap data re-encrypted).',
    s.secureInSsm ? '    put_file "$TOKEN_FILE" "$NEW"' : '    put_file "$TOKEN_FILE" "$(password "$NEW")"',
    '  fi',
    '  publish',
    '  rm -f "$MARK"',
    '  # The next command on each other server (this one is known by its address).',
    '  SELF=$(imds local-ipv4 || true)',
    `  for s in ${servers}; do`,
    '    [ "${s#* }" = "$SELF" ] || log "next, one server at a time, as root on ${s% *} (${s#* }): sh rotate-token.sh follow"',
    '  done',
    '  ;;',
    `*) log ${shQuote(`usage: sh ${TOKEN_ROTATE_SCRIPT} rotate (on one server), then sh ${TOKEN_ROTATE_SCRIPT} follow (on each other server)`)}; exit 2 ;;`,
    'esac',
    '',
  ];
  const script = bootScriptOf(TAG, head, body);
  return { script };
}

/** The README's paragraph on rotating the server token (the runbook step, or why the release has none). */
export function tokenRotationText(m: EnvironmentModel, s: Pick<TokenRotateSpec, 'name' | 'title'>, rotate: { script?: string; unsupported?: string }): string {
  const param = rancherCluster(m).token.secret;
  const path = `\`${m.renderedDir}/${s.name}/${TOKEN_ROTATE_SCRIPT}\``;
  if (!rotate.script) return `Server token rotation: not rendered, ${rotate.unsupported}; upgrade first.\n`;
  return `Server token rotation (after a leak: anyone reaching the supervisor port can join a server with it, and it
decrypts the bootstrap data in the datastore): copy ${path} to the servers and run, as
root, \`sh ${TOKEN_ROTATE_SCRIPT} rotate\` on ONE server (\`${s.name} token rotate\` re-encrypts the bootstrap data with a token
the server makes; that server's token-file gets it, and \`${param}\` only once the rotation succeeded; a re-run
after a failed SSM write publishes without rotating again), then \`sh ${TOKEN_ROTATE_SCRIPT} follow\` on every other server
(\`rotate\` names each, with its address), one at a time (token-file from SSM, restart). Until it has run \`follow\`, a server keeps running but must not
restart: with the old token it cannot decrypt the bootstrap data and does not start. Agents and new pool instances
join with the agent token, which the rotation leaves (this step does not rotate the agent token). Keep the old token with the datastore backups taken before:
restoring one needs it (SSM keeps it as the parameter's previous version: \`aws ssm get-parameter-history\`).
`;
}
