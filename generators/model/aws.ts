/** Facts about EC2 instance types, used by validation and the model. */
import { cidrContains, parseCidr, parseIpv4 } from '../lib/cidr.js';

export interface InstanceTypeInfo {
  family: string;
  /** Letters after the generation digit(s), e.g. `g` in m7g, `dn` in g4dn. */
  attributes: string;
}

export function parseInstanceType(instanceType: string): InstanceTypeInfo {
  const family = instanceType.split('.')[0] ?? instanceType;
  const m = /^([a-z]+)(\d+)([a-z-]*)/.exec(family);
  return { family, attributes: m ? m[3]! : '' };
}

/**
 * The node label every GPU node carries (set by the generator in every distribution's node configs)
 * and the nvidia-device-plugin DaemonSet selects on.
 */
export const GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';

/** ALB schemes (`alb.ingress.kubernetes.io/scheme`) and the subnet tier each is placed in. */
export type AlbScheme = 'internet-facing' | 'internal';
export const ALB_MIN_ZONES = 2;

export interface TieredSubnet {
  name: string;
  id?: string;
  zone: string;
  public?: boolean;
}

/** Public subnets for internet-facing ALBs, private ones for internal ALBs. */
export const tierOf = (scheme: AlbScheme): 'public' | 'private' => (scheme === 'internet-facing' ? 'public' : 'private');

/**
 * The subnets an ALB of `scheme` is placed in: the subnets of its tier, one per Availability Zone
 * (the AWS Load Balancer Controller refuses two explicit subnets in one zone) — the first declared
 * in that zone — ordered by zone. An ALB needs at least ALB_MIN_ZONES of them.
 */
export function albSubnets<S extends TieredSubnet>(subnets: readonly S[], scheme: AlbScheme): S[] {
  const wantPublic = scheme === 'internet-facing';
  const byZone = new Map<string, S>();
  for (const s of subnets) if ((s.public ?? false) === wantPublic && !byZone.has(s.zone)) byZone.set(s.zone, s);
  return [...byZone.values()].sort((a, b) => a.zone.localeCompare(b.zone));
}

/** The EC2 instance metadata service (IMDS) address; the schema allows IPv4 CIDRs only, so no fd00:ec2::254. */
export const IMDS_IPV4 = '169.254.169.254';

/**
 * The NetworkPolicy ipBlock of an egress CIDR: a CIDR wider than IMDS that contains it (e.g.
 * 0.0.0.0/0) excepts it, so that no workload reads the node's instance-profile credentials or
 * user data (hop limit 2 would otherwise let pods reach it). A CIDR that is IMDS itself is refused
 * by validation (an except must be a strict subset).
 */
export function egressIpBlock(cidr: string): { cidr: string; except?: string[] } {
  const c = parseCidr(cidr);
  return c && c.bits < 32 && cidrContains(c, parseIpv4(IMDS_IPV4)!) ? { cidr, except: [`${IMDS_IPV4}/32`] } : { cidr };
}
