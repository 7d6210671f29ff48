/** A real-shaped `talosctl gen secrets` bundle generated in memory (CA certs via @peculiar/x509). */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import { toYaml } from '../generators/lib/yaml.js';
import { bundleToTalosYaml, type SecretsBundle } from '../generators/distributions/talos/secrets.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type Alg = { name: 'ECDSA'; namedCurve: 'P-256' } | { name: 'Ed25519' };
type KeyPair = webcrypto.CryptoKeyPair;

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const token = (): string => {
  const a = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => Array.from(randomBytes(n), (b) => a[b % a.length]).join('');
  return `${pick(6)}.${pick(16)}`;
};

async function ca(alg: Alg, name: string): Promise<{ crt: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2036-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: alg.name === 'Ed25519' ? alg : { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true)],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const pem = alg.name === 'Ed25519' ? key.export({ format: 'pem', type: 'pkcs8' }) : key.export({ format: 'pem', type: 'sec1' });
  return { crt: b64(cert.toString('pem') + '\n'), key: b64(pem as string) };
}

let cached: Promise<SecretsBundle> | undefined;

/** One bundle per test run (RSA-4096 generation takes a moment). */
export function testBundle(): Promise<SecretsBundle> {
  cached ??= (async () => {
    const ec = { name: 'ECDSA', namedCurve: 'P-256' } as const;
    const [etcd, k8s, agg, os] = await Promise.all([ca(ec, 'O=etcd'), ca(ec, 'O=kubernetes'), ca(ec, 'CN=front-proxy'), ca({ name: 'Ed25519' }, 'O=talos')]);
    const sa = generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    return {
      'cluster.id': randomBytes(32).toString('base64url') + '=',
      'cluster.secret': randomBytes(32).toString('base64'),
      'secrets.bootstraptoken': token(),
      'secrets.secretboxencryptionsecret': randomBytes(32).toString('base64'),
      'trustdinfo.token': token(),
      'certs.etcd.crt': etcd.crt,
      'certs.etcd.key': etcd.key,
      'certs.k8s.crt': k8s.crt,
      'certs.k8s.key': k8s.key,
      'certs.k8saggregator.crt': agg.crt,
      'certs.k8saggregator.key': agg.key,
      'certs.k8sserviceaccount.key': b64(sa),
      'certs.os.crt': os.crt,
      'certs.os.key': os.key,
    };
  })();
  return cached;
}

export const bundleYaml = (b: SecretsBundle): string => toYaml(bundleToTalosYaml(b));
