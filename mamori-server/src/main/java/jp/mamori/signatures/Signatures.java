package jp.mamori.signatures;

import eu.europa.esig.dss.alert.exception.AlertException;
import eu.europa.esig.dss.cades.CAdESSignatureParameters;
import eu.europa.esig.dss.cades.signature.CAdESService;
import eu.europa.esig.dss.diagnostic.CertificateRevocationWrapper;
import eu.europa.esig.dss.diagnostic.CertificateWrapper;
import eu.europa.esig.dss.diagnostic.DiagnosticData;
import eu.europa.esig.dss.diagnostic.SignatureWrapper;
import eu.europa.esig.dss.diagnostic.TimestampWrapper;
import eu.europa.esig.dss.enumerations.EncryptionAlgorithm;
import eu.europa.esig.dss.enumerations.SignatureAlgorithm;
import eu.europa.esig.dss.enumerations.SignatureLevel;
import eu.europa.esig.dss.enumerations.SignaturePackaging;
import eu.europa.esig.dss.enumerations.SubIndication;
import eu.europa.esig.dss.enumerations.TokenExtractionStrategy;
import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.model.DSSException;
import eu.europa.esig.dss.model.InMemoryDocument;
import eu.europa.esig.dss.model.SignatureValue;
import eu.europa.esig.dss.model.ToBeSigned;
import eu.europa.esig.dss.model.x509.CertificateToken;
import eu.europa.esig.dss.service.crl.OnlineCRLSource;
import eu.europa.esig.dss.service.ocsp.OnlineOCSPSource;
import eu.europa.esig.dss.simplecertificatereport.SimpleCertificateReport;
import eu.europa.esig.dss.simplereport.SimpleReport;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.exception.DSSExternalResourceException;
import eu.europa.esig.dss.spi.validation.CommonCertificateVerifier;
import eu.europa.esig.dss.spi.x509.CommonCertificateSource;
import eu.europa.esig.dss.spi.x509.CommonTrustedCertificateSource;
import eu.europa.esig.dss.spi.x509.aia.DefaultAIASource;
import eu.europa.esig.dss.spi.x509.tsp.TSPSource;
import eu.europa.esig.dss.model.x509.revocation.crl.CRL;
import eu.europa.esig.dss.model.x509.revocation.ocsp.OCSP;
import eu.europa.esig.dss.model.policy.ValidationPolicy;
import eu.europa.esig.dss.spi.x509.revocation.RevocationSource;
import eu.europa.esig.dss.validation.CertificateValidator;
import eu.europa.esig.dss.validation.policy.ValidationPolicyLoader;
import eu.europa.esig.dss.validation.SignedDocumentValidator;
import eu.europa.esig.dss.validation.reports.CertificateReports;
import eu.europa.esig.dss.validation.reports.Reports;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.tsp.TimeStampToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * Signs documents, time-stamps, extends and validates their signatures (issue 17; SIGN-1, SIGN-3, SIGN-4, STORE-1
 * 真正性): CAdES detached (ETSI EN 319 122) over the exact bytes of the document, baseline B-T at signing, extended
 * to LT and LTA later, with the EU's DSS and Bouncy Castle. One per server; thread-safe (each call builds its own
 * DSS service and verifier over the shared sources). What every call would otherwise redo is kept per instance: the
 * parsed validation policy, and each certificate's revocation answer for a minute ({@link RecentRevocations}).
 *
 * <p>The rule when the TSA is down or answers badly (docs/adr/0012): {@link #sign} still returns a complete
 * signature at level B, marked time-stamp pending, rather than failing; the caller records the deviation and calls
 * {@link #addTimestamp} as soon as the TSA answers. Nothing half-signed is ever returned: either a signature that
 * verifies, or a {@link SignatureFailure}.
 */
public final class Signatures {
    private static final Logger log = LoggerFactory.getLogger(Signatures.class);
    /** A signature larger than this is not ours (ours are a few KiB; an LTA with CRLs some hundred KiB). */
    static final int MAX_SIGNATURE_BYTES = 16 * 1024 * 1024;

    private final SignatureSettings settings;
    private final CommonTrustedCertificateSource trusted = new CommonTrustedCertificateSource();
    private final CheckedTsa tsa;
    /** Revocation as the CA and its OCSP responder answer now: for the signer's certificate before it signs. */
    private final RevocationSource<CRL> crlSource;
    private final RevocationSource<OCSP> ocspSource;
    /** The same, answering again from an answer up to a minute old: for validation and extension. */
    private final RevocationSource<CRL> recentCrls;
    private final RevocationSource<OCSP> recentOcsp;
    private final DefaultAIASource aiaSource;
    /**
     * DSS's default ETSI validation policy, parsed once and lent to one validation at a time (a policy may complete
     * its own tree on first use, so two validations never share one); as many as validations run at once.
     */
    private final Queue<ValidationPolicy> policies = new ConcurrentLinkedQueue<>();

    public Signatures(SignatureSettings settings) {
        this.settings = settings;
        for (X509Certificate root : settings.trustedRoots()) {
            trusted.addCertificate(new CertificateToken(root));
        }
        this.tsa = new CheckedTsa(settings);
        if (settings.onlineRevocation()) {
            crlSource = new OnlineCRLSource(new BoundedHttp(settings.networkTimeout(), settings.maxResponseBytes(),
                    null));
            ocspSource = new OnlineOCSPSource(new BoundedHttp(settings.networkTimeout(), settings.maxResponseBytes(),
                    "application/ocsp-request"));
            recentCrls = new RecentRevocations<>(crlSource, Clock.systemUTC());
            recentOcsp = new RecentRevocations<>(ocspSource, Clock.systemUTC());
            aiaSource = new DefaultAIASource(new BoundedHttp(settings.networkTimeout(), settings.maxResponseBytes(),
                    null));
        } else {
            crlSource = null;
            ocspSource = null;
            recentCrls = null;
            recentOcsp = null;
            aiaSource = null;
        }
    }

    public SignatureSettings settings() {
        return settings;
    }

    /**
     * Signs the document with the key: CAdES-B, then the signature time-stamp (B-T). When no TSA gives a usable
     * time-stamp the B-level signature is returned marked pending.
     *
     * @throws SignatureFailure the signer's certificate is expired, revoked, not trusted or not for signing; the PIN
     *                          session failed; the signature could not be made (nothing is returned then)
     */
    public Signed sign(byte[] document, SignerKey key) {
        X509Certificate certificate = key.certificate();
        checkSigner(certificate, key.chain(), false);
        DSSDocument doc = new InMemoryDocument(document);
        CAdESSignatureParameters parameters = parameters(SignatureLevel.CAdES_BASELINE_B, null);
        parameters.setSigningCertificate(new CertificateToken(certificate));
        List<CertificateToken> chain = new ArrayList<>();
        for (X509Certificate c : key.chain()) {
            chain.add(new CertificateToken(c));
        }
        parameters.setCertificateChain(chain);
        CAdESService service = service(key.chain());
        byte[] b;
        try {
            ToBeSigned toBeSigned = service.getDataToSign(doc, parameters);
            byte[] digest = DSSUtils.digest(settings.digest(), toBeSigned.getBytes());
            byte[] value = key.signDigest(settings.digest(), digest);
            SignatureValue signatureValue = new SignatureValue(SignatureAlgorithm.getAlgorithm(
                    EncryptionAlgorithm.forKey(certificate.getPublicKey()), settings.digest()), value);
            b = DSSUtils.toByteArray(service.signDocument(doc, parameters, signatureValue));
        } catch (SignatureFailure f) {
            throw f;
        } catch (RuntimeException e) {
            throw failure(e, SignatureFailure.Reason.FAILED);
        }
        try {
            byte[] t = extend(b, document, SignatureLevel.CAdES_BASELINE_T);
            return new Signed(t, Level.B_T, timestampTime(t), Optional.empty());
        } catch (SignatureFailure f) {
            if (f.reason() != SignatureFailure.Reason.TSA_UNAVAILABLE) {
                throw f;
            }
            log.warn("signature made at level B, time-stamp pending: {}", f.getMessage());
            return new Signed(b, Level.B, Optional.empty(), Optional.of(f.getMessage()));
        }
    }

    /**
     * Adds the signature time-stamp to a B-level signature (B → B-T); a signature that has one is returned as it
     * is.
     *
     * @throws SignatureFailure TSA_UNAVAILABLE when no TSA gives a usable time-stamp, DOCUMENT_MISMATCH, ...
     */
    public byte[] addTimestamp(byte[] signature, byte[] document) {
        if (timestampTime(signature).isPresent()) {
            return signature.clone();
        }
        return extend(signature, document, SignatureLevel.CAdES_BASELINE_T);
    }

    /** Embeds the certificates and revocation data (B-T → LT; a missing time-stamp is added first). */
    public byte[] extendToLt(byte[] signature, byte[] document) {
        return extend(signature, document, SignatureLevel.CAdES_BASELINE_LT);
    }

    /**
     * Adds an archive time-stamp over everything (→ LTA). On an LTA it adds a further archive time-stamp
     * (re-time-stamping, before the last one's certificate or algorithm weakens), with the revocation data of the
     * last one embedded first.
     */
    public byte[] extendToLta(byte[] signature, byte[] document) {
        return extend(signature, document, SignatureLevel.CAdES_BASELINE_LTA);
    }

    private byte[] extend(byte[] signature, byte[] document, SignatureLevel level) {
        requireSignatureSize(signature);
        CAdESSignatureParameters parameters = parameters(level, document);
        try {
            CAdESService service = service(List.of());
            return DSSUtils.toByteArray(service.extendDocument(new InMemoryDocument(signature), parameters));
        } catch (RuntimeException e) {
            throw failure(e, SignatureFailure.Reason.FAILED);
        }
    }

    /** Validates the signature over the document; never throws on bad input (that is TOTAL_FAILED). */
    public Validation validate(byte[] signature, byte[] document) {
        if (signature == null || signature.length == 0 || signature.length > MAX_SIGNATURE_BYTES) {
            return notASignature();
        }
        return validate(new InMemoryDocument(signature), List.of(new InMemoryDocument(document)));
    }

    /**
     * Validates the one signature of a signed document (a CAdES signature with its detached document, or a signed
     * PDF with none); a document with no signature or several is TOTAL_FAILED "not a readable signature".
     */
    Validation validate(DSSDocument signed, List<DSSDocument> detached) {
        Reports reports;
        try {
            SignedDocumentValidator validator = SignedDocumentValidator.fromDocument(signed);
            validator.setCertificateVerifier(verifier(List.of(), false));
            if (!detached.isEmpty()) {
                validator.setDetachedContents(detached);
            }
            validator.setTokenExtractionStrategy(TokenExtractionStrategy.EXTRACT_CERTIFICATES_AND_TIMESTAMPS);
            reports = withPolicy(validator::validateDocument);
        } catch (RuntimeException e) {
            log.info("not a readable signature: {}", e.toString());
            return notASignature();
        }
        return validation(reports);
    }

    /** The outcome of DSS's reports on a document with exactly one signature. */
    static Validation validation(Reports reports) {
        SimpleReport simple = reports.getSimpleReport();
        List<String> ids = simple.getSignatureIdList();
        if (ids.size() != 1) {
            return notASignature();
        }
        String id = ids.get(0);
        DiagnosticData diagnostic = reports.getDiagnosticData();
        SignatureWrapper wrapper = diagnostic.getSignatureById(id);
        Validation.Indication indication = switch (simple.getIndication(id)) {
            case TOTAL_PASSED, PASSED -> Validation.Indication.TOTAL_PASSED;
            case TOTAL_FAILED, FAILED -> Validation.Indication.TOTAL_FAILED;
            default -> Validation.Indication.INDETERMINATE;
        };
        SubIndication sub = simple.getSubIndication(id);
        Optional<HpkiCertificate> signer = Optional.empty();
        boolean revoked = false;
        CertificateWrapper signingCertificate = wrapper.getSigningCertificate();
        if (signingCertificate != null) {
            signer = certificate(signingCertificate.getBinaries()).map(HpkiCertificate::of);
            for (CertificateRevocationWrapper r : signingCertificate.getCertificateRevocationData()) {
                revoked |= r.isRevoked();
            }
        }
        revoked |= sub == SubIndication.REVOKED || sub == SubIndication.REVOKED_NO_POE;
        Optional<Instant> signingTime = wrapper.getSignatureTimestamps().stream()
                .filter(t -> t.isSignatureValid() && t.isMessageImprintDataIntact())
                .map(TimestampWrapper::getProductionTime).min(Date::compareTo).map(Date::toInstant);
        Optional<TimestampWrapper> lastArchive = wrapper.getArchiveTimestamps().stream()
                .max((x, y) -> x.getProductionTime().compareTo(y.getProductionTime()));
        return new Validation(indication, Optional.ofNullable(sub).map(Enum::name), reason(indication, sub, revoked),
                signer, signingTime, level(simple.getSignatureFormat(id)), revoked,
                lastArchive.map(t -> t.getProductionTime().toInstant()),
                lastArchive.map(TimestampWrapper::getSigningCertificate).map(c -> c.getNotAfter().toInstant()),
                reports.getXmlValidationReport());
    }

    /** The time of the signature time-stamp a CAdES signature carries, read from the unsigned attribute. */
    static Optional<Instant> timestampTime(byte[] signature) {
        try {
            CMSSignedData cms = new CMSSignedData(signature);
            for (SignerInformation si : cms.getSignerInfos().getSigners()) {
                AttributeTable unsigned = si.getUnsignedAttributes();
                if (unsigned == null) {
                    continue;
                }
                org.bouncycastle.asn1.cms.Attribute a = unsigned.get(
                        PKCSObjectIdentifiers.id_aa_signatureTimeStampToken);
                if (a != null) {
                    TimeStampToken t = new TimeStampToken(new CMSSignedData(
                            a.getAttrValues().getObjectAt(0).toASN1Primitive().getEncoded("DER")));
                    return Optional.of(t.getTimeStampInfo().getGenTime().toInstant());
                }
            }
            return Optional.empty();
        } catch (Exception e) {
            throw new SignatureFailure(SignatureFailure.Reason.NOT_A_SIGNATURE, null, e);
        }
    }

    /**
     * Checks a signer's certificate before it signs: within its validity, for signatures (keyUsage nonRepudiation;
     * for the institution seal, which signs for the institution rather than commits a person, digitalSignature also
     * does), chaining to a trusted root, not revoked, and with online revocation, revocation data found at all.
     */
    void checkSigner(X509Certificate certificate, List<X509Certificate> chain, boolean seal) {
        try {
            certificate.checkValidity();
        } catch (CertificateException e) {
            throw new SignatureFailure(SignatureFailure.Reason.CERTIFICATE_EXPIRED,
                    "有効期間 / valid " + certificate.getNotBefore().toInstant() + " – "
                            + certificate.getNotAfter().toInstant());
        }
        boolean[] keyUsage = certificate.getKeyUsage();
        if (keyUsage == null || keyUsage.length < 2 || !(keyUsage[1] || seal && keyUsage[0])) {
            throw new SignatureFailure(SignatureFailure.Reason.CERTIFICATE_NOT_FOR_SIGNING);
        }
        CertificateToken token = new CertificateToken(certificate);
        CertificateValidator validator = CertificateValidator.fromCertificate(token);
        validator.setCertificateVerifier(verifier(chain, true));
        CertificateReports reports;
        try {
            reports = withPolicy(validator::validate);
        } catch (RuntimeException e) {
            throw failure(e, SignatureFailure.Reason.CERTIFICATE_NOT_TRUSTED);
        }
        SimpleCertificateReport simple = reports.getSimpleReport();
        String id = token.getDSSIdAsString();
        if (simple.getCertificateRevocationDate(id) != null) {
            throw new SignatureFailure(SignatureFailure.Reason.CERTIFICATE_REVOKED,
                    "失効日時 / revoked at " + simple.getCertificateRevocationDate(id).toInstant());
        }
        CertificateWrapper wrapper = reports.getDiagnosticData().getUsedCertificateById(id);
        boolean chainsToTrust = wrapper != null && (wrapper.isTrusted() || wrapper.getCertificateChain().stream()
                .anyMatch(CertificateWrapper::isTrusted));
        if (!chainsToTrust) {
            throw new SignatureFailure(SignatureFailure.Reason.CERTIFICATE_NOT_TRUSTED, certificate
                    .getIssuerX500Principal().getName());
        }
        if (settings.onlineRevocation() && wrapper.getCertificateRevocationData().isEmpty()) {
            throw new SignatureFailure(SignatureFailure.Reason.REVOCATION_UNAVAILABLE,
                    certificate.getSubjectX500Principal().getName());
        }
    }

    /** Runs {@code work} with a parsed default policy that no other thread uses meanwhile. */
    private <T> T withPolicy(Function<ValidationPolicy, T> work) {
        ValidationPolicy policy = policies.poll();
        if (policy == null) {
            try {
                policy = ValidationPolicyLoader.fromDefaultValidationPolicy().create();
            } catch (RuntimeException e) {
                throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "検証ポリシーを読めません / the validation"
                        + " policy cannot be loaded", e);
            }
        }
        try {
            return work.apply(policy);
        } finally {
            policies.offer(policy);
        }
    }

    private CAdESSignatureParameters parameters(SignatureLevel level, byte[] document) {
        CAdESSignatureParameters p = new CAdESSignatureParameters();
        p.setSignatureLevel(level);
        p.setSignaturePackaging(SignaturePackaging.DETACHED);
        p.setDigestAlgorithm(settings.digest());
        if (document != null) {
            p.setDetachedContents(List.of(new InMemoryDocument(document)));
        }
        return p;
    }

    private CAdESService service(List<X509Certificate> extra) {
        CAdESService service = new CAdESService(verifier(extra, false));
        service.setTspSource(tsa);
        return service;
    }

    /** The TSAs of the settings, each answer checked (for the PAdES seal's signature time-stamp). */
    TSPSource tsa() {
        return tsa;
    }

    /** A certificate verifier over the trusted roots and the online sources, with extra certificates to chain by. */
    CommonCertificateVerifier verifier(List<X509Certificate> extra) {
        return verifier(extra, false);
    }

    /**
     * @param fresh revocation asked of the CA now (the signer's certificate before it signs: a card revoked a moment
     *              ago must not sign), else an answer up to {@link RecentRevocations#TTL} old may serve
     */
    private CommonCertificateVerifier verifier(List<X509Certificate> extra, boolean fresh) {
        CommonCertificateVerifier verifier = new CommonCertificateVerifier();
        verifier.setTrustedCertSources(trusted);
        if (!extra.isEmpty()) {
            CommonCertificateSource adjunct = new CommonCertificateSource();
            for (X509Certificate c : extra) {
                adjunct.addCertificate(new CertificateToken(c));
            }
            verifier.setAdjunctCertSources(adjunct);
        }
        verifier.setCrlSource(fresh ? crlSource : recentCrls);
        verifier.setOcspSource(fresh ? ocspSource : recentOcsp);
        verifier.setAIASource(aiaSource);
        return verifier;
    }

    private static void requireSignatureSize(byte[] signature) {
        if (signature == null || signature.length == 0 || signature.length > MAX_SIGNATURE_BYTES) {
            throw new SignatureFailure(SignatureFailure.Reason.NOT_A_SIGNATURE);
        }
    }

    /** Turns what DSS threw into the one failure type, with the reason its text points at. */
    static SignatureFailure failure(Throwable e, SignatureFailure.Reason otherwise) {
        if (e instanceof SignatureFailure f) {
            return f;
        }
        log.info("signature operation failed: {}", e.toString());
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SignatureFailure f) {
                return f;
            }
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("revoked")) {
                return new SignatureFailure(SignatureFailure.Reason.CERTIFICATE_REVOKED, null, e);
            }
            if (m.contains("expired") || m.contains("not yet valid")) {
                return new SignatureFailure(SignatureFailure.Reason.CERTIFICATE_EXPIRED, null, e);
            }
            if (m.contains("revocation data") || m.contains("revocation is missing")) {
                return new SignatureFailure(SignatureFailure.Reason.REVOCATION_UNAVAILABLE, null, e);
            }
            if (m.contains("time-stamp") || m.contains("timestamp") || m.contains("tsp")
                    || t instanceof DSSExternalResourceException) {
                return new SignatureFailure(SignatureFailure.Reason.TSA_UNAVAILABLE, null, e);
            }
            if (m.contains("cryptographic signature verification has failed") || m.contains("signature is invalid")
                    || m.contains("not intact") || m.contains("detached")) {
                return new SignatureFailure(SignatureFailure.Reason.DOCUMENT_MISMATCH, null, e);
            }
            if (m.contains("not supported") || m.contains("not recognized") || m.contains("unable to parse")
                    || m.contains("cms")) {
                return new SignatureFailure(SignatureFailure.Reason.NOT_A_SIGNATURE, null, e);
            }
        }
        if (e instanceof AlertException || e instanceof DSSException) {
            return new SignatureFailure(otherwise, null, e);
        }
        return new SignatureFailure(otherwise, null, e);
    }

    private static Optional<X509Certificate> certificate(byte[] der) {
        try {
            return Optional.of((X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der)));
        } catch (CertificateException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Optional<Level> level(SignatureLevel format) {
        if (format == null) {
            return Optional.empty();
        }
        return switch (format) {
            case CAdES_BASELINE_B, PAdES_BASELINE_B -> Optional.of(Level.B);
            case CAdES_BASELINE_T, PAdES_BASELINE_T -> Optional.of(Level.B_T);
            case CAdES_BASELINE_LT, PAdES_BASELINE_LT -> Optional.of(Level.LT);
            case CAdES_BASELINE_LTA, PAdES_BASELINE_LTA -> Optional.of(Level.LTA);
            default -> Optional.empty();
        };
    }

    static Validation notASignature() {
        return new Validation(Validation.Indication.TOTAL_FAILED, Optional.of(SubIndication.FORMAT_FAILURE.name()),
                SignatureFailure.Reason.NOT_A_SIGNATURE.message(), Optional.empty(), Optional.empty(),
                Optional.empty(), false, Optional.empty(), Optional.empty(), "");
    }

    /** What the indication means for a person, "日本語 / English". */
    static String reason(Validation.Indication indication, SubIndication sub, boolean revoked) {
        if (revoked) {
            return SignatureFailure.Reason.CERTIFICATE_REVOKED.message();
        }
        if (indication == Validation.Indication.TOTAL_PASSED) {
            return "署名は有効です / the signature is valid";
        }
        if (sub == null) {
            return indication == Validation.Indication.TOTAL_FAILED ? "署名は無効です / the signature is not valid"
                    : "署名の有効性を確定できません / the signature's validity cannot be established";
        }
        return switch (sub) {
            case HASH_FAILURE -> "文書が署名の後に変更されています / the document was changed after it was signed";
            case SIG_CRYPTO_FAILURE -> "署名値が検証できません(署名が改ざんされています) / the signature value does not "
                    + "verify (the signature was altered)";
            case FORMAT_FAILURE -> SignatureFailure.Reason.NOT_A_SIGNATURE.message();
            case NO_CERTIFICATE_CHAIN_FOUND, NO_CERTIFICATE_CHAIN_FOUND_NO_POE ->
                    SignatureFailure.Reason.CERTIFICATE_NOT_TRUSTED.message();
            case REVOKED, REVOKED_NO_POE, REVOKED_CA_NO_POE -> SignatureFailure.Reason.CERTIFICATE_REVOKED.message();
            case OUT_OF_BOUNDS_NO_POE, OUT_OF_BOUNDS_NOT_REVOKED, EXPIRED ->
                    SignatureFailure.Reason.CERTIFICATE_EXPIRED.message();
            case TRY_LATER -> "失効情報がまだ得られません。後で再検証してください / revocation data is not available yet: "
                    + "validate again later";
            case SIGNED_DATA_NOT_FOUND -> SignatureFailure.Reason.DOCUMENT_MISMATCH.message();
            default -> (indication == Validation.Indication.TOTAL_FAILED ? "署名は無効です / the signature is not valid"
                    : "署名の有効性を確定できません / the signature's validity cannot be established") + " (" + sub
                    + ")";
        };
    }
}
