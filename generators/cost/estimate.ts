/**
 * Monthly on-demand cost of an environment's node pools, from the prices in its lock (load/price-lock.ts)
 * and nothing else: each pool's nodes × (the instance type's hourly price × 730 h + its root volume's
 * GiB × the volume type's GB-month price). A price the lock does not hold makes the pool's cost (and
 * the total) unknown, and says which price is missing; no number is ever made up.
 *
 * What it leaves out (data transfer, load balancers, NAT gateways, snapshots, S3, IOPS or throughput
 * above gp3's baseline — the root volumes ask for none) is said wherever the cost is shown
 * (COST_SCOPE). Pure.
 */
import { DEFAULTS } from '../model/defaults.js';
import type { LockedPrice, PriceLock } from '../load/price-lock.js';

/** Hours in a month as AWS's own calculators count them (8760 h / 12). */
export const HOURS_PER_MONTH = 730;

export const COST_SCOPE = `on-demand EC2 instances × hourly × ${HOURS_PER_MONTH} h, plus each node's ${DEFAULTS.rootVolumeGiB} GiB ${DEFAULTS.rootVolumeType} root volume; not data transfer, load balancers, NAT gateways, snapshots or S3`;

/** What a pool costs: its shape, and the prices the lock has for it. */
export interface PoolShape {
  name: string;
  instanceType: string;
  /** Nodes it runs. */
  size: number;
}

export interface PoolCost extends PoolShape {
  hourly?: LockedPrice;
  volume?: LockedPrice;
  volumeGiB: number;
  volumeType: string;
  /** USD per month; undefined when a price is missing. */
  monthly?: number;
  /** The prices the lock lacks for this pool (`m7i.xlarge`, `gp3`). */
  missing: string[];
}

/** The lock's prices when they are for `region` (a lock of another region prices nothing). */
export const pricesFor = (prices: PriceLock | undefined, region: string): PriceLock | undefined => (prices && prices.region === region ? prices : undefined);

export function poolCost(pool: PoolShape, prices: PriceLock | undefined): PoolCost {
  const volumeGiB = DEFAULTS.rootVolumeGiB;
  const volumeType = DEFAULTS.rootVolumeType;
  const hourly = prices?.instances[pool.instanceType];
  const volume = prices?.volumes[volumeType];
  const missing = [...(hourly ? [] : [pool.instanceType]), ...(volume ? [] : [volumeType])];
  const monthly = hourly && volume ? pool.size * (Number(hourly.usd) * HOURS_PER_MONTH + volumeGiB * Number(volume.usd)) : undefined;
  return { name: pool.name, instanceType: pool.instanceType, size: pool.size, volumeGiB, volumeType, missing, ...(hourly ? { hourly } : {}), ...(volume ? { volume } : {}), ...(monthly !== undefined ? { monthly } : {}) };
}

export interface EnvironmentCost {
  pools: PoolCost[];
  /** USD per month of every pool; undefined when any price is missing. */
  total?: number;
  /** Every missing price, once, sorted. */
  missing: string[];
}

export function environmentCost(pools: readonly PoolShape[], prices: PriceLock | undefined): EnvironmentCost {
  const costs = pools.map((p) => poolCost(p, prices));
  const missing = [...new Set(costs.flatMap((c) => c.missing))].sort();
  const total = missing.length === 0 ? costs.reduce((n, c) => n + c.monthly!, 0) : undefined;
  return { pools: costs, missing, ...(total !== undefined ? { total } : {}) };
}

/** `$1,234` (whole dollars; a cost is an estimate, cents would claim more than it knows). */
export function formatUsd(usd: number): string {
  return `$${Math.round(usd).toLocaleString('en-US')}`;
}

/** `+$412` / `−$412` / `±$0`. */
export function formatDelta(usd: number): string {
  const r = Math.round(usd);
  return r === 0 ? '±$0' : `${r > 0 ? '+' : '−'}${formatUsd(Math.abs(r))}`;
}

/** A Price List decimal without its trailing zeros: `0.2016000000` → `0.2016`. */
export const shortUsd = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);

/** What a missing price says, wherever the cost would be shown. */
export const noPriceLocked = (refresh: string): string => `no price locked (run ${refresh})`;
