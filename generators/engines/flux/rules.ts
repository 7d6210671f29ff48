/** Flux's environment rules: the Kubernetes versions the pinned Flux release supports. */
import { minorNumber, type Rule } from '../../validate/rules.js';
import { otherEngines } from '../registry.js';
import { FLUX_KUBERNETES_MIN, FLUX_VERSION } from './objects.js';

/** The Flux release the FluxInstance pins supports Kubernetes from FLUX_KUBERNETES_MIN on (a distribution may run older ones). */
export const fluxKubernetes: Rule = ({ input }, report) => {
  if (input.gitops !== 'flux') return;
  if (minorNumber(input.cluster.kubernetesVersion) < minorNumber(FLUX_KUBERNETES_MIN))
    report('flux-kubernetes', ['cluster', 'kubernetesVersion'], `Kubernetes ${input.cluster.kubernetesVersion} is older than Flux ${FLUX_VERSION} supports (Kubernetes ${FLUX_KUBERNETES_MIN} or newer)`, {
      hint: `set kubernetesVersion to ${FLUX_KUBERNETES_MIN} or newer, or deliver this environment with ${otherEngines('flux')}`,
    });
};

