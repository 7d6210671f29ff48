/**
 * EC2 user-data (#cloud-config) of one K3s config target. cloud-init writes the files (config,
 * hardening files, Litestream config, restore hook and units, boot script) and runs the boot script
 * once, which:
 *   0. refuses to install anything whose sha256 is not recorded (Litestream: ../rancher/artifacts.ts; the release:
 *      its parameter says `unrecorded`, ../rancher/release.ts),
 *   1. applies and asserts the kernel parameters protect-kernel-defaults needs,
 *   2. reads the cluster token(s) and, for Postgres, the database password from SSM through the
 *      instance profile (never from the rendered tree), and writes the node name and the datastore
 *      endpoint into a root-only config drop-in (/etc/rancher/k3s/config.yaml.d/10-node.yaml):
 *      install.sh deletes and rewrites k3s.service.env from its own environment on every run
 *      (create_env_file), and a config key beats the environment, so a re-run cannot move the node
 *      to another name or datastore,
 *   3. reads the release from the base stack's release parameter (../rancher/release.ts: not in this user data, so
 *      a release bump changes no node's user data; checked to its shape before anything is downloaded), downloads
 *      install.sh and the K3s binary of that release, checks both against the parameter's sha256, and runs install.sh with INSTALL_K3S_SKIP_DOWNLOAD (which then verifies
 *      nothing itself) and no K3S_* variable,
 *   4. kine-sqlite: installs the pinned Litestream (checked the same way) and enables it; K3s restores
 *      the database before it starts (ExecStartPre of a unit drop-in, ./litestream.ts),
 *   5. starts K3s, server or agent, within SERVICE_READY_SECONDS, or the boot stops naming what keeps it from starting
 *      (watched: ../rancher/boot.ts start_watched, a refused token ends the start at the end of its 60 s window; an agent: the server URL reaching no server, or its token refused). install.sh writes k3s.service with TimeoutStartSec=0 and Restart=always
 *      (k3s-io/k3s@0136cf25 install.sh create_systemd_service_file), so a server that exits before READY=1 (Kine gives
 *      up after 300 one-second pings of PostgreSQL: k3s-io/kine@caf32704 pkg/drivers/generic/generic.go:163-175; a
 *      refused password; bootstrap data under another token: k3s-io/k3s@8fed810c pkg/cluster/storage.go
 *      getBootstrapKeyFromStorage, "bootstrap data already found and encrypted with different token") is
 *      restarted while `systemctl start` waits for ever without a word (systemd/systemd#33890). The unit, written to
 *      /etc/systemd/system, has [Install] WantedBy=multi-user.target and install.sh enables it (systemd_enable): it
 *      starts at every boot, so a restore's stop disables it (../rancher/boot.ts restoreStopLine).
 *
 * Servers on Kine PostgreSQL boot together: each has the token before K3s starts, so K3s's lock on the bootstrap key
 * orders them (pkg/cluster/storage.go storageBootstrap: the first creates the key empty, generates the CA and fills it;
 * the others wait and start on that CA; k3s-io/k3s#7215, the fix of #7185). Without a token K3s skips the lock.
 *
 * Pool instances (../rancher/pool-join.ts) complete their launch lifecycle hook after `systemctl start
 * k3s-agent` returns (bounded like every first-boot start: a failed start abandons the instance at once): install.sh writes the unit with Type=notify and TimeoutStartSec=0 (k3s-io/k3s@0136cf25
 * install.sh create_systemd_service_file; setup_env: SYSTEMD_TYPE=notify unless INSTALL_K3S_TYPE), and the agent sends READY=1 only
 * after it validated the token, opened the tunnel, saw the API server ready and its Node registered
 * (k3s-io/k3s@0097157b pkg/agent/run.go: Run → createProxyAndValidateToken; run → setupTunnelAndRunAgent,
 * `<-executor.APIServerReadyChan()`, startNetwork → configureNode (waits for the Node of this name), then
 * `systemd.SdNotify(true, "READY=1\n")`).
 */
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import { toYaml } from '../../lib/yaml.js';
import { shellValue } from '../../lib/shapes.js';
import { artifactOf, FETCH_VERIFIED, fetchLine, refuseUnpinned } from '../rancher/artifacts.js';
import { agentStartCauses, BOOT_WAITS, bootRetryHint, bootScriptOf, cloudConfigText, postgresEndpointLines, postgresStartCauses, SERVICE_READY_SECONDS, watchedStartLines, shQuote, sysctlConf, writeFile as file, type UserData } from '../rancher/boot.js';
import { bootServerStartLines } from '../rancher/token-rotate.js';
import { BOOT_SETTINGS_PATH, BootSettings, expandSettings, SOURCE_SETTINGS_LINES } from '../rancher/boot-settings.js';
import { manualUpgradeScript } from '../rancher/manual-upgrade.js';
import { isPoolInstance, poolJoinLines } from '../rancher/pool-join.js';
import { identityDropInLines, nvidiaToolkitLines, sysctlAssertLines } from '../rancher/host.js';
import { admissionConfiguration, auditPolicy, k3sConfig, K3S_PATHS, KUBELET_SYSCTLS, roleOf } from './config.js';
import { K3S_ARTIFACTS, K3S_PRODUCT } from './artifacts.js';
import { releaseFetcher, releaseReadLines, RELEASE_VARS } from '../rancher/release.js';
import { K3S_LITESTREAM_DROP_IN, k3sLitestreamDropIn, litestreamConfig, litestreamRestoreScript, litestreamUnit, LITESTREAM_RESTORE_PATH } from './litestream.js';
import { k3sCluster, K3S_KEYS } from './model.js';
import { configFromParameter, configReadLines } from '../rancher/node-config.js';

export { RDS_CA_BUNDLE_URL, shQuote, USER_DATA_LIMIT } from '../rancher/boot.js';

export const BOOT_SCRIPT_PATH = '/usr/local/sbin/odp-k3s-boot';
const TAG = 'odp-k3s-boot';

/** The systemd unit install.sh creates for a role (install.sh: SYSTEM_NAME k3s, or k3s-agent). */
export const k3sUnit = (role: 'server' | 'agent'): string => (role === 'server' ? 'k3s' : 'k3s-agent');

/**
 * What a target downloads besides the release (read at first boot: ../rancher/release.ts): Litestream on a kine-sqlite
 * server, pinned in the user data (its own version key, not the release).
 */
export function k3sLitestreamDownload(m: EnvironmentModel, t: ConfigTarget) {
  const d = m.cluster.datastore;
  return roleOf(t) === 'server' && d.type === 'kine-sqlite' ? artifactOf(K3S_ARTIFACTS, 'litestream', d.litestream.version, t.pool.arch) : undefined;
}

/** The line fetching and verifying install.sh or the binary to `dest` (literal hashes, or the release read at boot). */
type K3sFetch = (what: 'installer' | 'binary', dest: string) => string;

/** Lines that install the verified binary and run the verified install.sh without downloading (and without K3S_* variables). */
export function k3sInstallLines(fetch: K3sFetch, role: string, extra: string): string[] {
  return [
    fetch('installer', '/root/k3s-install.sh'),
    fetch('binary', '/root/k3s.download'),
    'install -m 0755 /root/k3s.download /usr/local/bin/k3s',
    'rm -f /root/k3s.download',
    `INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_EXEC=${role}${extra} sh /root/k3s-install.sh`,
  ];
}

/**
 * The manual upgrade of a node to the environment's release (../rancher/manual-upgrade.ts). install.sh
 * restarts K3s only when the binary, unit or env file changed between its start and its end
 * (get_installed_hashes before and after, research/day2.md §1): with INSTALL_K3S_SKIP_DOWNLOAD the new
 * binary is in place before it starts, so it sees no change, and the script restarts the unit itself.
 */
export function k3sManualUpgrade(m: EnvironmentModel): string {
  const version = k3sCluster(m).version!;
  const arch = (a: 'amd64' | 'arm64') => {
    const dl = { installer: artifactOf(K3S_ARTIFACTS, 'k3s', version, 'install.sh'), binary: artifactOf(K3S_ARTIFACTS, 'k3s', version, a), litestream: undefined };
    return { needs: [dl.installer, dl.binary], install: k3sInstallLines((what, dest) => fetchLine(dl[what], dest), '$ROLE', '') };
  };
  // Kine SQLite: as the server Plan's prepare step (./model.ts upgrade.backup), only while Litestream replicates, so the
  // replica is current when the new release first opens the database.
  const preflight =
    m.cluster.datastore.type === 'kine-sqlite'
      ? [`if [ "$ROLE" = server ] && ! systemctl is-active --quiet litestream.service; then log ${shQuote('litestream.service is not active: the S3 replica is not current; start it (systemctl start litestream) and run this script again')}; exit 1; fi`]
      : [];
  return manualUpgradeScript(m, { title: 'K3s', version, units: { server: k3sUnit('server'), agent: k3sUnit('agent') }, unitPath: (u) => `/etc/systemd/system/${u}.service`, arch: { amd64: arch('amd64'), arm64: arch('arm64') }, restart: '"$UNIT"', preflight });
}

/**
 * The boot script (POSIX sh) and the settings it sources (../rancher/boot-settings.ts: every value it takes from the
 * environment, validated to its shape and shell-quoted there; its code carries none). Nothing secret is in either.
 */
export function bootScriptAndSettings(m: EnvironmentModel, t: ConfigTarget): { script: string; settings: BootSettings } {
  const role = roleOf(t);
  const d = m.cluster.datastore;
  const s = new BootSettings();
  const pinned = k3sLitestreamDownload(m, t);
  // The pinned Litestream download, its values from the settings (a recorded hash is one; none is the refusal's literal).
  const litestream = pinned && {
    ...pinned,
    url: s.ref('LITESTREAM_URL', pinned.url),
    file: s.ref('LITESTREAM_FILE', pinned.file),
    version: s.ref('LITESTREAM_VERSION', pinned.version),
    sha256: pinned.sha256 === null ? null : s.ref('LITESTREAM_SHA256', pinned.sha256),
  };
  // No release in here (../rancher/release.ts): the boot reads it from the base stack's parameter.
  const head: string[] = ['#!/bin/sh', `# odp-gitops: first boot of a K3s ${role}.`, ...SOURCE_SETTINGS_LINES];
  // A pool instance's lifecycle hook: the EXIT trap is set before anything can fail.
  const join = poolJoinLines(m, t, TAG, `${k3sUnit(role)}.service`, s);
  head.push(...join.head);
  head.push(...refuseUnpinned(litestream ? [litestream] : [], TAG));
  const lines: string[] = [FETCH_VERIFIED];
  lines.push(...releaseReadLines(K3S_KEYS, m, t.pool.arch, s));
  lines.push(...sysctlAssertLines(KUBELET_SYSCTLS, K3S_PATHS.sysctl), 'install -d -m 0700 /etc/rancher/k3s');
  if (configFromParameter(t)) lines.push(...configReadLines(K3S_KEYS, m, t.node, K3S_PATHS.config, s));
  // The server token: a server's alone (an agent joins with the agent token).
  const token = (): string => s.ref('TOKEN_PARAM', shellValue('ssm-name', k3sCluster(m).token.secret, 'cluster.k3s.token.secret'));
  if (role === 'server') {
    lines.push(`install -d -m 0700 ${K3S_PATHS.auditLogDir}`);
    lines.push(`ssm_secret ${shQuote(token())} > ${K3S_PATHS.token}`);
  }
  const agentToken = s.ref('AGENT_TOKEN_PARAM', shellValue('ssm-name', k3sCluster(m).agentToken.secret, 'cluster.k3s.agentToken.secret'));
  lines.push(`ssm_secret ${shQuote(agentToken)} > ${K3S_PATHS.agentToken}`);
  const postgres = role === 'server' && d.type === 'kine-postgres';
  if (postgres) lines.push(...postgresEndpointLines(d.postgres, 'DSN', false, s));
  lines.push(...identityDropInLines('k3s', postgres ? 'DSN' : undefined));
  if (t.pool.gpu) lines.push(...nvidiaToolkitLines());
  lines.push(...k3sInstallLines(releaseFetcher(K3S_PRODUCT, t.pool.arch), role, ' INSTALL_K3S_SKIP_START=true'));
  if (litestream) {
    lines.push(
      `# Litestream ${litestream.version}: verified, installed and enabled before K3s starts; K3s restores first (${LITESTREAM_RESTORE_PATH}).`,
      fetchLine(litestream, '/root/litestream.tar.gz'),
      'tar -xzf /root/litestream.tar.gz -C /root litestream',
      'install -m 0755 /root/litestream /usr/local/bin/litestream',
      'rm -f /root/litestream /root/litestream.tar.gz',
      'systemctl daemon-reload',
      'systemctl enable litestream.service',
    );
  }
  // Bounded, watched and named (../rancher/boot.ts start_watched): K3s keeps trying; a re-run of this script finishes the boot
  // (a pool instance's failed boot is abandoned instead: ../rancher/pool-join.ts).
  const unit = k3sUnit(role);
  const why = `${k3sStartCauses(m, t, s)}: ${bootRetryHint(unit, BOOT_SCRIPT_PATH, isPoolInstance(t))}`;
  // A server: watched, with the pending token of an unfinished rotation as its second chance (../rancher/token-rotate.ts);
  // on Kine PostgreSQL bounded by the datastore wait of ../rancher/boot.ts BOOT_WAITS (a late database).
  if (role === 'server')
    lines.push(...bootServerStartLines({ name: 'k3s', unit, seconds: d.type === 'kine-postgres' ? BOOT_WAITS.datastoreSeconds : SERVICE_READY_SECONDS, param: token(), tokenFile: K3S_PATHS.token, why }));
  // An agent: watched the same (../rancher/boot.ts watchedStartLines): a refused agent token ends the start at the end of
  // its window instead of after SERVICE_READY_SECONDS.
  else lines.push(...watchedStartLines(unit, SERVICE_READY_SECONDS, why));
  if (role === 'server') lines.push(`chmod -R 600 ${K3S_PATHS.serverTls}/*.crt`);
  lines.push(`log "K3s ${role} started"`);
  lines.push(...join.done);
  return { script: expandSettings(bootScriptOf(TAG, head, lines) + '\n'), settings: s };
}

/** The boot script alone (its settings: bootScriptAndSettings). */
export const bootScript = (m: EnvironmentModel, t: ConfigTarget): string => bootScriptAndSettings(m, t).script;

/**
 * What keeps a target's K3s from becoming ready at first boot, in words: a server's datastore (Kine PostgreSQL: the
 * database unreachable or refusing; Kine SQLite: the database Litestream restored, on the single server), an agent's
 * server URL and token.
 */
function k3sStartCauses(m: EnvironmentModel, t: ConfigTarget, s: BootSettings): string {
  const d = m.cluster.datastore;
  const token = (): string => s.ref('TOKEN_PARAM', k3sCluster(m).token.secret);
  if (roleOf(t) === 'agent') return agentStartCauses(s.ref('SERVER_URL', m.cluster.endpoint), s.ref('AGENT_TOKEN_PARAM', k3sCluster(m).agentToken.secret));
  if (d.type === 'kine-postgres') return `it exits until it can use its datastore (${postgresStartCauses(d.postgres, s)})`;
  // A replica restored from before a token rotation, or left at the same place by an earlier cluster, holds bootstrap
  // data under another token (pkg/cluster/storage.go getBootstrapKeyFromStorage).
  return `it exits before it is ready (its SQLite database ${K3S_PATHS.sqliteDb}, restored from the Litestream replica, unusable; its bootstrap data under another token than ${token()}'s, a replica from before a rotation or of an earlier cluster: ssm get-parameter-history; or the release does not start)`;
}

/** The user-data of one target, as data (serialized by the caller through the YAML module). */
export function userData(m: EnvironmentModel, t: ConfigTarget): UserData {
  const role = roleOf(t);
  // A fixed node reads its config from its parameter at first boot (../rancher/node-config.ts); a pool's is here.
  const config = toYaml(k3sConfig(m, t));
  const files = [...(configFromParameter(t) ? [] : [file(K3S_PATHS.config, '0600', config)]), file(K3S_PATHS.sysctl, '0644', sysctlConf(KUBELET_SYSCTLS))];
  if (role === 'server') files.push(file(K3S_PATHS.psa, '0600', toYaml(admissionConfiguration())), file(K3S_PATHS.auditPolicy, '0600', toYaml(auditPolicy())));
  const d = m.cluster.datastore;
  if (role === 'server' && d.type === 'kine-sqlite')
    files.push(
      file(K3S_PATHS.litestreamConfig, '0600', toYaml(litestreamConfig(m, d))),
      file('/etc/systemd/system/litestream.service', '0644', litestreamUnit()),
      file(LITESTREAM_RESTORE_PATH, '0700', litestreamRestoreScript(m, d)),
      file(K3S_LITESTREAM_DROP_IN, '0644', k3sLitestreamDropIn()),
    );
  const boot = bootScriptAndSettings(m, t);
  files.push(file(BOOT_SETTINGS_PATH, '0600', boot.settings.fileText()), file(BOOT_SCRIPT_PATH, '0700', boot.script));
  return { write_files: files, runcmd: [[BOOT_SCRIPT_PATH]], ...(configFromParameter(t) ? { reads: [config] } : {}) };
}

export function userDataText(m: EnvironmentModel, t: ConfigTarget): string {
  return cloudConfigText(userData(m, t));
}
