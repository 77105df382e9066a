import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { getSchema } from '../src/server/schema';

/**
 * Writes schema.graphql from the code (`npm run schema`), or with --check fails when the committed
 * file differs (`npm run schema:check`).
 */
const file = path.resolve(__dirname, '..', '..', 'schema.graphql');
const header = '# Generated from the code by `npm run schema`. Do not edit; review its diff like code.\n\n';
const sdl = header + printSchema(getSchema()) + '\n';

if (process.argv.includes('--check')) {
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  if (committed !== sdl) {
    process.stderr.write('schema.graphql is stale: run `npm run schema` and commit the result\n');
    process.exit(1);
  }
  process.stdout.write('schema.graphql matches the code\n');
} else {
  fs.writeFileSync(file, sdl);
  process.stdout.write(`wrote ${file}\n`);
}
