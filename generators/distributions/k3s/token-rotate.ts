/** K3s' server token rotation runbook step (../rancher/token-rotate.ts): the short password in SSM and token-file. */
import type { EnvironmentModel } from '../../model/types.js';
import { tokenRotateScript } from '../rancher/token-rotate.js';
import { K3S_PATHS } from './config.js';
import { k3sUnit } from './userdata.js';

export const k3sTokenRotate = (m: EnvironmentModel) =>
  tokenRotateScript(m, { name: 'k3s', title: 'K3s', unit: k3sUnit('server'), unitPath: `/etc/systemd/system/${k3sUnit('server')}.service`, bin: '/usr/local/bin/k3s', tokenFile: K3S_PATHS.token, secureInSsm: false });
