import 'reflect-metadata';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import autocannon from 'autocannon';
import express from 'express';
import { TokenVerifier, mintToken } from '../src/auth/jwt';
import { Role } from '../src/auth/roles';
import { loadConfig } from '../src/config';
import type { RequestContext } from '../src/common/context';
import { openDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server/app';
import { formatError } from '../src/server/errors';
import { getSchema } from '../src/server/schema';

/**
 * Measures the HTTP layer choice (issue: "choose the HTTP layer by measurement"): the product's
 * node:http server against Apollo on Express 5, same schema, same JWT verification, same query,
 * same load, in one run. `npm run bench:http [-- --duration 10]`.
 */
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';
const QUERY = JSON.stringify({ query: '{ viewer { subject role } }' });

async function load(url: string, token: string, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url,
    connections: 50,
    duration,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: QUERY,
  });
}

async function main(): Promise<void> {
  const duration = Number(process.argv[process.argv.indexOf('--duration') + 1]) || 10;
  const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', JWT_SECRET: SECRET, RATE_LIMIT_SUBJECT_PER_MINUTE: '0', RATE_LIMIT_TENANT_PER_MINUTE: '0' });
  const log = createLogger('warn');
  const db = await openDatabase(config, log);
  const key = { kind: 'secret' as const, algorithms: ['HS256'] as ['HS256'], secret: SECRET, generated: false };
  const token = mintToken({ key, subject: 'bench', role: Role.PROVIDER_ADMIN, expiresInSec: 3600 });

  const ours = await startServer({ config, log, db });

  const verifier = new TokenVerifier({ key });
  const apollo = new ApolloServer<RequestContext>({ schema: getSchema(), formatError, includeStacktraceInErrorResponses: false });
  await apollo.start();
  const app = express();
  app.use(
    '/graphql',
    express.json({ limit: config.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req }) => ({
        viewer: await verifier.viewerFromAuthorization(req.headers.authorization),
        em: db.orm.em.fork(),
        requestId: 'bench',
        log,
        app: ours.runtime,
        memo: new Map(),
      }),
    }),
  );
  const expressServer = http.createServer(app);
  await new Promise<void>((resolve) => expressServer.listen(0, '127.0.0.1', resolve));
  const expressUrl = `http://127.0.0.1:${(expressServer.address() as AddressInfo).port}/graphql`;

  const rows: Record<string, { reqPerSec: number; p50: number; p99: number; non2xx: number }> = {};
  for (const [name, url] of [
    ['node:http (product)', ours.url.replace('localhost', '127.0.0.1')],
    ['express5', expressUrl],
  ] as const) {
    await load(url, token, 2); // warm-up
    const r = await load(url, token, duration);
    rows[name] = { reqPerSec: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx };
  }
  console.table(rows);
  const file = path.join(__dirname, '..', '..', 'bench', 'results', `http-layer-${new Date().toISOString().slice(0, 10)}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), durationSec: duration, query: QUERY, rows }, null, 2));

  await new Promise<void>((resolve) => expressServer.close(() => resolve()));
  await apollo.stop();
  await ours.close();
  await db.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
