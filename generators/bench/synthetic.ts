/**
 * Synthetic environments for the scale benchmark: copies of prod's resolved environment (its pools,
 * add-ons and workloads) under other names, cluster endpoints and address ranges, as in-memory
 * environment sources for the real pipeline.
 */
import { SCHEMA_COMMENT } from '../load/loader.js';
import { toYaml } from '../lib/yaml.js';

/**
 * Second octets for 10.x.0.0/16 VPCs: clear of the example environments (10.10/10.20/10.30) and of
 * the default service (10.96.0.0/12) and pod (10.244.0.0/16) CIDRs.
 */
const OCTETS = Array.from({ length: 256 }, (_, x) => x).filter((x) => x >= 40 && x <= 240 && (x < 96 || x > 111));

/** Replace prod's names and its 10.30.0.0/16 addresses with the i-th synthetic environment's. */
export function syntheticEnvironment(prodData: Record<string, unknown>, i: number, template = 'prod', prodOctet = 30): { name: string; text: string } {
  const name = `bench-${i}`;
  const octet = OCTETS[(i - 1) % OCTETS.length]!;
  const json = JSON.stringify(prodData)
    .replace(new RegExp(`\\b${template}\\b`, 'g'), name)
    .replace(new RegExp(`\\b10\\.${prodOctet}\\.`, 'g'), `10.${octet}.`);
  const data = JSON.parse(json) as Record<string, unknown>;
  delete data.extends;
  data.name = name;
  // The template's `promotion.from` names an environment the benchmark does not have: the first copy
  // promotes from nowhere, every other one from the first (as a fleet of prods behind one staging).
  if (i === 1) delete data.promotion;
  else if (typeof data.promotion === 'object' && data.promotion !== null) (data.promotion as Record<string, unknown>).from = 'bench-1';
  return { name, text: `${SCHEMA_COMMENT}\n${toYaml(data)}` };
}
