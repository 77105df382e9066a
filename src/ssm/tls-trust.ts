/**
 * What a license-server HTTPS connection trusts, and how a failed certificate check is told apart
 * from other connection failures.
 *
 * Trust is node's bundled roots (`tls.rootCertificates`) plus the certificates of `SSM_CA_CERT`
 * (an SSM On-Prem server or a TLS-inspecting proxy signed by a private CA). Verification is never
 * turned off: a certificate that does not verify fails the sync.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/**
 * The certificates of a PEM file or bundle, each as its own PEM block. Throws an Error saying what is
 * wrong when the text holds no certificate or a block that is not a valid X.509 certificate.
 */
export function pemCertificates(text: string): string[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  blocks.forEach((pem, index) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate (${(err as Error).message})`);
    }
  });
  return blocks;
}

/** The roots to hand to `tls.connect({ ca })`: giving `ca` replaces node's roots, so they are listed too. */
export function trustedRoots(extra: readonly string[]): string[] {
  return [...tls.rootCertificates, ...extra];
}

/** OpenSSL's verification results (node exposes them as `err.code`) that mean the chain is not trusted. */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);
/** The chain verified, but the certificate is not for the host asked for. */
const WRONG_NAME_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

export interface CertificateProblem {
  kind: 'untrusted' | 'wrong-name';
  /** OpenSSL's or node's own words, e.g. "self-signed certificate in certificate chain". */
  reason: string;
}

/** The failed certificate check behind a connection error (searched along `cause`), if that is what it was. */
export function certificateProblem(err: unknown): CertificateProblem | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    const { code, message, cert, cause } = current as { code?: unknown; message?: unknown; cert?: { subjectaltname?: unknown }; cause?: unknown };
    if (typeof code === 'string' && UNTRUSTED_CODES.has(code)) {
      return { kind: 'untrusted', reason: typeof message === 'string' ? message : code };
    }
    if (typeof code === 'string' && WRONG_NAME_CODES.has(code)) {
      const names = cert?.subjectaltname;
      return { kind: 'wrong-name', reason: typeof names === 'string' && names ? `it is for ${names}` : typeof message === 'string' ? message : code };
    }
    current = cause;
  }
  return undefined;
}
