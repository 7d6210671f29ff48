/**
 * FIXTURE PRICES — made up for the tests, NOT AWS's prices. Round numbers and SKUs starting with
 * FIXTURE so that nobody mistakes them for real ones; environments/ never carries them.
 *
 * `productJson` builds one Price List entry in the shape GetProducts returns (a JSON string per
 * product: aws-cli awscli/examples/pricing/get-products.rst): product.attributes, terms.OnDemand
 * .<sku>.<offer>.priceDimensions.<rate>.pricePerUnit.USD, effectiveDate, publicationDate.
 * `stubPricing` answers GetProducts from such entries as the service does: TERM_MATCH on every
 * filter against the product's attributes (ServiceCode against servicecode), paged.
 */
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import type { PriceLock } from '../../generators/load/price-lock.js';

export const FIXTURE_PUBLISHED = '2026-11-01T00:00:00Z';
export const FIXTURE_EFFECTIVE = '2026-10-01T00:00:00Z';

/** Fixture hourly prices (USD) of the instance types the tests use, and the gp3 GB-month price. */
export const FIXTURE_HOURLY: Record<string, string> = {
  'm7i.large': '0.1000000000',
  'm7i.xlarge': '0.2000000000',
  'm7i.2xlarge': '0.4000000000',
  'm7g.xlarge': '0.1600000000',
};
export const FIXTURE_GP3 = '0.0800000000';

export interface ProductSpec {
  sku: string;
  attributes: Record<string, string>;
  usd: string;
  unit: 'Hrs' | 'GB-Mo';
}

export const instanceProduct = (instanceType: string, region: string, usd: string, extra: Record<string, string> = {}): ProductSpec => ({
  sku: `FIXTURE${[instanceType, region, ...Object.values(extra)].join('').replace(/\W/g, '').toUpperCase()}`,
  unit: 'Hrs',
  usd,
  attributes: {
    servicecode: 'AmazonEC2',
    instanceType,
    regionCode: region,
    location: 'fixture location',
    operatingSystem: 'Linux',
    tenancy: 'Shared',
    preInstalledSw: 'NA',
    capacitystatus: 'Used',
    licenseModel: 'No License required',
    ...extra,
  },
});

export const gp3Product = (region: string, usd: string): ProductSpec => ({
  sku: `FIXTUREGP3${region.replace(/\W/g, '').toUpperCase()}`,
  unit: 'GB-Mo',
  usd,
  attributes: { servicecode: 'AmazonEC2', productFamily: 'Storage', volumeApiName: 'gp3', volumeType: 'General Purpose', regionCode: region, location: 'fixture location' },
});

/** One PriceList entry, as the service returns it (a JSON string). */
export function productJson(p: ProductSpec): string {
  const offer = `${p.sku}.JRTCKXETXF`;
  return JSON.stringify({
    product: { productFamily: p.attributes.productFamily ?? 'Compute Instance', attributes: p.attributes, sku: p.sku },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: {
        [offer]: {
          priceDimensions: {
            [`${offer}.6YS6EN2CT7`]: { unit: p.unit, endRange: 'Inf', description: `fixture price per ${p.unit}`, appliesTo: [], rateCode: `${offer}.6YS6EN2CT7`, beginRange: '0', pricePerUnit: { USD: p.usd } },
          },
          sku: p.sku,
          effectiveDate: FIXTURE_EFFECTIVE,
          offerTermCode: 'JRTCKXETXF',
          termAttributes: {},
        },
      },
    },
    version: '20261101000000',
    publicationDate: FIXTURE_PUBLISHED,
  });
}

/** The default fixture catalogue: the types above in `regions`, and gp3. */
export const fixtureCatalogue = (regions: readonly string[] = ['eu-west-1']): ProductSpec[] =>
  regions.flatMap((r) => [...Object.entries(FIXTURE_HOURLY).map(([t, usd]) => instanceProduct(t, r, usd)), gp3Product(r, FIXTURE_GP3)]);

/**
 * Every PricingClient's `send` answers GetProducts from `products` (filters matched as TERM_MATCH),
 * `pageSize` per page; `requests` records each command's input. Call `restore()` when done.
 */
export function stubPricing(products: ProductSpec[], pageSize = 100) {
  const mock = mockClient(PricingClient);
  const requests: { ServiceCode?: string; Filters?: { Type?: string; Field?: string; Value?: string }[]; NextToken?: string }[] = [];
  mock.on(GetProductsCommand).callsFake((input: (typeof requests)[number]) => {
    requests.push(input);
    const match = products.filter((p) => p.attributes.servicecode === input.ServiceCode && (input.Filters ?? []).every((f) => p.attributes[f.Field!] === f.Value));
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = match.slice(start, start + pageSize);
    return { FormatVersion: 'aws_v1', PriceList: page.map(productJson), ...(start + pageSize < match.length ? { NextToken: String(start + pageSize) } : {}) };
  });
  return { mock, requests, restore: () => mock.restore() };
}

/** A lock's prices section holding the fixture prices of `types` (and gp3) in `region`. */
export function fixturePriceLock(region: string, types: readonly string[] = Object.keys(FIXTURE_HOURLY), hourly: Record<string, string> = FIXTURE_HOURLY): PriceLock {
  const price = (p: ProductSpec, filters: Record<string, string>) => ({ usd: p.usd, unit: p.unit, sku: p.sku, publicationDate: '2026-11-01T00:00:00.000Z', effectiveDate: '2026-10-01T00:00:00.000Z', filters });
  return {
    region,
    currency: 'USD',
    fetchedAt: '2026-12-01T09:00:00.000Z',
    instances: Object.fromEntries(
      types.map((t) => [t, price(instanceProduct(t, region, hourly[t]!), { ServiceCode: 'AmazonEC2', capacitystatus: 'Used', instanceType: t, operatingSystem: 'Linux', preInstalledSw: 'NA', regionCode: region, tenancy: 'Shared' })]),
    ),
    volumes: { gp3: price(gp3Product(region, FIXTURE_GP3), { ServiceCode: 'AmazonEC2', productFamily: 'Storage', regionCode: region, volumeApiName: 'gp3' }) },
  };
}

/** A lock's text with the prices section set (or removed). */
export function withPrices(lockText: string, prices: PriceLock | undefined): string {
  const lock = JSON.parse(lockText) as Record<string, unknown>;
  if (prices) lock.prices = prices;
  else delete lock.prices;
  return JSON.stringify(lock, null, 2) + '\n';
}
