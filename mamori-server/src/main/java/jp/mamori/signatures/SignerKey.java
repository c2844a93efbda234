package jp.mamori.signatures;

import eu.europa.esig.dss.enumerations.DigestAlgorithm;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A signer's key, open for one signing session: the certificate, its chain, and the one operation a key has to
 * offer, signing a digest. The key itself never leaves its holder: a smart card or token through PKCS#11 (HPKI
 * cards), a PIN-protected PKCS#12 file for sites without cards, or a remote signing service (HPKI セカンド電子証明書
 * style) that receives only the digest of the signed attributes and returns the signature value (docs/adr/0012).
 * Opening a key needs the holder's PIN (AUTH-7, SIGN-6); {@link #close()} logs out and forgets the PIN, so a key is
 * opened per signing session and closed right after.
 */
public interface SignerKey extends AutoCloseable {
    /** The signer's certificate. */
    X509Certificate certificate();

    /** The chain from the signer's certificate (first) up towards the root, as far as the holder knows it. */
    List<X509Certificate> chain();

    /**
     * The raw signature value over a digest: for RSA PKCS#1 v1.5 (the DigestInfo of the digest signed), for ECDSA
     * the DER of (r, s). The digest is that of the CAdES signed attributes.
     *
     * @throws SignatureFailure when the holder refuses (card removed, PIN locked, service down)
     */
    byte[] signDigest(DigestAlgorithm digestAlgorithm, byte[] digest);

    /** Logs out of the token and wipes the PIN held for this session. Never throws. */
    @Override
    void close();
}
