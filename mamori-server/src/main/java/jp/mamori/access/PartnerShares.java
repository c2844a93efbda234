package jp.mamori.access;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.db.Tx;
import jp.mamori.identity.Account;
import jp.mamori.identity.PartnerInstitutions;
import jp.mamori.identity.People;
import jp.mamori.identity.Sessions;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.Normalizer;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Shares with partner clinicians of other institutions (地域医療連携; issue 21, AUTH-11, ACCESS-1): a referral (紹介) or
 * consent (同意) record that lets ONE partner account read ONE patient's records, in the chosen categories, until its end
 * date (at most a year), unless revoked earlier ({@code partner_share}, V37).
 *
 * <ul>
 *   <li><b>One account, not an institution.</b> A share names the person it is for: a referral letter is addressed to
 *   a doctor, the audit then says who read under which share, and a colleague who joins the partner institution later
 *   gets nothing by it.</li>
 *   <li><b>Who shares.</b> A person who may read the patient's clinical notes now by their own roles and care
 *   relationship (the attending clinician; never under break-glass), and only categories and sensitivity labels they
 *   may read themselves: nobody gives more than they have. Administrators without a clinical role cannot share;
 *   they may revoke (which only takes access away).</li>
 *   <li><b>What is shared.</b> Demographics always (a partner must know whose record it is); by default the usual
 *   clinical categories ({@link #DEFAULT_CATEGORIES}); never billing, administrative, audit or unclassified data; a
 *   guarded sensitivity label (psychiatry, HIV, genetics, …) only when chosen explicitly.</li>
 *   <li><b>Read-only, and checked on every request.</b> A partner's context ({@link PersonContext#forPartner}) holds
 *   its shares with their end; the search filter reads the shares themselves. Creating or revoking a share moves the
 *   partner's access version (V37's trigger), so every server process reads the partner again on the next request.</li>
 *   <li><b>History.</b> Each creation and revocation is an {@code access_change} row, which the trail records
 *   (V10).</li>
 * </ul>
 */
public final class PartnerShares {
    /** The one role a partner's context holds: it stands for the shares (the audit's role of a partner). */
    public static final String ROLE = "partner";
    /** The longest share: a year from today (the end date is the last day the partner may read). */
    public static final int MAX_DAYS = 365;
    /** The categories a share may include. */
    public static final List<String> SHAREABLE = List.of("demographics", "encounters", "clinical_notes", "orders",
            "medication", "results", "nursing");
    /** The categories a share includes unless the person sharing chooses otherwise. */
    public static final List<String> DEFAULT_CATEGORIES = List.of("demographics", "encounters", "clinical_notes",
            "orders", "medication", "results");
    public static final List<String> BASES = List.of("referral", "consent");
    /** Shares ending within this many days are shown as ending soon. */
    public static final int ENDING_SOON_DAYS = 14;

    private static final Pattern PATIENT_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
    private static final ZoneId JST = ZoneId.of("Asia/Tokyo");

    /** Where a share stands at a moment. */
    public enum State {
        PENDING("開始前", "Not yet started"), ACTIVE("有効", "Active"), ENDED("期間終了", "Ended"),
        REVOKED("取消済", "Revoked");

        public final String ja;
        public final String en;

        State(String ja, String en) {
            this.ja = ja;
            this.en = en;
        }
    }

    /** One share as stored. */
    public record Share(UUID id, long number, UUID partner, String patientId, String basis, String basisRef,
                        List<String> categories, List<String> labels, Instant startsAt, Instant endsAt,
                        Instant createdAt, UUID createdBy, Instant revokedAt, UUID revokedBy, String revokeReason,
                        int version) {
        public State state(Instant now) {
            if (revokedAt != null) {
                return State.REVOKED;
            }
            if (!now.isBefore(endsAt)) {
                return State.ENDED;
            }
            return now.isBefore(startsAt) ? State.PENDING : State.ACTIVE;
        }

        /** Whether the share is in force at {@code at} (started, not ended, not revoked by then). */
        public boolean inForceAt(Instant at) {
            return !at.isBefore(startsAt) && at.isBefore(endsAt) && (revokedAt == null || at.isBefore(revokedAt));
        }

        /** 紹介 / 同意 in words. */
        public String basisJa() {
            return basis.equals("referral") ? "紹介（診療情報提供書）" : "患者の同意";
        }
    }

    /**
     * What the person sharing asks for.
     *
     * @param endDate    the last day (JST) the partner may read; the share ends at the start of the next day
     * @param categories the categories to share (demographics is always added); empty for {@link #DEFAULT_CATEGORIES}
     * @param labels     guarded sensitivity labels to share explicitly; usually none
     */
    public record NewShare(UUID partner, String patientId, String basis, String basisRef, LocalDate endDate,
                           Set<String> categories, Set<String> labels) {
    }

    private final DataSource ds;
    private final Clock clock;
    private final Categories categories;
    private final PersonAccess access;

    public PartnerShares(DataSource ds, Clock clock, Categories categories, PersonAccess access) {
        this.ds = ds;
        this.clock = clock;
        this.categories = categories;
        this.access = access;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private volatile jp.mamori.identity.SecretSealer sealer;

    /**
     * Seals each new share's decisive columns (partner, patient, categories, labels, start and end) with identity's key
     * file, so that a share widened or extended by SQL behind the server's back is found by {@link #verifySeals}.
     */
    public PartnerShares sealedWith(jp.mamori.identity.SecretSealer keys) {
        this.sealer = keys;
        return this;
    }

    private static byte[] sealed(UUID share, UUID partner, String patient, java.util.Collection<String> categories,
                                 java.util.Collection<String> labels, Instant starts, Instant ends) {
        return String.join("\u001f", "partner_share", share.toString(), partner.toString(), patient,
                String.join(",", new TreeSet<>(categories)), String.join(",", new TreeSet<>(labels)),
                Long.toString(starts.getEpochSecond()), Long.toString(ends.getEpochSecond()))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** What {@link #verifySeals} found: shares checked and each one that no longer matches its seal. */
    public record SealCheck(long checked, List<String> findings) {
        public SealCheck {
            findings = List.copyOf(findings);
        }
    }

    /**
     * Recomputes every share's seal with {@code keys} and reports each share whose partner, patient, categories,
     * labels, start or end differ from what was sealed when it was made (an end date extended by SQL, a category
     * added), or that has no seal.
     */
    public static SealCheck verifySeals(DataSource ds, jp.mamori.identity.SecretSealer keys) {
        return Tx.read(ds, c -> {
            List<String> out = new ArrayList<>();
            long n = 0;
            try (PreparedStatement ps = c.prepareStatement("SELECT share_id, account_id, patient_id, categories, labels,"
                    + " starts_at, ends_at, seal, share_no FROM partner_share ORDER BY share_no");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    n++;
                    byte[] content = sealed(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class), rs.getString(3),
                            List.of((String[]) rs.getArray(4).getArray()), List.of((String[]) rs.getArray(5).getArray()),
                            rs.getTimestamp(6).toInstant(), rs.getTimestamp(7).toInstant());
                    if (!keys.attests(rs.getBytes(8), content)) {
                        out.add("partner_share " + rs.getLong(9) + " (" + rs.getObject(1, UUID.class) + "): "
                                + (rs.getBytes(8) == null ? "no seal" : "the partner, patient, categories, labels, start"
                                + " or end differ from what Mamori sealed") + " / 連携先との共有の内容が封印と一致しません");
                    }
                }
            }
            return new SealCheck(n, out);
        });
    }

    /** Today in Japan (the end date's calendar). */
    public LocalDate today() {
        return LocalDate.ofInstant(clock.instant(), JST);
    }

    /** Whether a console session is a partner clinician's (the console's gate and pages ask this first). */
    public static boolean applies(Sessions.Session s) {
        return s != null && s.accountType() == Account.Type.PARTNER;
    }

    /**
     * Why a partner's session may not open this page, or null when it may: its own account and the sign-in machinery,
     * its home (the patients shared with it), and reading charts and documents (GET) and the patient search (a POST
     * that reads). Every form that writes, every printout and download, and every other page is refused.
     */
    public static String refusal(String method, String path) {
        boolean get = method.equals("GET") || method.equals("HEAD");
        if (Sessions.ownPagesPath(path)) {
            return null;
        }
        if (path.endsWith(".pdf") || path.endsWith("/pdf") || path.endsWith(".csv")) {
            return NO_PRINTOUT;
        }
        if (method.equals("POST") && path.equals("/console/patients")) {
            return null; // the patient search: a form that reads
        }
        if (!get) {
            return READ_ONLY;
        }
        if (path.equals("/console/patients") || READABLE.matcher(path).matches()) {
            return null;
        }
        return path.startsWith("/console/patients/") || path.startsWith("/console/documents/") ? READ_ONLY
                : NOT_PARTNER_PAGE;
    }

    /** The clinician pages that only read: a chart, its results, a document and its signature report. */
    private static final Pattern READABLE = Pattern.compile(
            "/console/patients/[A-Za-z0-9.-]{1,64}(/results)?|/console/documents/[A-Za-z0-9.-]{1,64}(/signature-report)?");

    public static final String NO_PRINTOUT = "連携先医療者は印刷・ダウンロードできません（画面での閲覧のみ） / Partner"
            + " clinicians may not print or download (reading on screen only)";
    public static final String READ_ONLY = "連携先医療者は閲覧のみできます。記録の作成・変更はできません / Partner"
            + " clinicians may read only; they cannot create or change records";
    public static final String NOT_PARTNER_PAGE = "連携先医療者は、この画面は使えません（共有された患者の閲覧のみ）"
            + " / Partner clinicians cannot use this page (reading the patients shared with them only)";

    // ---- creating and revoking ----------------------------------------------------------------------------

    /**
     * Shares a patient with a partner clinician, as {@code who} (the person sharing, with their access context).
     *
     * @throws AccessException with the reason, in Japanese and English, when anything is refused
     */
    public Share create(PersonContext who, String byPrincipal, NewShare n) {
        if (who == null || who.partner() || who.maintenance()) {
            throw new AccessException("共有できるのは、この病院の職員だけです / Only this institution's staff may share");
        }
        if (n.patientId() == null || !PATIENT_ID.matcher(n.patientId()).matches()) {
            throw new AccessException("患者IDが正しくありません / Not a patient id");
        }
        if (n.basis() == null || !BASES.contains(n.basis())) {
            throw new AccessException("共有の根拠（紹介または同意）を選んでください / Choose the basis: referral or consent");
        }
        String ref = n.basisRef() == null ? "" : Normalizer.normalize(n.basisRef(), Normalizer.Form.NFKC).strip();
        if (ref.isEmpty() || ref.length() > 200) {
            throw new AccessException("紹介状または同意書の記録（番号・日付など）を200文字までで入力してください / Enter the"
                    + " referral letter's or consent's reference (up to 200 characters)");
        }
        LocalDate today = today();
        if (n.endDate() == null) {
            throw new AccessException("共有の終了日を入力してください / Enter the share's end date");
        }
        if (n.endDate().isBefore(today)) {
            throw new AccessException("終了日が過去の日付です / The end date is in the past");
        }
        if (n.endDate().isAfter(today.plusDays(MAX_DAYS))) {
            throw new AccessException("共有の期間は最長1年です（" + today.plusDays(MAX_DAYS) + " まで） / A share lasts at"
                    + " most a year (until " + today.plusDays(MAX_DAYS) + ")");
        }
        Set<String> cats = new TreeSet<>(n.categories() == null || n.categories().isEmpty() ? DEFAULT_CATEGORIES
                : n.categories());
        cats.add("demographics");
        for (String c : cats) {
            if (!SHAREABLE.contains(c) || categories.byCode(c).isEmpty()) {
                throw new AccessException("共有できない情報区分です: " + c + " / Not a category that can be shared: " + c);
            }
        }
        Set<String> labels = new TreeSet<>(n.labels() == null ? Set.of() : n.labels());
        for (String l : labels) {
            if (!access.guardedLabels().contains(l)) {
                throw new AccessException("機微ラベルがありません: " + l + " / No such sensitivity label: " + l);
            }
        }
        Instant now = now();
        // nobody gives more than they have: each category (with the labels) the sharer may read now, without break-glass
        String refusal = mayShare(who, n.patientId());
        if (refusal != null) {
            throw new AccessException(refusal);
        }
        for (String c : cats) {
            Decision d = reads(who, n.patientId(), c, labels, now);
            if (!d.permitted()) {
                throw new AccessException("ご自身が閲覧できない情報は共有できません（" + categories.byCode(c).get().nameJa()
                        + "）: " + d.reason() + " / You cannot share what you may not read yourself");
            }
        }
        Instant ends = n.endDate().plusDays(1).atStartOfDay(JST).toInstant();
        return Tx.inTransaction(ds, c -> {
            Optional<PartnerInstitutions.Institution> institution = PartnerInstitutions.of(c, n.partner());
            Optional<People.Person> partner = People.of(c, n.partner());
            if (institution.isEmpty() || partner.isEmpty()) {
                throw new AccessException("連携先医療者のアカウントではありません / Not a partner clinician's account");
            }
            if (partner.get().retired() || partner.get().status() == Account.Status.SUSPENDED) {
                throw new AccessException("停止中または退職済のアカウントとは共有できません / The partner's account is"
                        + " suspended or retired");
            }
            UUID id = UUID.randomUUID();
            long number;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO partner_share (share_id, account_id, patient_id,"
                    + " basis, basis_ref, categories, labels, starts_at, ends_at, created_at, created_by, seal)"
                    + " VALUES (?, ?, ?, ?, ?, ?::text[], ?::text[], ?, ?, ?, ?, ?) RETURNING share_no")) {
                ps.setObject(1, id);
                ps.setObject(2, n.partner());
                ps.setString(3, n.patientId());
                ps.setString(4, n.basis());
                ps.setString(5, ref);
                ps.setArray(6, c.createArrayOf("text", cats.toArray()));
                ps.setArray(7, c.createArrayOf("text", labels.toArray()));
                ps.setTimestamp(8, Timestamp.from(now));
                ps.setTimestamp(9, Timestamp.from(ends));
                ps.setTimestamp(10, Timestamp.from(now));
                ps.setObject(11, who.accountId());
                jp.mamori.identity.SecretSealer keys = sealer;
                ps.setBytes(12, keys == null ? null : keys.attest(sealed(id, n.partner(), n.patientId(), cats, labels,
                        now, ends)));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    number = rs.getLong(1);
                }
            }
            ObjectNode d = AccessLedger.detail().put("share", number).put("partner", partner.get().loginId())
                    .put("institution", institution.get().label()).put("patient", n.patientId())
                    .put("basis", n.basis()).put("basisRef", ref).put("ends", ends.toString()).put("version", 1);
            ArrayNode ca = d.putArray("categories");
            cats.forEach(ca::add);
            ArrayNode la = d.putArray("labels");
            labels.forEach(la::add);
            AccessLedger.record(c, now, byPrincipal, "partner_share.created", "PartnerShare/" + id, d);
            return load(c, id).orElseThrow();
        });
    }

    /**
     * Ends a share before its end date, with the reason. By the person who shared it, anyone who could share the patient
     * now, or an administrator: revoking only takes access away.
     */
    public Share revoke(PersonContext who, String byPrincipal, UUID shareId, String reason) {
        String why = reason == null ? "" : reason.strip();
        if (why.isEmpty() || why.length() > 500) {
            throw new AccessException("取消の理由を入力してください（500文字まで） / Enter why the share is revoked (up to 500"
                    + " characters)");
        }
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            Share s = lock(c, shareId).orElseThrow(() -> new AccessException("共有が見つかりません / No such share"));
            if (s.revokedAt() != null) {
                throw new AccessException("この共有は既に取り消されています / The share is already revoked");
            }
            boolean mayRevoke = who != null && !who.partner() && !who.maintenance() && (who.accountId().equals(s.createdBy())
                    || reads(who, s.patientId(), "clinical_notes", Set.of(), now).permitted() || AccessLedger.assignedAdministrator(c, who.accountId())
                    || People.ledgerAdministrator(c, who.accountId()));
            if (!mayRevoke) {
                throw new AccessException("この共有を取り消す権限がありません / You may not revoke this share");
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE partner_share SET revoked_at = ?, revoked_by = ?,"
                    + " revoke_reason = ?, version = version + 1 WHERE share_id = ? AND revoked_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setObject(2, who.accountId());
                ps.setString(3, why);
                ps.setObject(4, shareId);
                ps.executeUpdate();
            }
            AccessLedger.record(c, now, byPrincipal, "partner_share.revoked", "PartnerShare/" + shareId,
                    AccessLedger.detail().put("share", s.number()).put("patient", s.patientId())
                            .put("reason", why).put("version", s.version() + 1));
            return load(c, shareId).orElseThrow();
        });
    }

    /**
     * Null when {@code who} may share this patient now (the page then shows the patient and the form), else why not:
     * the same first rule as {@link #create}, so that the page shows nothing of a patient to someone who may not share it.
     */
    public String mayShare(PersonContext who, String patientId) {
        if (who == null || who.partner() || who.maintenance()) {
            return "共有できるのは、この病院の職員だけです / Only this institution's staff may share";
        }
        if (patientId == null || !PATIENT_ID.matcher(patientId).matches()) {
            return "患者IDが正しくありません / Not a patient id";
        }
        if (!reads(who, patientId, "clinical_notes", Set.of(), clock.instant()).permitted()) {
            return "この患者を共有できるのは、担当関係にある医療者です（ブレークグラス中は共有できません）"
                    + " / Only a clinician in a care relationship with the patient may share it (not under break-glass)";
        }
        return null;
    }

    /** The guarded sensitivity labels a share may name explicitly. */
    public Set<String> labels() {
        return access.guardedLabels();
    }

    /**
     * Whether {@code who} may read the category of the patient now by their own roles, care assignments and the
     * encounters of their places (as their context holds them), never by break-glass.
     */
    private Decision reads(PersonContext who, String patientId, String category, Set<String> labels, Instant now) {
        Category c = categories.byCode(category).orElseThrow();
        Decision d = access.decide(who, patientId, c, Action.READ, labels, now);
        if (!d.permitted() && d.breakGlass() && who.holdsEncounters()) {
            d = access.decide(who, patientId, c, Action.READ, labels, now, who.encounterRelations(patientId, now));
        }
        return d;
    }

    // ---- reading ------------------------------------------------------------------------------------------

    private static final String COLUMNS = "share_id, share_no, account_id, patient_id, basis, basis_ref, categories,"
            + " labels, starts_at, ends_at, created_at, created_by, revoked_at, revoked_by, revoke_reason, version";

    public Optional<Share> find(UUID id) {
        return Tx.read(ds, c -> load(c, id));
    }

    /** The shares of one patient, newest first. */
    public List<Share> ofPatient(String patientId) {
        return query("SELECT " + COLUMNS + " FROM partner_share WHERE patient_id = ? ORDER BY share_no DESC LIMIT 200",
                patientId);
    }

    /** The shares with one partner account, newest first. */
    public List<Share> ofPartner(UUID partner) {
        return query("SELECT " + COLUMNS + " FROM partner_share WHERE account_id = ? ORDER BY share_no DESC LIMIT 500",
                partner);
    }

    /**
     * The shares the reviewers see: every one in force or still to start, and those that ended or were revoked within
     * the last {@code days} days; ending soonest first.
     */
    public List<Share> forReview(int days) {
        Instant since = clock.instant().minus(days, ChronoUnit.DAYS);
        return query("SELECT " + COLUMNS + " FROM partner_share WHERE (revoked_at IS NULL AND ends_at > ?)"
                + " OR coalesce(revoked_at, ends_at) > ? ORDER BY (revoked_at IS NULL AND ends_at > ?) DESC,"
                + " ends_at, share_no LIMIT 1000", Timestamp.from(clock.instant()), Timestamp.from(since),
                Timestamp.from(clock.instant()));
    }

    /** The shares in force that end before {@code at}, ending soonest first. */
    public List<Share> endingBefore(Instant at) {
        return query("SELECT " + COLUMNS + " FROM partner_share WHERE revoked_at IS NULL AND ends_at > ? AND ends_at <= ?"
                + " ORDER BY ends_at LIMIT 1000", Timestamp.from(clock.instant()), Timestamp.from(at));
    }

    private List<Share> query(String sql, Object... args) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                List<Share> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(row(rs));
                    }
                }
                return out;
            }
        });
    }

    private static Optional<Share> load(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM partner_share WHERE share_id = ?")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static Optional<Share> lock(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM partner_share WHERE share_id = ?"
                + " FOR UPDATE")) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static Share row(ResultSet rs) throws SQLException {
        Timestamp revoked = rs.getTimestamp(13);
        return new Share(rs.getObject(1, UUID.class), rs.getLong(2), rs.getObject(3, UUID.class), rs.getString(4),
                rs.getString(5), rs.getString(6), List.of((String[]) rs.getArray(7).getArray()),
                List.of((String[]) rs.getArray(8).getArray()), rs.getTimestamp(9).toInstant(),
                rs.getTimestamp(10).toInstant(), rs.getTimestamp(11).toInstant(), rs.getObject(12, UUID.class),
                revoked == null ? null : revoked.toInstant(), rs.getObject(14, UUID.class), rs.getString(15),
                rs.getInt(16));
    }

    /** The categories as the person reads them, in the catalogue's order. */
    public List<Category> shareable() {
        List<Category> out = new ArrayList<>();
        for (Category c : categories.all()) {
            if (SHAREABLE.contains(c.code())) {
                out.add(c);
            }
        }
        return out;
    }

    /** The names of a share's categories, in Japanese. */
    public String categoryNames(List<String> codes) {
        Set<String> names = new LinkedHashSet<>();
        for (Category c : categories.all()) {
            if (codes.contains(c.code())) {
                names.add(c.nameJa());
            }
        }
        return String.join("・", names);
    }
}
