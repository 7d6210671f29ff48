/**
 * Cost (issue 21 item 3): `--refresh-ssm` locks on-demand prices from the AWS Price List, through
 * @aws-sdk/client-pricing against a stub that answers GetProducts in the service's response shape
 * (PriceList: JSON strings; terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD) and matches its
 * TERM_MATCH filters; offline synth reads them back from the lock; the environment README shows
 * the cost by pool and the total, the fleet matrix the total, and a missing price says so.
 *
 * Every price here is a FIXTURE (test/support/price-fixtures.ts), not AWS's.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main, type SynthDeps } from '../generators/cli/synth.js';
import { environmentCost, HOURS_PER_MONTH } from '../generators/cost/estimate.js';
import { preparedRow } from '../generators/fleet/prepared.js';
import { renderFleetMatrix } from '../generators/fleet/matrix.js';
import { parseLock, serializeLock } from '../generators/load/ssm-lock.js';
import { prepareEnvironment } from '../generators/pipeline.js';
import { renderReadme } from '../generators/render/readme/readme.js';
import { createSsmClient } from '../generators/ssm/client.js';
import { createPricingClient, fetchPrices, pricesOf } from '../generators/ssm/pricing.js';
import { hermeticAwsEnv } from './support/aws-env.js';
import { exitOf } from './support/local-server.js';
import { FakeSsm, TEST_CREDENTIALS } from './support/ssm-server.js';
import { FIXTURE_GP3, FIXTURE_HOURLY, fixtureCatalogue, fixturePriceLock, instanceProduct, productJson, stubPricing, withPrices } from './support/price-fixtures.js';
import { inlineSources } from './support/inline-env.js';
import { FIXTURES } from './helpers.js';

const client = (): PricingClient => createPricingClient({ credentials: TEST_CREDENTIALS, maxAttempts: 1 });

describe('fetchPrices: GetProducts in the Price List\u2019s response shape', () => {
  let stub: ReturnType<typeof stubPricing> | undefined;
  afterEach(() => stub?.restore());

  it('locks each instance type\u2019s hourly and gp3\u2019s GB-month price with its filters, SKU and dates', async () => {
    stub = stubPricing(fixtureCatalogue(['eu-west-1', 'us-east-1']));
    const at = new Date(Date.UTC(2026, 11, 6, 13));
    const r = await fetchPrices(client(), 'eu-west-1', ['m7i.xlarge', 'm7i.large', 'm7i.large'], ['gp3'], at);
    expect(r.missing).toStrictEqual([]);
    expect(r.prices).toStrictEqual({ ...fixturePriceLock('eu-west-1', ['m7i.large', 'm7i.xlarge']), fetchedAt: '2026-12-06T13:00:00.000Z' });
    expect(r.prices.instances['m7i.large']).toStrictEqual({
      usd: FIXTURE_HOURLY['m7i.large'],
      unit: 'Hrs',
      sku: 'FIXTUREM7ILARGEEUWEST1',
      publicationDate: '2026-11-01T00:00:00.000Z',
      effectiveDate: '2026-10-01T00:00:00.000Z',
      filters: { ServiceCode: 'AmazonEC2', instanceType: 'm7i.large', regionCode: 'eu-west-1', operatingSystem: 'Linux', tenancy: 'Shared', preInstalledSw: 'NA', capacitystatus: 'Used' },
    });
    expect(r.prices.volumes.gp3).toMatchObject({ usd: FIXTURE_GP3, unit: 'GB-Mo', filters: { ServiceCode: 'AmazonEC2', productFamily: 'Storage', volumeApiName: 'gp3', regionCode: 'eu-west-1' } });
    // One request per distinct type and per volume type, each TERM_MATCH filters for AmazonEC2.
    expect(stub.requests.map((q) => q.Filters!.find((f) => f.Field === 'instanceType' || f.Field === 'volumeApiName')!.Value)).toStrictEqual(['m7i.large', 'm7i.xlarge', 'gp3']);
    expect(stub.requests.every((q) => q.ServiceCode === 'AmazonEC2' && q.Filters!.every((f) => f.Type === 'TERM_MATCH'))).toBe(true);
  });

  it('a type the Price List lacks, or several products with different prices, lock nothing and say why', async () => {
    // Two products match the same filters (pages of one), at different prices: none is chosen.
    stub = stubPricing([...fixtureCatalogue(), instanceProduct('m7i.large', 'eu-west-1', '0.1500000000', { licenseModel: 'other' })], 1);
    const r = await fetchPrices(client(), 'eu-west-1', ['m7i.large', 'x9z.large'], ['gp3']);
    expect(Object.keys(r.prices.instances)).toStrictEqual([]);
    expect(r.missing).toStrictEqual([
      'm7i.large: the Price List has 2 on-demand prices for instanceType=m7i.large, regionCode=eu-west-1, operatingSystem=Linux, tenancy=Shared, preInstalledSw=NA, capacitystatus=Used (FIXTUREM7ILARGEEUWEST1: 0.1000000000, FIXTUREM7ILARGEEUWEST1OTHER: 0.1500000000): none is locked',
      'x9z.large: the Price List has no on-demand price per Hrs for instanceType=x9z.large, regionCode=eu-west-1, operatingSystem=Linux, tenancy=Shared, preInstalledSw=NA, capacitystatus=Used',
    ]);
    // The pages were followed: two requests for m7i.large.
    expect(stub.requests.filter((q) => q.Filters!.some((f) => f.Value === 'm7i.large'))).toHaveLength(2);
  });

  it('reads only the on-demand dimension in the asked unit', () => {
    const entry = JSON.parse(productJson(instanceProduct('m7i.large', 'eu-west-1', '0.1000000000'))) as { terms: Record<string, unknown> };
    // A reserved term next to it (as the service sends when not filtered) is ignored.
    entry.terms.Reserved = { 'X.Y': { priceDimensions: { 'X.Y.Z': { unit: 'Hrs', pricePerUnit: { USD: '0.0500000000' } } } } };
    expect(pricesOf([JSON.stringify(entry)], 'Hrs', {})).toMatchObject({ price: { usd: '0.1000000000' } });
    expect(pricesOf([JSON.stringify(entry)], 'GB-Mo', { volumeApiName: 'gp3' })).toStrictEqual({ missing: 'the Price List has no on-demand price per GB-Mo for volumeApiName=gp3' });
  });
});

describe('the lock\u2019s prices section', () => {
  const base = readFileSync(join(FIXTURES, '_fixture.ssm.lock.json'), 'utf8');

  it('round-trips through parse and serialize', () => {
    const text = serializeLock(parseLock('x', withPrices(base, fixturePriceLock('eu-west-1'))).lock);
    const again = parseLock('x', text);
    expect(again.diagnostics).toStrictEqual([]);
    expect(again.lock.prices).toStrictEqual(fixturePriceLock('eu-west-1'));
    expect(serializeLock(again.lock)).toBe(text);
  });

  it('a hand-edited price is refused at its line', () => {
    const lock = fixturePriceLock('eu-west-1');
    lock.instances['m7i.large']!.usd = 'cheap';
    const r = parseLock('environments/alpha.ssm.lock.json', withPrices(base, lock));
    expect(r.broken).toBe(true);
    expect(r.diagnostics[0]!.message).toBe('unreadable SSM lock: price of m7i.large: "usd" must be the Price List\'s decimal string (such as "0.2016000000"), not "cheap"');
    expect(r.diagnostics[0]!.path).toStrictEqual(['prices', 'instances', 'm7i.large', 'usd']);
  });
});

/** The fixture environment (cp: m7i.large × 1, workers: m7i.xlarge × 1) with `prices` in its lock. */
function prepared(prices: ReturnType<typeof fixturePriceLock> | undefined, body = '') {
  const sources = inlineSources('priced', body);
  sources.set('environments/priced.ssm.lock.json', withPrices(sources.get('environments/priced.ssm.lock.json')!, prices));
  const r = prepareEnvironment('priced', sources);
  if (!r.prepared) throw new Error(JSON.stringify(r.diagnostics));
  return r.prepared;
}

const readmeOf = (p: ReturnType<typeof prepared>): string => renderReadme(p.model)[0]!.content;
const section = (readme: string): string => readme.slice(readme.indexOf('## Cost'), readme.indexOf('\n## ', readme.indexOf('## Cost') + 3));

describe('cost in the environment README and the fleet matrix (offline: the lock is the input)', () => {
  // Fixture prices: m7i.large $0.10/h, m7i.xlarge $0.20/h, gp3 $0.08/GB-month, 100 GiB per node.
  const cp = 0.1 * HOURS_PER_MONTH + 100 * 0.08;
  const workers = 0.2 * HOURS_PER_MONTH + 100 * 0.08;

  it('shows each pool\u2019s monthly cost and the total, with the prices\u2019 source and dates', () => {
    const p = prepared(fixturePriceLock('eu-west-1'));
    expect(p.monthlyCost).toBeCloseTo(cp + workers, 6);
    const s = section(readmeOf(p));
    expect(s).toContain('| cp | `m7i.large` | 1 | $0.1/h | 1 × 100 GiB gp3 ($0.08/GB-month) | $81 |');
    expect(s).toContain('| workers | `m7i.xlarge` | 1 | $0.2/h | 1 × 100 GiB gp3 ($0.08/GB-month) | $154 |');
    expect(s).toContain('| **Total** | | 2 | | | **$235/month** |');
    expect(s).toContain('region `eu-west-1`, USD, published 2026-11-01, effective 2026-10-01, fetched 2026-12-01; locked in `environments/priced.ssm.lock.json`');
    expect(renderFleetMatrix([preparedRow(p)])).toContain('| $235/month |');
  });

  it('a price missing from the lock says so in the pool, the total and the matrix; no number stands in', () => {
    const p = prepared(fixturePriceLock('eu-west-1', ['m7i.large']));
    expect(p.monthlyCost).toBeUndefined();
    const s = section(readmeOf(p));
    expect(s).toContain('| workers | `m7i.xlarge` | 1 | no price locked | 1 × 100 GiB gp3 ($0.08/GB-month) | no price locked |');
    expect(s).toContain('**no price locked (run npm run synth -- --env priced --refresh-ssm)**');
    expect(s).toContain('Not locked: `m7i.xlarge` — run `npm run synth -- --env priced --refresh-ssm`.');
    expect(renderFleetMatrix([preparedRow(p)])).toContain('| no price locked |');
  });

  it('no prices section, or prices of another region: nothing is priced', () => {
    for (const prices of [undefined, fixturePriceLock('us-east-1')]) {
      const p = prepared(prices);
      expect(p.monthlyCost).toBeUndefined();
      expect(section(readmeOf(p))).toContain('No prices are locked in `environments/priced.ssm.lock.json`: run `npm run synth -- --env priced --refresh-ssm`');
      expect(environmentCost(p.model.pools, p.model.aws.prices).missing).toStrictEqual(['gp3', 'm7i.large', 'm7i.xlarge']);
    }
  });
});

describe('--refresh-ssm locks the prices (stub Parameter Store and Price List), synth renders them', () => {
  const ssm = new FakeSsm();
  let restoreEnv: () => void = () => {};
  let root: string;
  let out: string[];
  let stub: ReturnType<typeof stubPricing> | undefined;
  const ENV = `# yaml-language-server: $schema=../schemas/environment.schema.json
name: alpha
extends: _fixture
cluster: { name: alpha }
`;

  beforeAll(async () => {
    await ssm.start();
    restoreEnv = hermeticAwsEnv({ AWS_ENDPOINT_URL_SSM: ssm.url });
    for (const name of ['/odp/alpha/talos/secrets-bundle', '/odp/alpha/grafana/admin-user', '/odp/alpha/grafana/admin-password']) ssm.put(name, 'x', 'SecureString');
  });
  afterAll(async () => {
    restoreEnv();
    await ssm.close();
  });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'odp-prices-'));
    mkdirSync(join(root, 'environments'));
    writeFileSync(join(root, 'environments', '_fixture.yaml'), readFileSync(join(FIXTURES, '_fixture.yaml'), 'utf8'));
    writeFileSync(join(root, 'environments', 'alpha.yaml'), ENV);
    out = [];
  });
  afterEach(() => {
    stub?.restore();
    rmSync(root, { recursive: true, force: true });
  });

  const deps = (): SynthDeps => ({
    ssmClient: (region) => createSsmClient(region, { credentials: TEST_CREDENTIALS, retryDelayMs: 1, maxAttempts: 2 }),
    checkAccount: true,
    stdout: (t) => out.push(t),
    pricing: client,
  });
  const synth = (...args: string[]) => exitOf(() => main(['--root', root, ...args], deps()));
  const lockText = (): string => readFileSync(join(root, 'environments', 'alpha.ssm.lock.json'), 'utf8');

  it('locks them dated, reports them, renders the cost offline, and keeps the date while no price changes', async () => {
    stub = stubPricing(fixtureCatalogue());
    expect((await synth('--refresh-ssm')).error?.message).toBeUndefined();
    const prices = JSON.parse(lockText()).prices;
    expect(Object.keys(prices.instances)).toStrictEqual(['m7i.large', 'm7i.xlarge']);
    expect(prices).toMatchObject({ region: 'eu-west-1', currency: 'USD', volumes: { gp3: { usd: FIXTURE_GP3 } } });
    expect(out.join('')).toContain('alpha: 3 on-demand prices locked from the AWS Price List (eu-west-1, USD, published 2026-11-01, fetched ');
    expect(out.join('')).toContain('  + price m7i.xlarge: 0.2000000000 USD/Hrs (effective 2026-10-01T00:00:00.000Z)\n');
    expect(readFileSync(join(root, 'rendered', 'alpha', 'README.md'), 'utf8')).toContain('| **Total** | | 2 | | | **$235/month** |');
    expect(readFileSync(join(root, 'rendered', 'README.md'), 'utf8')).toContain('| $235/month |');
    // The same prices again: the lock's text (fetchedAt included) does not change.
    const before = lockText();
    expect((await synth('--refresh-ssm')).code).toBe(0);
    expect(lockText()).toBe(before);
    expect(out.join('')).not.toContain('~ price');
    // A new price: the report says old → new, and the date moves.
    stub.restore();
    stub = stubPricing(fixtureCatalogue().map((p) => (p.attributes.instanceType === 'm7i.xlarge' ? { ...p, usd: '0.2100000000' } : p)));
    out = [];
    expect((await synth('--refresh-ssm')).code).toBe(0);
    expect(out.join('')).toContain('  ~ price m7i.xlarge: 0.2000000000 → 0.2100000000 USD/Hrs (effective 2026-10-01T00:00:00.000Z)\n');
    expect(JSON.parse(lockText()).prices.fetchedAt).not.toBe(JSON.parse(before).prices.fetchedAt);
    writeFileSync(join(root, 'environments', 'alpha.ssm.lock.json'), before);
    // Offline synth (no Price List) renders the same.
    stub.restore();
    stub = undefined;
    expect((await exitOf(() => main(['--root', root, '--force'], { ...deps(), pricing: undefined }))).code).toBe(0);
    expect(readFileSync(join(root, 'rendered', 'alpha', 'README.md'), 'utf8')).toContain('**$235/month**');
  });

  it('a type the Price List lacks is a warning in the report and "no price locked" in the README', async () => {
    stub = stubPricing(fixtureCatalogue().filter((p) => p.attributes.instanceType !== 'm7i.xlarge'));
    expect((await synth('--refresh-ssm')).code).toBe(0);
    expect(out.join('')).toContain('  warning: no price locked for m7i.xlarge: the Price List has no on-demand price per Hrs for instanceType=m7i.xlarge, regionCode=eu-west-1');
    expect(readFileSync(join(root, 'rendered', 'alpha', 'README.md'), 'utf8')).toContain('**no price locked (run npm run synth -- --env alpha --refresh-ssm)**');
  });

  it('a Price List failure is exit 3 naming the permission; nothing is written', async () => {
    const mock = mockClient(PricingClient);
    mock.on(GetProductsCommand).rejects(Object.assign(new Error('User is not authorized to perform: pricing:GetProducts'), { name: 'AccessDeniedException' }));
    try {
      const r = await synth('--refresh-ssm');
      expect(r.code).toBe(3);
      expect(r.error?.message).toMatch(/^Price List refresh failed for environment alpha \(prices for region eu-west-1, asked at the Price List endpoint in us-east-1\): GetProducts: AccessDeniedException/);
      expect(r.error?.message).toContain('the credentials need pricing:GetProducts');
      expect(r.error?.message).toContain('Nothing was written');
      expect(() => lockText()).toThrow(/ENOENT/);
    } finally {
      mock.restore();
    }
  });
});
