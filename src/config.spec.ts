import { ConfigError, loadConfig } from './config';

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
