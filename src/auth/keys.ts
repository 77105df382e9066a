import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config, JwtKeyConfig } from '../config';

const DEV_SECRET_FILE = 'jwt-secret';

/**
 * The key tokens are verified with. Configured keys win; in development without JWT settings a
 * random HS256 secret is generated once and kept under the data directory, so tokens minted with
 * `npm run token` keep working across restarts. Production refuses to start without keys (config.ts).
 */
export function resolveJwtKey(config: Config): JwtKeyConfig {
  if (config.jwt.key) return config.jwt.key;
  const file = path.join(config.dataDir, DEV_SECRET_FILE);
  fs.mkdirSync(config.dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(48).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = fs.readFileSync(file, 'utf8').trim();
  return { kind: 'secret', algorithms: ['HS256'], secret, generated: true };
}
