/**
 * `cluster.extraSANs`: each lands in the API server certificate as a subject alternative name (the
 * distributions render it into their `tls-san` / `certSANs`), which is a bare DNS name or IP address.
 * A URL, a port or a path there is not a name any client connects with: the certificate then lacks the
 * name clients use, and they fail TLS verification ("x509: certificate is valid for …, not …").
 */
import type { Rule } from './rules.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;
/** RFC 1123 labels, an optional leading wildcard label (`*.example.com`), at most 253 characters. */
const DNS = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export function sanProblem(san: string): string | undefined {
  if (IPV4.test(san) || (san.includes(':') && IPV6.test(san) && (san.match(/::/g) ?? []).length <= 1)) return undefined;
  if (san.length <= 253 && DNS.test(san)) return undefined;
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/:]+)/i.exec(san) ?? /^([^/:\s]+):\d+$/.exec(san) ?? /^([^/:\s]+)\//.exec(san);
  return m ? `write the bare name '${m[1]}'` : 'a DNS name (RFC 1123, *.example.com for a wildcard) or an IP address';
}

const extraSans: Rule = ({ input }, report) => {
  (input.cluster.extraSANs ?? []).forEach((san, i) => {
    if (typeof san !== 'string') return;
    const hint = sanProblem(san);
    if (hint) report('extra-san', ['cluster', 'extraSANs', i], `'${san}' is not a DNS name or IP address: a certificate's subject alternative names are bare names, so clients using it would fail TLS verification`, { hint });
  });
};

export const SAN_RULES: readonly Rule[] = [extraSans];
