/** IPv4 and CIDR arithmetic (enough for validation: parse, contain, overlap). */
export interface Cidr {
  base: number;
  bits: number;
  text: string;
}

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

const mask = (bits: number): number => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** Parse `a.b.c.d/n`; `undefined` when malformed. `hostBits` tells whether bits below the prefix are set. */
export function parseCidr(text: string): (Cidr & { hostBits: boolean }) | undefined {
  const [ip, len, extra] = text.split('/');
  if (ip === undefined || len === undefined || extra !== undefined || !/^[0-9]{1,2}$/.test(len)) return undefined;
  const bits = Number(len);
  const addr = parseIpv4(ip);
  if (addr === undefined || bits > 32) return undefined;
  const base = (addr & mask(bits)) >>> 0;
  return { base, bits, text, hostBits: base !== addr };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.bits)) >>> 0) === c.base;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  return ((a.base & mask(bits)) >>> 0) === ((b.base & mask(bits)) >>> 0);
}

export function cidrInside(inner: Cidr, outer: Cidr): boolean {
  return inner.bits >= outer.bits && cidrContains(outer, inner.base);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The number of addresses in a CIDR block. */
export const cidrSize = (c: Cidr): number => 2 ** (32 - c.bits);

/**
 * The addresses of a subnet an EC2 instance may take: AWS reserves the first four (network address,
 * VPC router, DNS, future use) and the last (broadcast) of every subnet CIDR block. Source: Amazon VPC
 * User Guide, "Subnet CIDR blocks" ("The first four IP addresses and the last IP address in each subnet
 * CIDR block are not available for your use, and they cannot be assigned to a resource, such as an EC2
 * instance"). Undefined for a block of five addresses or fewer (AWS allows /16 to /28 anyway).
 */
export function usableRange(c: Cidr): { first: number; last: number } | undefined {
  const size = cidrSize(c);
  if (size <= 5) return undefined;
  return { first: c.base + 4, last: c.base + size - 2 };
}
