/**
 * Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation), as the API server applies them:
 * DNS-1123 labels (most names, namespaces), DNS-1035 labels (Service names: start with a letter),
 * DNS-1123 subdomains (ConfigMaps, Secrets, …), label keys and values, ConfigMap/Secret data keys.
 * Each check returns why a name is refused, or undefined.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/;

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;
export const LABEL_VALUE_MAX = 63;

export function dns1123LabelProblem(s: string): string | undefined {
  if (s.length > DNS1123_LABEL_MAX) return `is ${s.length} characters; at most ${DNS1123_LABEL_MAX}`;
  if (!DNS1123_LABEL.test(s)) return "must be lower-case letters, digits and '-', starting and ending with a letter or digit";
  return undefined;
}

export function dns1035LabelProblem(s: string): string | undefined {
  if (s.length > DNS1123_LABEL_MAX) return `is ${s.length} characters; at most ${DNS1123_LABEL_MAX}`;
  if (!DNS1035_LABEL.test(s)) return "must start with a letter and be lower-case letters, digits and '-', ending with a letter or digit";
  return undefined;
}

export function dns1123SubdomainProblem(s: string): string | undefined {
  if (s.length > DNS1123_SUBDOMAIN_MAX) return `is ${s.length} characters; at most ${DNS1123_SUBDOMAIN_MAX}`;
  if (s.length === 0 || !s.split('.').every((l) => DNS1123_LABEL.test(l))) return "must be lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit";
  return undefined;
}

/** A label key: an optional DNS-subdomain prefix (≤ 253) and '/', then a name (≤ 63). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    const p = dns1123SubdomainProblem(prefix);
    if (p) return `its prefix '${prefix}' ${p}`;
  }
  if (name.length > LABEL_VALUE_MAX) return `its name part is ${name.length} characters; at most ${LABEL_VALUE_MAX}`;
  if (!LABEL_NAME.test(name)) return "its name part must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > LABEL_VALUE_MAX) return `is ${value.length} characters; at most ${LABEL_VALUE_MAX}`;
  if (value !== '' && !LABEL_NAME.test(value)) return "must be empty, or letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
  return undefined;
}

/** A key of a ConfigMap's or Secret's data (IsConfigMapKey). */
export function dataKeyProblem(key: string): string | undefined {
  if (key.length > DNS1123_SUBDOMAIN_MAX) return `is ${key.length} characters; at most ${DNS1123_SUBDOMAIN_MAX}`;
  if (!DATA_KEY.test(key)) return "must be letters, digits, '-', '_' and '.'";
  if (key === '.' || key === '..') return `must not be '${key}'`;
  if (key.startsWith('..')) return "must not start with '..'";
  return undefined;
}

/**
 * An Ingress host (networking/v1 validation): a DNS-1123 subdomain, or a wildcard `*.` followed by
 * one; never an IP address.
 */
export function ingressHostProblem(host: string): string | undefined {
  if (/^[0-9.]+$/.test(host) && host.split('.').length === 4) return 'is an IP address; an Ingress host must be a DNS name';
  const rest = host.startsWith('*.') ? host.slice(2) : host;
  if (rest.includes('*')) return "has a '*' that is not the whole first label; Kubernetes only takes a wildcard as '*.' in front of a DNS name";
  const p = dns1123SubdomainProblem(rest);
  if (p) return p;
  const long = rest.split('.').find((l) => l.length > DNS1123_LABEL_MAX);
  if (long) return `has the label '${long.slice(0, 20)}…' of ${long.length} characters; DNS labels have at most ${DNS1123_LABEL_MAX}`;
  return undefined;
}

/** Namespaces of Kubernetes itself (kube-apiserver creates them on every cluster). */
export const SYSTEM_NAMESPACES: readonly string[] = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];
