import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { keyId, keyPairFromSeed, parsePublicKeyPem, publicKeyPem, sign, verify } from './signing';

describe('Ed25519 signing', () => {
  const server = keyPairFromSeed('ssm-simulator:demo');
  const serverPem = publicKeyPem(server.privateKey);
  const serverId = keyId(serverPem);
  const data = Buffer.from('slm-signature-v1\nmanifest.json:abc\n');

  it('derives the same key pair from the same seed, and different ones from different seeds', () => {
    expect(publicKeyPem(keyPairFromSeed('ssm-simulator:demo').publicKey)).toBe(serverPem);
    expect(publicKeyPem(keyPairFromSeed('ssm-simulator:other').publicKey)).not.toBe(serverPem);
    // Ed25519 signatures are deterministic: same key, same data, same signature.
    expect(sign(keyPairFromSeed('ssm-simulator:demo').privateKey, data)).toBe(sign(server.privateKey, data));
  });

  it('uses sha256(seed) as the private key', () => {
    const jwk = server.privateKey.export({ format: 'jwk' });
    expect(Buffer.from(jwk.d as string, 'base64url').equals(createHash('sha256').update('ssm-simulator:demo').digest())).toBe(true);
  });

  it('gives a key id of 16 hex characters: sha256 of the raw public key', () => {
    const raw = Buffer.from(server.publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    expect(serverId).toMatch(/^[0-9a-f]{16}$/);
    expect(serverId).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
    expect(publicKeyPem(server.publicKey)).toBe(serverPem);
  });

  it('verifies a signature made with a trusted key', () => {
    expect(verify([serverPem], data, sign(server.privateKey, data), serverId)).toBe(true);
  });

  it('finds the signing key among several trusted keys by its id', () => {
    const other = publicKeyPem(keyPairFromSeed('rotated').publicKey);
    expect(verify([other, 'not a key', serverPem], data, sign(server.privateKey, data), serverId)).toBe(true);
  });

  it('refuses a signature by a key that is not trusted, even when it claims a trusted key id', () => {
    const attacker = keyPairFromSeed('attacker');
    const forged = sign(attacker.privateKey, data);
    expect(verify([serverPem], data, forged, serverId)).toBe(false);
    expect(verify([serverPem], data, forged, keyId(publicKeyPem(attacker.publicKey)))).toBe(false);
    expect(verify([], data, sign(server.privateKey, data), serverId)).toBe(false);
  });

  it('refuses a signature over any altered data (property)', () => {
    const signature = sign(server.privateKey, data);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: data.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
        const altered = Buffer.from(data);
        altered[index] ^= flip;
        expect(verify([serverPem], altered, signature, serverId)).toBe(false);
      }),
    );
  });

  it('refuses a malformed or altered signature (property)', () => {
    const signature = sign(server.privateKey, data);
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (junk) => {
        fc.pre(junk !== signature);
        expect(verify([serverPem], data, junk, serverId)).toBe(false);
      }),
    );
    const bytes = Buffer.from(signature, 'base64');
    bytes[10] ^= 1;
    expect(verify([serverPem], data, bytes.toString('base64'), serverId)).toBe(false);
    // Non-canonical base64 of the right signature (padding dropped) is refused too.
    expect(verify([serverPem], data, signature.replace(/=+$/, ''), serverId)).toBe(false);
  });

  it('refuses keys that are not Ed25519 PEM public keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => parsePublicKeyPem(rsa)).toThrow(/Ed25519/);
    expect(() => keyId(rsa)).toThrow(/Ed25519/);
    expect(() => parsePublicKeyPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')).toThrow(/PEM/);
    expect(parsePublicKeyPem(serverPem).asymmetricKeyType).toBe('ed25519');
  });
});
