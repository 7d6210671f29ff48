/**
 * Words and Markdown snippets the diff reports share (the core's and each distribution's part):
 * pluralized counts, inline code that survives backticks, table cells that survive pipes.
 */

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Markdown-safe inline code (backticks in values would end the span). */
export const code = (s: string): string => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);
/** A table cell: GitHub splits cells at `|` even inside code spans. */
export const cell = (s: string): string => s.replace(/\|/g, '\\|');
