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

/**
 * Semantic rules next to schema errors, so that one run reports both. Rules then read a document
 * the schema rejected: findings in a top-level section that has a schema error are left out (they
 * would reason about values the schema already refused), and rules that trip over a malformed
 * value are skipped.
 */
export function validateSemanticsDespite(schemaErrors: readonly Diagnostic[], env: ResolvedEnvironment, input: EnvironmentInput): Diagnostic[] {
  const broken = new Set(schemaErrors.map((d) => String(d.path[0] ?? '')));
  if (broken.has('')) return [];
  return runRules({ env, input }, ALL_RULES, true).filter((d) => !broken.has(String(d.path[0] ?? '')));
}

export { hasErrors };
