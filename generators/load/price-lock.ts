/**
 * The lock's `prices` section: on-demand prices from the AWS Price List (GetProducts), locked by
 * `--refresh-ssm` (../ssm/pricing.ts) so that synth, the environment README, the fleet matrix and
 * the review comment's cost delta read them offline. Every price keeps the filters that selected it,
 * its SKU and its dates; a price the section does not hold is "no price locked" wherever it would
 * be shown — never a number from anywhere else.
 *
 * Pure: the shape, its check (called by ssm-lock.ts parseLock) and its stable serialization.
 */

/** One on-demand price as the Price List states it. */
export interface LockedPrice {
  /** USD per unit, exactly as the Price List writes it (`pricePerUnit.USD`, a decimal string). */
  usd: string;
  /** The price dimension's unit: `Hrs` for an instance, `GB-Mo` for EBS storage. */
  unit: string;
  /** The product's SKU (test fixtures: a SKU starting with FIXTURE). */
  sku: string;
  /** The Price List version's publication date (`publicationDate`), ISO 8601. */
  publicationDate: string;
  /** The on-demand term's `effectiveDate`, ISO 8601. */
  effectiveDate: string;
  /** The GetProducts TERM_MATCH filters that selected this product (field → value). */
  filters: Record<string, string>;
}

export interface PriceLock {
  /** The region the prices are for (the environment's `aws.region`; filter regionCode). */
  region: string;
  currency: 'USD';
  /** When `--refresh-ssm` read them (kept from the previous lock while no price changed). */
  fetchedAt: string;
  /** Instance type → hourly on-demand price (Linux, shared tenancy, no pre-installed software). */
  instances: Record<string, LockedPrice>;
  /** EBS volume type (volumeApiName, e.g. gp3) → price per GB-month of storage. */
  volumes: Record<string, LockedPrice>;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

type Fail = (path: (string | number)[], why: string) => never;

function checkPrice(raw: unknown, at: (string | number)[], what: string, fail: Fail): LockedPrice {
  if (!isObj(raw)) return fail(at, `${what}: expected { "usd", "unit", "sku", "publicationDate", "effectiveDate", "filters" }`);
  const keys = ['usd', 'unit', 'sku', 'publicationDate', 'effectiveDate', 'filters'];
  for (const k of Object.keys(raw)) if (!keys.includes(k)) fail([...at, k], `${what}: unknown key "${k}"; synth writes only ${keys.map((x) => `"${x}"`).join(', ')}`);
  if (typeof raw.usd !== 'string' || !DECIMAL.test(raw.usd)) fail([...at, 'usd'], `${what}: "usd" must be the Price List's decimal string (such as "0.2016000000"), not ${JSON.stringify(raw.usd)}`);
  for (const k of ['unit', 'sku'] as const) if (typeof raw[k] !== 'string' || raw[k] === '') fail([...at, k], `${what}: "${k}" must be a non-empty string`);
  for (const k of ['publicationDate', 'effectiveDate'] as const) if (typeof raw[k] !== 'string' || !ISO.test(raw[k] as string)) fail([...at, k], `${what}: "${k}" must be an ISO 8601 time, not ${JSON.stringify(raw[k])}`);
  if (!isObj(raw.filters) || Object.values(raw.filters).some((v) => typeof v !== 'string')) fail([...at, 'filters'], `${what}: "filters" must map GetProducts filter fields to values`);
  return { usd: raw.usd as string, unit: raw.unit as string, sku: raw.sku as string, publicationDate: raw.publicationDate as string, effectiveDate: raw.effectiveDate as string, filters: raw.filters as Record<string, string> };
}

/** The `prices` section as synth writes it, or a failure at the offending key. */
export function checkPriceShape(raw: unknown, fail: Fail): PriceLock {
  const at = ['prices'];
  if (!isObj(raw)) return fail(at, 'expected "prices" to be { "region", "currency", "fetchedAt", "instances", "volumes" }');
  const keys = ['region', 'currency', 'fetchedAt', 'instances', 'volumes'];
  for (const k of Object.keys(raw)) if (!keys.includes(k)) fail([...at, k], `prices: unknown key "${k}"; synth writes only ${keys.map((x) => `"${x}"`).join(', ')}`);
  if (typeof raw.region !== 'string') fail([...at, 'region'], 'prices: "region" must be the AWS region the prices are for');
  if (raw.currency !== 'USD') fail([...at, 'currency'], `prices: "currency" must be "USD" (the Price List's on-demand currency), not ${JSON.stringify(raw.currency)}`);
  if (typeof raw.fetchedAt !== 'string' || !ISO.test(raw.fetchedAt)) fail([...at, 'fetchedAt'], `prices: "fetchedAt" must be an ISO 8601 time, not ${JSON.stringify(raw.fetchedAt)}`);
  const section = (key: 'instances' | 'volumes', what: string): Record<string, LockedPrice> => {
    const v = raw[key];
    if (!isObj(v)) return fail([...at, key], `prices: "${key}" must map ${what} to prices`);
    return Object.fromEntries(Object.entries(v).map(([name, p]) => [name, checkPrice(p, [...at, key, name], `price of ${name}`, fail)]));
  };
  return { region: raw.region as string, currency: 'USD', fetchedAt: raw.fetchedAt as string, instances: section('instances', 'instance types'), volumes: section('volumes', 'volume types') };
}

const sorted = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]!]));
const priceOut = (p: LockedPrice): LockedPrice => ({ usd: p.usd, unit: p.unit, sku: p.sku, publicationDate: p.publicationDate, effectiveDate: p.effectiveDate, filters: sorted(p.filters) });

/** The section with keys in a stable order (serializeLock). */
export function serializablePrices(p: PriceLock): PriceLock {
  const each = (o: Record<string, LockedPrice>): Record<string, LockedPrice> => Object.fromEntries(Object.keys(o).sort().map((k) => [k, priceOut(o[k]!)]));
  return { region: p.region, currency: p.currency, fetchedAt: p.fetchedAt, instances: each(p.instances), volumes: each(p.volumes) };
}

/** Whether two sections hold the same prices (fetchedAt aside): a refresh that finds the same prices keeps the old date. */
export function samePrices(a: PriceLock | undefined, b: PriceLock | undefined): boolean {
  if (!a || !b) return a === b;
  const strip = (p: PriceLock): string => JSON.stringify({ ...serializablePrices(p), fetchedAt: '' });
  return strip(a) === strip(b);
}

/** What a refresh changed in the prices, one line each (`~ price m7i.xlarge: 0.2 → 0.21 USD/Hrs (effective …)`), sorted. */
export function formatPriceChanges(before: PriceLock | undefined, after: PriceLock | undefined): string[] {
  const lines: string[] = [];
  for (const key of ['instances', 'volumes'] as const) {
    const was = before?.[key] ?? {};
    const now = after?.[key] ?? {};
    for (const name of [...new Set([...Object.keys(was), ...Object.keys(now)])].sort()) {
      const a = was[name];
      const b = now[name];
      if (a && b && a.usd !== b.usd) lines.push(`  ~ price ${name}: ${a.usd} → ${b.usd} USD/${b.unit} (effective ${b.effectiveDate})`);
      else if (b && !a) lines.push(`  + price ${name}: ${b.usd} USD/${b.unit} (effective ${b.effectiveDate})`);
      else if (a && !b) lines.push(`  - price ${name} (was ${a.usd} USD/${a.unit}; no longer used or not found)`);
    }
  }
  return lines;
}
