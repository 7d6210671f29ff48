/**
 * EC2 user-data (#cloud-config) of one RKE2 config target. cloud-init writes the files (config,
 * CIS kernel parameters, Pod Security admission configuration, audit policy, boot script) and runs
 * the boot script once, which:
 *   1. applies the CIS kernel parameters and, on servers, creates the `etcd` user and group the
 *      CIS profile requires (rke2-docs security/hardening_guide.md "Etcd is configured properly"),
 *   2. reads the cluster token(s) and, for Kine on PostgreSQL, the database password from SSM through
 *      the instance profile (never from the rendered tree) and writes the node name (IMDSv2) and the
 *      DSN into the unit's root-only EnvironmentFile (/etc/default/rke2-server|agent),
 *   3. installs the pinned RKE2 release with the install.sh of that release (tarball method; the
 *      script verifies the tarball against the release's sha256sum-<arch>.txt), and starts it.
 */
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import { toYaml } from '../../lib/yaml.js';
import { bootPrelude, cloudConfigText, nodeNameLines, NVIDIA_RUNTIME_CHECK, postgresEndpointLines, shQuote, sysctlConf, writeFile, type UserData } from '../rancher/boot.js';
import { admissionConfiguration, auditPolicy, KUBELET_SYSCTLS, roleOf } from '../rancher/config.js';
import { rke2Config, RKE2_PATHS } from './config.js';
import { rke2Cluster, rke2Pool } from './model.js';

export const RKE2_BOOT_SCRIPT_PATH = '/usr/local/sbin/odp-rke2-boot';

/** install.sh of the pinned release (so the installer is as pinned as the binary it installs). */
export const rke2InstallScriptUrl = (version: string): string => `https://raw.githubusercontent.com/rancher/rke2/${encodeURIComponent(version)}/install.sh`;

/** The systemd unit of a role (bundle/lib/systemd/system/rke2-server.service, rke2-agent.service). */
export const rke2Unit = (role: 'server' | 'agent'): string => `rke2-${role}`;

/** The boot script (POSIX sh). Values are shell-quoted; nothing secret is in it. */
export function rke2BootScript(m: EnvironmentModel, t: ConfigTarget): string {
  const role = roleOf(t);
  const version = rke2Cluster(m).version!;
  const d = m.cluster.datastore;
  const env = role === 'server' ? RKE2_PATHS.serverEnv : RKE2_PATHS.agentEnv;
  const lines: string[] = ['#!/bin/sh', `# odp-gitops: first boot of RKE2 ${version} ${role} '${t.name}' (environment ${m.name}).`, bootPrelude('odp-rke2-boot')];
  lines.push('# CIS profile: RKE2 refuses to start unless these kernel parameters hold.', 'sysctl --system >/dev/null', 'install -d -m 0700 /etc/rancher/rke2');
  if (role === 'server') {
    // (On Kine no etcd runs; the CIS profile's check of the host user is the same.)
    lines.push(d.type === 'etcd' ? '# CIS profile: etcd runs as the host user etcd (in /etc/passwd and /etc/group).' : '# CIS profile: RKE2 refuses to start a server unless the host user and group etcd exist.', 'id etcd >/dev/null 2>&1 || useradd -r -c "etcd user" -s /sbin/nologin -M etcd -U');
    lines.push(`ssm_secret ${shQuote(rke2Cluster(m).token.secret)} > ${RKE2_PATHS.token}`);
  }
  lines.push(`ssm_secret ${shQuote(rke2Cluster(m).agentToken.secret)} > ${RKE2_PATHS.agentToken}`);
  lines.push(...nodeNameLines('NODE_NAME'), `printf 'RKE2_NODE_NAME=%s\\n' "$NODE_NAME" > ${env}`);
  if (role === 'server' && d.type === 'kine-postgres')
    lines.push(...postgresEndpointLines(d.postgres, 'DSN'), `printf 'RKE2_DATASTORE_ENDPOINT=%s\\n' "$DSN" >> ${env}`, 'unset DSN PGPASSWORD_ENC');
  lines.push(`chmod 0600 ${env}`);
  if (t.pool.gpu) lines.push(NVIDIA_RUNTIME_CHECK);
  lines.push(
    `curl -sfL ${shQuote(rke2InstallScriptUrl(version))} -o /root/rke2-install.sh`,
    '# install.sh downloads the release tarball and its sha256sum file and refuses a mismatch.',
    `INSTALL_RKE2_VERSION=${shQuote(version)} INSTALL_RKE2_TYPE=${role} INSTALL_RKE2_METHOD=tar sh /root/rke2-install.sh`,
    `systemctl enable --now ${rke2Unit(role)}.service`,
    `log "RKE2 ${role} started"`,
  );
  return lines.join('\n') + '\n';
}

/** The user-data of one target, as data (serialized through the YAML module). */
export function rke2UserData(m: EnvironmentModel, t: ConfigTarget): UserData {
  // KUBELET_SYSCTLS: the same four RKE2 ships as /usr/local/share/rke2/rke2-cis-sysctl.conf (rancher/rke2
  // v1.35.7+rke2r1:bundle/share/rke2/rke2-cis-sysctl.conf, checked by pkg/cli/cmds/profile_linux.go).
  const files = [writeFile(RKE2_PATHS.config, '0600', toYaml(rke2Config(m, t))), writeFile(RKE2_PATHS.sysctl, '0644', sysctlConf(KUBELET_SYSCTLS))];
  if (roleOf(t) === 'server') files.push(writeFile(RKE2_PATHS.psa, '0600', toYaml(admissionConfiguration())), writeFile(RKE2_PATHS.auditPolicy, '0600', toYaml(auditPolicy())));
  files.push(writeFile(RKE2_BOOT_SCRIPT_PATH, '0700', rke2BootScript(m, t)));
  return { write_files: files, runcmd: [[RKE2_BOOT_SCRIPT_PATH]] };
}

export function rke2UserDataText(m: EnvironmentModel, t: ConfigTarget): string {
  return cloudConfigText(rke2UserData(m, t));
}
