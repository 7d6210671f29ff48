/**
 * Words and Markdown snippets the diff reports share (the core's and each distribution's part):
 * pluralized counts, inline code that survives backticks, table cells that survive pipes.
 */

/**
 * What control planes down together take with them when each holds an etcd member (Distribution.diff.controlPlanesDown):
 * etcd serves while a majority of its members is up (its quorum), and the API server reads and writes through it.
 */
export const ETCD_CONTROL_PLANES_DOWN = 'etcd loses its quorum once they are half of its members or more, and the API goes with it';

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** At most `n` names, then how many more: `a, b, c and 4 more`. */
export function some(names: readonly string[], n = 3): string {
  return names.length <= n ? names.join(', ') : `${names.slice(0, n).join(', ')} and ${names.length - n} more`;
}

/** Markdown-safe inline code (backticks in values would end the span). */
export const code = (s: string): string => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);
/** A table cell: GitHub splits cells at `|` even inside code spans. */
export const cell = (s: string): string => s.replace(/\|/g, '\\|');
