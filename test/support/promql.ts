/**
 * A minimal PromQL evaluator for instant vectors, enough for the rules rendered here: selectors with =, !=, =~, !~
 * (regexes anchored, as Prometheus anchors them), `A or B` (all of A, then B's series whose label set A lacks),
 * `max by (…) (E)` (the value the largest; labels only those named; the metric name dropped) and
 * `label_replace(E, "dst", "replacement", "src", "regex")` (anchored; no match leaves the series as it is) and a comparison
 * with a number, `E == 1` (==, !=, >, <, >=, <=; without bool: a filter keeping the series, metric name included, that
 * compare true: engine.go VectorscalarBinop, shouldDropMetricName only for arithmetic operators), and `absent(E)`.
 * Semantics from prometheus/prometheus promql/engine.go (VectorOr, aggregation) and promql/functions.go (funcLabelReplace).
 * Plus the alerting rule's `for`: an output series fires once present at every evaluation for the duration.
 */
export type Labels = Record<string, string>;
export interface Sample { labels: Labels; value: number }

const key = (l: Labels): string => JSON.stringify(Object.entries(l).sort(([a], [b]) => a.localeCompare(b)));

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}
  private ws(): void { while (/\s/.test(this.s[this.i] ?? '')) this.i++; }
  private peek(re: RegExp): RegExpExecArray | null { this.ws(); re.lastIndex = this.i; const m = re.exec(this.s); return m && m.index === this.i ? m : null; }
  private take(re: RegExp): string { const m = this.peek(new RegExp(re.source, 'y')); if (!m) throw new Error(`promql: expected ${re} at ${this.i}: ${this.s.slice(this.i, this.i + 30)}`); this.i += m[0].length; return m[0]; }
  private str(): string { return JSON.parse(this.take(/"(?:[^"\\]|\\.)*"/)) as string; }
  parse(): (v: Sample[]) => Sample[] { const e = this.expr(); this.ws(); if (this.i !== this.s.length) throw new Error(`promql: trailing ${this.s.slice(this.i)}`); return e; }
  private expr(): (v: Sample[]) => Sample[] {
    let left = this.compared();
    while (this.peek(/or\b/y)) {
      this.take(/or\b/);
      const l = left, r = this.compared();
      left = (v) => { const a = l(v); const seen = new Set(a.map((x) => key(x.labels))); return [...a, ...r(v).filter((x) => !seen.has(key(x.labels)))]; };
    }
    return left;
  }
  /** A term, then optionally a comparison with a number (binds tighter than `or`: promql/parser precedence). */
  private compared(): (v: Sample[]) => Sample[] {
    const e = this.term();
    if (!this.peek(/==|!=|>=|<=|>|</y)) return e;
    const op = this.take(/==|!=|>=|<=|>|</);
    const n = Number(this.take(/-?\d+(?:\.\d+)?/));
    const test: Record<string, (a: number) => boolean> = { '==': (a) => a === n, '!=': (a) => a !== n, '>': (a) => a > n, '<': (a) => a < n, '>=': (a) => a >= n, '<=': (a) => a <= n };
    return (v) => e(v).filter((x) => test[op]!(x.value));
  }
  private term(): (v: Sample[]) => Sample[] {
    if (this.peek(/\(/y)) { this.take(/\(/); const e = this.expr(); this.take(/\)/); return e; }
    if (this.peek(/absent\b/y)) {
      // absent(v): one series, value 1, when v is empty; its labels the equality matchers of a plain selector, else none
      // (promql/functions.go funcAbsent, createLabelsForAbsentFunction).
      this.take(/absent/); this.take(/\(/);
      const start = this.i;
      const e = this.expr(); this.take(/\)/);
      const sel = /^\s*[a-zA-Z_:][\w:]*\s*(?:\{([^}]*)\})?\s*$/.exec(this.s.slice(start, this.i - 1));
      const labels: Labels = sel ? Object.fromEntries([...(sel[1] ?? '').matchAll(/([a-zA-Z_]\w*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!])) : {};
      return (v) => (e(v).length === 0 ? [{ labels, value: 1 }] : []);
    }
    if (this.peek(/label_replace\b/y)) {
      this.take(/label_replace/); this.take(/\(/);
      const e = this.expr(); this.take(/,/);
      const dst = this.str(); this.take(/,/); const repl = this.str(); this.take(/,/); const src = this.str(); this.take(/,/); const re = new RegExp(`^(?:${this.str()})$`);
      this.take(/\)/);
      return (v) => e(v).map((x) => {
        const m = re.exec(x.labels[src] ?? '');
        if (!m) return x;
        const value = repl.replace(/\$(\d+)/g, (_, n: string) => m[Number(n)] ?? '');
        const labels = { ...x.labels, [dst]: value };
        if (value === '') delete labels[dst];
        return { labels, value: x.value };
      });
    }
    if (this.peek(/max\b/y)) {
      this.take(/max/); this.take(/by/); this.take(/\(/);
      const by: string[] = [this.take(/[a-zA-Z_]\w*/)];
      while (this.peek(/,/y)) { this.take(/,/); by.push(this.take(/[a-zA-Z_]\w*/)); }
      this.take(/\)/); this.take(/\(/); const e = this.expr(); this.take(/\)/);
      return (v) => {
        const groups = new Map<string, Sample>();
        for (const x of e(v)) {
          const labels = Object.fromEntries(by.filter((b) => x.labels[b] !== undefined).map((b) => [b, x.labels[b]!]));
          const g = groups.get(key(labels));
          if (!g || x.value > g.value) groups.set(key(labels), { labels, value: x.value });
        }
        return [...groups.values()];
      };
    }
    const name = this.take(/[a-zA-Z_:][\w:]*/);
    const matchers: ((l: Labels) => boolean)[] = [(l) => l.__name__ === name];
    if (this.peek(/\{/y)) {
      this.take(/\{/);
      while (!this.peek(/\}/y)) {
        const label = this.take(/[a-zA-Z_]\w*/);
        const op = this.take(/=~|!~|!=|=/);
        const value = this.str();
        const re = new RegExp(`^(?:${value})$`);
        const get = (l: Labels) => l[label] ?? '';
        matchers.push(op === '=' ? (l) => get(l) === value : op === '!=' ? (l) => get(l) !== value : op === '=~' ? (l) => re.test(get(l)) : (l) => !re.test(get(l)));
        if (this.peek(/,/y)) this.take(/,/);
      }
      this.take(/\}/);
    }
    return (v) => v.filter((x) => matchers.every((m) => m(x.labels)));
  }
}

/** Evaluates `expr` over the series present at one instant. */
export const evaluate = (expr: string, series: Sample[]): Sample[] => new Parser(expr).parse()(series);

/**
 * An alerting rule over evaluations one `step` minutes apart: which output label sets are firing after each one (present at
 * every evaluation for at least `forMinutes`, as Prometheus' rules/alerting.go: pending from the first, firing once held).
 */
export function firing(expr: string, forMinutes: number, timeline: Sample[][], step = 1): Labels[][] {
  const since = new Map<string, number>();
  return timeline.map((series, t) => {
    const out = evaluate(expr, series);
    const now = new Set(out.map((x) => key(x.labels)));
    for (const k of [...since.keys()]) if (!now.has(k)) since.delete(k);
    for (const x of out) if (!since.has(key(x.labels))) since.set(key(x.labels), t);
    return out.filter((x) => (t - since.get(key(x.labels))!) * step >= forMinutes).map((x) => x.labels);
  });
}
