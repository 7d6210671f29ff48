/**
 * `npm run new-env`: a new environment file from an existing one (wiring over generators/scaffold/).
 */
import { distributionOf, distributions } from '../distributions/registry.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFile, readEnvironmentSources, resolveEnvironment } from '../load/loader.js';
import { prepareEnvironment } from '../pipeline.js';
import { nameToken, scaffoldEnvironment, ScaffoldError, sourceMentions } from '../scaffold/new-env.js';
import { findSsmReferences, lockFile, parseLock, placeholderLock, serializeLock } from '../load/ssm-lock.js';
import { formatPath } from '../lib/paths.js';
import { hasErrors, InputError, UsageError } from '../validate/diagnostics.js';
import { parseCommand, plural, printDiagnostics, run, summary } from './common.js';
import { selectOrFail } from './prepare.js';

/** The help text (a function: it lists how each registered distribution refuses placeholders). */
const help = (): string => `Usage: npm run new-env -- <name> --from <env> --account <12 digits> --cidr <vpc cidr> [--region R]

Writes environments/<name>.yaml from environments/<env>.yaml, comments kept: the name, cluster name
and endpoint, SSM paths, hosts, node names, bucket names rewritten (the old name as a token becomes
the new one); every address and subnet inside the old VPC CIDR re-based into --cidr; ARNs and zones
in the new account and region; ACM certificates become { ssm: /odp/<name>/acm/<workload> }
references.

Also writes environments/<name>.ssm.lock.json with a placeholder for every SSM parameter the file
references, so that npm run synth renders the new environment offline, before its AWS account
exists: a host name under odp-placeholder.invalid where a host or URL goes, else
odp-placeholder:<parameter name> (version 0). AWS refuses them; npm run validate warns at each
reference (rule ssm.placeholder) and at each rendered file carrying one (rendered.placeholder);
${distributions()
  .flatMap((d) => (d.checks.placeholders ? [`${d.title}: ${d.checks.placeholders.refusal}`] : []))
  .join('; ')}; npm run synth -- --env <name> --refresh-ssm replaces them with the parameters' values.

Then lists, with file:line:col, every value that still names the source environment (node names
such as stg-cp-1, queue names, hosts, buckets …: whatever the rewrite could not tell apart), and the
next steps. Refuses to overwrite a file; validates the result (with its placeholders) before writing.

  --from      the environment to copy
  --account   AWS account ID of the new environment
  --cidr      its VPC CIDR (at least as large as the source's)
  --region    its region (default: the source's)
Exit 0 written; 2 invalid input or usage (nothing written).`;

const NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

export async function main(argv: string[]): Promise<number> {
  const started = performance.now();
  const HELP = help();
  const { values, positionals, common } = parseCommand(argv, { from: { type: 'string' }, account: { type: 'string' }, region: { type: 'string' }, cidr: { type: 'string' } }, HELP, true);
  const [name, ...rest] = positionals;
  if (!name || rest.length > 0) throw new UsageError(`expected one environment name\n\n${HELP}`);
  if (!NAME.test(name)) throw new UsageError(`'${name}' is not a valid environment name: lowercase letters, digits and '-', at most 32 characters, not starting with '_'`);
  for (const k of ['from', 'account', 'cidr'] as const) if (typeof values[k] !== 'string') throw new UsageError(`--${k} is required\n\n${HELP}`);
  const from = String(values.from);
  const accountId = String(values.account);
  if (!/^\d{12}$/.test(accountId)) throw new UsageError(`--account ${accountId}: an AWS account ID is 12 digits`);
  const region = typeof values.region === 'string' ? values.region : undefined;
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new UsageError(`--region ${region}: not an AWS region name (e.g. eu-west-1)`);

  const sources = readEnvironmentSources(common.root);
  selectOrFail(sources, [from]);
  const target = envFile(name);
  if (existsSync(join(common.root, target)) || sources.has(target)) throw new UsageError(`${target} exists already; new-env never overwrites (choose another name or delete the file)`);

  const { env, diagnostics } = resolveEnvironment(from, sources);
  if (!env) throw new InputError(diagnostics);
  const aws = env.data.aws as { vpc?: { cidr?: string }; region?: string } | undefined;
  let report;
  try {
    report = scaffoldEnvironment(sources.get(envFile(from))!, String(aws?.vpc?.cidr ?? ''), aws?.region, { name, from, accountId, region, cidr: String(values.cidr) });
  } catch (e) {
    if (e instanceof ScaffoldError) throw new UsageError(e.message);
    throw e;
  }

  // The lock: a placeholder for every SSM parameter the new file references (lib/placeholder.ts), so
  // that it renders offline before its account exists; --refresh-ssm replaces them. An { ssmPath }
  // gets the names the source's lock has below it, renamed.
  const lockPath = lockFile(name);
  if (existsSync(join(common.root, lockPath)) || sources.has(lockPath)) throw new UsageError(`${lockPath} exists already; new-env never overwrites (delete it, or choose another name)`);
  const next = new Map(sources);
  next.set(target, report.text);
  const token = nameToken(from);
  const sourcePaths = parseLock(lockFile(from), sources.get(lockFile(from))).lock.paths;
  const known = Object.fromEntries(Object.entries(sourcePaths).map(([prefix, names]) => [prefix.replace(token, name), names.map((n) => n.replace(token, name))]));
  const resolved = resolveEnvironment(name, next);
  if (!resolved.env) throw new InputError(resolved.diagnostics);
  const lock = placeholderLock(findSsmReferences(resolved.env.data), known);
  next.set(lockPath, serializeLock(lock));
  const r = prepareEnvironment(name, next);
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (hasErrors(errors) || !r.prepared) {
    process.stderr.write(`${target} would not validate; nothing written:\n`);
    printDiagnostics(errors);
    return 2;
  }
  const mentions = sourceMentions(report.text, from);

  writeFileSync(join(common.root, target), report.text);
  writeFileSync(join(common.root, lockPath), serializeLock(lock));
  const model = r.prepared.model;
  const acct = `${accountId} (${model.aws.region})`;
  const certificates = new Map(report.certificates.map((c) => [c.parameter, c.host]));
  const placeholders = Object.keys(lock.parameters).length;
  const out = [
    `wrote ${target} from ${envFile(from)}: ${report.addresses} addresses re-based into ${values.cidr}, ${report.renamed} names, ${report.arns} ARNs rewritten${report.certificates.length ? `, ${report.certificates.length} certificate placeholders` : ''}`,
    `wrote ${lockPath}: ${plural(placeholders, 'SSM placeholder')} (AWS refuses each; validate warns [ssm.placeholder] at each reference, and no node boots or applies with one, until the refresh replaces them)`,
    '',
    ...(mentions.length > 0
      ? [
          `Values that still name ${from} (new-env rewrote the names it could tell apart; review these):`,
          ...mentions.map((m) => `  ${target}:${m.line}:${m.col}  ${formatPath(m.path)}: ${m.key ? `the key ${m.value}` : m.value}`),
          '',
        ]
      : []),
    'Next steps:',
    `  1. Render it now, offline, and open the pull request: npm run synth -- --env ${name} (the placeholders show in rendered/${name}/ until step 3)`,
    `  2. In account ${acct}, create the SSM parameters it references:`,
    ...r.prepared.ssmParameters.map((p) => `       ${p}  (String${certificates.has(p) ? `: the ACM certificate ARN${certificates.get(p) ? ` for ${certificates.get(p)}` : ''}` : ''})`),
    ...report.secrets.map((p) => `       ${p}  (SecureString)`),
    `  3. Lock their values in place of the placeholders: AWS_PROFILE=<profile of ${accountId}> npm run synth -- --env ${name} --refresh-ssm`,
    // The cluster's own secrets, as its distribution creates them.
    `  4. ${distributionOf(model).operations.newEnvironmentSecrets(name, model)}`,
    `  5. Review ${target} (description, node names, sizes${mentions.length > 0 ? `, the values above` : ''}), then npm run validate -- --env ${name} and npm run diff`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  summary('new-env', `wrote ${target} and ${lockPath} (${plural(placeholders, 'placeholder')}); ${plural(mentions.length, 'value')} still name ${from}`, started);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'new-env');
