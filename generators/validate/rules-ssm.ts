/**
 * SSM references after resolution from the lock: a locked value must still satisfy the schema at
 * the place it is used (a pattern such as the API endpoint's), and the names an `{ ssmPath }`
 * expands to must be usable where they land (environment variable names).
 */
import { formatPath, type DocPath } from '../lib/paths.js';
import { environmentTreeOf, findSecretRefs } from '../model/secrets.js';
import type { ResolvedEnvironment } from '../load/loader.js';
import { lockFile, REFRESH_COMMAND, type SsmResolution } from '../load/ssm-lock.js';
import { locate } from '../load/loader.js';
import { getAt } from '../lib/paths.js';
import type { Diagnostic } from './diagnostics.js';
import type { Rule } from './rules.js';
import { validateSchema } from './schema.js';

const startsWith = (path: DocPath, prefix: DocPath): boolean => prefix.length <= path.length && prefix.every((s, i) => path[i] === s);

/** Whether a finding is about a value a placeholder or an unlocked reference stands for (at or below its reference). */
const atUnknownValue = (d: Diagnostic, res: SsmResolution): boolean =>
  res.placeholders.some((p) => startsWith(d.path, p.ref.path)) || res.unresolved.some((r) => startsWith(d.path, r.path));

/**
 * Errors about values not known yet left out: a placeholder is shaped so that nothing accepts it (see
 * lib/placeholder.ts), and each one is a warning of its own (placeholderWarnings) until the refresh;
 * a reference the lock does not hold is an ssm.unlocked error of its own (its value is `<unresolved …>`).
 */
export const withoutPlaceholderFindings = (ds: readonly Diagnostic[], res: SsmResolution): Diagnostic[] =>
  res.placeholders.length === 0 && res.unresolved.length === 0 ? [...ds] : ds.filter((d) => d.severity !== 'error' || !d.file.startsWith('environments/') || !atUnknownValue(d, res));

/** One warning (ssm.placeholder) per reference whose locked value is a placeholder of npm run new-env. */
export function placeholderWarnings(env: ResolvedEnvironment, res: SsmResolution): Diagnostic[] {
  const aws = env.data.aws as { accountId?: unknown; region?: unknown } | undefined;
  return res.placeholders.map(({ ref, names }) => {
    const pos = locate(env, ref.path);
    const value = getAt(res.data, ref.path);
    const what =
      ref.kind === 'name'
        ? `SSM parameter ${ref.name} is still a placeholder of npm run new-env in ${lockFile(env.name)} ('${String(value)}' is rendered`
        : `SSM path ${ref.name} still holds placeholders of npm run new-env in ${lockFile(env.name)} (${names.join(', ')}: rendered`;
    return {
      severity: 'warning',
      rule: 'ssm.placeholder',
      file: pos.file,
      line: pos.line,
      col: pos.col,
      path: ref.path,
      message: `${what}; AWS refuses it, and no node boots or applies a config with it)`,
      hint: `create it in account ${String(aws?.accountId ?? '?')} (${String(aws?.region ?? '?')}), then ${REFRESH_COMMAND(env.name)}`,
    };
  });
}

/** Schema errors that a locked `{ ssm }` value causes, positioned at its reference. */
export function validateResolvedSsmValues(env: ResolvedEnvironment, res: SsmResolution): Diagnostic[] {
  const refs = res.references.filter((r) => r.kind === 'name' && !res.placeholders.some((p) => p.ref === r) && !res.unresolved.includes(r));
  if (refs.length === 0) return [];
  const out: Diagnostic[] = [];
  for (const d of validateSchema({ ...env, data: res.data })) {
    const ref = refs.find((r) => startsWith(d.path, r.path));
    if (!ref) continue; // only `{ ssmPath }` expansions (maps where the schema has the reference) land here
    out.push({
      ...d,
      rule: 'ssm.value',
      message: `${d.message} (the value of SSM parameter ${ref.name} in ${lockFile(env.name)})`,
      hint: `fix the parameter in SSM and run npm run synth -- --env ${env.name} --refresh-ssm, or reference another parameter`,
    });
  }
  return out;
}

export const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `envFrom: [{ ssmPath }]` becomes base name → value: every base name must be a variable name. */
const envFromNames: Rule = ({ input }, report) => {
  (input.workloads ?? []).forEach((w, i) => {
    (w.envFrom ?? []).forEach((vars, j) => {
      const bad = Object.keys(vars).filter((k) => !ENV_VAR_NAME.test(k));
      if (bad.length > 0)
        report('ssm.env-name', ['workloads', i, 'envFrom', j], `${bad.map((b) => `'${b}'`).join(', ')} under this SSM path ${bad.length === 1 ? 'is not a valid environment variable name' : 'are not valid environment variable names'}`, {
          hint: 'rename the parameters to letters, digits and _ (not starting with a digit), or set them one by one in env: { NAME: { ssm: … } }',
        });
    });
  });
};

/**
 * A `{ secret }` under another environment's tree (`/odp/<other>/…`, where every default name of that environment
 * lives; <other> one of the repository's environments): this environment reads the other's credential, and a rotation
 * or deletion there changes it here. A warning, not an error: a parameter may be shared on purpose (the schema
 * documents no shared prefix), and then the warning is acknowledged with the reason. A segment that names no
 * environment (`/odp/shared/…`) is not reported. Which of the trees it names are environments is part of the
 * environment's incremental key (model/fleet.ts fleetRelations `secretTrees`): an incremental synth that skips the
 * environment recomputes that from every environment's fleet entry, and renders it again, so reporting this, when an
 * environment its secrets name is added or deleted.
 */
const secretOfOtherEnvironment: Rule = ({ env, input, fleet }, report) => {
  for (const ref of findSecretRefs(env.data, [])) {
    const other = environmentTreeOf(ref.name);
    if (other === undefined || other === input.name || !fleet?.has(other)) continue;
    const path = [...ref.path, 'secret'];
    report('secret-other-environment', path, `SSM parameter ${ref.name} is in environment ${other}'s tree (/odp/${other}/), not this environment's (/odp/${input.name}/): ${input.name} reads ${other}'s secret, and rotating or deleting it there changes ${input.name}`, {
      severity: 'warning',
      hint: `create this environment's own parameter and write secret: /odp/${input.name}/${ref.name.slice(`/odp/${other}/`.length)}; if it is shared on purpose, acknowledge it: acknowledge: [{ rule: secret-other-environment, path: "${formatPath(path)}", reason: … }]`,
    });
  }
};

export const SSM_RULES: readonly Rule[] = [envFromNames, secretOfOtherEnvironment];
