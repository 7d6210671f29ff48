/** A prepared environment's fleet-matrix row: its model, merged document and the cost from its lock's prices. */
import type { PreparedEnvironment } from '../pipeline.js';
import { fleetRow, type FleetRow } from './row.js';

export const preparedRow = (p: PreparedEnvironment): FleetRow => fleetRow(p.model, p.data, p.monthlyCost);
