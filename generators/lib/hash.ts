/**
 * SHA-256 and canonical JSON: stable fingerprints of content and data.
 */
import { createHash } from 'node:crypto';

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
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
