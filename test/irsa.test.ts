import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { main as talosCli } from '../generators/distributions/talos/commands/talos.js';
import { issuerDocuments } from '../generators/distributions/talos/irsa.js';
import { EXAMPLES } from './helpers.js';

describe('IRSA issuer documents', () => {
  // Generated in memory for the test; never written anywhere.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('publish the public key with the kid kube-apiserver puts in its tokens', () => {
    const docs = issuerDocuments('https://oidc.example.com/odp-prod/', pem);
    const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    const jwk = createPublicKey(pem).export({ format: 'jwk' });
    expect(docs.jwks).toStrictEqual({ keys: [{ use: 'sig', kty: 'RSA', kid: createHash('sha256').update(der).digest('base64url'), alg: 'RS256', n: jwk.n, e: jwk.e }] });
    expect(docs.openidConfiguration).toMatchObject({ issuer: 'https://oidc.example.com/odp-prod', jwks_uri: 'https://oidc.example.com/odp-prod/keys.json', id_token_signing_alg_values_supported: ['RS256'] });
    expect(JSON.stringify(docs)).not.toContain('PRIVATE');
  });

  it('take the key as talosctl writes it (base64 of the PEM) too', () => {
    expect(issuerDocuments('https://i', Buffer.from(pem).toString('base64'))).toStrictEqual(issuerDocuments('https://i', pem));
  });

  it('refuse a key that cannot sign RS256', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => issuerDocuments('https://i', ec)).toThrow(/IRSA needs RS256/);
  });

  it('the command refuses an environment without IRSA', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(talosCli(['irsa', 'documents', '--env', 'prod', '--out-dir', '/tmp/x', '--root', EXAMPLES])).rejects.toThrow(/does not use IRSA/);
    vi.restoreAllMocks();
  });
});
