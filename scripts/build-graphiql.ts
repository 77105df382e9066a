/**
 * Bundles the GraphiQL page (web/graphiql) into dist/graphiql with esbuild: the page script, its CSS
 * (the package inlines its fonts as data: URLs), and Monaco's three web workers.
 * Everything the page loads comes from this server (src/server/graphiql.ts); nothing from a CDN.
 *
 * Run by `npm run build` (so `npm start`, `npm test` and the Dockerfile get it). Skipped when the
 * inputs (web/graphiql, package-lock.json, this script) have not changed since the last build.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { graphiqlAssetsDir } from '../src/server/graphiql-assets';

export const GRAPHIQL_OUT_DIR = graphiqlAssetsDir();
export const PROJECT_ROOT = path.dirname(path.dirname(GRAPHIQL_OUT_DIR));
export const GRAPHIQL_SRC_DIR = path.join(PROJECT_ROOT, 'web', 'graphiql');
const STAMP = '.build-stamp';

export async function buildGraphiQL(opts: { force?: boolean; log?: (msg: string) => void } = {}): Promise<{ built: boolean; ms: number }> {
  const t0 = Date.now();
  const stamp = inputsHash();
  const stampFile = path.join(GRAPHIQL_OUT_DIR, STAMP);
  if (!opts.force && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
    return { built: false, ms: Date.now() - t0 };
  }
  // esbuild is a devDependency: loaded only when there is something to build.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const tmp = `${GRAPHIQL_OUT_DIR}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    const common = {
      bundle: true,
      minify: true,
      sourcemap: false,
      legalComments: 'linked' as const,
      target: ['chrome110', 'firefox110', 'safari16'],
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'warning' as const,
      absWorkingDir: PROJECT_ROOT,
    };
    await esbuild.build({
      ...common,
      entryPoints: { graphiql: path.join(GRAPHIQL_SRC_DIR, 'main.tsx') },
      outdir: tmp,
      // One script and one stylesheet: lazily imported modules are inlined (with code splitting, the CSS
      // of a lazy chunk would be emitted but never loaded).
      format: 'iife',
      assetNames: 'asset-[hash]',
      jsx: 'automatic',
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
    });
    await esbuild.build({
      ...common,
      entryPoints: {
        'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
        'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
        'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
      },
      outdir: tmp,
      format: 'iife',
    });
    fs.writeFileSync(path.join(tmp, STAMP), stamp);
    fs.rmSync(GRAPHIQL_OUT_DIR, { recursive: true, force: true });
    fs.renameSync(tmp, GRAPHIQL_OUT_DIR);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const ms = Date.now() - t0;
  opts.log?.(`built the GraphiQL page into ${path.relative(PROJECT_ROOT, GRAPHIQL_OUT_DIR)} in ${ms} ms`);
  return { built: true, ms };
}

function inputsHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...fs.readdirSync(GRAPHIQL_SRC_DIR).map((f) => path.join(GRAPHIQL_SRC_DIR, f)),
    path.join(PROJECT_ROOT, 'package-lock.json'),
    path.join(PROJECT_ROOT, 'scripts', 'build-graphiql.ts'),
  ].sort();
  for (const file of files) hash.update(file).update('\0').update(fs.readFileSync(file)).update('\0');
  return hash.digest('hex');
}

if (require.main === module) {
  buildGraphiQL({ force: process.argv.includes('--force'), log: (m) => console.log(m) }).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
