/** Every database a test run creates starts with this, then the run's start time in seconds. */
export const TEST_DB_ROOT = 'slm_test_';
/** Databases of runs that started longer ago than this are leftovers of a killed run. */
export const STALE_AFTER_SEC = 2 * 3600;
/** globalSetup puts the environment here; jest workers inherit it. */
export const ENV_VAR = 'SLM_TEST_ENVIRONMENT';

export interface TestEnvironment {
  /** Superuser (or owner) URL of the server the tests run against. */
  adminUrl: string;
  templateDb: string;
  /** Prefix of this run's databases, e.g. slm_test_1795853011_a1b2_ */
  dbPrefix: string;
  embeddedDataDir?: string;
}

export function testEnvironment(): TestEnvironment {
  const raw = process.env[ENV_VAR];
  if (!raw) throw new Error(`${ENV_VAR} is not set: run the tests through jest (test/support/global-setup.ts)`);
  return JSON.parse(raw) as TestEnvironment;
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
