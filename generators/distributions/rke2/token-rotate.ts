/**
 * RKE2's server token rotation runbook step (../rancher/token-rotate.ts): the secure K10 token in SSM and token-file,
 * as the first server publishes it at boot and joining nodes wait for it (./userdata.ts).
 *
 * - rke2-docs@9477b7b1 docs/security/token.md:144-154: `rke2 token rotate` "rotate[s] and replace[s] the original token
 *   used for server bootstrap. After running the command on a single server, all servers and agents that used the
 *   original token should be restarted with the new token. The original token will be invalidated and cannot be used
 *   to join any new servers or agents"; --server defaults to https://127.0.0.1:9345, --new-token to a random one.
 *   Lines 50 and 66: the server token file and agent-token file in secure format; line 64: the agent token is
 *   changed "by changing the CLI option or environment variable on all servers".
 * - Release: rke2-docs@13f732fb docs/security/token.md:146-147 (Version Gate: "Available as of 2023-11 releases
 *   (v1.28.3+rke2r2, v1.27.7+rke2r2, v1.26.10+rke2r2, v1.25.15+rke2r2)"); rancher/rke2#4866, #4869-#4871 bump the
 *   vendored supervisor for it. The supervisor's code is cited beside the other member's token-rotate.ts.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { tokenRotateScript, type TokenRotateSince } from '../rancher/token-rotate.js';
import { RKE2_PATHS } from './config.js';
import { rke2Unit } from './userdata.js';

export const RKE2_TOKEN_ROTATE_SINCE: TokenRotateSince = {
  lines: { '1.25': 'v1.25.15+rke2r2', '1.26': 'v1.26.10+rke2r2', '1.27': 'v1.27.7+rke2r2', '1.28': 'v1.28.3+rke2r2' },
  laterMinors: 29,
  source: 'rke2-docs docs/security/token.md (Version Gate, 2023-11 releases)',
  parse: (v) => {
    const m = /^v1\.(\d+)\.(\d+)\+rke2r(\d+)$/.exec(v);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
  },
};

export const rke2TokenRotate = (m: EnvironmentModel) =>
  tokenRotateScript(m, { name: 'rke2', title: 'RKE2', unit: rke2Unit('server'), unitPath: `/usr/local/lib/systemd/system/${rke2Unit('server')}.service`, bin: RKE2_PATHS.bin, tokenFile: RKE2_PATHS.token, since: RKE2_TOKEN_ROTATE_SINCE });
