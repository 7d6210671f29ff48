/**
 * Where the repository is, for the files the generator reads from it (package.json, schemas/) and
 * the commands' default --root. Found upward from this module, so it is the same from the TypeScript
 * sources (generators/lib/) and from the bundles the build writes (dist/), where an
 * `import.meta.url`-relative path would point elsewhere.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The nearest directory at or above `from` that holds package.json and generators/. */
export function findProjectRoot(from: string): string {
  for (let dir = resolve(from); ; ) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'generators'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no project root (a directory with package.json and generators/) at or above ${from}`);
    dir = up;
  }
}

/** The repository this generator lives in (its package.json, schemas/, environments/ …). */
export const PROJECT_ROOT: string = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** A file or directory (trailing "/") of the repository as a file URL. */
export const projectUrl = (relative: string): URL => new URL(relative, pathToFileURL(PROJECT_ROOT + '/'));

/** The build directory below the project root (generators/build/build.mjs writes it; gitignored). */
export const BUILD_DIR = 'dist';
