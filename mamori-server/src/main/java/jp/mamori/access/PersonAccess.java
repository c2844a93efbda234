package jp.mamori.access;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

/**
 * The authorization decision for a person (ACCESS-1..4): pure, in memory, cheap enough to run for every
 * request and every search result once the {@link PersonContext} has been read.
 *
 * <ol>
 *   <li>Some role the person holds grants (category, action). For clinical categories only roles that may
 *       hold clinical content count: system administrators and auditors never reach clinical content.</li>
 *   <li>Every guarded sensitivity label on the resource (restricted, psychiatric, HIV, genetic, VIP,
 *       staff-as-patient; the set is data) needs the matching privilege.</li>
 *   <li>For clinical categories a care relationship within the role's scope: hospital scope needs none;
 *       department and ward scope need a current care assignment in a department (or ward) where the person
 *       holds a granting role, or a personal assignment without department, or a current or recent encounter of
 *       the patient there ({@link EncounterRelations}).</li>
 * </ol>
 * Break-glass is offered only when the relationship is the one thing missing.
 */
public final class PersonAccess {
    private final Set<String> guardedLabels;

    public PersonAccess(Set<String> guardedLabels) {
        this.guardedLabels = Set.copyOf(guardedLabels);
    }

    /** With the guarded labels of the {@code sensitivity_label} table. */
    public static PersonAccess load(DataSource ds) {
        return new PersonAccess(Tx.read(ds, c -> {
            Set<String> s = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT code FROM sensitivity_label");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    s.add(rs.getString(1));
                }
            }
            return s;
        }));
    }

    public Set<String> guardedLabels() {
        return guardedLabels;
    }

    public Decision decide(PersonContext who, String patientId, Category category, Action action,
                           Set<String> securityLabels, Instant now) {
        return decide(who, patientId, category, action, securityLabels, now, Set.of());
    }

    /**
     * As above, knowing that the patient has a current or recent encounter in {@code encounterPlaces} (departments
     * or wards, already limited to those whose time after the encounter has not run out for the person).
     */
    public Decision decide(PersonContext who, String patientId, Category category, Action action,
                           Set<String> securityLabels, Instant now, Set<String> encounterPlaces) {
        PersonContext.Need need = who.need(category, action);
        if (need == null) {
            if (category.clinical() && who.grantedByNonClinicalRoleOnly(category, action)) {
                return Decision.deny("診療情報を扱えない役割です（" + category.nameJa() + "） / The role may not hold"
                        + " clinical content (" + category.nameEn() + ")");
            }
            return Decision.deny("「" + category.nameJa() + "」の" + action.ja + "権限がありません / No role grants "
                    + action.en + " on " + category.nameEn());
        }
        if (who.partner()) {
            return partner(who, patientId, category, securityLabels, now);
        }
        if (securityLabels != null && !securityLabels.isEmpty()) {
            for (String label : securityLabels) {
                if (guardedLabels.contains(label) && !who.privileges().contains(label)) {
                    return Decision.deny("機微情報（" + label + "）の閲覧権限がありません / The privilege for sensitivity"
                            + " label " + label + " is missing");
                }
            }
        }
        if (who.maintenance()) {
            // a vendor's maintenance session: the work order's patients only, whatever the category (issue 19)
            return patientId != null && who.maintenancePatients(now).contains(patientId)
                    ? Decision.permit("保守作業で承認された患者 / A patient the work order approved")
                    : Decision.deny("保守作業で承認された患者ではありません / Not a patient the work order approved");
        }
        if (!category.clinical()) {
            return Decision.permit("役割による許可 / Permitted by role");
        }
        if (patientId == null) {
            return Decision.deny("患者を特定できない診療情報です / Clinical data without a patient");
        }
        if (need.hospital()) {
            return Decision.permit("病院全体を範囲とする役割による許可 / Permitted by a hospital-wide role");
        }
        if (who.caresFor(patientId, need.departments(), now)) {
            return Decision.permit("担当関係による許可 / Permitted by a care relationship");
        }
        for (String place : encounterPlaces) {
            if (need.departments().contains(place)) {
                return Decision.permit("診療科・病棟の受診（入院）による許可 / Permitted by a current or recent encounter in "
                        + place);
            }
        }
        return Decision.denyButBreakGlass("この患者との担当関係がありません / No care relationship with this patient");
    }

    /**
     * A partner clinician of another institution (issue 21, AUTH-11): permitted only by a share of this patient in force
     * now that includes the category, and each guarded label on the resource only when that share names it. Never
     * break-glass: what was not shared is refused outright.
     */
    private Decision partner(PersonContext who, String patientId, Category category, Set<String> securityLabels,
                             Instant now) {
        java.util.Optional<PersonContext.Share> share = who.partnerShare(patientId, category.code(), now);
        if (share.isEmpty()) {
            return Decision.deny("この患者の「" + category.nameJa() + "」は共有されていないか、共有期間が終了しています"
                    + " / " + category.nameEn() + " of this patient is not shared with you, or the share has ended");
        }
        if (securityLabels != null) {
            for (String label : securityLabels) {
                if (guardedLabels.contains(label) && !share.get().labels().contains(label)) {
                    return Decision.deny("機微情報（" + label + "）は共有されていません / Sensitivity label " + label
                            + " is not shared with you");
                }
            }
        }
        return Decision.permit("連携先との共有（共有番号 " + share.get().number() + "）による許可 / Permitted by share no. "
                + share.get().number());
    }
}
