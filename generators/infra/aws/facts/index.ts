/** The distributions' AWS facts, by distribution: the one place in infra/aws that lists them. */
import type { Distribution } from '../../../model/types.js';
import { k3sFacts } from './k3s.js';
import { rke2Facts } from './rke2.js';
import { talosFacts } from './talos.js';
import type { DistributionAwsFacts } from './types.js';

export const AWS_FACTS: Record<Distribution, DistributionAwsFacts> = { talos: talosFacts, k3s: k3sFacts, rke2: rke2Facts };

export const awsFacts = (d: Distribution): DistributionAwsFacts => AWS_FACTS[d];
