package jp.mamori.smart;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Purpose;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Practitioner;

import java.util.UUID;

/**
 * The Practitioner resource a SMART {@code fhirUser} claim names: one per staff account, derived from the account the
 * first time an app is granted {@code fhirUser} for the person, and brought up to date when the account's name
 * changed. Its id is {@link AccessPolicy#practitionerId} (so the access model knows it is the person's own without a
 * lookup); its identifier is the account's id in Mamori's account system; its names are the account's (kanji and
 * kana, as JP Core writes them). It carries no licence number or role: an app learns who the person is, not their
 * credentials. Written through the record service by a system caller with a reason, so it has a version history and
 * a hash chain like every record, and audited.
 */
final class SmartPractitioners {
    /** The identifier system of Mamori's accounts. */
    static final String ACCOUNT_SYSTEM = "https://mamori.jp/fhir/sid/account";
    private static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    static final Caller WRITER = Caller.system("smart-fhir-user");

    private final RecordService records;
    private final Accounts accounts;
    private final AuditRecorder audit;

    SmartPractitioners(RecordService records, Accounts accounts, AuditRecorder audit) {
        this.records = records;
        this.accounts = accounts;
        this.audit = audit;
    }

    /** The Practitioner id of the person, written (or brought up to date) first. */
    String ensure(UUID accountId) {
        Account a = accounts.find(accountId).orElseThrow(() -> new IllegalStateException("no account " + accountId));
        String id = AccessPolicy.practitionerId(accountId);
        Practitioner p = new Practitioner();
        p.setId(id);
        p.setActive(a.status() == Account.Status.ACTIVE);
        p.addIdentifier(new Identifier().setSystem(ACCOUNT_SYSTEM).setValue(accountId.toString()));
        HumanName kanji = p.addName().setUse(HumanName.NameUse.OFFICIAL).setFamily(a.familyName())
                .addGiven(a.givenName()).setText(a.displayName());
        kanji.addExtension(new Extension(REPRESENTATION, new CodeType("IDE")));
        if (a.familyKana() != null && !a.familyKana().isBlank()) {
            HumanName kana = p.addName().setUse(HumanName.NameUse.OFFICIAL).setFamily(a.familyKana());
            if (a.givenKana() != null && !a.givenKana().isBlank()) {
                kana.addGiven(a.givenKana());
            }
            kana.addExtension(new Extension(REPRESENTATION, new CodeType("SYL")));
        }
        RecordService.WriteResult w = records.update(WRITER, "Practitioner", id, p, null,
                "SMART fhirUser: the Practitioner of account " + accountId + ", derived from the account");
        if (!w.unchanged()) {
            audit.append(AuditEvent.by(Actor.server("smart-fhir-user"), w.created() ? AuditAction.CREATE
                    : AuditAction.UPDATE).purpose(Purpose.SECURITY).detail("resource", "Practitioner/" + id)
                    .detail("account", accountId.toString()).detail("reason",
                            "derived from the account for an app granted fhirUser").build());
        }
        return id;
    }
}
