/**
 * The EC2 user data as carried in a template: its text as the distribution renders it (the review copy under
 * rendered/<env>/<dist>/userdata/ is that text), and the bytes EC2 holds, which are what its 16 KB limit counts
 * (USER_DATA_LIMIT) and what DescribeInstanceAttribute userData returns (base64 of them).
 *
 * - `text`: the bytes are the UTF-8 text; the template carries it as `Fn::Base64` of the text (readable in the
 *   template).
 * - `gzip`: the bytes are the text gzip-compressed; the template carries them as a literal base64 string
 *   (`Fn::Base64` encodes a string, not binary: AWS CloudFormation template reference, Fn::Base64; UserData takes the
 *   base64 of the user data). A distribution asks for it (DistributionAwsFacts.userDataEncoding) when what reads its
 *   user data on the instance accepts gzip, with the upstream source cited there.
 *
 * The bytes are deterministic whatever the Node version: fflate (pure JavaScript, pinned exactly in package.json)
 * deflates at level 9 with its memory level given (its default is derived from Math.log of the input size), and its
 * gzip header has no file name and MTIME 0 (fflate gzh: `if (o.mtime != 0)` writes the time, else it stays 0;
 * RFC 1952 2.3.1: "MTIME = 0 means no time stamp is available"); node:zlib is not used, as the zlib Node bundles
 * differs between releases and so may its deflate output.
 */
import { gunzipSync, gzipSync, strFromU8, strToU8 } from 'fflate';
import { base64, type Value } from './template.js';
import type { ConfigTarget, EnvironmentModel } from '../../model/types.js';
import type { DistributionAwsFacts } from './facts.js';

export type UserDataEncoding = 'text' | 'gzip';

export interface CarriedUserData {
  /** The user data as rendered (what cloud-init reads once it has decompressed it). */
  text: string;
  encoding: UserDataEncoding;
  /** The bytes EC2 holds (its limit counts these). */
  bytes: Uint8Array;
}

/** The gzip magic bytes (RFC 1952 2.3.1: ID1 31, ID2 139). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

export function carryUserData(text: string, encoding: UserDataEncoding): CarriedUserData {
  const raw = strToU8(text);
  return { text, encoding, bytes: encoding === 'gzip' ? gzipSync(raw, { level: 9, mem: 8, mtime: 0 }) : raw };
}

/** A target's user data as its distribution's facts carry it (undefined: the instance boots without). */
export function carriedUserData(facts: DistributionAwsFacts, m: EnvironmentModel, t: ConfigTarget): CarriedUserData | undefined {
  const text = facts.userData(m, t);
  return text === undefined ? undefined : carryUserData(text, facts.userDataEncoding ?? 'text');
}

/** The template's UserData property for it. */
export function userDataProperty(c: CarriedUserData): Value<string> {
  return c.encoding === 'gzip' ? Buffer.from(c.bytes).toString('base64') : base64(c.text);
}

/** Whether bytes are gzip (RFC 1952 magic). */
export const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];

/**
 * A template's UserData property read back: the bytes EC2 would hold and the text cloud-init reads (gunzipped when
 * they are gzip, as cloud-init does: infra/aws's caller's distribution cites where). `Fn::Base64` of a string is its
 * UTF-8 bytes; a literal string is the base64 of the bytes. Undefined for anything else (another intrinsic).
 */
export function readUserData(value: unknown): CarriedUserData | undefined {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const inner = (value as Record<string, unknown>)['Fn::Base64'];
    return typeof inner === 'string' ? { text: inner, encoding: 'text', bytes: strToU8(inner) } : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const bytes = new Uint8Array(Buffer.from(value, 'base64'));
  if (!isGzip(bytes)) return { text: strFromU8(bytes), encoding: 'text', bytes };
  try {
    return { text: strFromU8(gunzipSync(bytes)), encoding: 'gzip', bytes };
  } catch {
    return undefined;
  }
}

/** After its size in bytes: what the bytes are, when compressed (` (gzip of its M-byte text)`), else nothing. */
export const compressedFrom = (c: CarriedUserData): string => (c.encoding === 'gzip' ? ` (gzip of its ${Buffer.byteLength(c.text)}-byte text)` : '');
