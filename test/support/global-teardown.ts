import pg from 'pg';
import { testEnvironment } from './environment';

export default async function globalTeardown(): Promise<void> {
  const env = testEnvironment();
  const admin = new pg.Client({ connectionString: env.adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [
      `${env.dbPrefix}%`,
    ]);
    for (const { datname } of rows) {
      await admin.query(`drop database if exists ${admin.escapeIdentifier(datname)} with (force)`);
    }
  } finally {
    await admin.end();
  }
  const embedded = (globalThis as { __embedded?: { stop(): Promise<void> } }).__embedded;
  await embedded?.stop();
}
