#!/usr/bin/env node
/**
 * `date` for the fleet stubs (test/support/fixed-fleet.mjs): the wall clock as the script sees it, `fleet.clockBase`
 * (else this host's time) plus `fleet.clock` seconds, which the stubs' `sleep N` advances by N and a slow `aws` call
 * (`fleet.awsSeconds`) by as much, so that a script renewing a Lease by the wall clock (lib/cluster-lock.ts renew_due) sees time pass in a test that
 * waits for nothing. Only what the scripts ask, common to GNU and BSD date: `date -u +FORMAT` with %Y %m %d %H %M %S
 * and %s (epoch seconds). Not logged in calls.log (not a call the script makes of the world).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const f = JSON.parse(readFileSync(join(process.env.FLEET, 'fleet.json'), 'utf8'));
if (args.length !== 2 || args[0] !== '-u' || !args[1].startsWith('+')) {
  process.stderr.write(`fleet-clock: date ${args.join(' ')} not modelled\n`);
  process.exit(1);
}
// `fleet.clockBase` (epoch seconds, set by the test when it resets the world) makes the clock virtual: only the stubs'
// sleeps and slow calls advance it, so a loop bounded by the wall clock does the same number of polls however slowly a
// loaded machine runs the script (host time passing between calls would otherwise shorten it).
const now = new Date(((f.clockBase ?? Date.now() / 1000) + (f.clock ?? 0)) * 1000);
const two = (n) => String(n).padStart(2, '0');
const fields = { Y: String(now.getUTCFullYear()), m: two(now.getUTCMonth() + 1), d: two(now.getUTCDate()), H: two(now.getUTCHours()), M: two(now.getUTCMinutes()), S: two(now.getUTCSeconds()), s: String(Math.floor(now.getTime() / 1000)) };
process.stdout.write(`${args[1].slice(1).replace(/%([YmdHMSs])/g, (_, k) => fields[k])}\n`);
