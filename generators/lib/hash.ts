/**
 * SHA-256 and canonical JSON: stable fingerprints of content and data.
 */
import { hash } from 'node:crypto';

/**
 * Hex sha256 of a text (UTF-8) or bytes. The one-shot `crypto.hash` (Node 20.12+; engines ≥ 20.19):
 * a third of the CPU of `createHash().update().digest()` for the short texts hashed here, hundreds
 * of times per run (issue 23, sixth pass).
 */
export function sha256(text: string | Uint8Array): string {
  return hash('sha256', text, 'hex');
}

/** JSON with sorted keys: a stable text for hashing values. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const src = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(src).sort().map((k) => [k, src[k]]));
    }
    return v;
  });
}
