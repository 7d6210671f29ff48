/** Environment validation: schema first (rules assume its shapes), then every semantic rule. */
import { distributions } from '../distributions/registry.js';
import { engines } from '../engines/registry.js';
import { formatPath, type DocPath } from '../lib/paths.js';
import type { ResolvedEnvironment } from '../load/loader.js';
import type { EnvironmentInput } from '../model/input.js';
import { hasErrors, type Diagnostic } from './diagnostics.js';
import { ADDON_DEPENDENCY_RULES } from './rules-addon-deps.js';
import { ADDON_RULES } from './rules-addons.js';
import { AWS_RULES } from './rules-aws.js';
import { NETWORK_RULES } from './rules-network.js';
import { CAPACITY_RULES } from './rules-capacity.js';
import { NAME_RULES } from './rules-names.js';
import { PROMOTION_RULES } from './rules-promotion.js';
import { RULES, runRules, type Rule, type RuleContext } from './rules.js';
import { SAN_RULES } from './rules-sans.js';
import { SSM_RULES } from './rules-ssm.js';
import { SUBNET_RULES } from './rules-subnets.js';
import { WORKLOAD_RULES } from './rules-workloads.js';
import { validateSchema } from './schema.js';

/**
 * Every rule, in the order findings are reported: the core's, with the distributions' and engines'
 * at their places (Distribution.rules, Engine.rules; some places are inside core rules: datastore,
 * versions, network, names, AWS identifiers). Rules contributed by other modules (workloads, add-on
 * values …) join here.
 */
export function allRules(): Rule[] {
  return [
    ...RULES,
    ...distributions().flatMap((d) => d.rules.cluster ?? []),
    ...SSM_RULES,
    ...ADDON_RULES,
    ...ADDON_DEPENDENCY_RULES,
    ...WORKLOAD_RULES,
    ...NETWORK_RULES,
    ...SAN_RULES,
    ...SUBNET_RULES,
    ...AWS_RULES,
    ...NAME_RULES,
    ...PROMOTION_RULES,
    ...CAPACITY_RULES,
    ...engines().flatMap((e) => e.rules.fleet ?? []),
  ];
}

export function validateResolved(env: ResolvedEnvironment): Diagnostic[] {
  return validateSchema(env);
}

export function validateSemantics(env: ResolvedEnvironment, input: EnvironmentInput, extra: Pick<RuleContext, 'ec2' | 'fleet'> = {}): Diagnostic[] {
  return runRules({ env, input, ...extra }, allRules());
}

/**
 * Semantic rules next to schema errors, so that one run reports both. Rules then read a document
 * the schema rejected, so findings about the rejected part are left out (they would reason about
 * values the schema already refused), and rules that trip over a malformed value are skipped.
 * "The rejected part" is the list element holding the schema error (`nodePools[1]`,
 * `workloads[0]`) or, outside lists, the whole top-level section (`cluster`); a finding inside it,
 * or about a collection that contains it (`nodePools` as a whole), is dropped. A finding in a
 * sibling element (`nodePools[0].nodes[0].ip`) is kept.
 */
export function validateSemanticsDespite(schemaErrors: readonly Diagnostic[], env: ResolvedEnvironment, input: EnvironmentInput, extra: Pick<RuleContext, 'ec2' | 'fleet'> = {}): Diagnostic[] {
  const rejected = schemaErrors.map((d) => (typeof d.path[1] === 'number' ? d.path.slice(0, 2) : d.path.slice(0, 1)));
  if (rejected.some((p) => p.length === 0)) return [];
  const startsWith = (path: DocPath, prefix: DocPath): boolean => prefix.length <= path.length && prefix.every((seg, i) => path[i] === seg);
  const isRejected = (path: DocPath): boolean => path.length > 0 && rejected.some((r) => startsWith(path, r) || startsWith(r, path));
  // A finding elsewhere that quotes a rejected element's value by its path (`… (nodePools[3].taints: …)`) reasons about it too.
  const named = schemaErrors.flatMap((d) => d.path.slice(0, -1).map((_, i) => d.path.slice(0, i + 2)).filter((p) => p.length >= 2).map(formatPath));
  const quotesRejected = (message: string): boolean => named.some((p) => message.includes(`${p}:`) || message.includes(`${p})`));
  return runRules({ env, input, ...extra }, allRules(), true).filter((d) => !isRejected(d.path) && !quotesRejected(d.message));
}

export { hasErrors };
