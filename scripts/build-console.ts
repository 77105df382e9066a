/**
 * Builds the console (console/, React + Vite) into console/dist, served by the server at / (src/server/console.ts).
 *
 * Run by `npm run build` (so `npm start`, `npm test` and the Dockerfile get it) and by the jest global
 * setup. Skipped when the console's sources (console/src, its index.html, configuration and package.json),
 * schema.graphql, package-lock.json and this script are unchanged since the last build: their hash is kept
 * in console/dist/.build-stamp, so a second `npm start` does not build again.
 *
 * Prints the initial JavaScript (the entry script and the modules it preloads) gzipped, and fails when it
 * is over INITIAL_JS_BUDGET_BYTES: screens and charts are loaded on demand to stay under it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { consoleAssetsDir, projectRoot } from '../src/server/graphiql-assets';

export const CONSOLE_OUT_DIR = consoleAssetsDir();
export const CONSOLE_DIR = path.dirname(CONSOLE_OUT_DIR);
const ROOT = projectRoot();
const STAMP = '.build-stamp';
/** 250 KB, gzipped: what a first visit downloads before the console can draw its first screen. */
export const INITIAL_JS_BUDGET_BYTES = 250 * 1000;

export interface ConsoleBuild {
  built: boolean;
  ms: number;
  /** Gzipped bytes of the initial JavaScript (also when the build was skipped). */
  initialJsGzipBytes: number;
}

export async function buildConsole(opts: { force?: boolean; log?: (msg: string) => void } = {}): Promise<ConsoleBuild> {
  const t0 = Date.now();
  const stamp = inputsHash();
  const stampFile = path.join(CONSOLE_OUT_DIR, STAMP);
  if (!opts.force && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) {
    return { built: false, ms: Date.now() - t0, initialJsGzipBytes: initialJsGzipBytes(CONSOLE_OUT_DIR) };
  }
  const tmp = `${CONSOLE_OUT_DIR}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    // vite is ESM-only and a devDependency: loaded only when there is something to build.
    const vite = await import('vite');
    // Vite and its React plugin choose production builds (React's, the JSX runtime's) from NODE_ENV:
    // production always, also when the build runs inside jest (NODE_ENV=test).
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    await vite.build({
      root: CONSOLE_DIR,
      mode: 'production',
      configFile: path.join(CONSOLE_DIR, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: tmp, emptyOutDir: true },
    }).finally(() => {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    });
    const initial = initialJsGzipBytes(tmp);
    const kb = (initial / 1000).toFixed(1);
    opts.log?.(`console: initial JavaScript ${kb} KB gzipped (budget ${INITIAL_JS_BUDGET_BYTES / 1000} KB)`);
    if (initial > INITIAL_JS_BUDGET_BYTES) {
      throw new Error(
        `the console's initial JavaScript is ${kb} KB gzipped, over its budget of ${INITIAL_JS_BUDGET_BYTES / 1000} KB: load the new code on demand (React.lazy)`,
      );
    }
    fs.writeFileSync(path.join(tmp, STAMP), stamp);
    fs.rmSync(CONSOLE_OUT_DIR, { recursive: true, force: true });
    fs.renameSync(tmp, CONSOLE_OUT_DIR);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const ms = Date.now() - t0;
  opts.log?.(`built the console into ${path.relative(ROOT, CONSOLE_OUT_DIR)} in ${ms} ms`);
  return { built: true, ms, initialJsGzipBytes: initialJsGzipBytes(CONSOLE_OUT_DIR) };
}

/** The scripts index.html loads or preloads, gzipped (as the server sends them), summed. */
export function initialJsGzipBytes(outDir: string): number {
  const html = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
  const names = new Set<string>();
  for (const m of html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*\brel="modulepreload"[^>]*\bhref)="\/assets\/([^"]+\.js)"/g)) names.add(m[1]);
  if (names.size === 0) throw new Error(`no script found in ${path.join(outDir, 'index.html')}`);
  let total = 0;
  for (const name of names) total += gzipSync(fs.readFileSync(path.join(outDir, 'assets', name))).length;
  return total;
}

function inputsHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...listFiles(path.join(CONSOLE_DIR, 'src')),
    ...['index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'].map((f) => path.join(CONSOLE_DIR, f)),
    ...listFiles(path.join(CONSOLE_DIR, 'public')),
    path.join(ROOT, 'package-lock.json'),
    path.join(ROOT, 'scripts', 'build-console.ts'),
  ]
    .filter((f) => fs.existsSync(f))
    .sort();
  for (const file of files) hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  return hash.digest('hex');
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

if (require.main === module) {
  buildConsole({ force: process.argv.includes('--force'), log: (m) => console.log(m) }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
