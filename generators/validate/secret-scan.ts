/**
 * Secret-shaped values in text: what must never reach rendered/ (and so git). Line-based, like
 * /work/shared/tools/secret-scan.mjs, plus the raw secret shapes of a node secrets bundle (base64 PEM keys, join tokens).
 */
import type { Diagnostic } from './diagnostics.js';

export const SECRET_PATTERNS: readonly { name: string; re: RegExp }[] = [
  { name: 'PEM private key', re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/ },
  { name: 'base64 PEM private key', re: /LS0tLS1CRUdJTi[A-Za-z0-9+/]*UFJJVkFURSBLRVkt/ },
  { name: 'base64 PEM block (certificate or key material inlined)', re: /LS0tLS1CRUdJTi/ },
  { name: 'AWS access key id', re: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'AWS secret key', re: /aws_secret_access_key\s*[:=]\s*['"]?[A-Za-z0-9/+]{40}/i },
  { name: 'bootstrap/trustd token', re: /(?<![0-9a-z])[0-9a-z]{6}\.[0-9a-z]{16}(?![0-9a-z])/ },
  { name: 'key-sized base64 under a secret-named field', re: /\b(secret|token|key|password|passphrase|encryptionSecret|id)\w*\s*:\s*['"]?[A-Za-z0-9+/_-]{43}=['"]?\s*$/im },
  { name: 'password literal in a URL', re: /:\/\/[^\s:@/]+:[^\s@/${}<>]{6,}@/ },
];

export function scanSecrets(file: string, text: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { name, re } of SECRET_PATTERNS)
      if (re.test(line)) out.push({ severity: 'error', rule: 'secret-shaped', file, line: i + 1, col: 1, path: [], message: `${name}`, hint: 'secrets live in SSM; rendered files carry references' });
  });
  return out;
}
