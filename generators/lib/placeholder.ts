/**
 * SSM placeholders: what `npm run new-env` locks for a parameter of an AWS account that does not
 * exist yet, so that the new environment renders offline and its pull request can be opened. A
 * placeholder is shaped so that nobody takes it for a real value and nothing accepts it:
 *
 * - where a host name or URL is expected (the API endpoint, the IRSA issuer, extra SANs, the Kine
 *   PostgreSQL host): a name under `odp-placeholder.invalid`, e.g.
 *   `https://odp-qa-api-endpoint.odp-placeholder.invalid:6443`. `.invalid` is reserved and never
 *   resolves (RFC 6761 section 6.4), so no client reaches anything with it;
 * - everywhere else (VPC and subnet IDs, bucket names, ARNs, workload values): the parameter's name
 *   in `odp-placeholder(…)`, e.g. `odp-placeholder(/odp/qa/network/vpc-id)`. Parentheses and slashes
 *   make it no AWS identifier, bucket name (lowercase letters, digits, dots, hyphens) or ARN
 *   (`arn:…`): AWS refuses it wherever it is sent; the closing parenthesis ends it where a renderer
 *   appends to it (`s3://odp-placeholder(/odp/qa/backup/bucket)/etcd`).
 *
 * The lock marks a placeholder also by version 0 (SSM numbers versions from 1). `--refresh-ssm`
 * replaces them all with what SSM holds. Every renderer passes values through, so one pattern finds
 * a placeholder wherever it landed in the rendered tree (the node guards and the validate check).
 */
import type { DocPath } from './paths.js';

export const PLACEHOLDER_DOMAIN = 'odp-placeholder.invalid';
/** The placeholder of a parameter used where no host name is expected. */
export const genericPlaceholder = (name: string): string => `odp-placeholder(${name})`;
/** The lock's version and date of a placeholder (never a real parameter's: SSM versions start at 1). */
export const PLACEHOLDER_VERSION = 0;
export const PLACEHOLDER_DATE = '1970-01-01T00:00:00.000Z';

/** A placeholder anywhere in a text (rendered files, boot scripts). */
export const PLACEHOLDER_PATTERN = /(?:https:\/\/)?(?:[a-z0-9-]+\.)?odp-placeholder\.invalid(?::[0-9]+)?|odp-placeholder\(\/[A-Za-z0-9_.\/-]*\)/g;

const WHOLE = new RegExp(`^(?:${PLACEHOLDER_PATTERN.source})$`);

export const isPlaceholder = (value: string): boolean => WHOLE.test(value);

/** Every distinct placeholder in a text, in order of first appearance. */
export function findPlaceholders(text: string): string[] {
  return [...new Set(text.match(PLACEHOLDER_PATTERN) ?? [])];
}

/** A DNS label from a parameter name: /odp/qa/api/endpoint → odp-qa-api-endpoint. */
const label = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '') || 'parameter';

/** The placeholder of SSM parameter `name`, shaped for the place `path` the environment references it. */
export function placeholderFor(name: string, path: DocPath): string {
  const key = [...path].reverse().find((s): s is string => typeof s === 'string');
  const host = `${label(name)}.${PLACEHOLDER_DOMAIN}`;
  if (path[0] === 'cluster' && key === 'endpoint') return `https://${host}:6443`;
  if (key === 'issuerURL') return `https://${host}`;
  if (key === 'extraSANs' || (key === 'host' && path.includes('postgres'))) return host;
  return genericPlaceholder(name);
}
