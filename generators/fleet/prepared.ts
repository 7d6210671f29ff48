/** A prepared environment's fleet-matrix row: its model, merged document, the cost from its lock's prices, and its dates. */
import type { PreparedEnvironment } from '../pipeline.js';
import { carryDates, type VersionDates } from '../write/since.js';
import { fleetRow, rowVersions, type FleetRow } from './row.js';

const withSince = (row: FleetRow, since: VersionDates): FleetRow => ({ ...row, since: Object.fromEntries(Object.entries(since).map(([k, v]) => [k, v.date])) });

export function preparedRow(p: PreparedEnvironment): FleetRow {
  const row = fleetRow(p.model, p.data, p.monthlyCost);
  return p.since ? withSince(row, p.since) : row;
}

/**
 * A row kept from an earlier run (its versions unchanged: same sources) with the dates a render now gives them:
 * carried forward from `committed`, the dates its tree's manifest records, else today's (write/since.ts carryDates,
 * as prepareEnvironment dates them). The dates a row was kept with are those of the tree that run wrote, which a pull
 * may have replaced since by one dated otherwise (the same change synthed on another day).
 */
export function redatedRow(row: FleetRow, committed: VersionDates | undefined, today: string): FleetRow {
  return withSince(row, carryDates(committed, rowVersions(row), today));
}
