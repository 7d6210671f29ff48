/** Environment validation: schema first (rules assume its shapes), then every semantic rule. */
import type { ResolvedEnvironment } from '../load/loader.js';
import type { EnvironmentInput } from '../model/input.js';
import { hasErrors, type Diagnostic } from './diagnostics.js';
import { ADDON_RULES } from './rules-addons.js';
import { K3S_RULES } from './rules-k3s.js';
import { RULES, runRules, type Rule } from './rules.js';
import { SSM_RULES } from './rules-ssm.js';
import { TALOS_RULES } from './rules-talos.js';
import { WORKLOAD_RULES } from './rules-workloads.js';
import { validateSchema } from './schema.js';

/** Rules contributed by other modules (workloads, add-on values …) join here. */
export const ALL_RULES: readonly Rule[] = [...RULES, ...TALOS_RULES, ...K3S_RULES, ...SSM_RULES, ...ADDON_RULES, ...WORKLOAD_RULES];

export function validateResolved(env: ResolvedEnvironment): Diagnostic[] {
  return validateSchema(env);
}

export function validateSemantics(env: ResolvedEnvironment, input: EnvironmentInput): Diagnostic[] {
  return runRules({ env, input }, ALL_RULES);
}

export { hasErrors };
