/**
 * Upstream-faithful stand-ins for what the nodes download, for ./node-sandbox.ts: the installers
 * behave as upstream's do in every respect the boot scripts rely on (file names, environment file
 * rewrite, checksum checks, restart on change), cited by line of the upstream file; the binaries and
 * archives are placeholders with the release's file layout.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * k3s-io/k3s install.sh (the revision read for this project; research/day2.md §1): the command from
 * INSTALL_K3S_EXEC (line 1144, 172-183), unit k3s / k3s-<cmd> (196-204), with
 * INSTALL_K3S_SKIP_DOWNLOAD only an executable check (729-733), systemd_disable deletes the unit and
 * its env file (960-965), create_env_file TRUNCATES the env file and writes every exported K3S_* and
 * CONTAINERD_* variable (968-974), the unit reads /etc/default/%N, /etc/sysconfig/%N, then the env
 * file (991-993), and a changed binary, unit or env file restarts the service (1073-1075, 1126-1130).
 */
export const K3S_INSTALL_STUB = `#!/bin/sh
# Stand-in for k3s-io/k3s install.sh (test support).
set -e
R=\${SANDBOX:?}
BIN_DIR=$R/usr/local/bin
[ -n "\${INSTALL_K3S_EXEC}" ] && set -- \${INSTALL_K3S_EXEC} "$@"
case "$1" in
  (-*|"") if [ -z "\${K3S_URL}" ]; then CMD_K3S=server; else CMD_K3S=agent; fi ;;
  (*) CMD_K3S=$1; shift ;;
esac
CMD_K3S_EXEC="\${CMD_K3S} $*"
if [ "$CMD_K3S" = server ]; then SYSTEM_NAME=k3s; else SYSTEM_NAME=k3s-\${CMD_K3S}; fi
SYSTEMD_DIR=$R/etc/systemd/system
FILE_K3S_SERVICE=$SYSTEMD_DIR/\${SYSTEM_NAME}.service
FILE_K3S_ENV=$SYSTEMD_DIR/\${SYSTEM_NAME}.service.env
get_installed_hashes() { sha256sum $BIN_DIR/k3s $FILE_K3S_SERVICE $FILE_K3S_ENV 2>&1 || true; }
PRE_INSTALL_HASHES=$(get_installed_hashes)
if [ "\${INSTALL_K3S_SKIP_DOWNLOAD}" = true ] || [ "\${INSTALL_K3S_SKIP_DOWNLOAD}" = binary ]; then
  [ -x $BIN_DIR/k3s ] || { echo "[ERROR]  Executable k3s binary not found at $BIN_DIR/k3s" >&2; exit 1; }
else
  echo "[ERROR]  stand-in: install.sh would download k3s and check it only against the release's own sha256sum file" >&2; exit 1
fi
mkdir -p $SYSTEMD_DIR
systemctl disable \${SYSTEM_NAME} >/dev/null 2>&1 || true
rm -f $SYSTEMD_DIR/\${SYSTEM_NAME}.service $SYSTEMD_DIR/\${SYSTEM_NAME}.service.env
touch \${FILE_K3S_ENV}
chmod 0600 \${FILE_K3S_ENV}
sh -c export | while read x v; do echo $v; done | grep -E '^(K3S|CONTAINERD)_' | tee \${FILE_K3S_ENV} >/dev/null
cat > $FILE_K3S_SERVICE <<EOF
[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/\${SYSTEM_NAME}.service.env
ExecStart=/usr/local/bin/k3s \${CMD_K3S_EXEC}
EOF
[ "\${INSTALL_K3S_SKIP_ENABLE}" = true ] && exit 0
systemctl enable $FILE_K3S_SERVICE >/dev/null
systemctl daemon-reload >/dev/null
[ "\${INSTALL_K3S_SKIP_START}" = true ] && exit 0
POST_INSTALL_HASHES=$(get_installed_hashes)
if [ "\${PRE_INSTALL_HASHES}" = "\${POST_INSTALL_HASHES}" ] && [ "\${INSTALL_K3S_FORCE_RESTART}" != true ]; then
  echo '[INFO]  No change detected so skipping service start'; exit 0
fi
systemctl restart \${SYSTEM_NAME}
`;

/**
 * rancher/rke2 install.sh at v1.35.7+rke2r1 (tar method from a local artifact directory): the checksum
 * file and tarball copied from INSTALL_RKE2_ARTIFACT_PATH and the tarball checked against the line
 * `rke2.<suffix>.tar.gz` of that file (lines 340-355, 371-377), then extracted into /usr/local
 * (380-391), which overwrites the units and their .env files; no env file or /etc/default written.
 */
export const RKE2_INSTALL_STUB = `#!/bin/sh
# Stand-in for rancher/rke2 install.sh (test support).
set -e
R=\${SANDBOX:?}
[ "\${INSTALL_RKE2_METHOD}" = tar ] || { echo "[ERROR]  stand-in: only the tar method (RPMs check no tarball)" >&2; exit 1; }
[ -n "\${INSTALL_RKE2_ARTIFACT_PATH}" ] || { echo "[ERROR]  stand-in: install.sh would download and check only against the release's own checksum file" >&2; exit 1; }
ARCH=\${STUB_ARCH:-amd64}
SUFFIX=linux-\${ARCH}
TMP_DIR=$(mktemp -d)
cp -f "\${INSTALL_RKE2_ARTIFACT_PATH}/sha256sum-\${ARCH}.txt" "$TMP_DIR/sha256sum"
CHECKSUM_EXPECTED=$(grep "rke2.\${SUFFIX}.tar.gz" "$TMP_DIR/sha256sum" | awk '{print $1}')
cp -f "\${INSTALL_RKE2_ARTIFACT_PATH}/rke2.\${SUFFIX}.tar.gz" "$TMP_DIR/tarball"
CHECKSUM_ACTUAL=$(sha256sum "$TMP_DIR/tarball" | awk '{print $1}')
[ "\${CHECKSUM_EXPECTED}" = "\${CHECKSUM_ACTUAL}" ] || { echo "[ERROR]  download sha256 does not match \${CHECKSUM_EXPECTED}, got \${CHECKSUM_ACTUAL}" >&2; exit 1; }
mkdir -p $R/usr/local
tar xzf "$TMP_DIR/tarball" -C $R/usr/local
rm -rf "$TMP_DIR"
`;

/** A gzipped tarball of `files` (path → content, executables by mode), as bytes. */
export function tarball(files: Record<string, { content: string; mode?: number }>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'odp-tar-'));
  try {
    for (const [p, f] of Object.entries(files)) {
      mkdirSync(join(dir, 'root', p, '..'), { recursive: true });
      writeFileSync(join(dir, 'root', p), f.content, { mode: f.mode ?? 0o644 });
    }
    const r = spawnSync('tar', ['czf', join(dir, 'out.tar.gz'), '-C', join(dir, 'root'), ...Object.keys(files)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return readFileSync(join(dir, 'out.tar.gz'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The RKE2 release tarball's layout (bundle/): bin/rke2 and the units with their .env files, whose
 * unit reads /etc/default/%N, /etc/sysconfig/%N, then /usr/local/lib/systemd/system/%N.env (lines 12-14).
 */
export function rke2Tarball(version: string): Buffer {
  const unit = (role: string) => `[Service]\nType=notify\nEnvironmentFile=-/etc/default/%N\nEnvironmentFile=-/etc/sysconfig/%N\nEnvironmentFile=-/usr/local/lib/systemd/system/%N.env\nExecStart=/usr/local/bin/rke2 ${role}\n`;
  return tarball({
    'bin/rke2': { content: `#!/bin/sh\necho rke2 ${version}\n`, mode: 0o755 },
    'lib/systemd/system/rke2-server.service': { content: unit('server') },
    'lib/systemd/system/rke2-server.env': { content: 'HOME=/root\n' },
    'lib/systemd/system/rke2-agent.service': { content: unit('agent') },
    'lib/systemd/system/rke2-agent.env': { content: 'HOME=/root\n' },
  });
}

/** A Litestream release archive: the `litestream` binary, whose restore copies the world's replica at the config's bucket/path (if any) to -o. */
export function litestreamTarball(): Buffer {
  return tarball({
    litestream: {
      mode: 0o755,
      content: `#!/bin/sh
# Stand-in for litestream: restore [-config F] [-if-replica-exists] [-if-db-not-exists] [-timestamp T] [-o OUT] DB
# (v0.5.16 cmd/litestream/restore.go). -timestamp: the state at T is the world's replica@T.db; none is "no matching
# backup files available" (restore.go:145-150); T not RFC 3339 is refused (restore.go:87-91). An existing output is
# refused (replica.go:665-667).
[ "$1" = restore ] || exit 0
shift; out=; ifreplica=; ifnodb=; ts=; cfg=/etc/litestream.yml
while [ $# -gt 1 ]; do case "$1" in -config) cfg=$2; shift ;; -o) out=$2; shift ;; -timestamp) ts=$2; shift ;; -if-replica-exists) ifreplica=1 ;; -if-db-not-exists) ifnodb=1 ;; esac; shift; done
db=$1; out=\${out:-$db}
# The replica named by the config (replica bucket and path): the world's S3 tree, s3/<bucket>/<path>/replica.db.
at=$(awk '/bucket:/ { b = $2 } b != "" && /^ *path:/ && !p { p = $2 } END { print b "/" p }' "$(if [ -e "$cfg" ]; then echo "$cfg"; else echo "$SANDBOX$cfg"; fi)")
replica="$WORLD/s3/$at/replica.db"
if [ -n "$ifnodb" ] && [ -e "$out" ]; then echo "database already exists, skipping" >&2; exit 0; fi
if [ -n "$ts" ]; then
  printf '%s\\n' "$ts" | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})' || { echo "invalid -timestamp, must specify in ISO 8601 format (e.g. 2000-01-01T00:00:00Z)" >&2; exit 1; }
  replica="$WORLD/s3/$at/replica@$ts.db"; ifreplica=
fi
if [ ! -e "$replica" ]; then [ -n "$ifreplica" ] && { echo "no matching backups found" >&2; exit 0; }; echo "no matching backup files available" >&2; exit 1; fi
[ ! -e "$out" ] || { echo "cannot restore, output path already exists: $out" >&2; exit 1; }
cp "$replica" "$out"
`,
    },
  });
}
