package jp.mamori.signatures;

import jp.mamori.access.Caller;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.Lifecycle;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Signature;

import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Signs finalized documents as they are stored (issue 17; SIGN-1, SIGN-3, SIGN-5, SIGN-6): a commit step of the
 * record service, so the version, its signature (in a {@code Provenance}) and the signature's state are written in
 * ONE transaction — a failed signature rolls the finalization back, and nothing half-signed is stored.
 *
 * <p>Which versions: every version a person writes whose lifecycle is locked — a document finalized (確定保存), created
 * final, amended or marked entered-in-error. The signature is a detached CAdES over the version's stored canonical
 * bytes (whose SHA-256 the version and the audit trail hold), time-stamped (B-T); when no TSA answers it is made at
 * level B and marked pending, and the upkeep adds the time-stamp as soon as one answers (ADR 0012).
 *
 * <p>Who signs: the person whose key the writer opened with their PIN ({@link #within}); the key's certificate must be
 * theirs and carry only qualifications recorded for them (SIGN-5, checked again at each signature). A person with a
 * registered key cannot finalize without signing (an API client's token carries no PIN: it is refused with 422); a
 * person without one finalizes unsigned, shown as such.
 */
public final class DocumentSigning implements RecordService.CommitStep {
    /** ISO/ASTM E1762-95 signature type of the FHIR signature-type value set: the author's signature. */
    public static final Coding AUTHOR_SIGNATURE = new Coding("urn:iso-astm:E1762-95:2013", "1.2.840.10065.1.12.1.1",
            "Author's Signature");
    /** The MIME type of a detached CMS (CAdES) signature. */
    public static final String SIG_FORMAT = "application/pkcs7-signature";
    static final String ACCOUNT_SYSTEM = "urn:mamori:account";

    /** The person signing in this thread's writes: their account and the key they opened with their PIN. */
    public record Signer(UUID accountId, SigningKeyRegistry.Registered registered, SignerKey key) {
    }

    private static final ThreadLocal<Signer> SIGNER = new ThreadLocal<>();
    /** Who writes a signature's Provenance and its extensions: the server's signatures, never a person. */
    static final Caller WRITER = Caller.system("signatures");

    private final Signatures signatures;
    private final Clock clock;

    /** @param signatures null when signatures are not set up (no trusted roots): nothing can be signed then */
    public DocumentSigning(Signatures signatures, Clock clock) {
        this.signatures = signatures;
        this.clock = clock;
    }

    /** Runs {@code work} with {@code signer} signing what it finalizes; the signer before is restored after. */
    public static <T> T within(Signer signer, Supplier<T> work) {
        Signer outer = SIGNER.get();
        SIGNER.set(signer);
        try {
            return work.get();
        } finally {
            if (outer == null) {
                SIGNER.remove();
            } else {
                SIGNER.set(outer);
            }
        }
    }

    public boolean available() {
        return signatures != null;
    }

    @Override
    public void beforeCommit(Connection c, List<RecordService.Written> written, RecordService.Writer writer)
            throws SQLException {
        for (RecordService.Written w : written) {
            RecordService.Stored s = w.stored();
            if (s.type().equals("Provenance") && s.version() > 1 && !s.author().equals(WRITER.principal())
                    && SignatureStore.isSignatureProvenance(c, s.id())) {
                // a signature's Provenance changes only by the upkeep's extensions; anyone else is refused here, the
                // one place every write passes (verify-signatures would also find the change)
                throw FhirError.forbidden("電子署名の Provenance は変更・削除できません / the Provenance of a signature"
                        + " cannot be changed or deleted");
            }
            if (s.deleted() || !Lifecycle.isLocked(s.lifecycle()) || !s.author().startsWith("account:")) {
                continue;
            }
            UUID author = UUID.fromString(s.author().substring("account:".length()));
            Signer signer = SIGNER.get();
            if (signer == null) {
                if (SigningKeyRegistry.active(c, author).isPresent()) {
                    throw FhirError.unprocessable(SignatureFailure.Reason.SIGNATURE_REQUIRED.message());
                }
                continue; // no key registered: finalized unsigned, and shown so
            }
            try {
                sign(c, s, signer, author, writer);
            } catch (SignatureFailure f) {
                throw FhirError.unprocessable(f.getMessage());
            }
        }
    }

    private void sign(Connection c, RecordService.Stored s, Signer signer, UUID author, RecordService.Writer writer)
            throws SQLException {
        if (signatures == null) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "信頼する認証局が設定されていません /"
                    + " no trusted roots are configured (--signature-trust-dir)");
        }
        if (!signer.accountId().equals(author)) {
            throw new SignatureFailure(SignatureFailure.Reason.NOT_THE_AUTHOR, "署名者は記載者本人です / the author"
                    + " signs their own document");
        }
        X509Certificate cert = signer.key().certificate();
        HpkiCertificate holder = SigningKeyRegistry.requireHolder(c, author, cert);
        Signed signed = signatures.sign(s.body(), signer.key());
        Instant now = clock.instant();
        Provenance p = provenance(s, signed, holder, author, now);
        RecordService.Stored prov = writer.create(WRITER, p, null);
        SignatureStore.insert(c, s.type(), s.id(), s.version(), jp.mamori.kernel.Hashes.sha256(s.body()), prov.id(),
                author, signer.registered().keyId(), holder.name(), holder.roleLabel().orElse(null),
                cert.getSerialNumber().toString(16), signed.level(), signed.timestampTime().orElse(null),
                signed.pendingReason().orElse(null), now);
    }

    /**
     * The Provenance of a signed version: its target is that exact version; the signature (type author's signature,
     * when = the time-stamp's time, else the signing time while it is pending; who = the signer; sigFormat CMS; data =
     * the detached CAdES, base64).
     */
    static Provenance provenance(RecordService.Stored s, Signed signed, HpkiCertificate holder, UUID author,
                                 Instant now) {
        Provenance p = new Provenance();
        p.addTarget(new Reference(s.type() + "/" + s.id() + "/_history/" + s.version()));
        Date when = Date.from(signed.timestampTime().orElse(now));
        p.setRecorded(Date.from(now));
        Reference who = new Reference().setDisplay(holder.name() + holder.roleLabel().map(r -> " (" + r + ")")
                .orElse("")).setIdentifier(new Identifier().setSystem(ACCOUNT_SYSTEM).setValue(author.toString()));
        p.addAgent().setWho(who).getType().addCoding(new Coding(
                "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author", "Author"));
        Signature sig = p.addSignature();
        sig.addType(AUTHOR_SIGNATURE.copy());
        sig.setWhen(when);
        sig.setWho(who.copy());
        sig.setTargetFormat("application/fhir+json");
        sig.setSigFormat(SIG_FORMAT);
        sig.setData(signed.signature());
        p.addReason().addCoding(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason", "SIGN",
                "signature"));
        return p;
    }

    /** The detached signature a Provenance carries, if it is one of ours. */
    public static Optional<byte[]> signatureOf(Provenance p) {
        for (Signature s : p.getSignature()) {
            if (SIG_FORMAT.equals(s.getSigFormat()) && s.hasData()) {
                return Optional.of(s.getData());
            }
        }
        return Optional.empty();
    }
}
