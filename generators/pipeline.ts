/**
 * The pure pipeline: environment sources → diagnostics and a model → rendered files (in memory).
 * Commands wire it to the file system (load) and the writer.
 */
import { listEnvironmentNames, locate, resolveEnvironment, type ResolvedEnvironment, type SourceFiles } from './load/loader.js';
import { engineNamed, syncPolicyInput } from './engines/registry.js';
import { buildModel } from './model/build.js';
import { fleetClusters, fleetIndex, hubOf, promotionStages, type FleetIndex } from './model/fleet.js';
import { timed } from './lib/timing.js';
import { factsWithLock } from './model/instance-types.js';
import type { EnvironmentInput } from './model/input.js';
import type { EnvironmentModel } from './model/types.js';
import { withHeader, type FinalFile } from './render/header.js';
import { renderModel } from './render/index.js';
import { lockFile, parseLock, resolveSsm } from './load/ssm-lock.js';
import { normalizeQuantities } from './lib/quantity.js';
import { getAt } from './lib/paths.js';
import { applyAcknowledgements } from './validate/acknowledge.js';
import { hasErrors, type Diagnostic } from './validate/diagnostics.js';
import { validateResolved, validateSemantics, validateSemanticsDespite } from './validate/index.js';
import { placeholderWarnings, validateResolvedSsmValues, withoutPlaceholderFindings } from './validate/rules-ssm.js';
import { awsModelDiagnostics } from './infra/aws/rules.js';
import { addonSecretDiagnostics } from './validate/addon-secrets.js';
import { unitNameDiagnostics } from './validate/unit-names.js';
import { accessDiagnostics } from './validate/access.js';
import { imdsCredentialDiagnostics } from './validate/imds-credentials.js';
import { lockedImages } from './infra/aws/images.js';
import { environmentCost, pricesFor } from './cost/estimate.js';
import { kubeVersionDiagnostics } from './validate/chart-kube-version.js';
import { skewDiagnostics, unjudgedSkewRules, versionInputs, type RunningVersions } from './validate/rules-skew.js';
import { carryDates, type DatesInput, type VersionDates } from './write/since.js';
import { fleetRow, rowVersions } from './fleet/row.js';

export interface PreparedEnvironment {
  name: string;
  resolved: ResolvedEnvironment;
  /** The merged document with SSM references replaced by their locked values. */
  data: Record<string, unknown>;
  model: EnvironmentModel;
  /** SSM parameters the environment uses. */
  ssmParameters: string[];
  /** Those of them whose locked value is still a placeholder of npm run new-env (lib/placeholder.ts). */
  ssmPlaceholders: string[];
  /** Monthly on-demand cost (USD) of its pools from the lock's prices; undefined when a price is missing. */
  monthlyCost?: number;
  /** Since when its rendered tree carries each promoted version (write/since.ts); only when prepared with `dates`. */
  since?: VersionDates;
}

export interface PrepareResult {
  prepared?: PreparedEnvironment;
  diagnostics: Diagnostic[];
  /** Warnings the environment file acknowledges (left out of `diagnostics`). */
  acknowledged?: number;
}

export interface PrepareOptions {
  /** The fleet of all environments, when the caller already has it (else read from `sources`). */
  fleet?: FleetIndex;
  /**
   * The versions its committed rendered tree records (write/provenance.ts runningVersions): synth, check and validate
   * refuse a version change upstream forbids against them (validate/rules-skew.ts). Absent: not compared, and
   * an acknowledgement of a skew rule is neither matched nor refused.
   */
  running?: RunningVersions;
  /**
   * The dates its committed manifest records and today's day (synth and check: cli/work.ts): each promoted version
   * gets its date carried forward or today's (write/since.ts), which the manifest and the fleet matrix record.
   * Absent: no dates (the manifest then has no `since`).
   */
  dates?: DatesInput;
}

export function prepareEnvironment(name: string, sources: SourceFiles, opts: PrepareOptions = {}): PrepareResult {
  const { env, diagnostics } = timed('load', () => resolveEnvironment(name, sources));
  if (!env || hasErrors(diagnostics)) return { diagnostics };
  return timed('validate', () => prepareResolved(name, env, diagnostics, sources, opts));
}

function prepareResolved(name: string, env: ResolvedEnvironment, diagnostics: Diagnostic[], sources: SourceFiles, opts: PrepareOptions): PrepareResult {
  const schemaErrors = validateResolved(env);
  const fleet = opts.fleet ?? fleetIndex(sources);
  const { lock, diagnostics: lockDiags, broken } = parseLock(lockFile(name), sources.get(lockFile(name)));
  const ssm = resolveSsm(env, lock, sources.has(lockFile(name)));
  // A broken lock is one error at the lock, not a "not in the lock" error at every reference.
  if (broken) ssm.diagnostics = ssm.diagnostics.filter((d) => d.rule !== 'ssm.unlocked');
  // Quantities written as YAML numbers become the strings Kubernetes reads the same way.
  for (const path of normalizeQuantities(ssm.data)) {
    const pos = locate(env, path);
    ssm.diagnostics.push({ severity: 'error', rule: 'quantity', ...pos, path, message: `${String(getAt(ssm.data, path))} is written with an exponent, which environment quantities do not take`, hint: 'write it as a string such as 100m, 0.5 or 512Mi' });
  }
  if (schemaErrors.length > 0) {
    // Report the semantic problems of the rest of the document in the same run.
    const semantic = withoutPlaceholderFindings(validateSemanticsDespite(schemaErrors, env, ssm.data as unknown as EnvironmentInput, { ec2: lock.ec2, fleet }), ssm);
    return { diagnostics: [...diagnostics, ...schemaErrors, ...lockDiags, ...ssm.diagnostics, ...semantic] };
  }
  const all = [...diagnostics, ...lockDiags, ...ssm.diagnostics, ...placeholderWarnings(env, ssm)];
  all.push(...validateResolvedSsmValues(env, ssm));
  if (hasErrors(all)) {
    // A reference missing from the lock (or a broken lock) stops the model, not the rules: the rest of the
    // file is checked in the same run (findings about the unknown values left out), so a newcomer is not
    // sent to AWS for a refresh before learning what else is refused.
    const semantic = withoutPlaceholderFindings(validateSemanticsDespite([], env, ssm.data as unknown as EnvironmentInput, { ec2: lock.ec2, fleet }), ssm);
    return { diagnostics: [...all, ...semantic] };
  }
  const input = ssm.data as unknown as EnvironmentInput;
  all.push(...withoutPlaceholderFindings(validateSemantics(env, input, { ec2: lock.ec2, fleet }), ssm));
  all.push(...skewDiagnostics(env, ssm.data, opts.running, input.acknowledge));
  if (hasErrors(all)) {
    // The rules that need the model (AWS layer, access, chart kubeVersion) did not run: their warnings were not looked for.
    const ack = applyAcknowledgements(env, input.acknowledge, all, false, unjudgedSkewRules(opts.running));
    return { diagnostics: ack.diagnostics, acknowledged: ack.acknowledged };
  }
  const model = timed('model', () => buildModel(input, env.files, factsWithLock(lock.ec2 && lock.ec2.region === input.aws.region ? lock.ec2.instanceTypes : undefined), engineNamed(input.gitops)?.hubMode ? hubOf(fleet, name) : undefined, promotionStages(fleet, syncPolicyInput(input)?.manages ?? []), fleetClusters(fleet, [...(syncPolicyInput(input)?.manages ?? []), ...(syncPolicyInput(input)?.decommission ?? [])])));
  // The AMIs of the node classes: SSM parameters the model names (not the document), locked by --refresh-ssm.
  model.aws.images = lockedImages(model, lock);
  model.aws.parameters = Object.fromEntries(ssm.used.filter((n) => lock.parameters[n]?.type === 'String').map((n) => [n, lock.parameters[n]!.value]));
  const prices = pricesFor(lock.prices, model.aws.region);
  if (prices) model.aws.prices = prices;
  model.aws.nodeImages = Object.fromEntries(Object.entries(lock.nodeImages ?? {}).filter(([n]) => model.nodes.some((x) => x.name === n)));
  model.aws.nodeImageArch = Object.fromEntries(Object.entries(lock.nodeImageArch ?? {}).filter(([n]) => model.aws.nodeImages[n] !== undefined));
  // What the AWS layer refuses needs the model (user data, derived names, images).
  all.push(...awsModelDiagnostics(env, model), ...accessDiagnostics(env, model), ...imdsCredentialDiagnostics(env, model), ...kubeVersionDiagnostics(env, model), ...addonSecretDiagnostics(env, model), ...unitNameDiagnostics(env, model));
  const ack = applyAcknowledgements(env, input.acknowledge, all, true, unjudgedSkewRules(opts.running));
  if (hasErrors(ack.diagnostics)) return { diagnostics: ack.diagnostics, acknowledged: ack.acknowledged };
  const ssmPlaceholders = [...new Set(ssm.placeholders.flatMap((p) => p.names))].sort();
  const monthlyCost = environmentCost(model.pools, model.aws.prices).total;
  const since = opts.dates ? carryDates(opts.dates.committed, rowVersions(fleetRow(model, ssm.data, monthlyCost)), opts.dates.today) : undefined;
  return { prepared: { name, resolved: env, data: ssm.data, model, ssmParameters: ssm.used, ssmPlaceholders, ...(monthlyCost !== undefined ? { monthlyCost } : {}), ...(since ? { since } : {}) }, diagnostics: ack.diagnostics, acknowledged: ack.acknowledged };
}

/** Render one prepared environment: every renderer, each file with its header. */
export function renderEnvironment(p: PreparedEnvironment): FinalFile[] {
  // The versions the tree is rendered at, for its manifest (what the next synth's version-skew rule compares with).
  const versions = versionInputs(p.data);
  return timed('render', () =>
    renderModel(p.model)
      .map((f) => withHeader(f, p.name, p.model.sourceFiles, p.data, versions, p.since))
      .sort((a, b) => a.path.localeCompare(b.path)),
  );
}

export function selectEnvironments(sources: SourceFiles, requested: string[] | undefined): { names: string[]; unknown: string[] } {
  const all = listEnvironmentNames(sources);
  if (!requested || requested.length === 0) return { names: all, unknown: [] };
  return { names: requested.filter((n) => all.includes(n)), unknown: requested.filter((n) => !all.includes(n)) };
}
