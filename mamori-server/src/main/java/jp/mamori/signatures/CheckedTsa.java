package jp.mamori.signatures;

import eu.europa.esig.dss.enumerations.DigestAlgorithm;
import eu.europa.esig.dss.model.TimestampBinary;
import eu.europa.esig.dss.service.SecureRandomNonceSource;
import eu.europa.esig.dss.service.tsp.OnlineTSPSource;
import eu.europa.esig.dss.spi.exception.DSSExternalResourceException;
import eu.europa.esig.dss.spi.x509.tsp.TSPSource;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.tsp.TimeStampToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.security.MessageDigest;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The TSAs of the settings, tried in order, each answer checked before it is used (SIGN-3): the request carries a
 * random nonce that the answer must echo, the token's imprint must be the digest asked for (BC's response
 * validation), the token must be signed by a certificate whose only extended key usage is timeStamping and marked
 * critical (RFC 3161 §2.3), and that certificate must chain to a trusted root at the token's time. An answer that
 * fails any of these is treated as no answer.
 */
final class CheckedTsa implements TSPSource {
    private static final long serialVersionUID = 1L;
    private static final Logger log = LoggerFactory.getLogger(CheckedTsa.class);

    private final List<URI> urls;
    private final transient Set<TrustAnchor> anchors;
    private final transient SignatureSettings settings;

    CheckedTsa(SignatureSettings settings) {
        this.settings = settings;
        this.urls = settings.tsaUrls();
        Set<TrustAnchor> a = new HashSet<>();
        for (X509Certificate root : settings.trustedRoots()) {
            a.add(new TrustAnchor(root, null));
        }
        this.anchors = a;
    }

    @Override
    public TimestampBinary getTimeStampResponse(DigestAlgorithm digestAlgorithm, byte[] digest) {
        String last = "no TSA is configured";
        for (URI url : urls) {
            try {
                OnlineTSPSource source = new OnlineTSPSource(url.toString(), new BoundedHttp(settings.networkTimeout(),
                        settings.maxResponseBytes(), "application/timestamp-query"));
                source.setNonceSource(new SecureRandomNonceSource());
                TimestampBinary answer = source.getTimeStampResponse(digestAlgorithm, digest);
                check(answer.getBytes(), digestAlgorithm, digest);
                return answer;
            } catch (RuntimeException e) {
                last = url + ": " + e.getMessage();
                log.warn("TSA {} not used: {}", url, e.getMessage());
            }
        }
        throw new DSSExternalResourceException("no usable time-stamp: " + last);
    }

    private void check(byte[] token, DigestAlgorithm digestAlgorithm, byte[] digest) {
        try {
            TimeStampToken t = new TimeStampToken(new CMSSignedData(token));
            if (!t.getTimeStampInfo().getMessageImprintAlgOID().getId().equals(digestAlgorithm.getOid())
                    || !MessageDigest.isEqual(t.getTimeStampInfo().getMessageImprintDigest(), digest)) {
                throw new DSSExternalResourceException("the time-stamp is over another imprint");
            }
            List<X509Certificate> certs = new ArrayList<>();
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            X509Certificate signer = null;
            for (Object o : t.getCertificates().getMatches(null)) {
                X509CertificateHolder h = (X509CertificateHolder) o;
                X509Certificate c = converter.getCertificate(h);
                certs.add(c);
                if (t.getSID().match(h)) {
                    signer = c;
                }
            }
            if (signer == null) {
                throw new DSSExternalResourceException("the time-stamp does not carry its TSA's certificate");
            }
            // Checks the signature, the ESS certificate id and the critical timeStamping-only extended key usage.
            t.validate(new JcaSimpleSignerInfoVerifierBuilder().build(signer));
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(signer);
            PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, target);
            params.setRevocationEnabled(false);
            params.setDate(t.getTimeStampInfo().getGenTime());
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(certs)));
            CertPathBuilder.getInstance("PKIX").build(params);
        } catch (DSSExternalResourceException e) {
            throw e;
        } catch (Exception e) {
            throw new DSSExternalResourceException("the time-stamp is not acceptable: " + e.getMessage());
        }
    }
}
