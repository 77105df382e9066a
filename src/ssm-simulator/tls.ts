/**
 * Certificates for the simulator's HTTPS (`--tls`): a private CA made at start and a server
 * certificate it signs, as an SSM On-Prem server inside a customer's network would have. The product
 * trusts the CA through SSM_CA_CERT. ECDSA P-256, generated in a few milliseconds; nothing is cached.
 *
 *   const pki = await makeServerPki(['localhost', '127.0.0.1']);
 *   https.createServer({ cert: pki.certPem, key: pki.keyPem }, handler);   // clients trust pki.caPem
 */
import 'reflect-metadata'; // tsyringe, under @peculiar/x509, needs the Reflect metadata API
import { webcrypto } from 'node:crypto';
import net from 'node:net';
import * as x509 from '@peculiar/x509';

/** WebCrypto as the library types it (the DOM `Crypto`, which this project's lib settings leave out). */
const crypto = webcrypto as unknown as NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ServerPki {
  /** The private CA's certificate: what clients must trust. */
  caPem: string;
  /** The server certificate (signed by the CA) followed by nothing else: the CA is not sent. */
  certPem: string;
  /** The server certificate's private key, PKCS#8 PEM. */
  keyPem: string;
}

/**
 * A fresh private CA and a server certificate for `names` (DNS names and IP addresses), valid from a
 * day ago (clock skew) for `days` days.
 */
export async function makeServerPki(names: readonly string[], options: { days?: number; label?: string } = {}): Promise<ServerPki> {
  if (names.length === 0) throw new Error('makeServerPki: at least one DNS name or IP address');
  const label = options.label ?? 'SSM simulator';
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + (options.days ?? 365) * DAY_MS);
  const usage = ['sign', 'verify'] as const;
  const caKeys = await crypto.subtle.generateKey(ALGORITHM, true, [...usage]);
  const serverKeys = await crypto.subtle.generateKey(ALGORITHM, true, [...usage]);

  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: `CN=${label} private CA`,
      notBefore,
      notAfter,
      keys: caKeys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const server = await x509.X509CertificateGenerator.create(
    {
      subject: `CN=${names[0]}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: serverKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: net.isIP(value) ? ('ip' as const) : ('dns' as const), value }))),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
        await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', serverKeys.privateKey);
  return {
    caPem: `${ca.toString('pem')}\n`,
    certPem: `${server.toString('pem')}\n`,
    keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`,
  };
}
