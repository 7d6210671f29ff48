/** A prepared environment's fleet-matrix row: its model, merged document, the cost from its lock's prices, and its dates. */
import type { PreparedEnvironment } from '../pipeline.js';
import { fleetRow, type FleetRow } from './row.js';

export function preparedRow(p: PreparedEnvironment): FleetRow {
  const row = fleetRow(p.model, p.data, p.monthlyCost);
  return p.since ? { ...row, since: Object.fromEntries(Object.entries(p.since).map(([k, v]) => [k, v.date])) } : row;
}
