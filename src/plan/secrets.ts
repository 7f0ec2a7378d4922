// Per-lab secrets: a bootstrap token and a cluster CA, made once and kept in the lab state.
// Generating the CA here (instead of letting kubeadm do it) lets the workers pin its hash from the
// start, so they join with full CA verification and never need `--discovery-token-unsafe-skip-ca-verification`,
// and a plain `vagrant up` works without any hand-off between VMs.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, createPublicKey, randomInt, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as never);

export interface LabSecrets {
  /** kubeadm bootstrap token, [a-z0-9]{6}.[a-z0-9]{16} */
  token: string;
  /** PEM of the cluster CA certificate */
  caCert: string;
  /** PEM (PKCS#8) of the CA's private key */
  caKey: string;
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const TOKEN_PATTERN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

export function generateToken(): string {
  const pick = (n: number) => Array.from({ length: n }, () => TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

const RSA: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};

/** A self-signed CA like kubeadm's own (CN=kubernetes, 10 years). */
export async function generateCa(now = new Date()): Promise<Pick<LabSecrets, 'caCert' | 'caKey'>> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=kubernetes',
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + 10 * 365 * 24 * 3600_000),
    keys,
    signingAlgorithm: RSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const caKey = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { caCert: cert.toString('pem') + '\n', caKey };
}

export async function generateSecrets(): Promise<LabSecrets> {
  return { token: generateToken(), ...(await generateCa()) };
}

/** The value kubeadm join's --discovery-token-ca-cert-hash expects: sha256 of the CA's SubjectPublicKeyInfo. */
export function caCertHash(caCertPem: string): string {
  const spki = createPublicKey(caCertPem).export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
