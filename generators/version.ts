/**
 * The generator's name and version (package.json), for headers and provenance.
 */
import { readFileSync } from 'node:fs';
import { projectUrl } from './lib/project-root.js';

const pkg = JSON.parse(readFileSync(projectUrl('package.json'), 'utf8')) as { name: string; version: string };

export const GENERATOR_NAME: string = pkg.name;
export const GENERATOR_VERSION: string = pkg.version;
