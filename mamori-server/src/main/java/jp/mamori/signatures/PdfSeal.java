package jp.mamori.signatures;

import eu.europa.esig.dss.diagnostic.PDFRevisionWrapper;
import eu.europa.esig.dss.diagnostic.SignatureWrapper;
import eu.europa.esig.dss.enumerations.DigestAlgorithm;
import eu.europa.esig.dss.enumerations.EncryptionAlgorithm;
import eu.europa.esig.dss.enumerations.SignatureAlgorithm;
import eu.europa.esig.dss.enumerations.SignatureLevel;
import eu.europa.esig.dss.enumerations.TokenExtractionStrategy;
import eu.europa.esig.dss.model.DSSDocument;
import eu.europa.esig.dss.model.InMemoryDocument;
import eu.europa.esig.dss.model.SignatureValue;
import eu.europa.esig.dss.model.TimestampBinary;
import eu.europa.esig.dss.model.ToBeSigned;
import eu.europa.esig.dss.model.x509.CertificateToken;
import eu.europa.esig.dss.pades.PAdESSignatureParameters;
import eu.europa.esig.dss.pades.signature.PAdESService;
import eu.europa.esig.dss.pades.validation.PDFDocumentValidator;
import eu.europa.esig.dss.pdf.PdfMemoryUsageSetting;
import eu.europa.esig.dss.pdf.pdfbox.PdfBoxNativeObjectFactory;
import eu.europa.esig.dss.spi.DSSUtils;
import eu.europa.esig.dss.spi.exception.DSSExternalResourceException;
import eu.europa.esig.dss.spi.x509.tsp.TSPSource;
import eu.europa.esig.dss.validation.reports.Reports;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.tsp.TimeStampToken;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * The institution seal (組織の署名) on printouts (issue 17; SIGN-1, STORE-1 真正性 and 見読性 on paper): a PDF the
 * server prints is signed with the institution's key as PAdES (ETSI EN 319 142-1) baseline B-T, an invisible
 * signature over the whole file whose CMS carries a signature time-stamp from the configured TSA, so that anyone
 * holding the file (or a copy made from it) can check with a PDF reader that the institution issued exactly this
 * and when. Built with DSS's PAdES module on its PDFBox implementation.
 *
 * <p>When no TSA answers the PDF is still sealed, at level B ({@link Sealed#pending()} says why); the caller logs a
 * warning. The seal's key is opened once at start and held (it is the institution's, not a person's: AUTH-7 asks
 * for a person's PIN per session, the seal's PIN is the server's secret); signing with it is serialised, everything
 * else runs in parallel, so one instance serves every thread. The certificate was checked when the seal was opened
 * (validity, key usage, trust, revocation) and is checked again each {@link #RECHECK} and whenever it would have
 * expired: a seal that became revoked stops sealing within that time.
 */
public final class PdfSeal implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PdfSeal.class);
    /** A printout larger than this is refused before it is parsed (ours are some hundred KiB). */
    public static final int MAX_PDF_BYTES = 64 * 1024 * 1024;
    /** The /Reason of every seal. */
    public static final String REASON = "印刷物の真正性 / printout authenticity";
    /** How often the seal's certificate is checked again (revocation) while the server runs. */
    static final Duration RECHECK = Duration.ofHours(1);
    /** Room in the PDF for the CMS: certificates, the time-stamp token with its TSA's chain. */
    private static final int CONTENT_SIZE = 32 * 1024;

    private final Signatures signatures;
    private final SignerKey key;
    private final String location;
    private final Clock clock;
    private final PdfBoxNativeObjectFactory pdf = new PdfBoxNativeObjectFactory();
    private final Object keyLock = new Object();
    private volatile Instant checkedAt;

    private PdfSeal(Signatures signatures, SignerKey key, String location, Clock clock) {
        this.signatures = signatures;
        this.key = key;
        this.location = location;
        this.clock = clock;
        // PDFs are parsed in memory, bounded: the input by MAX_PDF_BYTES, PDFBox's scratch by the same figure.
        pdf.setPdfMemoryUsageSetting(PdfMemoryUsageSetting.memoryBuffered(MAX_PDF_BYTES));
    }

    /**
     * The seal with the institution's key, its certificate checked now (within validity, digitalSignature or
     * nonRepudiation, chaining to a trusted root, not revoked). The key is held until {@link #close()}; on a failure
     * the key is closed here.
     *
     * @param location the /Location of each seal: the institution's name, or this host's
     * @throws SignatureFailure CERTIFICATE_EXPIRED, CERTIFICATE_NOT_TRUSTED, CERTIFICATE_REVOKED, ...
     */
    public static PdfSeal open(Signatures signatures, SignerKey key, String location) {
        return open(signatures, key, location, Clock.systemUTC());
    }

    static PdfSeal open(Signatures signatures, SignerKey key, String location, Clock clock) {
        PdfSeal seal = new PdfSeal(signatures, key, location, clock);
        try {
            seal.check();
        } catch (RuntimeException e) {
            key.close();
            throw e;
        }
        return seal;
    }

    /** The seal's certificate (the signer a validator names). */
    public X509Certificate certificate() {
        return key.certificate();
    }

    /** The /Location written into each seal. */
    public String location() {
        return location;
    }

    /**
     * A sealed PDF: the signature with its time-stamp (B-T), or at level B when no TSA gave a usable time-stamp.
     *
     * @param level   B-T, or B when the time-stamp is pending
     * @param time    the signature time-stamp's time (B-T only)
     * @param pending why there is no time-stamp ("日本語 / English"), at B only
     */
    public record Sealed(byte[] pdf, Level level, Optional<Instant> time, Optional<String> pending) {
    }

    /**
     * Seals the PDF. Nothing half-sealed is returned: either a complete sealed PDF or a {@link SignatureFailure}.
     *
     * @throws SignatureFailure FAILED "not a PDF" or "larger than 64 MiB" for bad input (nothing is parsed then);
     *                          CERTIFICATE_EXPIRED / CERTIFICATE_REVOKED / ... when the seal's certificate went bad;
     *                          FAILED when the key refuses or the PDF cannot be read
     */
    public Sealed seal(byte[] document) {
        requirePdf(document);
        recheckIfDue();
        DSSDocument doc = new InMemoryDocument(document);
        try {
            TimeOfStamp stamp = new TimeOfStamp(signatures.tsa());
            byte[] sealed = sign(doc, SignatureLevel.PAdES_BASELINE_T, stamp);
            return new Sealed(sealed, Level.B_T, Optional.ofNullable(stamp.time), Optional.empty());
        } catch (SignatureFailure f) {
            if (f.reason() != SignatureFailure.Reason.TSA_UNAVAILABLE) {
                throw f;
            }
            log.warn("printout sealed at level B, no time-stamp: {}", f.getMessage());
            return new Sealed(sign(doc, SignatureLevel.PAdES_BASELINE_B, null), Level.B, Optional.empty(),
                    Optional.of(f.getMessage()));
        }
    }

    private byte[] sign(DSSDocument doc, SignatureLevel level, TSPSource tsa) {
        X509Certificate certificate = key.certificate();
        PAdESSignatureParameters parameters = new PAdESSignatureParameters();
        parameters.setSignatureLevel(level);
        parameters.setDigestAlgorithm(signatures.settings().digest());
        parameters.setSigningCertificate(new CertificateToken(certificate));
        List<CertificateToken> chain = new ArrayList<>();
        for (X509Certificate c : key.chain()) {
            chain.add(new CertificateToken(c));
        }
        parameters.setCertificateChain(chain);
        parameters.setReason(REASON);
        parameters.setLocation(location);
        parameters.setContentSize(CONTENT_SIZE);
        parameters.bLevel().setSigningDate(Date.from(clock.instant()));
        PAdESService service = new PAdESService(signatures.verifier(key.chain()));
        service.setPdfObjFactory(pdf);
        if (tsa != null) {
            service.setTspSource(tsa);
        }
        try {
            ToBeSigned toBeSigned = service.getDataToSign(doc, parameters);
            byte[] digest = DSSUtils.digest(signatures.settings().digest(), toBeSigned.getBytes());
            byte[] value;
            synchronized (keyLock) {
                value = key.signDigest(signatures.settings().digest(), digest);
            }
            SignatureValue signatureValue = new SignatureValue(SignatureAlgorithm.getAlgorithm(
                    EncryptionAlgorithm.forKey(certificate.getPublicKey()), signatures.settings().digest()), value);
            return DSSUtils.toByteArray(service.signDocument(doc, parameters, signatureValue));
        } catch (RuntimeException e) {
            throw Signatures.failure(e, SignatureFailure.Reason.FAILED);
        }
    }

    /**
     * Validates the one signature of a sealed PDF (ETSI EN 319 102-1, DSS's default policy) and that it covers the
     * whole file: bytes appended after the seal (an incremental update changing what is shown) make it
     * INDETERMINATE. Never throws on bad input: not a PDF, no signature, several, over {@link #MAX_PDF_BYTES} are
     * TOTAL_FAILED "not a readable signature".
     */
    public static Validation validate(Signatures signatures, byte[] document) {
        if (document == null || document.length > MAX_PDF_BYTES || !looksLikePdf(document)) {
            return Signatures.notASignature();
        }
        Reports reports;
        try {
            PDFDocumentValidator validator = new PDFDocumentValidator(new InMemoryDocument(document));
            PdfBoxNativeObjectFactory factory = new PdfBoxNativeObjectFactory();
            factory.setPdfMemoryUsageSetting(PdfMemoryUsageSetting.memoryBuffered(MAX_PDF_BYTES));
            validator.setPdfObjFactory(factory);
            validator.setCertificateVerifier(signatures.verifier(List.of()));
            validator.setTokenExtractionStrategy(TokenExtractionStrategy.EXTRACT_CERTIFICATES_AND_TIMESTAMPS);
            reports = validator.validateDocument();
        } catch (RuntimeException e) {
            log.info("not a readable signed PDF: {}", e.toString());
            return Signatures.notASignature();
        }
        Validation v = Signatures.validation(reports);
        if (v.indication() == Validation.Indication.TOTAL_FAILED) {
            return v;
        }
        List<String> ids = reports.getSimpleReport().getSignatureIdList();
        SignatureWrapper w = reports.getDiagnosticData().getSignatureById(ids.get(0));
        PDFRevisionWrapper revision = w.getPDFRevision();
        List<BigInteger> range = revision == null ? List.of() : revision.getSignatureByteRange();
        boolean whole = range.size() == 4 && range.get(0).signum() == 0
                && range.get(2).add(range.get(3)).equals(BigInteger.valueOf(document.length));
        if (!whole) {
            return new Validation(Validation.Indication.INDETERMINATE, Optional.of("NOT_WHOLE_DOCUMENT"),
                    "封印の後に PDF へ追記されています / the PDF was added to after it was sealed", v.signer(),
                    v.signingTime(), v.level(), v.revoked(), v.lastArchiveTimestamp(),
                    v.lastArchiveTimestampCertExpiry(), v.etsiReport());
        }
        return v;
    }

    /** The checked TSAs of the settings, remembering the time of the token they gave (one per seal). */
    private static final class TimeOfStamp implements TSPSource {
        private static final long serialVersionUID = 1L;
        private final transient TSPSource delegate;
        private transient Instant time;

        TimeOfStamp(TSPSource delegate) {
            this.delegate = delegate;
        }

        @Override
        public TimestampBinary getTimeStampResponse(DigestAlgorithm digestAlgorithm, byte[] digest) {
            TimestampBinary answer = delegate.getTimeStampResponse(digestAlgorithm, digest);
            try {
                time = new TimeStampToken(new CMSSignedData(answer.getBytes())).getTimeStampInfo().getGenTime()
                        .toInstant();
            } catch (Exception e) {
                throw new DSSExternalResourceException("the time-stamp cannot be read: " + e.getMessage());
            }
            return answer;
        }
    }

    /** Logs out of the seal's token (PKCS#11) and forgets its PIN. */
    @Override
    public void close() {
        key.close();
    }

    /**
     * Checks the seal's certificate. Revocation data that cannot be fetched right now (the CA's OCSP responder or CRL
     * down) does not stop the seal: that status is not known bad, the recipient's validator checks revocation
     * itself, and a hospital's printing should not hang on a CA's server; it is logged and checked again after
     * {@link #RECHECK}. Expired, revoked, not trusted or not for signing stops it.
     */
    private void check() {
        try {
            signatures.checkSigner(key.certificate(), key.chain(), true);
        } catch (SignatureFailure f) {
            if (f.reason() != SignatureFailure.Reason.REVOCATION_UNAVAILABLE) {
                throw f;
            }
            log.warn("the seal's revocation status is unknown for now (checked again in {}): {}", RECHECK,
                    f.getMessage());
        }
        checkedAt = clock.instant();
    }

    /** Checks the certificate again when {@link #RECHECK} has passed or it is no longer within its validity. */
    private void recheckIfDue() {
        Instant now = clock.instant();
        Instant last = checkedAt;
        boolean expired = now.isAfter(key.certificate().getNotAfter().toInstant())
                || now.isBefore(key.certificate().getNotBefore().toInstant());
        if (expired || last == null || now.isAfter(last.plus(RECHECK))) {
            synchronized (this) {
                if (expired || checkedAt == last) {
                    checkedAt = null; // a failed check is tried again next time, not passed for an hour
                    check();
                }
            }
        }
    }

    private static void requirePdf(byte[] document) {
        if (document == null || document.length == 0 || !looksLikePdf(document)) {
            throw new SignatureFailure(SignatureFailure.Reason.FAILED, "PDF ではありません / not a PDF");
        }
        if (document.length > MAX_PDF_BYTES) {
            throw new SignatureFailure(SignatureFailure.Reason.FAILED, "PDF が大きすぎます(上限 64 MiB) / the PDF is"
                    + " larger than 64 MiB");
        }
    }

    /** A PDF starts with %PDF- within its first KiB (ISO 32000-1 §7.5.2; readers accept leading junk up to there). */
    private static boolean looksLikePdf(byte[] b) {
        byte[] head = Arrays.copyOf(b, Math.min(b.length, 1024));
        return new String(head, StandardCharsets.ISO_8859_1).contains("%PDF-");
    }
}
