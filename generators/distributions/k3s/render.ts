/**
 * The K3s renderer: per config target a K3s config (`k3s/<target>.yaml`) and its EC2 user-data
 * (`k3s/userdata/<target>.yaml`), the manual upgrade script (`k3s/manual-upgrade.sh`), the server token rotation (`k3s/rotate-token.sh`), for
 * kine-postgres the password refresh after a rotation (`k3s/datastore-password.sh`) and the servers' side of a database
 * restore (`k3s/datastore-restore.sh`), and for kine-sqlite the Litestream config (`k3s/litestream.yaml`) and
 * the hand restore (`k3s/litestream-restore.sh`).
 * Other distributions' environments get nothing from it.
 */
import { applyConfigScript, APPLY_CONFIG_SCRIPT } from '../rancher/apply-config.js';
import type { InputPath } from '../../lib/paths.js';
import { toYaml } from '../../lib/yaml.js';
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import type { RenderedFile } from '../../render/types.js';
import { K3S_PATHS, k3sConfig, roleOf } from './config.js';
import { litestreamConfig } from './litestream.js';
import { LITESTREAM_HAND_RESTORE_SCRIPT, litestreamHandRestoreScript } from './litestream-hand-restore.js';
import { k3sManualUpgrade, k3sUnit, userDataText } from './userdata.js';
import { DATASTORE_PASSWORD_SCRIPT, datastorePasswordScript } from '../rancher/datastore-password.js';
import { DATASTORE_RESTORE_SCRIPT, datastoreRestoreScript } from '../rancher/datastore-restore.js';
import { k3sCluster, K3S_KEYS } from './model.js';
import { TOKEN_ROTATE_SCRIPT } from '../rancher/token-rotate.js';
import { k3sTokenRotate } from './token-rotate.js';

export const K3S_DIR = 'k3s';

/** Document parts a target's files derive from: servers see every pool (SANs, taints), agents their own. */
function targetInputs(t: ConfigTarget): InputPath[] {
  const own: InputPath[] = roleOf(t) === 'server' ? [['nodePools']] : [['nodePools', { name: t.pool.name }]];
  return [['cluster'], ...own];
}

export function renderK3s(m: EnvironmentModel): RenderedFile[] {
  if (m.cluster.distribution !== 'k3s') return [];
  const files: RenderedFile[] = [];
  for (const t of m.configTargets) {
    const inputs = targetInputs(t);
    files.push({ path: `${K3S_DIR}/${t.name}.yaml`, content: toYaml(k3sConfig(m, t)), inputs });
    files.push({ path: `${K3S_DIR}/userdata/${t.name}.yaml`, content: userDataText(m, t), inputs: [['name'], ['aws', 'region'], ...inputs] });
  }
  // A running fixed node's way to a new config (../rancher/apply-config.ts): its boot read the parameter once. kubectl:
  // install.sh links /usr/local/bin/kubectl to k3s (k3s-io/k3s@0136cf25 install.sh create_symlinks); the server writes K3S_PATHS.kubeconfig.
  // An agent's kubelet kubeconfig: <data-dir>/agent/kubelet.kubeconfig (k3s-io/k3s@eaaf1f84 pkg/agent/config/config.go
  // get(), kubeconfigKubelet), the data dir /var/lib/rancher/k3s. The gate's EtcdIsVoter: k3s-io/k3s pkg/etcd/etcd.go
  // (manageTickerTime 15 s and the leader-only manageLearners ticker @2614da01; etcdStatusType = "EtcdIsVoter" is in
  // a later stored copy whose commit the index does not give, so it and setEtcdStatusCondition are not pinned); Kine's read of its database:
  // k3s-io/kine pkg/server/get.go (LimitedServer.get -> backend.Get).
  const apply = applyConfigScript(m, { keys: K3S_KEYS, kubectl: `KUBECONFIG=${K3S_PATHS.kubeconfig} /usr/local/bin/kubectl`, agentKubectl: 'KUBECONFIG=/var/lib/rancher/k3s/agent/kubelet.kubeconfig /usr/local/bin/kubectl', config: (n) => toYaml(k3sConfig(m, m.configTargets.find((t) => t.node?.name === n.name)!)) });
  if (apply) files.push({ path: `${K3S_DIR}/${APPLY_CONFIG_SCRIPT}`, content: apply, inputs: [['name'], ['cluster'], ['nodePools']] });
  files.push({ path: `${K3S_DIR}/manual-upgrade.sh`, content: k3sManualUpgrade(m), inputs: [['name'], ['cluster', 'k3sVersion']] });
  const server = { name: K3S_DIR, title: 'K3s', unit: k3sUnit('server'), unitPath: `/etc/systemd/system/${k3sUnit('server')}.service` };
  const password = datastorePasswordScript(m, server);
  if (password) files.push({ path: `${K3S_DIR}/${DATASTORE_PASSWORD_SCRIPT}`, content: password, inputs: [['name'], ['cluster', 'datastore']] });
  // Kine PostgreSQL: the database's own backup is restored; the servers stop before and start after, with the token of the
  // backup's time (k3s-io/k3s@659a09ad docs/backup_restore.md, Backup and Restore with External Datastore: "handled
  // outside of K3s"; the bootstrap data is encrypted under the server token: pkg/cluster/storage.go).
  const dbRestore = datastoreRestoreScript(m, { ...server, tokenFile: K3S_PATHS.token, token: k3sCluster(m).token.secret });
  if (dbRestore) files.push({ path: `${K3S_DIR}/${DATASTORE_RESTORE_SCRIPT}`, content: dbRestore, inputs: [['name'], ['cluster', 'datastore'], ['cluster', 'k3s']] });
  const rotate = k3sTokenRotate(m).script;
  if (rotate) files.push({ path: `${K3S_DIR}/${TOKEN_ROTATE_SCRIPT}`, content: rotate, inputs: [['name'], ['cluster', 'k3sVersion'], ['cluster', 'k3s'], ['nodePools']] });
  const d = m.cluster.datastore;
  if (d.type === 'kine-sqlite') files.push({ path: `${K3S_DIR}/litestream.yaml`, content: toYaml(litestreamConfig(m, d)), inputs: [['aws', 'region'], ['cluster', 'name'], ['cluster', 'datastore']] });
  // Kine SQLite: the Litestream hand restore (e.g. to a point in time), bounded and naming the token of that time.
  const handRestore = litestreamHandRestoreScript(m);
  if (handRestore) files.push({ path: `${K3S_DIR}/${LITESTREAM_HAND_RESTORE_SCRIPT}`, content: handRestore, inputs: [['name'], ['aws', 'region'], ['cluster', 'name'], ['cluster', 'datastore'], ['cluster', 'k3s']] });
  return files;
}
