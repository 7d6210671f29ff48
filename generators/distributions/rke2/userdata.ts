/**
 * EC2 user-data (#cloud-config) of one RKE2 config target. cloud-init writes the files (config,
 * CIS kernel parameters, Pod Security admission configuration, audit policy, boot script) and runs
 * the boot script once, which:
 *   0. refuses to install anything whose sha256 is not recorded (the release parameter says `unrecorded`:
 *      ../rancher/release.ts),
 *   1. applies and asserts the CIS kernel parameters and, on servers, creates the `etcd` user and
 *      group the CIS profile requires (rke2-docs security/hardening_guide.md),
 *   2. reads the tokens and, for Kine on PostgreSQL, the database password from SSM through the
 *      instance profile, and writes the node name (IMDSv2) and the DSN into the root-only config
 *      drop-in config.yaml.d/10-node.yaml (../rancher/host.ts),
 *   3. decides bootstrap or join (embedded etcd, below), or waits for the secure token,
 *   4. installs the release read from the base stack's release parameter (../rancher/release.ts: not in this user
 *      data, so a release bump changes no node's user data; read and checked to its shape before anything else is
 *      downloaded): install.sh and the release tarball checked against the parameter's sha256s, the tarball handed to
 *      install.sh through INSTALL_RKE2_ARTIFACT_PATH with a checksum file holding that hash (install.sh checks it
 *      again), INSTALL_RKE2_METHOD=tar (a host with yum would default to the RPM method, which checks no tarball:
 *      install.sh lines 128-130),
 *   5. starts RKE2 within SERVICE_READY_SECONDS, or the boot stops naming what keeps it from starting (../rancher/boot.ts
 *      start_watched: a refused token, the joining server's or the agent's, ends the start at the end of its 60 s window): the units install.sh puts in place are Type=notify with TimeoutStartSec=0, Restart=always
 *      and RestartSec=5s (rancher/rke2 v1.35.7+rke2r1 bundle/lib/systemd/system/rke2-server.service and
 *      rke2-agent.service, lines 11 and 21-23), so `systemctl start` waited for ever, without a word, on a server whose
 *      join URL reaches no server, whose etcd refuses it or whose datastore is unreachable, and on an agent whose server
 *      URL reaches no server or whose token is refused (systemd/systemd#33890). On the first server it then publishes
 *      the secure (K10) tokens to SSM.
 *
 * Bootstrap or join (embedded etcd). Every server's config has `server:` (./config.ts). The first
 * server of the environment bootstraps a new etcd only when all of these hold: its SSM token is still
 * the short one (the marker: once the cluster runs, the first server replaces it with RKE2's secure
 * token, `K10<CA hash>::server:<password>`, rke2-docs security/token.md lines 15-21 and 50), and
 * nothing answers on the supervisor port of the endpoint (`/cacerts`). It then starts once with a
 * drop-in `server: ""` (config.yaml.d is read after config.yaml; the last value wins; an empty join
 * URL is no join), removed as soon as RKE2 runs: from then on etcd data exists and `server` is
 * ignored (rke2-docs install/ha.md line 96). The marker alone would survive a load balancer that
 * cannot reach the servers; the probe alone would split the cluster whenever the endpoint is down
 * while the first server is replaced. Every other node waits for the secure token. A node that joins through the
 * supervisor (agents; servers on embedded etcd) then verifies the cluster CA before it sends credentials (token.md
 * lines 25-30: the CA hash is checked only by a node contacting a server URL, the shared supervisor's
 * pkg/clientaccess/token.go validateCAHash). A Kine server joins no supervisor (no `server:`, ./config.ts) and sends its token to nobody: it
 * derives the key of the bootstrap data in the database from the token's password (pkg/cluster/storage.go
 * storageBootstrap, util.NormalizeToken), and only its own agent checks the hash, against its own supervisor,
 * whose CA came from that data. For it the wait only orders the boot: the first server has written the bootstrap
 * data (and published the token) before another server starts.
 *
 * Pool instances (../rancher/pool-join.ts) complete their launch lifecycle hook after `systemctl start
 * rke2-agent` returns (bounded: a failed start abandons the instance at once): the unit is Type=notify with
 * TimeoutStartSec=0 (rancher/rke2@6ce1a801 bundle/lib/systemd/system/rke2-agent.service lines 11 and 21), and RKE2 runs the family's shared
 * supervisor agent (pkg/agent/run.go, cited beside the other member's boot script), which sends READY=1
 * only after the token validated, the tunnel opened, the API server is ready and its Node is registered.
 *
 * The boot enables the unit, and rke2-server.service has [Install] WantedBy=multi-user.target and Restart=always
 * (rancher/rke2@6ce1a801 bundle/lib/systemd/system/rke2-server.service lines 7-8, 21-22): it starts at every boot, so
 * a restore's stop disables it (../rancher/boot.ts restoreStopLine; ./restore.ts).
 */
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import { toYaml } from '../../lib/yaml.js';
import { shellValue } from '../../lib/shapes.js';
import { artifactOf, FETCH_VERIFIED, fetchLine, UNRECORDED } from '../rancher/artifacts.js';
import { releaseFetcher, releaseReadLines, RELEASE_VARS } from '../rancher/release.js';
import { agentStartCauses, BOOT_WAITS, bootRetryHint, bootScriptOf, cloudConfigText, postgresEndpointLines, postgresStartCauses, SERVICE_READY_SECONDS, shQuote, sysctlConf, watchedStartLines, writeFile, type UserData } from '../rancher/boot.js';
import { bootServerStartLines } from '../rancher/token-rotate.js';
import { BOOT_SETTINGS_PATH, BootSettings, expandSettings, SOURCE_SETTINGS_LINES } from '../rancher/boot-settings.js';
import { admissionConfiguration, auditPolicy, isFirstServer, KUBELET_SYSCTLS, roleOf } from '../rancher/config.js';
import { manualUpgradeScript } from '../rancher/manual-upgrade.js';
import { isPoolInstance, poolJoinLines } from '../rancher/pool-join.js';
import { configDropInDir, identityDropInLines, nvidiaToolkitLines, sysctlAssertLines } from '../rancher/host.js';
import { RKE2_ARTIFACTS, RKE2_PRODUCT, rke2Tarball } from './artifacts.js';
import { rke2Config, RKE2_PATHS, supervisorUrl } from './config.js';
import { configFromParameter, configReadLines } from '../rancher/node-config.js';
import { RKE2_KEYS, rke2Cluster } from './model.js';

export const RKE2_BOOT_SCRIPT_PATH = '/usr/local/sbin/odp-rke2-boot';
const TAG = 'odp-rke2-boot';
/** The drop-in that makes the first server bootstrap (written only then, removed once RKE2 runs). */
export const BOOTSTRAP_DROP_IN = '20-bootstrap.yaml';
/** Where the verified tarball and its checksum file are handed to install.sh. */
export const RKE2_ARTIFACT_DIR = '/root/rke2-artifacts';
/** How long a joining node waits for the secure token (10 s polls): as long as the first server waits for its datastore (../rancher/boot.ts BOOT_WAITS). */
const joinWaitPolls = (): number => BOOT_WAITS.tokenSeconds / 10;

/** The systemd unit of a role (bundle/lib/systemd/system/rke2-server.service, rke2-agent.service). */
export const rke2Unit = (role: 'server' | 'agent'): string => `rke2-${role}`;

/**
 * How install.sh and the tarball are fetched and verified: `fetch` writes the line fetching one to `dest`, `sha` is the
 * tarball's hash as a shell word (literal hashes, or the release read at boot: ../rancher/release.ts).
 */
interface Rke2Fetch {
  fetch(what: 'installer' | 'tarball', dest: string): string;
  sha: string;
}

/** Lines that install the verified release with install.sh from a local artifact directory. */
export function rke2InstallLines(f: Rke2Fetch, arch: 'amd64' | 'arm64', role: string): string[] {
  const tarball = rke2Tarball(arch);
  return [
    f.fetch('installer', '/root/rke2-install.sh'),
    `install -d -m 0700 ${RKE2_ARTIFACT_DIR}`,
    f.fetch('tarball', `${RKE2_ARTIFACT_DIR}/${tarball}`),
    `printf '%s  %s\\n' ${f.sha} ${tarball} > ${RKE2_ARTIFACT_DIR}/sha256sum-${arch}.txt`,
    `INSTALL_RKE2_ARTIFACT_PATH=${RKE2_ARTIFACT_DIR} INSTALL_RKE2_METHOD=tar INSTALL_RKE2_TYPE=${role} sh /root/rke2-install.sh`,
  ];
}

/** The manual upgrade of a node to the environment's release (../rancher/manual-upgrade.ts); install.sh does not restart RKE2. */
export function rke2ManualUpgrade(m: EnvironmentModel): string {
  const version = rke2Cluster(m).version!;
  const arch = (a: 'amd64' | 'arm64') => {
    const dl = { installer: artifactOf(RKE2_ARTIFACTS, 'rke2', version, 'install.sh'), tarball: artifactOf(RKE2_ARTIFACTS, 'rke2', version, a) };
    return { needs: [dl.installer, dl.tarball], install: rke2InstallLines({ fetch: (what, dest) => fetchLine(dl[what], dest), sha: dl.tarball.sha256 ?? UNRECORDED }, a, '$ROLE') };
  };
  return manualUpgradeScript(m, {
    title: 'RKE2',
    version,
    units: { server: rke2Unit('server'), agent: rke2Unit('agent') },
    unitPath: (u) => `/usr/local/lib/systemd/system/${u}.service`,
    arch: { amd64: arch('amd64'), arm64: arch('arm64') },
    restart: '"$UNIT.service"',
  });
}

/**
 * Shell lines that wait until `$var` holds the secure token, re-reading the SSM parameter `param`. The comment they
 * carry is exact for nodes joining through the supervisor; on a Kine server the wait only orders the boot (the header
 * above). It is left as is there: a changed line is changed user data, which replaces (or stops and starts) every
 * such running server for a comment.
 */
function waitForSecureToken(variable: string, param: string, first: string, heartbeat: string[]): string[] {
  // What the wait is for: the first server's boot, which publishes the token once its RKE2 started; when that start
  // fails, the first server's boot names the cause (its console, its journal), not this one.
  const timeout = `no secure (K10) token in ${param} after ${joinWaitPolls() / 6} minutes: waiting for the first server ${first}, whose boot publishes it once its RKE2 started. Its boot says why it has not (on its console: aws ec2 get-console-output; on ${first}: journalctl -u ${rke2Unit('server')}); it also needs ssm:PutParameter on ${param}`;
  return [
    `# Join only with the secure token: this node verifies the cluster CA before it sends credentials.`,
    'n=0',
    `until case "$${variable}" in K10*) true ;; *) false ;; esac; do`,
    '  n=$((n + 1))',
    `  [ "$n" -le ${joinWaitPolls()} ] || { log ${shQuote(timeout)}; exit 1; }`,
    ...heartbeat.map((l) => `  ${l}`),
    '  sleep 10',
    `  ${variable}=$(ssm_secret ${shQuote(param)})`,
    'done',
  ];
}

/** Shell function publishing RKE2's secure token file to its SSM parameter, keeping the parameter's KMS key (the value never on a command line). */
const PUBLISH = `# Replace a short token in SSM with RKE2's secure one (the file's content, never on a command line), same KMS key.
publish_token() {
  key=$(aws ssm describe-parameters --region "$REGION" --parameter-filters "Key=Name,Values=$1" --query 'Parameters[0].KeyId' --output text)
  aws ssm put-parameter --region "$REGION" --name "$1" --type SecureString --key-id "$key" --overwrite --value "file://$2" >/dev/null
  log "published the secure token to $1"
}`;

/**
 * The boot script (POSIX sh) and the settings it sources (../rancher/boot-settings.ts: every value it takes from the
 * environment, validated to its shape and shell-quoted there; its code carries none). Nothing secret is in either.
 */
export function rke2BootScriptAndSettings(m: EnvironmentModel, t: ConfigTarget): { script: string; settings: BootSettings } {
  const role = roleOf(t);
  const d = m.cluster.datastore;
  const s = new BootSettings();
  const serverToken = shellValue('ssm-name', rke2Cluster(m).token.secret, 'cluster.rke2.token.secret');
  // Registered where used: an agent's settings hold no server token.
  const token = (): string => s.ref('TOKEN_PARAM', serverToken);
  const agentToken = s.ref('AGENT_TOKEN_PARAM', shellValue('ssm-name', rke2Cluster(m).agentToken.secret, 'cluster.rke2.agentToken.secret'));
  const first = role === 'server' && isFirstServer(m, t);
  // No release in here (../rancher/release.ts): the boot reads it from the base stack's parameter.
  const head: string[] = ['#!/bin/sh', `# odp-gitops: first boot of an RKE2 ${role}.`, ...SOURCE_SETTINGS_LINES];
  // A pool instance's lifecycle hook: the EXIT trap is set before anything can fail.
  // Every node but the first server waits for the secure token: a pool instance's wait keeps its lifecycle hook alive.
  const join = poolJoinLines(m, t, TAG, `${rke2Unit(role)}.service`, s, !first);
  head.push(...join.head);
  const lines: string[] = [FETCH_VERIFIED];
  lines.push(...releaseReadLines(RKE2_KEYS, m, t.pool.arch, s));
  if (first) lines.push(PUBLISH);
  lines.push('# CIS profile: RKE2 refuses to start unless these kernel parameters hold.', ...sysctlAssertLines(KUBELET_SYSCTLS, RKE2_PATHS.sysctl), 'install -d -m 0700 /etc/rancher/rke2');
  if (configFromParameter(t)) lines.push(...configReadLines(RKE2_KEYS, m, t.node, RKE2_PATHS.config, s));
  if (role === 'server')
    // (On Kine no etcd runs; the CIS profile's check of the host user is the same.)
    lines.push(d.type === 'etcd' ? '# CIS profile: etcd runs as the host user etcd (in /etc/passwd and /etc/group).' : '# CIS profile: RKE2 refuses to start a server unless the host user and group etcd exist.', 'id etcd >/dev/null 2>&1 || useradd -r -c "etcd user" -s /sbin/nologin -M etcd -U');
  // The token this node joins with: servers the server token, agents the agent token.
  const [variable, param] = role === 'server' ? ['TOKEN', token()] : ['AGENT_TOKEN', agentToken];
  lines.push(`${variable}=$(ssm_secret ${shQuote(param)})`);
  const postgres = role === 'server' && d.type === 'kine-postgres';
  if (postgres) lines.push(...postgresEndpointLines(d.postgres, 'DSN', false, s));
  lines.push(...identityDropInLines('rke2', postgres ? 'DSN' : undefined));
  const dropIn = `${configDropInDir('rke2')}/${BOOTSTRAP_DROP_IN}`;
  const url = (): string => s.ref('SERVER_URL', supervisorUrl(m));
  if (first && d.type === 'etcd') {
    const probe = `${url()}/cacerts`;
    lines.push(
      '# Bootstrap or join: bootstrap only with the short token in SSM (no cluster has published its secure one) and no server answering.',
      // A joining run removes the drop-in an earlier run left when its bootstrap start failed (it exited before the
      // removal below; RKE2 kept retrying with it, and a re-run finds a server answering).
      'BOOTSTRAP=',
      'case "$TOKEN" in',
      `  K10*) log ${shQuote(`a cluster exists (secure token in SSM): joining through ${url()}`)}; rm -f ${dropIn} ;;`,
      `  *) if curl -sk --max-time 10 -o /dev/null ${shQuote(probe)}; then log ${shQuote(`a server answers at ${url()}: joining (the short token does not pin the CA)`)}; rm -f ${dropIn};`,
      `     else log 'no cluster yet: bootstrapping etcd'; BOOTSTRAP=1; printf 'server: ""\\n' > ${dropIn}; fi ;;`,
      'esac',
    );
  } else if (!first) lines.push(...waitForSecureToken(variable, param, s.ref('FIRST_SERVER', m.controlPlaneNodes[0]?.name ?? '(no server)'), join.heartbeat), ...join.waited);
  lines.push(`printf '%s' "$${variable}" > ${role === 'server' ? RKE2_PATHS.token : RKE2_PATHS.agentToken}`);
  if (role === 'server') lines.push(`ssm_secret ${shQuote(agentToken)} > ${RKE2_PATHS.agentToken}`);
  if (t.pool.gpu) lines.push(...nvidiaToolkitLines());
  lines.push('# install.sh checks the tarball against the checksum file beside it, which holds the hash checked here (the release parameter\'s).', ...rke2InstallLines({ fetch: releaseFetcher(RKE2_PRODUCT, t.pool.arch), sha: `"$${RELEASE_VARS.artifact}"` }, t.pool.arch, role));
  // Bounded, watched and named (../rancher/boot.ts start_watched): RKE2 keeps trying; a re-run of this script finishes the
  // boot (a pool instance's failed boot is abandoned instead: ../rancher/pool-join.ts).
  const unit = `${rke2Unit(role)}.service`;
  const why = `${rke2StartCauses(m, t, s)}: ${bootRetryHint(rke2Unit(role), RKE2_BOOT_SCRIPT_PATH, isPoolInstance(t))}`;
  lines.push(`systemctl enable ${unit}`);
  // A server: watched, with the pending token of an unfinished rotation as its second chance (../rancher/token-rotate.ts);
  // on Kine PostgreSQL bounded by the datastore wait of ../rancher/boot.ts BOOT_WAITS (a late database).
  if (role === 'server') lines.push(...bootServerStartLines({ name: 'rke2', unit, seconds: d.type === 'kine-postgres' ? BOOT_WAITS.datastoreSeconds : SERVICE_READY_SECONDS, param: token(), tokenFile: RKE2_PATHS.token, why }));
  // An agent: watched the same (../rancher/boot.ts watchedStartLines): a refused agent token ends the start at the end of
  // its window instead of after SERVICE_READY_SECONDS.
  else lines.push(...watchedStartLines(unit, SERVICE_READY_SECONDS, why));
  if (first) {
    if (d.type === 'etcd') lines.push(`[ -z "$BOOTSTRAP" ] || rm -f ${dropIn}`);
    lines.push(
      '# The secure tokens let every other node verify the cluster CA (rke2-docs security/token.md).',
      'case "$TOKEN" in K10*) ;; *)',
      `  publish_token ${shQuote(token())} ${RKE2_PATHS.secureToken}`,
      `  publish_token ${shQuote(agentToken)} ${RKE2_PATHS.secureAgentToken} ;;`,
      'esac',
    );
  }
  lines.push(`log "RKE2 ${role} started"`);
  lines.push(...join.done);
  return { script: expandSettings(bootScriptOf(TAG, head, lines) + '\n'), settings: s };
}

/** The boot script alone (its settings: rke2BootScriptAndSettings). */
export const rke2BootScript = (m: EnvironmentModel, t: ConfigTarget): string => rke2BootScriptAndSettings(m, t).script;

/**
 * What keeps a target's RKE2 from becoming ready at first boot, in words: a server on Kine PostgreSQL, its database; the
 * first server on embedded etcd, its own start (it bootstraps, or joins the servers that answer); another server, the
 * servers it joins through the supervisor URL; an agent, its server URL and token.
 */
function rke2StartCauses(m: EnvironmentModel, t: ConfigTarget, s: BootSettings): string {
  const d = m.cluster.datastore;
  const c = rke2Cluster(m);
  const url = (): string => s.ref('SERVER_URL', supervisorUrl(m));
  if (roleOf(t) === 'agent') return agentStartCauses(url(), s.ref('AGENT_TOKEN_PARAM', c.agentToken.secret));
  if (d.type === 'kine-postgres') return `it exits until it can use its datastore (${postgresStartCauses(d.postgres, s)})`;
  const joining = `the servers behind ${url()} unreachable from this node (the API endpoint's load balancer, its security groups), their etcd not taking a new member, or the server token in ${s.ref('TOKEN_PARAM', c.token.secret)} not theirs`;
  return isFirstServer(m, t) ? `it exits before it is ready: when it bootstraps etcd, this server's own start; when it joins (a cluster answered), ${joining}` : `it exits until it joins the cluster: ${joining}`;
}

/** The user-data of one target, as data (serialized through the YAML module). */
export function rke2UserData(m: EnvironmentModel, t: ConfigTarget): UserData {
  // KUBELET_SYSCTLS: the same four RKE2 ships as /usr/local/share/rke2/rke2-cis-sysctl.conf (rancher/rke2
  // v1.35.7+rke2r1:bundle/share/rke2/rke2-cis-sysctl.conf, checked by pkg/cli/cmds/profile_linux.go).
  // A fixed node reads its config from its parameter at first boot (../rancher/node-config.ts); a pool's is here.
  const config = toYaml(rke2Config(m, t));
  const files = [...(configFromParameter(t) ? [] : [writeFile(RKE2_PATHS.config, '0600', config)]), writeFile(RKE2_PATHS.sysctl, '0644', sysctlConf(KUBELET_SYSCTLS))];
  if (roleOf(t) === 'server') files.push(writeFile(RKE2_PATHS.psa, '0600', toYaml(admissionConfiguration())), writeFile(RKE2_PATHS.auditPolicy, '0600', toYaml(auditPolicy())));
  const boot = rke2BootScriptAndSettings(m, t);
  files.push(writeFile(BOOT_SETTINGS_PATH, '0600', boot.settings.fileText()), writeFile(RKE2_BOOT_SCRIPT_PATH, '0700', boot.script));
  return { write_files: files, runcmd: [[RKE2_BOOT_SCRIPT_PATH]], ...(configFromParameter(t) ? { reads: [config] } : {}) };
}

export function rke2UserDataText(m: EnvironmentModel, t: ConfigTarget): string {
  return cloudConfigText(rke2UserData(m, t));
}
