/** Document paths: `nodePools[2].instanceType` for people, JSON pointers for machines. */
export type DocPath = readonly (string | number)[];

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(path: DocPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(document)' : out;
}

export function toPointer(path: DocPath): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export function fromPointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

export function getAt(value: unknown, path: DocPath): unknown {
  let cur: unknown = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/**
 * A path into the environment document whose list items may be selected by their `name` field
 * (`['workloads', { name: 'portal' }, 'replicas']`), so that reordering a list does not change what
 * the path points to. Used for the inputs of rendered files (their provenance hash).
 */
export type NameSelector = { readonly name: string };
export type InputPath = readonly (string | number | NameSelector)[];

const isSelector = (seg: unknown): seg is NameSelector => typeof seg === 'object' && seg !== null && typeof (seg as NameSelector).name === 'string';

export function formatInputPath(path: InputPath): string {
  // formatPath's segments inline, plus name selectors (called for every input of every rendered file).
  let out = '';
  for (const seg of path) {
    if (isSelector(seg)) out += `[name=${seg.name}]`;
    else if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === '' ? '(document)' : out;
}

export function getInputAt(value: unknown, path: InputPath): unknown {
  let cur: unknown = value;
  for (const seg of path) {
    if (isSelector(seg)) {
      cur = Array.isArray(cur) ? cur.find((item: unknown) => (item as { name?: unknown } | null)?.name === seg.name) : undefined;
    } else {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string | number, unknown>)[seg];
    }
  }
  return cur;
}

/** The concrete document path an input path points to in `value` (name selectors become indices). */
export function resolveInputPath(value: unknown, path: InputPath): (string | number)[] {
  const out: (string | number)[] = [];
  let cur: unknown = value;
  for (const seg of path) {
    if (isSelector(seg)) {
      const i = Array.isArray(cur) ? cur.findIndex((item: unknown) => (item as { name?: unknown } | null)?.name === seg.name) : -1;
      out.push(i);
      cur = Array.isArray(cur) ? cur[i] : undefined;
    } else {
      out.push(seg);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[seg] : undefined;
    }
  }
  return out;
}
