/**
 * The manual upgrade of one node (the fallback when the system-upgrade-controller's Plans cannot run):
 * a rendered script per environment that installs the environment's pinned release with the pinned
 * installer, both checked against their literal sha256, on the architecture it runs on. The node keeps
 * its name and datastore: they live in the config drop-in (./host.ts), which no installer touches.
 */
import type { EnvironmentModel } from '../../model/types.js';
import { usedFunctions } from '../../lib/shell-functions.js';
import { FETCH_VERIFIED, refuseUnpinned, type AssetRecord } from './artifacts.js';
import { boundedStartLines } from './boot.js';

export interface ManualUpgrade {
  /** Product name and release. */
  title: string;
  version: string;
  /** The units of the roles: the script picks the role whose unit exists. */
  units: { server: string; agent: string };
  /** Where the unit of a role is (the role a node has is the unit that exists). */
  unitPath(unit: string): string;
  /** Per architecture: what it downloads, and the install lines (`$ROLE` is the role). */
  arch: Record<'amd64' | 'arm64', { needs: (AssetRecord & { title: string; version: string })[]; install: string[] }>;
  /** The unit to restart after the install (a quoted shell expression of $UNIT), if the installer does not. */
  restart?: string;
  /** Checks before anything is installed (`$ROLE` is known): each exits 1 with a message when the node must not be upgraded now. */
  preflight?: string[];
}

const TAG = 'odp-manual-upgrade';

export function manualUpgradeScript(m: EnvironmentModel, u: ManualUpgrade): string {
  const branch = (arch: 'amd64' | 'arm64'): string[] => {
    const refusal = refuseUnpinned(u.arch[arch].needs, TAG, 'run this script again');
    return [`  ${arch})`, ...(refusal.length > 0 ? refusal : u.arch[arch].install).map((l) => `    ${l}`), '    ;;'];
  };
  const head = [
    '#!/bin/sh',
    `# odp-gitops: upgrade one ${u.title} node of environment ${m.name} to ${u.version} by hand, as root on the node`,
    '# (servers one at a time, each Ready again before the next; then the agents). The fallback to the',
    "# system-upgrade-controller's Plans: prefer those. Node name and datastore stay: they live in the",
    '# config drop-in config.yaml.d/10-node.yaml, which the installer never rewrites.',
    'set -eu',
    'umask 077',
  ];
  const body = [
    `if [ -e ${u.unitPath(u.units.server)} ]; then ROLE=server; UNIT=${u.units.server}; elif [ -e ${u.unitPath(u.units.agent)} ]; then ROLE=agent; UNIT=${u.units.agent}; else log "no ${u.title} unit on this node"; exit 1; fi`,
    ...(u.preflight ?? []),
    'case "$(uname -m)" in',
    '  x86_64|amd64) ARCH=amd64 ;;',
    '  aarch64|arm64) ARCH=arm64 ;;',
    '  *) log "unsupported architecture $(uname -m)"; exit 1 ;;',
    'esac',
    'case "$ARCH" in',
    ...branch('amd64'),
    ...branch('arm64'),
    'esac',
    // Bounded (./boot.ts boundedStartLines): a release that does not start stops the round here, before another node.
    ...(u.restart ? boundedStartLines('restart', u.restart, `it exits and systemd keeps restarting it (journalctl -u ${u.units.server}, or ${u.units.agent} on an agent${m.cluster.datastore.type === 'kine-postgres' ? '; a server also when the database is unreachable or refuses its password' : ''}). Upgrade no other node until this one is Ready again`, `${u.title} ${u.version}`) : []),
    `log "$ROLE $UNIT upgraded to ${u.version}"`,
    '',
  ];
  // fetch_verified only where a branch downloads (none while no sha256 is recorded: each branch refuses).
  const functions = usedFunctions([{ name: 'log', text: `log() { echo "${TAG}: $*" >&2; }` }, { name: 'fetch_verified', text: FETCH_VERIFIED }], body.join('\n'));
  return [...head, ...functions, ...body].join('\n');
}
