/**
 * Image Factory schematics, and their IDs computed offline exactly as the factory does:
 * `hex(sha256(yaml.Marshal(schematic)))` with go-yaml (IF:pkg/schematic/schematic.go). go-yaml
 * writes struct fields in declaration order (not alphabetically), 4-space indentation, block
 * sequences indented under their key, omits empty values, and writes an empty customization as
 * `customization: {}`. The factory neither sorts nor deduplicates lists, so list order is part of
 * the identity; we sort extensions so the ID does not depend on input order.
 */
import { sha256 } from '../../lib/hash.js';

export interface Schematic {
  overlay?: { image: string; name: string };
  customization: {
    extraKernelArgs?: string[];
    meta?: { key: number; value: string }[];
    systemExtensions?: { officialExtensions?: string[] };
    secureboot?: { includeWellKnownCertificates?: boolean };
    diskImage?: { sectorSize?: number };
  };
}

/** Plain go-yaml scalars: anything that would resolve to non-string or needs quoting is refused. */
function scalar(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  if (!/^[A-Za-z0-9/][A-Za-z0-9._/=,+-]*$/.test(v) || /^(true|false|yes|no|on|off|null|~|[-+]?[0-9.]+([eE][-+]?[0-9]+)?)$/i.test(v))
    throw new Error(`schematic value '${v}' would need YAML quoting; only plain strings are supported`);
  return v;
}

type Field = [string, unknown];

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isEmpty);
  return false;
}

/** go-yaml block style for an ordered list of fields; `alwaysKeys` are emitted even when empty (`{}`). */
function emit(fields: Field[], indent: number, alwaysKeys: readonly string[] = []): string {
  const pad = ' '.repeat(indent);
  let out = '';
  for (const [k, v] of fields) {
    if (isEmpty(v)) {
      if (alwaysKeys.includes(k)) out += `${pad}${k}: {}\n`;
      continue;
    }
    if (Array.isArray(v)) {
      out += `${pad}${k}:\n`;
      for (const item of v) {
        if (item && typeof item === 'object') {
          const inner = emit(Object.entries(item as Record<string, unknown>) as Field[], indent + 6);
          out += `${pad}    - ${inner.slice(indent + 6)}`;
        } else out += `${pad}    - ${scalar(item as string)}\n`;
      }
    } else if (typeof v === 'object') {
      out += `${pad}${k}:\n${emit(Object.entries(v as Record<string, unknown>) as Field[], indent + 4)}`;
    } else out += `${pad}${k}: ${scalar(v as string)}\n`;
  }
  return out;
}

/** The exact bytes go-yaml marshals for this schematic (field order of the Go structs). */
export function marshalSchematic(s: Schematic): string {
  const c = s.customization;
  const customization: Field[] = [
    ['extraKernelArgs', c.extraKernelArgs],
    ['meta', c.meta?.map((m) => ({ key: m.key, value: m.value }))],
    ['systemExtensions', c.systemExtensions && { officialExtensions: c.systemExtensions.officialExtensions }],
    ['secureboot', c.secureboot && { includeWellKnownCertificates: c.secureboot.includeWellKnownCertificates }],
    ['diskImage', c.diskImage && { sectorSize: c.diskImage.sectorSize }],
  ];
  const overlay: Field[] = s.overlay ? [['image', s.overlay.image], ['name', s.overlay.name]] : [];
  return emit(
    [
      ['overlay', Object.fromEntries(overlay)],
      ['customization', Object.fromEntries(customization)],
    ],
    0,
    ['customization'],
  );
}

export const schematicId = (s: Schematic): string => sha256(marshalSchematic(s));
