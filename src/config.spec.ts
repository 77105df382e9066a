import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';
import { makeServerPki } from './ssm-simulator/tls';

const MiB = 1024 * 1024;
const base = { NODE_ENV: 'test' as const, JWT_SECRET: 'config-spec-secret-that-is-long-enough-0123456789' };

describe('request body settings', () => {
  it('defaults to 4 MiB JSON bodies, uploads of 10 MiB + 4 MiB + 16 KiB, and 128 MiB / 32 MiB in flight', () => {
    const config = loadConfig(base);
    expect(config.maxBodyBytes).toBe(4 * MiB);
    expect(config.maxUploadBodyBytes).toBe(10 * MiB + 4 * MiB + 16 * 1024);
    expect(config.inflightBodyBytes).toEqual({ instance: 128 * MiB, perSubject: 32 * MiB });
  });

  it('refuses a per-subject budget that cannot hold one upload, naming the variable', () => {
    const tooSmall = String(10 * MiB + 4 * MiB);
    expect(() => loadConfig({ ...base, MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT: tooSmall })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT: tooSmall })).toThrow(/MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT .* must hold one upload/);
    // With smaller JSON bodies, a smaller budget holds one upload.
    expect(loadConfig({ ...base, MAX_BODY_BYTES: String(MiB), MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT: tooSmall }).inflightBodyBytes.perSubject).toBe(14 * MiB);
  });

  it('refuses an instance budget below the per-subject one', () => {
    expect(() => loadConfig({ ...base, MAX_INFLIGHT_BODY_BYTES: String(16 * MiB) })).toThrow(
      /MAX_INFLIGHT_BODY_BYTES \(16777216\) must be at least MAX_INFLIGHT_BODY_BYTES_PER_SUBJECT \(33554432\)/,
    );
  });

  it.each(['-1', 'lots', '1.5'])('refuses MAX_INFLIGHT_BODY_BYTES=%s as invalid', (value) => {
    expect(() => loadConfig({ ...base, MAX_INFLIGHT_BODY_BYTES: value })).toThrow(/MAX_INFLIGHT_BODY_BYTES/);
  });
});

describe('SSM_CA_CERT', () => {
  let dir: string;
  const file = (name: string, text: string): string => {
    const at = path.join(dir, name);
    writeFileSync(at, text);
    return at;
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'config-spec-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every certificate of a PEM bundle at start; unset trusts node\'s roots only', async () => {
    const [one, two] = await Promise.all([makeServerPki(['a.example']), makeServerPki(['b.example'])]);
    const bundle = file('bundle.pem', `# private CAs\n${one.caPem}\n${two.caPem}`);
    expect(loadConfig({ ...base, SSM_CA_CERT: bundle }).ssmCaCert).toEqual({ path: bundle, certificates: [one.caPem.trim(), two.caPem.trim()] });
    expect(loadConfig(base).ssmCaCert).toBeUndefined();
  });

  it('refuses a file it cannot read, naming the variable and the path', () => {
    const missing = path.join(dir, 'missing.pem');
    expect(() => loadConfig({ ...base, SSM_CA_CERT: missing })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, SSM_CA_CERT: missing })).toThrow(`SSM_CA_CERT: cannot read ${missing} (ENOENT)`);
  });

  it('refuses a file without a PEM certificate, or with a broken one, naming the variable', async () => {
    const { keyPem } = await makeServerPki(['a.example']);
    expect(() => loadConfig({ ...base, SSM_CA_CERT: file('key.pem', keyPem) })).toThrow(/^SSM_CA_CERT: .*key\.pem holds no PEM certificate/);
    const broken = file('broken.pem', '-----BEGIN CERTIFICATE-----\nTUlJQm9ndXM=\n-----END CERTIFICATE-----\n');
    expect(() => loadConfig({ ...base, SSM_CA_CERT: broken })).toThrow(/^SSM_CA_CERT: .*broken\.pem certificate 1 of 1 is not a valid X\.509 certificate/);
  });
});
