/** A development tool, not part of the CLI: writes docs/cli.md from the option tables (npm run docs:cli); test/cli/reference.test.ts checks it is current. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliReference } from '../cli/args.ts';

const path = join(fileURLToPath(import.meta.url), '../../docs/cli.md');
writeFileSync(path, cliReference());
console.log(`wrote ${path}`);
