import fs from 'node:fs';
import path from 'node:path';

/** dist/graphiql under the project root, where scripts/build-graphiql.ts writes the bundle. */
export function graphiqlAssetsDir(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return path.join(dir, 'dist', 'graphiql');
}
