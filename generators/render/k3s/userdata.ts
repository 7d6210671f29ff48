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
import { admissionConfiguration, auditPolicy, k3sConfig, K3S_PATHS, KUBELET_SYSCTLS, roleOf } from './config.js';
import { litestreamConfig, litestreamDownload, litestreamUnit } from './litestream.js';

export const BOOT_SCRIPT_PATH = '/usr/local/sbin/odp-k3s-boot';
/** Where the boot script writes the RDS CA bundle (kine-postgres), and where it comes from. */
export const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';
/** EC2 limits raw user-data to 16 KB. */
export const USER_DATA_LIMIT = 16384;

/** POSIX shell single-quoting. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** install.sh of the pinned release (so the installer is as pinned as the binary it installs). */
export const k3sInstallScriptUrl = (version: string): string => `https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(version)}/install.sh`;

interface WriteFile {
  path: string;
  owner: string;
  permissions: string;
  content: string;
}

const file = (path: string, permissions: string, content: string): WriteFile => ({ path, owner: 'root:root', permissions, content });

const PRELUDE = `set -eu
umask 077
log() { echo "odp-k3s-boot: $*" >&2; }
imds() {
  t=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
  curl -sf -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}
# Read an SSM SecureString through the instance profile; retry while its credentials arrive.
ssm_secret() {
  n=0
  until v=$(aws ssm get-parameter --region "$REGION" --with-decryption --name "$1" --query Parameter.Value --output text); do
    n=$((n + 1))
    [ "$n" -lt 30 ] || { log "cannot read SSM parameter $1"; exit 1; }
    sleep 10
  done
  printf '%s' "$v"
}
# Percent-encode every byte (safe in any part of a URL).
urlencode() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \\n' | sed 's/../%&/g'; }
REGION=$(imds placement/region)
command -v aws >/dev/null 2>&1 || snap install aws-cli --classic
`;

/** The boot script (POSIX sh). Values are shell-quoted; nothing secret is in it. */
export function bootScript(m: EnvironmentModel, t: ConfigTarget): string {
  const role = roleOf(t);
  const version = m.cluster.k3sVersion!;
  const d = m.cluster.datastore;
  const lines: string[] = ['#!/bin/sh', `# odp-gitops: first boot of K3s ${version} ${role} '${t.name}' (environment ${m.name}).`, PRELUDE];
  lines.push('sysctl --system >/dev/null', `install -d -m 0700 /etc/rancher/k3s`);
  if (role === 'server') {
    lines.push(`install -d -m 0700 ${K3S_PATHS.auditLogDir}`);
    lines.push(`ssm_secret ${shQuote(m.cluster.k3s.token.secret)} > ${K3S_PATHS.token}`);
  }
  lines.push(`ssm_secret ${shQuote(m.cluster.k3s.agentToken.secret)} > ${K3S_PATHS.agentToken}`);
  lines.push('# The AWS cloud controller manager finds instances by their private DNS name.', 'K3S_NODE_NAME=$(imds local-hostname)', 'export K3S_NODE_NAME');
  if (role === 'server' && d.type === 'kine-postgres') {
    const pg = d.postgres;
    lines.push(
      `curl -sfL ${shQuote(RDS_CA_BUNDLE_URL)} -o ${shQuote(pg.caBundlePath)}`,
      `chmod 0644 ${shQuote(pg.caBundlePath)}`,
      `PGPASSWORD=$(ssm_secret ${shQuote(pg.password.secret)})`,
      'PGPASSWORD_ENC=$(urlencode "$PGPASSWORD")',
      'unset PGPASSWORD',
      '# install.sh copies K3S_* variables into the root-only /etc/systemd/system/k3s.service.env.',
      `K3S_DATASTORE_ENDPOINT="postgres://${pg.user}:$PGPASSWORD_ENC@${pg.host}:${pg.port}/${pg.database}?sslmode=verify-full"`,
      'export K3S_DATASTORE_ENDPOINT',
    );
  }
  if (t.pool.gpu)
    lines.push('command -v nvidia-container-runtime >/dev/null 2>&1 || { log "nvidia-container-runtime not found: use the NVIDIA GPU AMI (driver + container toolkit)"; exit 1; }');
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

function sysctlConf(): string {
  return Object.entries(KUBELET_SYSCTLS)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n') + '\n';
}

/** The user-data of one target, as data (serialized by the caller through the YAML module). */
export function userData(m: EnvironmentModel, t: ConfigTarget): { write_files: WriteFile[]; runcmd: string[][] } {
  const role = roleOf(t);
  const files: WriteFile[] = [file(K3S_PATHS.config, '0600', toYaml(k3sConfig(m, t))), file(K3S_PATHS.sysctl, '0644', sysctlConf())];
  if (role === 'server') files.push(file(K3S_PATHS.psa, '0600', toYaml(admissionConfiguration())), file(K3S_PATHS.auditPolicy, '0600', toYaml(auditPolicy())));
  const d = m.cluster.datastore;
  if (role === 'server' && d.type === 'kine-sqlite')
    files.push(file(K3S_PATHS.litestreamConfig, '0600', toYaml(litestreamConfig(m, d))), file('/etc/systemd/system/litestream.service', '0644', litestreamUnit()));
  files.push(file(BOOT_SCRIPT_PATH, '0700', bootScript(m, t)));
  return { write_files: files, runcmd: [[BOOT_SCRIPT_PATH]] };
}

export function userDataText(m: EnvironmentModel, t: ConfigTarget): string {
  return `#cloud-config\n${toYaml(userData(m, t))}`;
}
