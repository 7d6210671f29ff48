/**
 * A small interpreter of Go's text/template for the templates the hub renders into ExternalSecrets (hub.ts expiryCheck),
 * with the functions as external-secrets v2.9.0 defines them (runtime/template/v2/sprig): fromJson (json.Unmarshal,
 * nil on an error: defaults.go:70-79), kindIs (reflect kind: "map", "string", "float64", "invalid" for nil), hasKey, get,
 * now, dateModify (time.ParseDuration, the date unchanged on an error: date.go:45-51), dateInZone (UTC only here),
 * fail (an error: functions.go:278); lt as text/template's (both operands of one basic kind, else an error).
 * Actions: {{ $v := expr }}, {{ if expr }} … {{ end }}, {{ expr }}; expressions: .field, $v, "string", (expr),
 * function calls and pipelines. Anything else throws, so a template outside this subset is not silently misread.
 */
type Value = unknown;

const kindOf = (v: Value): string =>
  v === null || v === undefined ? 'invalid' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'float64' : typeof v === 'boolean' ? 'bool' : Array.isArray(v) ? 'slice' : v instanceof Date ? 'struct' : 'map';

function goFormatUTC(layout: string, d: Date): string {
  if (layout !== '2006-01-02T15:04:05Z') throw new Error(`layout not modelled: ${layout}`);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function goTemplateFunctions(now: Date): Record<string, (...a: Value[]) => Value> {
  return {
    fromJson: (s) => {
      try {
        return JSON.parse(String(s));
      } catch {
        return null;
      }
    },
    kindIs: (k, v) => k === kindOf(v),
    hasKey: (m, k) => {
      if (kindOf(m) !== 'map' && m !== null) throw new Error('hasKey: wrong type for value; expected map[string]interface {}');
      return m !== null && Object.prototype.hasOwnProperty.call(m, String(k));
    },
    get: (m, k) => (m !== null && typeof m === 'object' ? ((m as Record<string, Value>)[String(k)] ?? '') : ''),
    now: () => now,
    dateModify: (dur, d) => {
      const m = /^([+-]?)(\d+)h$/.exec(String(dur));
      if (!m) return d;
      return new Date((d as Date).getTime() + (m[1] === '-' ? -1 : 1) * Number(m[2]) * 3600_000);
    },
    dateInZone: (layout, d, zone) => {
      if (zone !== 'UTC') throw new Error('zone not modelled');
      return goFormatUTC(String(layout), d as Date);
    },
    fail: (msg) => {
      throw new Error(String(msg));
    },
    lt: (a, b) => {
      if (kindOf(a) !== kindOf(b) || !['string', 'float64'].includes(kindOf(a))) throw new Error(`error calling lt: incompatible types for comparison`);
      return (a as string | number) < (b as string | number);
    },
  };
}

type Token = { t: 'str' | 'field' | 'var' | 'ident' | '(' | ')' | '|'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|(\.[A-Za-z_]\w*)|(\$[A-Za-z_]\w*)|([A-Za-z_]\w*)|([()|]))/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < src.length && (m = re.exec(src))) {
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'str', v: JSON.parse(`"${m[1]}"`) as string });
    else if (m[2]) out.push({ t: 'field', v: m[2].slice(1) });
    else if (m[3]) out.push({ t: 'var', v: m[3] });
    else if (m[4]) out.push({ t: 'ident', v: m[4] });
    else out.push({ t: m[5] as '(' | ')' | '|', v: m[5]! });
  }
  if (src.slice(at).trim() !== '') throw new Error(`cannot tokenize: ${src.slice(at)}`);
  return out;
}

export function executeGoTemplate(tpl: string, data: Record<string, Value>, now: Date): string {
  const fns = goTemplateFunctions(now);
  const vars = new Map<string, Value>();
  const evalTokens = (toks: Token[]): Value => {
    let i = 0;
    const operand = (): Value => {
      const tk = toks[i++]!;
      if (tk.t === 'str') return tk.v;
      if (tk.t === 'field') {
        if (!(tk.v in data)) throw new Error(`map has no entry for key ${tk.v}`);
        return data[tk.v];
      }
      if (tk.t === 'var') {
        if (!vars.has(tk.v)) throw new Error(`undefined variable ${tk.v}`);
        return vars.get(tk.v);
      }
      if (tk.t === '(') {
        const v = pipeline();
        if (toks[i++]?.t !== ')') throw new Error('unclosed (');
        return v;
      }
      if (tk.t === 'ident') return call(tk.v, []);
      throw new Error(`unexpected ${tk.v}`);
    };
    const call = (name: string, piped: Value[]): Value => {
      const fn = fns[name];
      if (!fn) throw new Error(`function "${name}" not defined`);
      const args: Value[] = [];
      while (i < toks.length && toks[i]!.t !== ')' && toks[i]!.t !== '|') args.push(operand());
      return fn(...args, ...piped);
    };
    const command = (piped?: Value[]): Value => {
      const tk = toks[i]!;
      if (tk.t === 'ident') {
        i++;
        return call(tk.v, piped ?? []);
      }
      if (piped) throw new Error('only a function can take a pipe');
      return operand();
    };
    const pipeline = (): Value => {
      let v = command();
      while (toks[i]?.t === '|') {
        i++;
        v = command([v]);
      }
      return v;
    };
    const v = pipeline();
    if (i !== toks.length) throw new Error('trailing tokens');
    return v;
  };
  let out = '';
  const stack: boolean[] = [];
  const active = () => stack.every(Boolean);
  const parts = tpl.split(/(\{\{.*?\}\})/s);
  for (const part of parts) {
    const action = /^\{\{\s*(.*?)\s*\}\}$/s.exec(part);
    if (!action) {
      if (active()) out += part;
      continue;
    }
    const body = action[1]!;
    if (body === 'end') {
      if (!stack.length) throw new Error('unexpected end');
      stack.pop();
      continue;
    }
    const cond = /^if\s+(.*)$/s.exec(body);
    if (cond) {
      stack.push(active() ? Boolean(truthy(evalTokens(tokenize(cond[1]!)))) : false);
      continue;
    }
    if (!active()) continue;
    const assign = /^(\$[A-Za-z_]\w*)\s*:=\s*(.*)$/s.exec(body);
    if (assign) {
      vars.set(assign[1]!, evalTokens(tokenize(assign[2]!)));
      continue;
    }
    const v = evalTokens(tokenize(body));
    out += v === null || v === undefined ? '<no value>' : String(v);
  }
  if (stack.length) throw new Error('unclosed if');
  return out;
}

/** text/template's truth: false, 0, nil, an empty string, map or slice are false. */
const truthy = (v: Value): boolean => !(v === false || v === 0 || v === null || v === undefined || v === '' || (typeof v === 'object' && Object.keys(v as object).length === 0 && !(v instanceof Date)));
