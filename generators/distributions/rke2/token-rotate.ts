/** RKE2's server token rotation runbook step (../rancher/token-rotate.ts): the secure K10 token in SSM and token-file. */
import type { EnvironmentModel } from '../../model/types.js';
import { tokenRotateScript } from '../rancher/token-rotate.js';
import { RKE2_PATHS } from './config.js';
import { rke2Unit } from './userdata.js';

export const rke2TokenRotate = (m: EnvironmentModel) =>
  tokenRotateScript(m, { name: 'rke2', title: 'RKE2', unit: rke2Unit('server'), unitPath: `/usr/local/lib/systemd/system/${rke2Unit('server')}.service`, bin: RKE2_PATHS.bin, tokenFile: RKE2_PATHS.token, secureInSsm: true });
