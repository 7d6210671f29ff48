/**
 * The node classes' AMIs: each is an SSM String parameter the distribution names (a vendor's public
 * one, or the one its registration script writes), locked by `--refresh-ssm` like any `{ ssm }`
 * reference, so synth stays offline and a new image is a reviewed change of the lock.
 */
import type { EnvironmentModel } from '../../model/types.js';
import type { SsmLock } from '../../load/ssm-lock.js';
import { imageParameters } from './plan.js';

export { imageParameters };

/** Parameter name → AMI id, for the parameters the lock holds. */
export function lockedImages(m: EnvironmentModel, lock: SsmLock): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of imageParameters(m)) {
    const v = lock.parameters[name]?.value;
    if (v !== undefined) out[name] = v;
  }
  return out;
}
