/** Environment rules for Talos settings that the environment schema cannot express. */
import type { DocPath } from '../../lib/paths.js';
import { parseInstanceType } from '../../model/aws.js';
import { APISERVER_DENIED_ARGS, KUBELET_DENIED_ARGS } from './release.js';
import type { Rule } from '../../validate/rules.js';

/** NVIDIA GPUs older than Turing (Volta: p3, p3dn) are not supported by the open GPU kernel modules. */
const PRE_TURING_FAMILIES = ['p3', 'p3dn'];

const deniedArgs: Rule = ({ input }, report) => {
  const t = input.cluster.talos;
  const check = (field: 'apiServerExtraArgs' | 'kubeletExtraArgs', denied: readonly string[], component: string): void => {
    for (const k of Object.keys(t?.[field] ?? {})) {
      const bare = k.replace(/^--/, '');
      if (denied.includes(bare))
        report('talos-denied-extra-arg', ['cluster', 'talos', field, k] as DocPath, `${component} flag '${bare}' is managed by Talos; Talos refuses it (extra arg "${bare}" is not allowed)`, {
          key: true,
          hint: `Talos sets it from the machine config and the secrets bundle; remove it. Denied: ${denied.join(', ')}`,
        });
      else if (k !== bare)
        report('talos-denied-extra-arg', ['cluster', 'talos', field, k] as DocPath, `write the flag without dashes: '${bare}'`, { key: true });
    }
  };
  check('apiServerExtraArgs', APISERVER_DENIED_ARGS, 'kube-apiserver');
  check('kubeletExtraArgs', KUBELET_DENIED_ARGS, 'kubelet');
};

const irsaIssuer: Rule = ({ input }, report) => {
  const issuer = input.cluster.talos?.apiServerExtraArgs?.['service-account-issuer'];
  if (issuer !== undefined && input.aws.iam?.mode === 'irsa' && issuer !== input.aws.iam.issuerURL)
    report('talos-irsa-issuer', ['cluster', 'talos', 'apiServerExtraArgs', 'service-account-issuer'], `differs from aws.iam.issuerURL (${String(input.aws.iam.issuerURL)})`, {
      hint: 'with IRSA the generator sets service-account-issuer from aws.iam.issuerURL; remove this one',
    });
};

const nvidiaOpenModules: Rule = ({ input }, report) => {
  if (input.cluster.distribution !== 'talos') return;
  input.nodePools.forEach((p, i) => {
    const { family } = parseInstanceType(p.instanceType);
    if (p.gpu && PRE_TURING_FAMILIES.includes(family))
      report('talos-nvidia-open-modules', ['nodePools', i, 'instanceType'], `${p.instanceType} has a Volta GPU, which the NVIDIA open GPU kernel modules do not support`, {
        hint: 'use a Turing or newer family (g4dn, g5, g6, p4d, p5 …)',
      });
  });
};

export const TALOS_RULES: readonly Rule[] = [deniedArgs, irsaIssuer, nvidiaOpenModules];
