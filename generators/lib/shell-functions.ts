/**
 * Composing a shell script's shared functions by use: a script carries only the functions its body
 * calls, directly or through another function it carries, so no rendered script holds dead code
 * (test/shell-safety.test.ts checks every rendered runbook script for functions it never calls).
 */

/** One shell function: its name and its full text (comment lines above it included). */
export interface ShellFunction {
  readonly name: string;
  readonly text: string;
}

/** `text` without its comment lines (a word in a comment is no call). */
const code = (text: string): string =>
  text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n');

/** Whether `text` names `name` as a word (a call, or a use in a command substitution). */
const names = (text: string, name: string): boolean => new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)`, 'm').test(code(text));

/**
 * The texts of the functions of `defs` that `body` uses, directly or through another one kept, in the
 * order of `defs` (a function may call one defined after it: POSIX sh resolves it when called).
 */
export function usedFunctions(defs: readonly ShellFunction[], body: string): string[] {
  const kept = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const d of defs)
      if (!kept.has(d.name) && (names(body, d.name) || defs.some((o) => kept.has(o.name) && names(o.text, d.name)))) {
        kept.add(d.name);
        grew = true;
      }
  }
  return defs.filter((d) => kept.has(d.name)).map((d) => d.text);
}
