import fs from 'node:fs';
import path from 'node:path';

/** The folder holding the project's package.json (above src/ or dist/src/). */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** dist/graphiql under the project root, where scripts/build-graphiql.ts writes the bundle. */
export function graphiqlAssetsDir(): string {
  return path.join(projectRoot(), 'dist', 'graphiql');
}

/** console/dist under the project root, where scripts/build-console.ts writes the console's build. */
export function consoleAssetsDir(): string {
  return path.join(projectRoot(), 'console', 'dist');
}
