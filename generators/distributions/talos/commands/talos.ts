/**
 * `npm run talos`: Talos' apply-time commands (secrets import, configs with secrets, IRSA keys); the one
 * place of the distribution that talks to AWS, bundled by generators/build/ like the core commands.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toYaml } from '../../../lib/yaml.js';
import { renderEnvironment, type PreparedEnvironment } from '../../../pipeline.js';
import { talosConfigPath } from '../render.js';
import { createSsmClient } from '../../../ssm/client.js';
import { commandsText } from '../operations.js';
import { NODE_OPERATIONS, NODE_PHASES, nodeOperationRefusal, runbookCommand, runbookScript, type NodeOperation, type RunbookPhase, type RunbookScript } from '../runbook.js';
import { issuerDocuments } from '../irsa.js';
import { assertOutsideRepo, fetchBundle, importBundle, materializeConfig, writeSecretFile } from './lib/materialize.js';
import { bundleToTalosYaml } from '../secrets.js';
import { findPlaceholders } from '../../../lib/placeholder.js';
import { hasErrors, InputError, UsageError } from '../../../validate/diagnostics.js';
import { RENDERED_DIR } from '../../../write/writer.js';
import { parseCommand, plural, printDiagnostics, run, summary } from '../../../cli/common.js';
import { prepareAll } from '../../../cli/prepare.js';

const HELP = `Usage: npm run talos -- <command> [options]

Commands:
  secrets import --env E --from secrets.yaml [--kms-key K] [--force]
        Validate a 'talosctl gen secrets' bundle and store it as the SSM SecureString of
        cluster.talos.secretsBundle.parameter (default /odp/<env>/talos/secrets-bundle).
        Refuses to replace an existing bundle without --force: new secrets lock operators out of a
        running cluster (every CA, token and the service-account key change).
  secrets export --env E --out FILE
        Write the bundle back as secrets.yaml (mode 0600, outside the repository), e.g. for
        'talosctl gen config --with-secrets FILE --output-types talosconfig'.
  config --env E --node N (--out FILE | --stdout)
        The committed rendered/<env>/talos/<N>.yaml with every secrets reference filled from SSM,
        written with mode 0600 outside the repository. N is a node, or a pool for auto-scaled pools.
        Refused while the environment's SSM lock holds placeholders of npm run new-env (they would
        reach the node): refresh it first (npm run synth -- --env E --refresh-ssm).
  irsa documents --env E --out-dir DIR
        The OIDC discovery documents of the IRSA issuer (aws.iam.issuerURL):
        DIR/.well-known/openid-configuration and DIR/keys.json, derived from the public half of
        the bundle's service-account key. Public: upload them to the issuer (S3/CloudFront).
        Refused, like config, while the SSM lock holds placeholders.
  commands --env E <bootstrap|apply|upgrade|upgrade-k8s|restore>
        The runbook's script of that phase, on stdout, safe to pipe to sh (summary on stderr):
        bootstrap (first apply, etcd bootstrap, kubeconfig), apply (changed configs, gated),
        upgrade (control planes one at a time, etcd healthy between, then workers), upgrade-k8s,
        restore (destructive: needs ODP_CONFIRM_RESTORE=<env>; SNAPSHOT, REPLACED,
        SNAPSHOT_FROM_DB_COPY=1 for a copied db).
  commands --env E upgrade --node N
        The upgrade script for one fixed node N alone (gated before and after; a failed upgrade says
        where it left the node and the next step). Not for a pool (its instance refresh upgrades it).
  commands --env E apply --node N
        The apply script for the config of one node, or of a pool's registered nodes, alone (gated).
  commands --env E join --node N
        The first apply of a new fixed node waiting in maintenance mode (apply-config --insecure), the
        cluster gated before and after; a control plane joins etcd only while no other one is still a
        learner, and is waited for until it is a voting member: add control planes one at a time.
  commands --env E remove --node N
        Run before the merge that removes N (N still in the environment). A control plane: refused
        when it is the last etcd member or its removal would cost etcd its quorum; else drained, etcd
        left, reset (wiped, powered off), its Node deleted, gated. A worker: drained, reset, Node
        deleted, gated. A pool: its Nodes drained (the merge deletes its group).
  commands --env E [--node N]
        Every talosctl command for the environment (or one node), as a reference list.

Options: --root DIR (repository), --debug, -h/--help.
Exit codes: 0 ok, 1 findings, 2 invalid input or usage, 3 AWS failure.`;

function prepareOne(root: string, env: unknown): PreparedEnvironment {
  if (typeof env !== 'string') throw new UsageError(`--env is required\n\n${HELP}`);
  const { prepared, diagnostics } = prepareAll(root, [env]);
  if (hasErrors(diagnostics) || !prepared[0]) throw new InputError(diagnostics);
  printDiagnostics(diagnostics);
  if (prepared[0].model.cluster.distribution !== 'talos') throw new UsageError(`environment ${env} is not a Talos cluster (distribution ${prepared[0].model.cluster.distribution})`);
  return prepared[0];
}

/**
 * A config is never materialized, nor issuer documents published, while the environment's SSM lock
 * holds placeholders of npm run new-env (lib/placeholder.ts): they would reach a node (the API
 * endpoint, SANs) or the issuer. Names them, and which of them the committed file carries.
 */
function refusePlaceholders(p: PreparedEnvironment, what: string, text?: string): void {
  if (p.ssmPlaceholders.length === 0) return;
  const carried = text === undefined ? [] : findPlaceholders(text);
  throw new UsageError(
    [
      `refusing to ${what}: environments/${p.name}.ssm.lock.json still holds placeholders of npm run new-env (${p.ssmPlaceholders.join(', ')})${carried.length > 0 ? `, and the config carries ${carried.join(', ')}` : ''}.`,
      `Create the SSM parameters in account ${p.model.aws.accountId} (${p.model.aws.region}), then npm run synth -- --env ${p.name} --refresh-ssm, review and commit.`,
    ].join('\n'),
  );
}

function requireTarget(p: PreparedEnvironment, node: unknown): string {
  const names = p.model.configTargets.map((t) => t.name);
  if (typeof node !== 'string') throw new UsageError(`--node is required (one of: ${names.join(', ')})`);
  if (!names.includes(node)) throw new UsageError(`environment ${p.name} has no node or auto-scaled pool '${node}' (have: ${names.join(', ')})`);
  return node;
}

function writeOutput(root: string, out: string, text: string): string {
  const abs = assertOutsideRepo(root, out);
  mkdirSync(dirname(abs), { recursive: true, mode: 0o700 });
  writeSecretFile(abs, text);
  return abs;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals, common } = parseCommand(
    argv,
    {
      env: { type: 'string' },
      node: { type: 'string' },
      from: { type: 'string' },
      out: { type: 'string' },
      stdout: { type: 'boolean' },
      force: { type: 'boolean' },
      'kms-key': { type: 'string' },
      'out-dir': { type: 'string' },
    },
    HELP,
    true,
  );
  const cmd = positionals.join(' ');
  const root = common.root;
  if (cmd === '') throw new UsageError(HELP);
  const started = performance.now();
  /** The one-line summary; on stderr when stdout carries the machine config. */
  const done = (text: string, toStderr = false): number => {
    summary(`talos ${cmd}`, text, started, toStderr ? process.stderr : process.stdout);
    return 0;
  };
  switch (cmd) {
    case 'secrets import': {
      const p = prepareOne(root, values.env);
      if (typeof values.from !== 'string') throw new UsageError('--from secrets.yaml is required');
      if (!existsSync(values.from)) throw new UsageError(`no such file: ${values.from}`);
      const r = await importBundle(createSsmClient(p.model.aws.region), p.model, readFileSync(values.from, 'utf8'), {
        source: values.from,
        force: Boolean(values.force),
        kmsKeyId: typeof values['kms-key'] === 'string' ? values['kms-key'] : undefined,
      });
      process.stderr.write(`${r.replaced ? 'replaced' : 'stored'} ${r.parameter} (version ${r.version})\n`);
      return done(`${p.name}: secrets bundle ${r.replaced ? 'replaced' : 'stored'} in SSM, nothing written locally`);
    }
    case 'secrets export': {
      const p = prepareOne(root, values.env);
      if (typeof values.out !== 'string') throw new UsageError('--out FILE is required');
      const bundle = await fetchBundle(createSsmClient(p.model.aws.region), p.model);
      const abs = writeOutput(root, values.out, toYaml(bundleToTalosYaml(bundle)));
      process.stderr.write(`wrote ${abs} (0600)\n`);
      return done(`${p.name}: 1 file written outside the repository`);
    }
    case 'config': {
      const p = prepareOne(root, values.env);
      const node = requireTarget(p, values.node);
      if ((typeof values.out === 'string') === Boolean(values.stdout)) throw new UsageError('give exactly one of --out FILE or --stdout');
      const rel = talosConfigPath(node);
      const committedPath = join(root, RENDERED_DIR, p.name, rel);
      const fresh = renderEnvironment(p).find((f) => f.path === rel)!;
      const committed = existsSync(committedPath) ? readFileSync(committedPath, 'utf8') : undefined;
      if (committed !== fresh.content)
        throw new UsageError(`${RENDERED_DIR}/${p.name}/${rel} is ${committed === undefined ? 'missing' : 'out of date'}: run npm run synth -- --env ${p.name}, review and commit, then materialize`);
      refusePlaceholders(p, `materialize ${p.name}/${node}`, committed);
      const bundle = await fetchBundle(createSsmClient(p.model.aws.region), p.model);
      const text = materializeConfig(committed, bundle, `${p.name}/${node}`);
      if (values.stdout) process.stdout.write(text);
      else process.stderr.write(`wrote ${writeOutput(root, values.out as string, text)} (0600)\n`);
      return done(`${p.name}/${node}: config materialized ${values.stdout ? 'to stdout' : '(1 file written outside the repository)'}`, Boolean(values.stdout));
    }
    case 'irsa documents': {
      const p = prepareOne(root, values.env);
      const issuer = p.model.aws.iam.issuerURL;
      if (p.model.aws.iam.mode !== 'irsa' || !issuer) throw new UsageError(`environment ${p.name} does not use IRSA (aws.iam: { mode: irsa, issuerURL: … })`);
      if (typeof values['out-dir'] !== 'string') throw new UsageError('--out-dir DIR is required');
      refusePlaceholders(p, `write the issuer documents of ${p.name}`, issuer);
      const bundle = await fetchBundle(createSsmClient(p.model.aws.region), p.model);
      const docs = issuerDocuments(issuer, bundle['certs.k8sserviceaccount.key']);
      const dir = values['out-dir'];
      mkdirSync(join(dir, '.well-known'), { recursive: true });
      writeFileSync(join(dir, '.well-known', 'openid-configuration'), JSON.stringify(docs.openidConfiguration, null, 2) + '\n');
      writeFileSync(join(dir, 'keys.json'), JSON.stringify(docs.jwks, null, 2) + '\n');
      process.stderr.write(`wrote ${join(dir, '.well-known', 'openid-configuration')} and ${join(dir, 'keys.json')}; publish them at ${issuer}/.well-known/openid-configuration and ${issuer}/keys.json\n`);
      return done(`${p.name}: 2 files written to ${dir}`);
    }
    case 'commands bootstrap':
    case 'commands apply':
    case 'commands upgrade':
    case 'commands upgrade-k8s':
    case 'commands restore':
    case 'commands join':
    case 'commands remove': {
      const p = prepareOne(root, values.env);
      const phase = positionals[1] as RunbookScript;
      if (values.node === undefined && NODE_OPERATIONS.includes(phase as NodeOperation)) throw new UsageError(`the ${phase} script is for one node: --node is required (${runbookCommand(p.name, phase, '<node>')})`);
      if (values.node === undefined) {
        process.stdout.write(runbookScript(p.model, phase));
        return done(`${p.name}: ${phase} script (pipe it to sh)`, true);
      }
      // One node's step (the README's and the review comment's: runbookCommand): the script's functions for that node alone.
      const operation = NODE_OPERATIONS.includes(phase as NodeOperation);
      if (!operation && !NODE_PHASES.includes(phase as RunbookPhase)) throw new UsageError(`--node goes with the ${[...NODE_PHASES, ...NODE_OPERATIONS].join(', ')} scripts only (the ${phase} script is for the whole cluster)`);
      const node = requireTarget(p, values.node);
      const refused = operation ? nodeOperationRefusal(p.model, phase as NodeOperation, node) : undefined;
      if (refused) throw new UsageError(refused);
      if (phase === 'upgrade' && !p.model.configTargets.find((t) => t.name === node)!.node)
        throw new UsageError(`${node} is an auto-scaled pool: never upgraded in place; the whole upgrade script joins its instance refresh (${runbookCommand(p.name, 'upgrade')})`);
      process.stdout.write(runbookScript(p.model, phase, node));
      return done(`${p.name}: ${phase} script for ${node}${operation ? '' : ' alone'} (pipe it to sh)`, true);
    }
    case 'commands': {
      const p = prepareOne(root, values.env);
      const node = values.node === undefined ? undefined : requireTarget(p, values.node);
      process.stdout.write(commandsText(p.model, node));
      return done(`${p.name}: commands for ${node ?? plural(p.model.configTargets.length, 'node config')}`);
    }
    default:
      throw new UsageError(`unknown command '${cmd}'\n\n${HELP}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run(main, 'talos');
