/**
 * IRSA on a self-managed cluster: the OIDC discovery documents AWS IAM reads from the issuer URL
 * (aws.iam.issuerURL). They hold only the public half of the service-account signing key
 * (cluster.serviceAccount.key of the Talos secrets bundle), so they may be published; they are
 * derived when needed (`npm run talos -- irsa documents`), because the key lives in SSM, not in git.
 *
 * Shapes follow Kubernetes' own service-account issuer discovery (kube-apiserver
 * /.well-known/openid-configuration and /openid/v1/jwks): `kid` is the unpadded base64url SHA-256 of
 * the DER (PKIX) public key, as pkg/serviceaccount/jwt.go keyIDFromPublicKey computes it, so tokens
 * the API server signs carry the same `kid`.
 */
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';

export interface IssuerDocuments {
  /** Served at <issuer>/.well-known/openid-configuration */
  openidConfiguration: Record<string, unknown>;
  /** Served at <issuer>/keys.json (the jwks_uri). */
  jwks: { keys: JsonWebKey[] };
}

/** A PEM private key, or the base64 of one (as talosctl gen secrets writes keys). */
function pemOf(key: string): string {
  const trimmed = key.trim();
  return trimmed.startsWith('-----BEGIN') ? trimmed : Buffer.from(trimmed, 'base64').toString('utf8');
}

export function issuerDocuments(issuerURL: string, serviceAccountKey: string): IssuerDocuments {
  const issuer = issuerURL.replace(/\/+$/, '');
  const publicKey = createPublicKey(pemOf(serviceAccountKey));
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error(`the service-account key is ${publicKey.asymmetricKeyType}, IRSA needs RS256 (an RSA key)`);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = createHash('sha256').update(der).digest('base64url');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    openidConfiguration: {
      issuer,
      jwks_uri: `${issuer}/keys.json`,
      authorization_endpoint: 'urn:kubernetes:programmatic_authorization',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['sub', 'iss'],
    },
    jwks: { keys: [{ use: 'sig', kty: 'RSA', kid, alg: 'RS256', n: jwk.n, e: jwk.e }] },
  };
}
