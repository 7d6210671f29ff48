/**
 * The one module that asks the AWS Price List for on-demand prices, for `--refresh-ssm`: the hourly
 * price of each instance type an environment's pools use, and the GB-month price of the EBS volume
 * type of its nodes' root volumes (model/defaults.ts), in the environment's region. The result is
 * the lock's `prices` section (load/price-lock.ts); synth reads only the lock.
 *
 * GetProducts (ServiceCode AmazonEC2) with TERM_MATCH filters, each kept in the lock next to the
 * price it selected:
 *   instances: instanceType, regionCode, operatingSystem Linux, tenancy Shared, preInstalledSw NA,
 *              capacitystatus Used (a running instance, not an unused capacity reservation)
 *   volumes:   productFamily Storage, volumeApiName (gp3), regionCode
 * The Price List API answers from us-east-1 (and ap-south-1) only, whatever the environment's region
 * (the SDK's Pricing endpoint list; aws-cli awscli/examples/pricing/get-products.rst shows the
 * response: PriceList is a list of JSON strings, each { product: { sku, attributes }, terms: {
 * OnDemand: { <sku>.<offer>: { effectiveDate, priceDimensions: { …: { unit, pricePerUnit: { USD }
 * } } } } }, publicationDate }). `AWS_ENDPOINT_URL_PRICING` (read by the SDK) points it elsewhere.
 *
 * @aws-sdk/client-pricing is loaded at the first request (lib/lazy.ts), like the SSM client:
 * synth without --refresh-ssm never imports it.
 *
 * A product the filters do not find, or several products with different prices, lock nothing for
 * that type: the refresh reports it, and everything that would show the price says none is locked.
 */
import type { PricingClient } from '@aws-sdk/client-pricing';
import type * as PricingSdk from '@aws-sdk/client-pricing';
import type * as SmithyRetry from '@smithy/core/retry';
import { lazyModule } from '../lib/lazy.js';
import type { LockedPrice, PriceLock } from '../load/price-lock.js';
import { SSM_CONNECTION_TIMEOUT_MS, SSM_MAX_ATTEMPTS, SSM_REQUEST_TIMEOUT_MS } from './client.js';

const sdk = lazyModule<typeof PricingSdk>('@aws-sdk/client-pricing');
const retry = lazyModule<typeof SmithyRetry>('@smithy/core/retry');

/** The region whose endpoint serves the Price List API (the other one is ap-south-1). */
export const PRICING_REGION = 'us-east-1';

export interface PricingClientOptions {
  maxAttempts?: number;
  retryDelayMs?: number;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function createPricingClient(opts: PricingClientOptions = {}): PricingClient {
  const maxAttempts = opts.maxAttempts ?? SSM_MAX_ATTEMPTS;
  return new sdk.PricingClient({
    region: PRICING_REGION,
    maxAttempts,
    ...(opts.retryDelayMs === undefined ? { retryMode: 'standard' } : { retryStrategy: new retry.ConfiguredRetryStrategy(maxAttempts, opts.retryDelayMs) }),
    requestHandler: { connectionTimeout: SSM_CONNECTION_TIMEOUT_MS, requestTimeout: SSM_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
}

/** A Price List request that failed: the SDK's error name and message. */
export class PricingRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`GetProducts: ${code}: ${message}`);
    this.name = 'PricingRequestError';
  }
}

/** The filters of an instance type's on-demand Linux price in a region. */
export const instanceFilters = (instanceType: string, region: string): Record<string, string> => ({
  ServiceCode: 'AmazonEC2',
  instanceType,
  regionCode: region,
  operatingSystem: 'Linux',
  tenancy: 'Shared',
  preInstalledSw: 'NA',
  capacitystatus: 'Used',
});

/** The filters of an EBS volume type's storage price (GB-month) in a region. */
export const volumeFilters = (volumeApiName: string, region: string): Record<string, string> => ({
  ServiceCode: 'AmazonEC2',
  productFamily: 'Storage',
  volumeApiName,
  regionCode: region,
});

/** What a lookup found: a price, or why none is locked. */
export type PriceLookup = { price: LockedPrice } | { missing: string };

interface PriceListItem {
  product?: { sku?: string };
  terms?: { OnDemand?: Record<string, { effectiveDate?: string; priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> }> };
  publicationDate?: string;
}

const iso = (s: string | undefined): string => (s ? new Date(s).toISOString() : '');

/** The on-demand price in `unit` of each product in a GetProducts answer (pure: the response's JSON strings in). */
export function pricesOf(priceList: readonly string[], unit: string, filters: Record<string, string>): PriceLookup {
  const found: LockedPrice[] = [];
  for (const text of priceList) {
    const item = JSON.parse(text) as PriceListItem;
    for (const term of Object.values(item.terms?.OnDemand ?? {})) {
      for (const dim of Object.values(term.priceDimensions ?? {})) {
        const usd = dim.pricePerUnit?.USD;
        if (dim.unit !== unit || usd === undefined) continue;
        found.push({ usd, unit, sku: item.product?.sku ?? '', publicationDate: iso(item.publicationDate), effectiveDate: iso(term.effectiveDate), filters });
      }
    }
  }
  const distinct = [...new Set(found.map((p) => p.usd))];
  if (distinct.length === 0) return { missing: `the Price List has no on-demand price per ${unit} for ${describe(filters)}` };
  if (distinct.length > 1) return { missing: `the Price List has ${found.length} on-demand prices for ${describe(filters)} (${found.map((p) => `${p.sku}: ${p.usd}`).join(', ')}): none is locked` };
  return { price: found.sort((a, b) => a.sku.localeCompare(b.sku))[0]! };
}

const describe = (filters: Record<string, string>): string =>
  Object.entries(filters)
    .filter(([k]) => k !== 'ServiceCode')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** Every page of GetProducts for the filters. */
async function getProducts(client: Pick<PricingClient, 'send'>, filters: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  let next: string | undefined;
  do {
    let page: PricingSdk.GetProductsCommandOutput;
    try {
      page = await client.send(
        new sdk.GetProductsCommand({
          ServiceCode: filters.ServiceCode!,
          FormatVersion: 'aws_v1',
          Filters: Object.entries(filters)
            .filter(([k]) => k !== 'ServiceCode')
            .map(([Field, Value]) => ({ Type: 'TERM_MATCH', Field, Value })),
          MaxResults: 100,
          ...(next ? { NextToken: next } : {}),
        }),
      );
    } catch (e) {
      const err = e as { name?: string; message?: string };
      throw new PricingRequestError(err.name ?? 'Error', err.message ?? String(e));
    }
    // The SDK hands each entry back as a string (a LazyJsonString): its text is the product's JSON.
    for (const item of (page.PriceList ?? []) as unknown[]) out.push(String(item));
    next = page.NextToken;
  } while (next);
  return out;
}

export interface PriceRefresh {
  prices: PriceLock;
  /** What was asked and not locked, one line each. */
  missing: string[];
}

/** The prices of `instanceTypes` and `volumeTypes` in `region`, as the lock's section. */
export async function fetchPrices(client: Pick<PricingClient, 'send'>, region: string, instanceTypes: readonly string[], volumeTypes: readonly string[], now: Date = new Date()): Promise<PriceRefresh> {
  const prices: PriceLock = { region, currency: 'USD', fetchedAt: now.toISOString(), instances: {}, volumes: {} };
  const missing: string[] = [];
  const lookup = async (into: Record<string, LockedPrice>, name: string, filters: Record<string, string>, unit: string): Promise<void> => {
    const r = pricesOf(await getProducts(client, filters), unit, filters);
    if ('price' in r) into[name] = r.price;
    else missing.push(`${name}: ${r.missing}`);
  };
  for (const t of [...new Set(instanceTypes)].sort()) await lookup(prices.instances, t, instanceFilters(t, region), 'Hrs');
  for (const v of [...new Set(volumeTypes)].sort()) await lookup(prices.volumes, v, volumeFilters(v, region), 'GB-Mo');
  return { prices, missing };
}
