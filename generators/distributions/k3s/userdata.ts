/**
 * EC2 user-data (#cloud-config) of one K3s config target. cloud-init writes the files (config,
 * hardening files, Litestream config, boot script) and runs the boot script once, which:
 *   1. reads the cluster token(s) and, for Postgres, the database password from SSM through the
 *      instance profile (never from the rendered tree),
 *   2. installs the pinned K3s release without starting it,
 *   3. kine-sqlite: installs the pinned Litestream and restores the database from S3 if the node has
 *      none and a replica exists (`litestream restore -if-db-not-exists -if-replica-exists`),
 *   4. starts K3s (and then Litestream).
 */
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import { toYaml } from '../../lib/yaml.js';
import { bootPrelude, cloudConfigText, nodeNameLines, NVIDIA_RUNTIME_CHECK, postgresEndpointLines, shQuote, sysctlConf, writeFile as file, type UserData } from '../rancher/boot.js';
import { admissionConfiguration, auditPolicy, k3sConfig, K3S_PATHS, KUBELET_SYSCTLS, roleOf } from './config.js';
import { litestreamConfig, litestreamDownload, litestreamUnit } from './litestream.js';
import { k3sCluster, k3sPool } from './model.js';

export { RDS_CA_BUNDLE_URL, shQuote, USER_DATA_LIMIT } from '../rancher/boot.js';

export const BOOT_SCRIPT_PATH = '/usr/local/sbin/odp-k3s-boot';

/** install.sh of the pinned release (so the installer is as pinned as the binary it installs). */
export const k3sInstallScriptUrl = (version: string): string => `https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(version)}/install.sh`;

const PRELUDE = bootPrelude('odp-k3s-boot');

/** The boot script (POSIX sh). Values are shell-quoted; nothing secret is in it. */
export function bootScript(m: EnvironmentModel, t: ConfigTarget): string {
  const role = roleOf(t);
  const version = k3sCluster(m).version!;
  const d = m.cluster.datastore;
  const lines: string[] = ['#!/bin/sh', `# odp-gitops: first boot of K3s ${version} ${role} '${t.name}' (environment ${m.name}).`, PRELUDE];
  lines.push('sysctl --system >/dev/null', `install -d -m 0700 /etc/rancher/k3s`);
  if (role === 'server') {
    lines.push(`install -d -m 0700 ${K3S_PATHS.auditLogDir}`);
    lines.push(`ssm_secret ${shQuote(k3sCluster(m).token.secret)} > ${K3S_PATHS.token}`);
  }
  lines.push(`ssm_secret ${shQuote(k3sCluster(m).agentToken.secret)} > ${K3S_PATHS.agentToken}`);
  lines.push(...nodeNameLines('K3S_NODE_NAME'), 'export K3S_NODE_NAME');
  if (role === 'server' && d.type === 'kine-postgres') {
    const [fetchCa, chmodCa, ...dsn] = postgresEndpointLines(d.postgres, 'K3S_DATASTORE_ENDPOINT');
    lines.push(
      fetchCa!,
      chmodCa!,
      ...dsn.slice(0, -1),
      '# install.sh copies K3S_* variables into the root-only /etc/systemd/system/k3s.service.env.',
      dsn[dsn.length - 1]!,
      'export K3S_DATASTORE_ENDPOINT',
    );
  }
  if (t.pool.gpu) lines.push(NVIDIA_RUNTIME_CHECK);
  lines.push(
    `curl -sfL ${shQuote(k3sInstallScriptUrl(version))} -o /root/k3s-install.sh`,
    `INSTALL_K3S_VERSION=${shQuote(version)} INSTALL_K3S_EXEC=${role} INSTALL_K3S_SKIP_START=true sh /root/k3s-install.sh`,
  );
  if (role === 'server' && d.type === 'kine-sqlite') {
    const dl = litestreamDownload(d.litestream.version, t.pool.arch);
    lines.push(
      `# Litestream ${d.litestream.version}: download, verify against the release's checksums, install.`,
      'dir=$(mktemp -d)',
      `curl -sfL ${shQuote(dl.url)} -o "$dir/${dl.archive}"`,
      `curl -sfL ${shQuote(dl.checksumsUrl)} -o "$dir/checksums.txt"`,
      `(cd "$dir" && grep ' ${dl.archive}$' checksums.txt | sha256sum -c -)`,
      `tar -xzf "$dir/${dl.archive}" -C "$dir" litestream`,
      'install -m 0755 "$dir/litestream" /usr/local/bin/litestream',
      `install -d -m 0700 ${K3S_PATHS.sqliteDb.replace(/\/[^/]+$/, '')}`,
      '# Restore before K3s starts: a new node gets the replicated database; a node that has one keeps it.',
      `/usr/local/bin/litestream restore -config ${K3S_PATHS.litestreamConfig} -if-db-not-exists -if-replica-exists ${K3S_PATHS.sqliteDb}`,
    );
  }
  lines.push(`systemctl start ${role === 'server' ? 'k3s' : 'k3s-agent'}`);
  if (role === 'server') {
    lines.push(`chmod -R 600 ${K3S_PATHS.serverTls}/*.crt`);
    if (d.type === 'kine-sqlite') lines.push('systemctl daemon-reload', 'systemctl enable --now litestream.service');
  }
  lines.push(`log "K3s ${role} started"`);
  return lines.join('\n') + '\n';
}

/** The user-data of one target, as data (serialized by the caller through the YAML module). */
export function userData(m: EnvironmentModel, t: ConfigTarget): UserData {
  const role = roleOf(t);
  const files = [file(K3S_PATHS.config, '0600', toYaml(k3sConfig(m, t))), file(K3S_PATHS.sysctl, '0644', sysctlConf(KUBELET_SYSCTLS))];
  if (role === 'server') files.push(file(K3S_PATHS.psa, '0600', toYaml(admissionConfiguration())), file(K3S_PATHS.auditPolicy, '0600', toYaml(auditPolicy())));
  const d = m.cluster.datastore;
  if (role === 'server' && d.type === 'kine-sqlite')
    files.push(file(K3S_PATHS.litestreamConfig, '0600', toYaml(litestreamConfig(m, d))), file('/etc/systemd/system/litestream.service', '0644', litestreamUnit()));
  files.push(file(BOOT_SCRIPT_PATH, '0700', bootScript(m, t)));
  return { write_files: files, runcmd: [[BOOT_SCRIPT_PATH]] };
}

export function userDataText(m: EnvironmentModel, t: ConfigTarget): string {
  return cloudConfigText(userData(m, t));
}
