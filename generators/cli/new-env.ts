/**
 * `npm run new-env`: a new environment file from an existing one (wiring over generators/scaffold/).
 */
import { distributionOf, distributions } from '../distributions/registry.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envFile, readEnvironmentSources, resolveEnvironment } from '../load/loader.js';
import { prepareEnvironment } from '../pipeline.js';
import { nameToken, scaffoldEnvironment, ScaffoldError } from '../scaffold/new-env.js';
import { lockFile } from '../load/ssm-lock.js';
import { hasErrors, InputError, UsageError } from '../validate/diagnostics.js';
import { parseCommand, printDiagnostics, run } from './common.js';
import { selectOrFail } from './prepare.js';

const HELP = `Usage: npm run new-env -- <name> --from <env> --account <12 digits> --cidr <vpc cidr> [--region R]

Writes environments/<name>.yaml from environments/<env>.yaml, comments kept: the name, cluster name
and endpoint, SSM paths, hosts, node names, bucket names rewritten (the old name as a token becomes
the new one); every address and subnet inside the old VPC CIDR re-based into --cidr; ARNs and zones
in the new account and region; ACM certificates become { ssm: /odp/<name>/acm/<workload> }
placeholders. Refuses to overwrite a file. Validates the result (with the source's SSM values
standing in for the new environment's) before writing, then prints the next steps.

  --from      the environment to copy
  --account   AWS account ID of the new environment
  --cidr      its VPC CIDR (at least as large as the source's)
  --region    its region (default: the source's)
Exit 0 written; 2 invalid input or usage (nothing written).`;

const NAME = /^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/;

export async function main(argv: string[]): Promise<number> {
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

  // Validate with the source's SSM values under the new paths (the real ones come with the refresh).
  const next = new Map(sources);
  next.set(target, report.text);
  const token = nameToken(from);
  const srcLock = sources.get(lockFile(from));
  const params: string[] = [];
  if (srcLock) {
    // Parameter names and ssmPath prefixes under the new name; values stay the source's.
    const rename = (v: unknown, isName: boolean): unknown =>
      typeof v === 'string' ? (isName && v.startsWith('/') ? v.replace(token, name) : v) : Array.isArray(v) ? v.map((x) => rename(x, true)) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.startsWith('/') ? k.replace(token, name) : k, rename(x, k.startsWith('/') && Array.isArray(x))])) : v;
    const lock = rename(JSON.parse(srcLock), false) as { parameters?: Record<string, unknown> };
    const renamed: Record<string, unknown> = { ...(lock.parameters ?? {}) };
    for (const c of report.certificates) renamed[c.parameter] = { value: `arn:aws:acm:${region ?? aws?.region ?? 'eu-west-1'}:${accountId}:certificate/00000000-0000-4000-8000-000000000000`, type: 'String', version: 1, lastModified: '1970-01-01T00:00:00.000Z' };
    next.set(lockFile(name), JSON.stringify({ ...lock, parameters: renamed }));
  }
  const r = prepareEnvironment(name, next);
  const errors = r.diagnostics.filter((d) => d.severity === 'error' && d.rule !== 'ssm.unlocked');
  if (hasErrors(errors)) {
    process.stderr.write(`${target} would not validate; nothing written:\n`);
    printDiagnostics(errors);
    return 2;
  }
  const placeholders = new Set(report.certificates.map((c) => c.parameter));
  if (r.prepared) params.push(...r.prepared.ssmParameters.filter((p) => !placeholders.has(p)));

  writeFileSync(join(common.root, target), report.text);
  const model = r.prepared?.model;
  const out = [
    `wrote ${target} from ${envFile(from)}: ${report.addresses} addresses re-based into ${values.cidr}, ${report.renamed} names, ${report.arns} ARNs rewritten${report.certificates.length ? `, ${report.certificates.length} certificate placeholders` : ''}`,
    '',
    'Next steps:',
    `  1. In account ${accountId} (${region ?? aws?.region}), create the SSM parameters it references:`,
    ...(params.length ? params.map((p) => `       ${p}  (String)`) : []),
    ...report.certificates.map((c) => `       ${c.parameter}  (String: the ACM certificate ARN${c.host ? ` for ${c.host}` : ''})`),
    ...report.secrets.map((p) => `       ${p}  (SecureString)`),
    `  2. Lock their values and render: AWS_PROFILE=<profile of ${accountId}> npm run synth -- --env ${name} --refresh-ssm`,
    // The cluster's own secrets, as its distribution creates them (the default distribution's when the file did not validate).
    `  3. ${(model ? distributionOf(model) : distributions()[0]!).operations.newEnvironmentSecrets(name, model)}`,
    `  4. Review environments/${name}.yaml (description, node names, sizes), then npm run validate -- --env ${name} and npm run diff`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main);
