/**
 * K3s' server token rotation runbook step (../rancher/token-rotate.ts): the short password in SSM and in token-file
 * (`openssl rand -hex 32`, as the README asks; K3s' boot publishes no secure token).
 *
 * The supervisor's behaviour the shared step relies on (k3s-io/k3s; the family's other member vendors this code):
 * - pkg/cli/token/token.go@0678ae99 Rotate and serverAccess: the CLI reads `<data-dir>/server/token` when no --token
 *   is given and authenticates as user `server`; --new-token is optional (pkg/cli/cmds/token.go, the rotate subcommand: a flag with
 *   no environment variable and no file form). The step passes it (the token must be in SSM before the datastore
 *   needs it); serverAccess hides the CLI's arguments from ps before it connects (gspt.SetProcTitle(os.Args[0] + " token")).
 * - pkg/server/handlers/token.go@b462a5f7 tokenRotate, lines 68-113: the new token is util.Random(16) when none is
 *   given (81-86), else the given string as is (the password, not a K10 token); passwd user `server` gets it (88); user `node` only when no agent token is configured (93); the
 *   server token file is rewritten as `server:<new>` in secure format (103-104, WriteToken 56-66: K10<CA hash>::…,
 *   mode 0600); cluster.RotateBootstrapToken re-encrypts the bootstrap data (108); the running server switches to the
 *   new token (111) and saves its bootstrap data under it (112).
 * - pkg/cluster/storage.go RotateBootstrapToken → migrateTokens → doMigrateToken: decrypt with the old token, create
 *   the new token's key, delete the old key; getBootstrapKeyFromStorage: a server whose token's key is absent fails
 *   with "bootstrap data already found and encrypted with different token".
 * - k3s-io/docs docs/cli/token.md (`k3s token rotate`): "After running this command, all servers and any agents that
 *   originally joined with the old token must be restarted with the new token" (ours joined with the agent token);
 *   "Snapshots taken before the rotation will require the old server token when restoring the cluster".
 * - Release: k3s-io/k3s#8265 (server token rotation) and its backports #8576 (1.27), #8577 (1.26), #8578 (1.25),
 *   merged 2023-10-09 and validated on the release branches (issues #8297-#8299); the first releases after them are
 *   the October 2023 patches below (the release-notes pages were not read: the generator lists only 1.34+ anyway).
 */
import type { EnvironmentModel } from '../../model/types.js';
import { tokenRotateScript, type TokenRotateSince } from '../rancher/token-rotate.js';
import { K3S_PATHS } from './config.js';
import { k3sUnit } from './userdata.js';

export const K3S_TOKEN_ROTATE_SINCE: TokenRotateSince = {
  lines: { '1.25': 'v1.25.15+k3s1', '1.26': 'v1.26.10+k3s1', '1.27': 'v1.27.7+k3s1', '1.28': 'v1.28.3+k3s1' },
  laterMinors: 29,
  source: 'k3s-io/k3s#8265, backports #8576-#8578',
  parse: (v) => {
    const m = /^v1\.(\d+)\.(\d+)\+k3s(\d+)$/.exec(v);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
  },
};

export const k3sTokenRotate = (m: EnvironmentModel) =>
  tokenRotateScript(m, { name: 'k3s', title: 'K3s', unit: k3sUnit('server'), unitPath: `/etc/systemd/system/${k3sUnit('server')}.service`, bin: '/usr/local/bin/k3s', tokenFile: K3S_PATHS.token, since: K3S_TOKEN_ROTATE_SINCE });
