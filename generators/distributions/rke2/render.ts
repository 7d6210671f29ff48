/**
 * The RKE2 renderer: per config target an RKE2 config (`rke2/<target>.yaml`) and its EC2 user-data
 * (`rke2/userdata/<target>.yaml`), the manual upgrade script (`rke2/manual-upgrade.sh`), the server token rotation (`rke2/rotate-token.sh`) and, with
 * embedded etcd, the server replacement runbook (`rke2/replace-server.sh`) and the restore from a snapshot
 * (`rke2/restore-etcd.sh`); on Kine PostgreSQL the password refresh
 * after a rotation (`rke2/datastore-password.sh`). Other distributions get nothing from it.
 */
import { applyConfigScript, APPLY_CONFIG_SCRIPT } from '../rancher/apply-config.js';
import type { InputPath } from '../../lib/paths.js';
import { toYaml } from '../../lib/yaml.js';
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import { roleOf } from '../rancher/config.js';
import { DATASTORE_PASSWORD_SCRIPT, datastorePasswordScript } from '../rancher/datastore-password.js';
import { DATASTORE_RESTORE_SCRIPT, datastoreRestoreScript } from '../rancher/datastore-restore.js';
import { TOKEN_ROTATE_SCRIPT } from '../rancher/token-rotate.js';
import { rke2TokenRotate } from './token-rotate.js';
import type { RenderedFile } from '../../render/types.js';
import { rke2Config, RKE2_PATHS } from './config.js';
import { ETCD_UPGRADE_GATE, RKE2_KEYS, rke2Cluster } from './model.js';
import { applyConfigMemberLines, replaceServerScript } from './runbooks.js';
import { RESTORE_SCRIPT, restoreEtcdScript } from './restore.js';
import { rke2ManualUpgrade, rke2Unit, rke2UserDataText } from './userdata.js';

export const RKE2_DIR = 'rke2';

/** Document parts a target's files derive from: servers see every pool (SANs, taints, first server), agents their own. */
function targetInputs(t: ConfigTarget): InputPath[] {
  const own: InputPath[] = roleOf(t) === 'server' ? [['nodePools']] : [['nodePools', { name: t.pool.name }]];
  return [['cluster'], ...own];
}

export function renderRke2(m: EnvironmentModel): RenderedFile[] {
  if (m.cluster.distribution !== 'rke2') return [];
  const files: RenderedFile[] = m.configTargets.flatMap((t) => {
    const inputs = targetInputs(t);
    return [
      { path: `${RKE2_DIR}/${t.name}.yaml`, content: toYaml(rke2Config(m, t)), inputs: [['aws', 'region'], ...inputs] },
      { path: `${RKE2_DIR}/userdata/${t.name}.yaml`, content: rke2UserDataText(m, t), inputs: [['name'], ['aws', 'region'], ...inputs] },
    ];
  });
  // A running fixed node's way to a new config (../rancher/apply-config.ts): its boot read the parameter once. kubectl and
  // kubeconfig: rancher/rke2-docs@9477b7b1 docs/cluster_access.md:6,11 (ETCD_UPGRADE_GATE). An agent's kubelet kubeconfig:
  // <data-dir>/agent/kubelet.kubeconfig (the family's shared agent code: pkg/agent/config/config.go get(), kubeconfigKubelet),
  // data dir /var/lib/rancher/rke2. The gate's EtcdIsVoter: the family's shared etcd code (pkg/etcd/etcd.go
  // setEtcdStatusCondition), which RKE2's managed etcd runs (rancher/rke2 imports it for its servers).
  const apply = applyConfigScript(m, { keys: RKE2_KEYS, kubectl: `KUBECONFIG=${ETCD_UPGRADE_GATE.kubeconfig} ${ETCD_UPGRADE_GATE.kubectl}`, agentKubectl: `KUBECONFIG=/var/lib/rancher/rke2/agent/kubelet.kubeconfig ${ETCD_UPGRADE_GATE.kubectl}`, members: m.cluster.datastore.type === 'etcd' ? applyConfigMemberLines : undefined, config: (n) => toYaml(rke2Config(m, m.configTargets.find((t) => t.node?.name === n.name)!)) });
  if (apply) files.push({ path: `${RKE2_DIR}/${APPLY_CONFIG_SCRIPT}`, content: apply, inputs: [['name'], ['cluster'], ['nodePools']] });
  files.push({ path: `${RKE2_DIR}/manual-upgrade.sh`, content: rke2ManualUpgrade(m), inputs: [['name'], ['cluster', 'rke2Version']] });
  const server = { name: RKE2_DIR, title: 'RKE2', unit: rke2Unit('server'), unitPath: `/usr/local/lib/systemd/system/${rke2Unit('server')}.service` };
  const password = datastorePasswordScript(m, server);
  if (password) files.push({ path: `${RKE2_DIR}/${DATASTORE_PASSWORD_SCRIPT}`, content: password, inputs: [['name'], ['cluster', 'datastore']] });
  // Kine PostgreSQL: the database's own backup is restored; the servers stop before and start after, with the token of the
  // backup's time (rancher/rke2-docs@9477b7b1 docs/datastore/backup_restore.md lines 368-389, External DB Backups).
  const dbRestore = datastoreRestoreScript(m, { ...server, tokenFile: RKE2_PATHS.token, token: rke2Cluster(m).token.secret });
  if (dbRestore) files.push({ path: `${RKE2_DIR}/${DATASTORE_RESTORE_SCRIPT}`, content: dbRestore, inputs: [['name'], ['cluster', 'datastore'], ['cluster', 'rke2']] });
  const rotate = rke2TokenRotate(m).script;
  if (rotate) files.push({ path: `${RKE2_DIR}/${TOKEN_ROTATE_SCRIPT}`, content: rotate, inputs: [['name'], ['cluster', 'rke2Version'], ['cluster', 'rke2'], ['nodePools']] });
  if (m.cluster.datastore.type === 'etcd') files.push({ path: `${RKE2_DIR}/replace-server.sh`, content: replaceServerScript(m), inputs: [['name'], ['nodePools']] });
  const restore = restoreEtcdScript(m);
  if (restore) files.push({ path: `${RKE2_DIR}/${RESTORE_SCRIPT}`, content: restore, inputs: [['name'], ['cluster', 'datastore'], ['cluster', 'endpoint'], ['nodePools']] });
  return files;
}
