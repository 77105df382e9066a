/**
 * Ed25519 signing of license-server files (license summaries and ACKs).
 *
 * The license server (or the simulator) signs what it issues; the product keeps a list of trusted public
 * keys (PEM, SPKI) and accepts a file only when it is signed by one of them. A signature names the key it
 * was made with by `keyId`, so keys can be rotated by trusting the new one before the old one is dropped.
 */
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

export interface Ed25519KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** ASN.1 DER of a PKCS#8 Ed25519 private key, up to the 32 key bytes that follow it (RFC 8410). */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** ASN.1 DER of an SPKI Ed25519 public key, up to the 32 key bytes that follow it (RFC 8410). */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Name of the signature algorithm as written in `signature.json`. */
export const SIGNATURE_ALGORITHM = 'Ed25519';

/**
 * The same key pair for the same seed, every time: sha256(seed) is the 32-byte Ed25519 private key.
 * For the simulator and tests; a real deployment's key would come from a secret store.
 */
export function keyPairFromSeed(seed: string): Ed25519KeyPair {
  const raw = createHash('sha256').update(seed, 'utf8').digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The SPKI PEM of a key (given the private or the public half): what the product is told to trust. */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}

/**
 * Parses a PEM public key and checks it is Ed25519; throws an `Error` saying what is wrong otherwise.
 * Settings that accept trusted keys should validate them with this.
 */
export function parsePublicKeyPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`an ${SIGNATURE_ALGORITHM} public key is required, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  }
  return key;
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  if (der.length !== SPKI_ED25519_PREFIX.length + 32 || !der.subarray(0, SPKI_ED25519_PREFIX.length).equals(SPKI_ED25519_PREFIX)) {
    throw new Error(`an ${SIGNATURE_ALGORITHM} public key is required`);
  }
  return der.subarray(SPKI_ED25519_PREFIX.length);
}

/** First 16 hex characters of sha256 of the raw 32-byte public key. Throws on a non-Ed25519 key. */
export function keyId(publicKeyPemText: string): string {
  const raw = rawPublicKey(parsePublicKeyPem(publicKeyPemText));
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

/** Ed25519 signature of `data`, base64. */
export function sign(privateKey: KeyObject, data: Buffer): string {
  return cryptoSign(null, data, privateKey).toString('base64');
}

const CANONICAL_BASE64_64_BYTES = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

/**
 * True when `signatureB64` is a valid Ed25519 signature of `data` by the trusted key whose id is `keyIdValue`.
 * False when no trusted key has that id, the signature is not canonical base64 of 64 bytes, or it does
 * not verify. Entries of `publicKeyPems` that are not Ed25519 PEM keys are skipped (they can never match).
 */
export function verify(publicKeyPems: readonly string[], data: Buffer, signatureB64: string, keyIdValue: string): boolean {
  if (!CANONICAL_BASE64_64_BYTES.test(signatureB64)) return false;
  const signature = Buffer.from(signatureB64, 'base64');
  for (const pem of publicKeyPems) {
    let key: KeyObject;
    let id: string;
    try {
      key = parsePublicKeyPem(pem);
      id = keyId(pem);
    } catch {
      continue;
    }
    if (id !== keyIdValue) continue;
    try {
      if (cryptoVerify(null, data, key, signature)) return true;
    } catch {
      // A malformed signature for this key: try the next key with the same id, if any.
    }
  }
  return false;
}
