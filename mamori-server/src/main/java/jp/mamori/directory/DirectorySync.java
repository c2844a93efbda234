package jp.mamori.directory;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.config.DirectoryOptions;
import jp.mamori.db.Tx;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.IdentityException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.Normalizer;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Directory sync (issue 21; ACCT-2, AUTH-1, AUDIT-1): reads the institution's directory and suspends, through identity's
 * own suspension (sessions end, the reason in the ledger), every linked person whose entry is gone or disabled.
 *
 * <p>Links: a staff account is linked to its entry the first time the login attribute equals its login id, and from
 * then by the entry's stable id, so a rename keeps the link. Vendor and emergency accounts, and accounts no entry ever
 * matched, are never touched.
 *
 * <p>Safety first (ACCT-2 asks for leavers removed promptly, never for a working clinician locked out by a fault): a
 * directory that cannot be reached, refuses TLS or the bind, or answers in part suspends nobody; so does an answer that
 * would suspend more than {@link DirectoryOptions#maxSuspendPercent()} of the linked people at once (and more than
 * {@link DirectoryOptions#MIN_GUARD_PEOPLE}), or any of them on an empty answer: a changed base DN or filter looks like
 * everyone leaving. Such a run is recorded as failed with the reason, audited, and shown by {@link #state()}. A person
 * enabled again in the directory is not reactivated: an administrator does that.
 *
 * <p>One run at a time across every node: a PostgreSQL advisory lock; a node that does not get it skips the run.
 */
public final class DirectorySync {
    private static final Logger log = LoggerFactory.getLogger(DirectorySync.class);
    /** The advisory lock's key ("mamori directory sync"). */
    static final long LOCK_KEY = 0x6d616d6f_72690021L;
    /** The ledger's "by" of the suspensions a sync makes. */
    public static final String BY = "directory-sync";
    private static final Set<Account.Status> WORKING = EnumSet.of(Account.Status.ACTIVE, Account.Status.CREATED,
            Account.Status.ENROLMENT_PENDING);

    public enum Trigger {
        SCHEDULE("schedule"), CONSOLE("console"), CLI("cli");

        public final String code;

        Trigger(String code) {
            this.code = code;
        }
    }

    /** One run as recorded. {@code reason} is "日本語 / English" when it failed. */
    public record Run(long seq, Instant startedAt, Instant finishedAt, String trigger, String by, boolean success,
                      String reason, int checked, int linked, int suspended, int refused) {
    }

    /**
     * The plain read for a probe or a health line: whether a directory is configured, the last success, the last
     * failure and why, and whether the newest run failed (a deviation until a run succeeds).
     */
    public record State(boolean configured, Optional<Run> lastSuccess, Optional<Run> lastFailure, boolean failing,
                        int linkedPeople, int suspendedBySync, int openProposals) {
    }

    /** A person a sync suspended. {@code stillSuspended}: not reactivated since. */
    public record Suspended(UUID accountId, String loginId, String name, String why, String dn, Instant at,
                            boolean stillSuspended, boolean enabledAgain) {
    }

    /**
     * A department or a qualification read from the directory, waiting for an administrator.
     *
     * @param kind          {@code department} or {@code qualification}
     * @param value         the department's name, or the qualification's catalogue code
     * @param qualification the catalogue's entry for a qualification (its names, whether a licence number is needed);
     *                      null for a department
     */
    public record Proposal(long seq, UUID accountId, String loginId, String name, String kind, String value,
                           Instant at, Accounts.CatalogueEntry qualification) {
    }

    private record Link(UUID account, String entryId, String dn, String login) {
    }

    private final DataSource ds;
    private final Accounts accounts;
    private final AuditRecorder audit;
    private final Clock clock;
    private final DirectoryOptions options;
    private final Directory directory;
    /** Entry ids the last answer on this node showed enabled, for "enabled again" on the page. */
    private volatile Set<String> lastEnabled = Set.of();
    /** Qualification values the last run on this node found in no catalogue entry (at most {@value #UNMAPPED_SHOWN}). */
    private volatile Set<String> lastUnmapped = Set.of();
    private static final int UNMAPPED_SHOWN = 20;

    public DirectorySync(DataSource ds, Accounts accounts, AuditRecorder audit, Clock clock, DirectoryOptions options,
                         Directory directory) {
        this.ds = ds;
        this.accounts = accounts;
        this.audit = audit;
        this.clock = clock;
        this.options = options;
        this.directory = directory;
    }

    public DirectoryOptions options() {
        return options;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** Runs the sync on {@code scheduler} every interval while {@code leads} (a read-only viewer never does). */
    public void schedule(ScheduledExecutorService scheduler, BooleanSupplier leads) {
        long every = options.intervalMinutes() * 60L;
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                if (leads.getAsBoolean()) {
                    run(Trigger.SCHEDULE, Actor.server(BY));
                }
            } catch (RuntimeException e) {
                log.warn("directory sync failed: {}", e.toString());
            }
        }, Math.min(every, 300), every, TimeUnit.SECONDS); // the first soon after start, then every interval
    }

    /**
     * Runs one sync now. Empty when another node or command is running one (the advisory lock is held).
     */
    public Optional<Run> run(Trigger trigger, Actor by) {
        try (Connection lock = ds.getConnection()) {
            lock.setAutoCommit(true);
            if (!advisory(lock, "SELECT pg_try_advisory_lock(?)")) {
                return Optional.empty();
            }
            try {
                return Optional.of(runLocked(trigger, by));
            } finally {
                advisory(lock, "SELECT pg_advisory_unlock(?)");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("directory sync: " + e.getMessage(), e);
        }
    }

    private static boolean advisory(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, LOCK_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private Run runLocked(Trigger trigger, Actor by) {
        Instant started = now();
        List<DirectoryEntry> entries;
        try {
            entries = directory.read();
        } catch (DirectoryException e) {
            return record(trigger, by, started, e.getMessage(), 0, 0, 0, 0);
        }
        try {
            return apply(trigger, by, started, entries);
        } catch (RuntimeException e) {
            // whatever was done is recorded (suspensions one by one); the run itself is a failure to look at
            log.error("directory sync failed while applying the directory's answer", e);
            return record(trigger, by, started, "同期の途中でエラーが起きました（サーバーのログを確認してください） / the"
                    + " sync failed while applying the answer (see the server log)", entries.size(), 0, 0, 0);
        }
    }

    private Run apply(Trigger trigger, Actor by, Instant started, List<DirectoryEntry> entries) {
        Map<String, DirectoryEntry> byId = new HashMap<>();
        Map<String, DirectoryEntry> byLogin = new HashMap<>();
        Set<String> ambiguous = new HashSet<>();
        Set<String> enabled = new HashSet<>();
        for (DirectoryEntry e : entries) {
            byId.putIfAbsent(e.entryId(), e);
            if (!e.disabled()) {
                enabled.add(e.entryId());
            }
            if (e.login() != null && byLogin.putIfAbsent(e.login(), e) != null) {
                ambiguous.add(e.login());
            }
        }
        lastEnabled = Set.copyOf(enabled);
        Map<UUID, Link> links = links();
        Set<String> linkedIds = new HashSet<>();
        links.values().forEach(l -> linkedIds.add(l.entryId()));
        List<Account> all = accounts.list();
        int linkedNow = 0;
        // 1. links: the login attribute the first time, the entry's id from then on (a rename keeps it)
        for (Account a : all) {
            if (a.type() != Account.Type.STAFF || a.status() == Account.Status.RETIRED || links.containsKey(a.id())
                    || ambiguous.contains(a.loginId())) {
                continue;
            }
            DirectoryEntry e = byLogin.get(a.loginId());
            if (e != null && !linkedIds.contains(e.entryId())) {
                Link l = new Link(a.id(), e.entryId(), e.dn(), e.login());
                insertLink(l, started);
                links.put(a.id(), l);
                linkedIds.add(e.entryId());
                linkedNow++;
            }
        }
        // 2. who would be suspended, and renames to follow
        record Leaver(Account account, DirectoryEntry entry, Link link) {
        }
        List<Leaver> leavers = new ArrayList<>();
        int linkedWorking = 0;
        for (Account a : all) {
            Link l = links.get(a.id());
            if (l == null || a.type() != Account.Type.STAFF) {
                continue;
            }
            DirectoryEntry e = byId.get(l.entryId());
            if (e != null && (!e.dn().equals(l.dn()) || e.login() != null && !e.login().equals(l.login()))) {
                Link renamed = new Link(a.id(), e.entryId(), e.dn(), e.login() == null ? l.login() : e.login());
                insertLink(renamed, started);
                links.put(a.id(), renamed);
            }
            if (!WORKING.contains(a.status())) {
                continue;
            }
            linkedWorking++;
            if (e == null || e.disabled()) {
                leavers.add(new Leaver(a, e, links.get(a.id())));
            }
        }
        // 3. the guard: a changed base or filter, or a directory half-way through a migration, looks like everyone
        //    leaving; it suspends nobody and is a failed run
        int limit = Math.max(DirectoryOptions.MIN_GUARD_PEOPLE, linkedWorking * options.maxSuspendPercent() / 100);
        if (!leavers.isEmpty() && entries.isEmpty()) {
            return record(trigger, by, started, "ディレクトリの回答が空でした。誰も停止していません / the directory answered"
                    + " with no entries; nobody was suspended (" + leavers.size() + " linked people would have been)",
                    entries.size(), linkedNow, 0, leavers.size());
        }
        if (leavers.size() > limit) {
            return record(trigger, by, started, "一度に " + leavers.size() + " 人（連携している " + linkedWorking
                    + " 人の上限 " + limit + " 人を超える）を停止することになるため、誰も停止していません。検索の基点や"
                    + "フィルタを確認してください / " + leavers.size() + " of " + linkedWorking + " linked people would be"
                    + " suspended at once (more than " + limit + "); nobody was suspended: check the base DN and filter",
                    entries.size(), linkedNow, 0, leavers.size());
        }
        // 4. suspend, each through identity's own suspension (sessions end) with the reason and the entry's DN
        int suspended = 0;
        for (Leaver l : leavers) {
            boolean gone = l.entry() == null;
            String dn = LdapDirectory.shortDn(gone ? l.link().dn() : l.entry().dn());
            String reason = gone ? "ディレクトリで無効化（エントリ削除） / disabled in the directory (entry removed): " + dn
                    : "ディレクトリで無効化 / disabled in the directory: " + dn;
            try {
                accounts.suspend(l.account().id(), reason, BY);
            } catch (IdentityException e) {
                log.warn("directory sync: {} not suspended: {}", l.account().loginId(), e.getMessage());
                continue;
            }
            Instant at = now();
            Tx.inTransaction(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO directory_suspension (account_id, why, dn,"
                        + " at) VALUES (?, ?, ?, ?)")) {
                    ps.setObject(1, l.account().id());
                    ps.setString(2, gone ? "gone" : "disabled");
                    ps.setString(3, dn);
                    ps.setTimestamp(4, Timestamp.from(at));
                    ps.executeUpdate();
                }
                audit.stage(c, AuditEvent.by(by, AuditAction.DIRECTORY_SUSPEND).detail("account",
                        l.account().loginId()).detail("why", gone ? "gone" : "disabled").detail("dn", dn)
                        .detail("trigger", trigger.code).build());
                return null;
            });
            audit.drainSoon();
            suspended++;
        }
        // 5. departments and qualifications as proposals, never applied by themselves
        if (options.departmentAttribute().isPresent() || options.qualificationAttribute().isPresent()) {
            propose(all, links, byId, started);
        }
        return record(trigger, by, started, null, entries.size(), linkedNow, suspended, 0);
    }

    private void propose(List<Account> all, Map<UUID, Link> links, Map<String, DirectoryEntry> byId, Instant at) {
        Map<String, String> catalogue = new HashMap<>();
        for (Accounts.CatalogueEntry e : accounts.catalogue()) {
            catalogue.put(key(e.code()), e.code());
            catalogue.put(key(e.nameJa()), e.code());
            catalogue.put(key(e.nameEn()), e.code());
        }
        Set<String> unmapped = new java.util.TreeSet<>();
        Tx.inTransaction(ds, c -> {
            Set<String> known = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT account_id, kind, value FROM directory_proposal");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    known.add(rs.getObject(1) + "\n" + rs.getString(2) + "\n" + rs.getString(3));
                }
            }
            for (Account a : all) {
                Link l = links.get(a.id());
                DirectoryEntry e = l == null ? null : byId.get(l.entryId());
                if (e == null || e.disabled() || !WORKING.contains(a.status())) {
                    continue;
                }
                Set<String> has = new HashSet<>();
                a.departments().forEach(d -> has.add(Normalizer.normalize(d, Normalizer.Form.NFKC).strip()));
                for (String raw : e.departments()) {
                    String d = Normalizer.normalize(raw, Normalizer.Form.NFKC).strip();
                    if (!d.isEmpty() && d.length() <= 100 && !has.contains(d)
                            && known.add(a.id() + "\ndepartment\n" + d)) {
                        insertProposal(c, a.id(), "department", d, at);
                    }
                }
                Set<String> held = new HashSet<>();
                a.qualifications().forEach(q -> held.add(q.code()));
                for (String raw : e.qualifications()) {
                    String code = catalogue.get(key(raw));
                    if (code == null) {
                        if (unmapped.size() < UNMAPPED_SHOWN) {
                            unmapped.add(Normalizer.normalize(raw, Normalizer.Form.NFKC).strip());
                        }
                    } else if (!held.contains(code) && known.add(a.id() + "\nqualification\n" + code)) {
                        insertProposal(c, a.id(), "qualification", code, at);
                    }
                }
            }
            return null;
        });
        if (!unmapped.isEmpty()) {
            log.warn("directory qualification values matching no catalogue entry, not proposed: {}", unmapped);
        }
        lastUnmapped = Set.copyOf(unmapped);
    }

    /** A catalogue code or name as the directory may spell it: NFKC, no surrounding blanks, lower case. */
    private static String key(String s) {
        return Normalizer.normalize(s, Normalizer.Form.NFKC).strip().toLowerCase(java.util.Locale.ROOT);
    }

    private static void insertProposal(Connection c, UUID account, String kind, String value, Instant at)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO directory_proposal (account_id, kind, value, at)"
                + " VALUES (?, ?, ?, ?)")) {
            ps.setObject(1, account);
            ps.setString(2, kind);
            ps.setString(3, value);
            ps.setTimestamp(4, Timestamp.from(at));
            ps.executeUpdate();
        }
    }

    /**
     * The qualification values the last run on this node read that match no catalogue entry (by code, Japanese or
     * English name), sorted, at most {@value #UNMAPPED_SHOWN}: they are not proposed, and the page lists them so the
     * administrator can fix the directory or the catalogue.
     */
    public Set<String> unmappedQualifications() {
        return lastUnmapped;
    }

    private Run record(Trigger trigger, Actor by, Instant started, String reason, int checked, int linked,
                       int suspended, int refused) {
        Instant finished = now();
        // who started it as a person reads it: the person's name, or the server (schedule, command); the audit entry
        // keeps the principal
        String name = by.kind() == jp.mamori.audit.ActorKind.PERSON && by.display() != null && !by.display().isBlank()
                ? by.display() : BY;
        String who = name.length() > 200 ? name.substring(0, 200) : name;
        String why = reason == null ? null : reason.length() > 2000 ? reason.substring(0, 2000) : reason;
        long seq = Tx.inTransaction(ds, c -> {
            long s;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO directory_run (started_at, finished_at,"
                    + " trigger, by_who, outcome, reason, checked, linked, suspended, refused) VALUES (?, ?, ?, ?, ?, ?,"
                    + " ?, ?, ?, ?) RETURNING seq")) {
                ps.setTimestamp(1, Timestamp.from(started));
                ps.setTimestamp(2, Timestamp.from(finished));
                ps.setString(3, trigger.code);
                ps.setString(4, who);
                ps.setString(5, why == null ? "success" : "failed");
                ps.setString(6, why);
                ps.setInt(7, checked);
                ps.setInt(8, linked);
                ps.setInt(9, suspended);
                ps.setInt(10, refused);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    s = rs.getLong(1);
                }
            }
            AuditEvent.Builder b = AuditEvent.by(by, AuditAction.DIRECTORY_SYNC)
                    .outcome(why == null ? Outcome.SUCCESS : Outcome.ERROR).detail("trigger", trigger.code)
                    .detail("checked", Integer.toString(checked)).detail("linked", Integer.toString(linked))
                    .detail("suspended", Integer.toString(suspended)).detail("refused", Integer.toString(refused));
            if (why != null) {
                b.detail("reason", why);
            }
            audit.stage(c, b.build());
            return s;
        });
        audit.drainSoon();
        if (why != null) {
            log.warn("directory sync failed: {}", why);
        } else {
            log.info("directory sync: {} entries, {} linked, {} suspended", checked, linked, suspended);
        }
        return new Run(seq, started, finished, trigger.code, who, why == null, why, checked, linked, suspended,
                refused);
    }

    private Map<UUID, Link> links() {
        return Tx.inTransaction(ds, c -> {
            Map<UUID, Link> out = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON (account_id) account_id, entry_id, dn,"
                    + " login FROM directory_link ORDER BY account_id, seq DESC"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    UUID id = rs.getObject(1, UUID.class);
                    out.put(id, new Link(id, rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
            return out;
        });
    }

    private void insertLink(Link l, Instant at) {
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO directory_link (account_id, entry_id, dn, login,"
                    + " at) VALUES (?, ?, ?, ?, ?)")) {
                ps.setObject(1, l.account());
                ps.setString(2, l.entryId());
                ps.setString(3, LdapDirectory.shortDn(l.dn()));
                String login = l.login() == null || l.login().isBlank() ? "-" : l.login();
                ps.setString(4, login.length() > 200 ? login.substring(0, 200) : login); // the directory's text
                ps.setTimestamp(5, Timestamp.from(at));
                ps.executeUpdate();
            }
            return null;
        });
    }

    // ---- reads ------------------------------------------------------------------------------------------------

    /** The newest runs first. */
    public List<Run> runs(int limit) {
        return Tx.inTransaction(ds, c -> runs(c, "", Math.max(1, Math.min(limit, 500))));
    }

    private static List<Run> runs(Connection c, String where, int limit) throws SQLException {
        List<Run> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, started_at, finished_at, trigger, by_who, outcome,"
                + " reason, checked, linked, suspended, refused FROM directory_run " + where
                + " ORDER BY seq DESC LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Run(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getTimestamp(3).toInstant(),
                            rs.getString(4), rs.getString(5), rs.getString(6).equals("success"), rs.getString(7),
                            rs.getInt(8), rs.getInt(9), rs.getInt(10), rs.getInt(11)));
                }
            }
        }
        return out;
    }

    /** See {@link State}. */
    public State state() {
        if (!options.enabled()) {
            return new State(false, Optional.empty(), Optional.empty(), false, 0, 0, 0);
        }
        return Tx.inTransaction(ds, c -> {
            Optional<Run> newest = runs(c, "", 1).stream().findFirst();
            Optional<Run> ok = runs(c, "WHERE outcome = 'success'", 1).stream().findFirst();
            Optional<Run> bad = runs(c, "WHERE outcome = 'failed'", 1).stream().findFirst();
            return new State(true, ok, bad, newest.isPresent() && !newest.get().success(), count(c,
                    "SELECT count(DISTINCT account_id) FROM directory_link"), count(c,
                    "SELECT count(DISTINCT account_id) FROM directory_suspension"), count(c,
                    "SELECT count(*) FROM directory_proposal p WHERE NOT EXISTS (SELECT 1 FROM"
                            + " directory_proposal_decision d WHERE d.proposal_seq = p.seq)"));
        });
    }

    private static int count(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** The people a sync suspended, newest first, and whether they are still suspended. */
    public List<Suspended> suspendedBySync() {
        List<Object[]> rows = Tx.inTransaction(ds, c -> {
            List<Object[]> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON (account_id) account_id, why, dn, at"
                    + " FROM directory_suspension ORDER BY account_id, seq DESC"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Object[]{rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                            rs.getTimestamp(4).toInstant()});
                }
            }
            return out;
        });
        Map<UUID, Link> links = links();
        Set<String> enabled = lastEnabled;
        List<Suspended> out = new ArrayList<>();
        for (Object[] r : rows) {
            UUID id = (UUID) r[0];
            Optional<Account> a = accounts.find(id);
            if (a.isEmpty()) {
                continue;
            }
            Link l = links.get(id);
            out.add(new Suspended(id, a.get().loginId(), a.get().familyName() + " " + a.get().givenName(),
                    (String) r[1], (String) r[2], (Instant) r[3], a.get().status() == Account.Status.SUSPENDED,
                    l != null && enabled.contains(l.entryId())));
        }
        out.sort((x, y) -> y.at().compareTo(x.at()));
        return out;
    }

    /** Proposals nobody has decided, oldest first. */
    public List<Proposal> proposals() {
        List<Object[]> rows = Tx.inTransaction(ds, c -> {
            List<Object[]> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, account_id, kind, value, at FROM"
                    + " directory_proposal p WHERE NOT EXISTS (SELECT 1 FROM directory_proposal_decision d WHERE"
                    + " d.proposal_seq = p.seq) ORDER BY seq LIMIT 500"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Object[]{rs.getLong(1), rs.getObject(2, UUID.class), rs.getString(3),
                            rs.getString(4), rs.getTimestamp(5).toInstant()});
                }
            }
            return out;
        });
        Map<String, Accounts.CatalogueEntry> catalogue = new HashMap<>();
        if (rows.stream().anyMatch(r -> "qualification".equals(r[2]))) {
            accounts.catalogue().forEach(e -> catalogue.put(e.code(), e));
        }
        List<Proposal> out = new ArrayList<>();
        for (Object[] r : rows) {
            accounts.find((UUID) r[1]).ifPresent(a -> out.add(new Proposal((Long) r[0], a.id(), a.loginId(),
                    a.familyName() + " " + a.givenName(), (String) r[2], (String) r[3], (Instant) r[4],
                    catalogue.get((String) r[3]))));
        }
        return out;
    }

    /** {@link #decide(long, boolean, String, Actor)} without a licence number (a department, or a dismissal). */
    public void decide(long seq, boolean accept, Actor by) {
        decide(seq, accept, null, by);
    }

    /**
     * Accepts (identity's own change, in its ledger: a department added, or a qualification granted) or dismisses a
     * proposal, once; audited ({@code directory.proposal}). A qualification that needs a licence number (医籍登録番号
     * and the like) is granted only with the number the administrator read from the licence itself: the directory's
     * word is never the licence.
     *
     * @param licence the licence number for a qualification that needs one; ignored otherwise
     * @throws DirectoryRefusal when there is no such open proposal, or identity refuses the change (a licence number
     *                          missing, too long or registered to another account), with its message
     */
    public void decide(long seq, boolean accept, String licence, Actor by) {
        Proposal p = proposals().stream().filter(x -> x.seq() == seq).findFirst().orElseThrow(() ->
                new DirectoryRefusal("この提案はないか、すでに処理されています / no such open proposal"));
        if (accept) {
            try {
                if (p.kind().equals("qualification")) {
                    accounts.addQualification(p.accountId(), new Accounts.QualificationGrant(p.value(),
                            licence == null || licence.isBlank() ? null : licence), by.principal());
                } else {
                    accounts.addDepartment(p.accountId(), p.value(), by.principal());
                }
            } catch (IdentityException e) {
                throw new DirectoryRefusal(e.getMessage());
            }
        }
        Instant at = now();
        boolean done = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO directory_proposal_decision (proposal_seq,"
                    + " decision, by_who, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                ps.setLong(1, seq);
                ps.setString(2, accept ? "accepted" : "dismissed");
                ps.setString(3, by.principal().length() > 200 ? by.principal().substring(0, 200) : by.principal());
                ps.setTimestamp(4, Timestamp.from(at));
                if (ps.executeUpdate() == 0) {
                    return false;
                }
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.DIRECTORY_PROPOSAL).detail("account", p.loginId())
                    .detail("kind", p.kind()).detail("value", p.value()).detail("decision", accept ? "accepted"
                            : "dismissed").build());
            return true;
        });
        audit.drainSoon();
        if (!done) {
            throw new DirectoryRefusal("この提案はすでに処理されています / the proposal was already decided");
        }
    }
}
