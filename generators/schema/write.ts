/**
 * Rewrite schemas/environment.schema.json from the composition (./compose.ts) after a schema
 * fragment changed: `npx tsx generators/schema/write.ts`. Not a command: it is not bundled.
 */
import { writeFileSync } from 'node:fs';
import { projectUrl } from '../lib/project-root.js';
import { environmentSchemaText, SCHEMA_FILE } from './compose.js';

writeFileSync(projectUrl(SCHEMA_FILE), environmentSchemaText());
process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
