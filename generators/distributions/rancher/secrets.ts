/**
 * The SecureStrings the nodes of this family's distributions read at first boot: the server and agent
 * tokens and, for Kine on PostgreSQL, the database password (names only; nothing is read here). Beside the
 * server token, its pending parameter (./token-rotate.ts): rotate-token.sh writes it and the servers' role
 * reads and writes it, so the access graph guards it as a node token too (no one creates it by hand).
 */
import type { ResolvedEnvironment } from '../../load/loader.js';
import { derivedSecret, putSecureStringCommand, sensitive, writesSecret, type SecretDependency } from '../../model/secrets.js';
import type { EnvironmentModel } from '../../model/types.js';
import { rancherCluster, type RancherKeys } from './model.js';
import { pendingTokenParameter, TOKEN_ROTATE_SCRIPT } from './token-rotate.js';

export function rancherSecrets(keys: RancherKeys, title: string, env: ResolvedEnvironment, m: EnvironmentModel): SecretDependency[] {
  const region = m.aws.region;
  const c = rancherCluster(m);
  const token = c.token.secret;
  const agentToken = c.agentToken.secret;
  const server = sensitive(derivedSecret(env, token, ['cluster', keys.name, 'token'], `${title} server token (read by the servers at first boot)`, putSecureStringCommand(region, token, '"$(openssl rand -hex 32)"'), writesSecret(token)), 'node-token');
  const { create: _none, ...named } = server;
  const out = [
    server,
    { ...named, name: pendingTokenParameter(token), purpose: `${title} server token pending in a rotation (written by ${keys.name}/${TOKEN_ROTATE_SCRIPT}, read back by the servers)`, writtenBy: TOKEN_ROTATE_SCRIPT },
    sensitive(derivedSecret(env, agentToken, ['cluster', keys.name, 'agentToken'], `${title} agent token (read by every node at first boot)`, putSecureStringCommand(region, agentToken, '"$(openssl rand -hex 32)"'), writesSecret(agentToken)), 'node-token'),
  ];
  const d = m.cluster.datastore;
  if (d.type === 'kine-postgres') {
    const pw = d.postgres.password.secret;
    out.push(
      sensitive(derivedSecret(env, pw, ['cluster', 'datastore', 'postgres', 'password'], `Kine PostgreSQL password of role ${d.postgres.user} (read by the servers at first boot)`, putSecureStringCommand(region, pw, `'<password of PostgreSQL role ${d.postgres.user}>'`), writesSecret(pw)), 'datastore-password'),
    );
  }
  return out;
}

/** `npm run new-env`'s step for the tokens (their names from the model, when the new file validates). */
export function rancherSetupSecrets(title: string, m: EnvironmentModel | undefined): string {
  const c = m ? rancherCluster(m) : undefined;
  return `Secrets: the ${title} tokens ${c?.token.secret ?? '<token>'} and ${c?.agentToken.secret ?? '<agent token>'} (SecureString), and any { secret } the file references`;
}
