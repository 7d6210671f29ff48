/**
 * Subnet tiers and ALB placement: every Ingress is rendered with `alb.ingress.kubernetes.io/subnets`
 * naming the subnets of its scheme's tier (internet-facing → public, internal → private), one per
 * Availability Zone, and an ALB needs at least two zones (AWS ELB; the Load Balancer Controller
 * refuses fewer). These rules make sure each scheme in use has them, with IDs to name.
 */
import type { DocPath } from '../lib/paths.js';
import { ALB_MIN_ZONES, albSubnets, tierOf, type AlbScheme } from '../model/aws.js';
import type { SubnetInput, WorkloadInput } from '../model/input.js';
import type { Rule } from './rules.js';

const RULE = 'ingress-subnets';

const describe = (subnets: readonly SubnetInput[]): string => (subnets.length === 0 ? 'none' : subnets.map((s) => `${s.name} (${s.zone})`).join(', '));
const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

/** A zone of the region the tier has no subnet in yet, for the hint's example. */
function freeZone(region: string, taken: ReadonlySet<string>, known: readonly string[]): string {
  const candidates = [...known, ...'abcdef'.split('').map((l) => `${region}${l}`)];
  return candidates.find((z) => !taken.has(z)) ?? `${region}b`;
}

const ingressSubnets: Rule = ({ input }, report) => {
  const users = new Map<AlbScheme, { w: WorkloadInput; i: number }[]>();
  (input.workloads ?? []).forEach((w, i) => {
    // A cronjob serves no traffic and gets no Ingress (workload-kind reports its ingress).
    if (!w.ingress || (w.kind ?? 'deployment') === 'cronjob') return;
    const scheme = w.ingress.scheme ?? 'internal';
    users.set(scheme, [...(users.get(scheme) ?? []), { w, i }]);
  });
  const all = input.aws.vpc.subnets;
  // A subnet whose public is no boolean (`public: yes`) is reported by the schema; its tier is unknown, so counting
  // it as private would add a second, wrong error about the same line.
  if (all.some((s) => s.public !== undefined && typeof s.public !== 'boolean')) return;
  for (const [scheme, ws] of users) {
    const tier = tierOf(scheme);
    const first = ws[0]!;
    const at: DocPath = first.w.ingress!.scheme !== undefined ? ['workloads', first.i, 'ingress', 'scheme'] : ['workloads', first.i, 'ingress'];
    const names = quoted(ws.map((x) => x.w.name));
    const chosen = albSubnets(all, scheme);
    const ofTier = all.filter((s) => (s.public ?? false) === (tier === 'public'));
    const other = all.filter((s) => !ofTier.includes(s));
    if (chosen.length < ALB_MIN_ZONES) {
      const missing = ALB_MIN_ZONES - chosen.length;
      const zones = new Set(chosen.map((s) => s.zone));
      const zone = freeZone(input.aws.region, zones, all.map((s) => s.zone));
      const letter = zone.slice(-1);
      const example = `{ name: ${tier}-${letter}, id: { ssm: /odp/${input.name}/network/subnet-${tier}-${letter} }, cidr: …, zone: ${zone}${tier === 'public' ? ', public: true' : ''} }`;
      const have = chosen.length === 0 ? `no ${tier} subnet` : `${tier} subnets in ${chosen.length} zone only: ${describe(ofTier)}`;
      report(
        RULE,
        at,
        `the ${scheme} ALB of workload${ws.length > 1 ? 's' : ''} ${names} needs ${tier} subnets in at least ${ALB_MIN_ZONES} Availability Zones, but aws.vpc.subnets has ${have} (${tier === 'public' ? 'private' : 'public'}: ${describe(other)}); missing: ${tier} subnets in ${missing} more zone${missing > 1 ? 's' : ''}`,
        {
          hint:
            tier === 'public'
              ? `add public subnets (a route to an internet gateway) to aws.vpc.subnets with public: true, in ${missing > 1 ? `${missing} zones` : 'another zone'}, e.g. ${example}; or use scheme: internal`
              : `add a private subnet in ${missing > 1 ? `${missing} zones` : 'another zone'} to aws.vpc.subnets, e.g. ${example}`,
          key: first.w.ingress!.scheme === undefined,
        },
      );
      continue;
    }
    for (const s of chosen) {
      if (s.id !== undefined) continue;
      report(RULE, ['aws', 'vpc', 'subnets', all.indexOf(s)], `subnet '${s.name}' has no id, but the ${scheme} ALB of workload${ws.length > 1 ? 's' : ''} ${names} is placed in it (alb.ingress.kubernetes.io/subnets names subnets by id)`, {
        hint: `add id: { ssm: /odp/${input.name}/network/subnet-${s.name} } (or id: subnet-…)`,
        key: true,
      });
    }
  }
};

export const SUBNET_RULES: readonly Rule[] = [ingressSubnets];
