/**
 * A rendered file as documents with identities: Kubernetes objects by group/kind/namespace/name, a
 * distribution's own documents as it identifies them (Distribution.diff.identify), Helm values as one
 * document, Markdown as lines. Comments (the generated-file header) are not content.
 */
import { distributions } from '../distributions/registry.js';
import { parseYamlStream } from '../lib/yaml.js';

/** The core's kinds of document, or the name of the distribution whose document it is. */
export type DocKind = 'kubernetes' | 'values' | 'yaml' | 'text' | (string & {});

export interface RenderedDoc {
  /** Identity within its environment: stable across file moves. */
  id: string;
  /** For people: `Deployment portal/portal`, `v1alpha1 machine config`, `values`. */
  label: string;
  kind: DocKind;
  value: unknown;
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The API group of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core). */
export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/** Drop a leading `<!-- … -->` header from Markdown. */
export function stripMarkdownHeader(text: string): string {
  if (!text.startsWith('<!--')) return text;
  const end = text.indexOf('-->');
  return end === -1 ? text : text.slice(end + 3).replace(/^\n+/, '');
}

export function identify(path: string, value: unknown, index: number): RenderedDoc {
  if (path.startsWith('values/')) return { id: `values:${path}`, label: 'values', kind: 'values', value };
  if (isMap(value)) {
    for (const d of distributions()) {
      const own = d.diff.identify?.(path, value);
      if (own) return { ...own, kind: d.name, value };
    }
    // A kustomize overlay (kustomization.yaml): no metadata, one per directory.
    if (value.apiVersion === 'kustomize.config.k8s.io/v1beta1' && value.kind === 'Kustomization' && value.metadata === undefined)
      return { id: `kustomize:${path}`, label: `kustomize overlay ${path.replace(/\/kustomization\.ya?ml$/, '/')}`, kind: 'yaml', value };
    const meta = value.metadata;
    if (typeof value.apiVersion === 'string' && typeof value.kind === 'string' && isMap(meta) && typeof meta.name === 'string') {
      const ns = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
      return { id: `k8s:${groupOf(value.apiVersion)}/${value.kind}/${ns}${meta.name}`, label: `${value.kind} ${ns}${meta.name}`, kind: 'kubernetes', value };
    }
  }
  return { id: `yaml:${path}#${index}`, label: `document ${index + 1}`, kind: 'yaml', value };
}

/** Split a rendered file into documents. A file that does not parse is one text document. */
export function splitFile(path: string, content: string): RenderedDoc[] {
  if (/\.ya?ml$/.test(path)) {
    try {
      return parseYamlStream(content).map((v, i) => identify(path, v, i));
    } catch {
      // fall through: compared as text
    }
  }
  const text = path.endsWith('.md') ? stripMarkdownHeader(content) : content.replace(/^(#[^\n]*\n)+/, '');
  return [{ id: `text:${path}`, label: path, kind: 'text', value: text.split('\n') }];
}

/** The content that matters for "same file at another path": documents without comments. */
export function contentKey(path: string, content: string): string {
  return JSON.stringify(splitFile(path, content).map((d) => d.value));
}
