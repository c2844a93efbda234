package jp.mamori.maintenance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.db.Tx;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Maintenance vendors as data (issue 19; MAINT-1, MAINT-3, SUPPLY-6, SUPPLY-7, ACCT-3): each vendor company with its
 * contract (number and period), responsible person, contacts and subcontractors (each with the date the institution
 * consented, SUPPLY-7); its staff, each linked to one individual vendor account of the account ledger (which stays
 * authoritative: identity proofing, second factor, suspension are the ledger's); its remote-maintenance routes and
 * devices (source addresses as CIDR, what they reach; 004 Part1 立入検査 row 3); and the responsibility split per
 * system component (who maintains what). Every change is a new version in an append-only table (V29) and an audit
 * entry ({@code maintenance.vendor}) in the same transaction, naming which fields changed, never a contact's values.
 */
public final class Vendors {
    public static final String VENDOR = "vendor";
    public static final String STAFF = "staff";
    public static final String ROUTE = "route";
    public static final String COMPONENT = "component";
    static final int MAX_TEXT = 200;
    static final int MAX_LONG = 2000;
    /** The most source blocks one route names. */
    static final int MAX_SOURCES = 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One row (vendor, staff member, route or component) as it stands in one version. */
    public record Entry(String kind, int entry, int version, int vendor, Map<String, String> fields, boolean retired,
                        String authorName, Instant at, String reason) {
        public String get(String key) {
            return fields.getOrDefault(key, "");
        }

        /** A vendor's contract period (MAINT-1): the first and last day, Japan dates. */
        public LocalDate contractFrom() {
            return LocalDate.parse(get("contract_from"));
        }

        public LocalDate contractTo() {
            return LocalDate.parse(get("contract_to"));
        }

        /** A staff member's account. */
        public UUID account() {
            return UUID.fromString(get("account"));
        }

        /** A route's source blocks. */
        public List<Cidr> sources() {
            List<Cidr> out = new ArrayList<>();
            for (String s : get("sources").split("[\\s,]+")) {
                Cidr.parse(s).ifPresent(out::add);
            }
            return out;
        }
    }

    private final DataSource db;
    private final AuditRecorder audit;
    private final Accounts accounts;
    private final Clock clock;

    public Vendors(DataSource db, AuditRecorder audit, Accounts accounts, Clock clock) {
        this.db = db;
        this.audit = audit;
        this.accounts = accounts;
        this.clock = clock;
    }

    // ---- reads -------------------------------------------------------------------------------------------------

    private static Entry entry(ResultSet rs) throws SQLException {
        Map<String, String> f;
        try {
            f = JSON.readValue(rs.getString(5), new TypeReference<LinkedHashMap<String, String>>() {
            });
        } catch (JsonProcessingException e) {
            throw new SQLException("a vendor row's fields are not a JSON object of strings", e);
        }
        return new Entry(rs.getString(1), rs.getInt(2), rs.getInt(3), rs.getInt(4), Map.copyOf(f), rs.getBoolean(6),
                rs.getString(7), rs.getTimestamp(8).toInstant(), rs.getString(9));
    }

    private static final String NEWEST = "SELECT DISTINCT ON (entry) kind, entry, version, vendor, fields::text, retired,"
            + " author_name, at, reason FROM maintenance_vendor_version WHERE kind = ?";

    private static List<Entry> newest(Connection c, String kind) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(NEWEST + " ORDER BY entry, version DESC")) {
            ps.setString(1, kind);
            List<Entry> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(entry(rs));
                }
            }
            return out;
        }
    }

    /** The current rows of a kind that are not retired, by number. */
    public List<Entry> current(String kind) {
        return Tx.read(db, c -> newest(c, kind)).stream().filter(e -> !e.retired()).toList();
    }

    /** The current rows of a kind that belong to a vendor. */
    public List<Entry> current(String kind, int vendor) {
        return current(kind).stream().filter(e -> e.vendor() == vendor).toList();
    }

    /** A row as it stands now (retired included). */
    public Optional<Entry> find(String kind, int entry) {
        return Tx.read(db, c -> newest(c, kind)).stream().filter(e -> e.entry() == entry).findFirst();
    }

    /** The current vendor whose staff the account is (a vendor account is linked to at most one vendor). */
    public Optional<Entry> staffOf(UUID account) {
        String id = account.toString();
        return current(STAFF).stream().filter(e -> e.get("account").equals(id)).findFirst();
    }

    // ---- writes ------------------------------------------------------------------------------------------------

    /**
     * Adds a vendor ({@code entry} null) or a new version of one: 会社名, 契約番号, 契約期間, 責任者, 連絡先, 再委託先
     * (one a line: the company, then the date the institution consented, {@code 株式会社〇〇 2026-04-01}).
     */
    public Entry saveVendor(Actor by, Integer entry, Map<String, String> typed) {
        Map<String, String> f = new TreeMap<>();
        f.put("name", text(typed.get("name"), "会社名 / company name", MAX_TEXT, true));
        f.put("contract_no", text(typed.get("contract_no"), "契約番号 / contract number", MAX_TEXT, true));
        LocalDate from = date(typed.get("contract_from"), "契約開始日 / contract start");
        LocalDate to = date(typed.get("contract_to"), "契約終了日 / contract end");
        if (to.isBefore(from)) {
            throw new MaintenanceException("契約終了日が開始日より前です / the contract ends before it starts");
        }
        f.put("contract_from", from.toString());
        f.put("contract_to", to.toString());
        f.put("responsible", text(typed.get("responsible"), "責任者 / responsible person", MAX_TEXT, true));
        f.put("contacts", text(typed.get("contacts"), "連絡先 / contacts", MAX_LONG, true));
        String subs = text(typed.get("subcontractors"), "再委託先 / subcontractors", MAX_LONG, false);
        for (String line : subs.split("\n")) {
            String l = line.strip();
            if (l.isEmpty()) {
                continue;
            }
            int sp = l.lastIndexOf(' ');
            boolean ok = sp > 0;
            if (ok) {
                try {
                    LocalDate.parse(l.substring(sp + 1));
                } catch (DateTimeParseException e) {
                    ok = false;
                }
            }
            if (!ok) {
                throw new MaintenanceException("再委託先は1行に1社、会社名の後に当院の同意日（例 2026-04-01）を書いてください"
                        + " / write one subcontractor a line: the company, then the date the institution consented"
                        + " (e.g. 2026-04-01)");
            }
        }
        f.put("subcontractors", subs);
        return write(by, VENDOR, entry, null, f, null);
    }

    /** Links a vendor account of the ledger (by its login id) to a vendor as one of its staff. */
    public Entry addStaff(Actor by, int vendor, String loginId) {
        requireVendor(vendor);
        String id = loginId == null ? "" : loginId.strip();
        Account a = id.isEmpty() || id.length() > 100 ? null : accounts.findByLogin(id).orElse(null);
        if (a == null) {
            throw new MaintenanceException("そのログインIDのアカウントはありません / no account has that login id");
        }
        if (a.type() != Account.Type.VENDOR) {
            throw new MaintenanceException("保守業者用のアカウントだけを作業者にできます（職員のアカウントは不可） / only a"
                    + " vendor maintenance account can be a vendor's staff (not a staff account)");
        }
        if (a.status() == Account.Status.RETIRED) {
            throw new MaintenanceException("廃止されたアカウントです / the account is retired");
        }
        if (staffOf(a.id()).isPresent()) {
            throw new MaintenanceException("このアカウントはすでに保守業者の作業者として登録されています / the account is"
                    + " already a vendor's staff member");
        }
        Map<String, String> f = new TreeMap<>();
        f.put("account", a.id().toString());
        f.put("login_id", a.loginId());
        f.put("name", a.displayName());
        return write(by, STAFF, null, vendor, f, null);
    }

    /** Adds a remote-maintenance route or device: its name, source addresses (CIDR), what it reaches. */
    public Entry addRoute(Actor by, int vendor, Map<String, String> typed) {
        requireVendor(vendor);
        Map<String, String> f = new TreeMap<>();
        f.put("name", text(typed.get("name"), "経路・機器の名前 / route or device name", MAX_TEXT, true));
        String raw = text(typed.get("sources"), "接続元アドレス / source addresses", MAX_LONG, true);
        List<String> blocks = new ArrayList<>();
        for (String s : raw.split("[\\s,]+")) {
            if (s.isEmpty()) {
                continue;
            }
            Cidr c = Cidr.parse(s).orElseThrow(() -> new MaintenanceException("接続元アドレスはIPアドレスかCIDR（例"
                    + " 192.0.2.0/24）で書いてください / write the source addresses as IP addresses or CIDR blocks (e.g."
                    + " 192.0.2.0/24)"));
            if (c.prefix() < (c.network().length == 4 ? 16 : 32)) {
                throw new MaintenanceException("接続元アドレスの範囲が広すぎます（IPv4は/16、IPv6は/32まで） / the source"
                        + " block is too wide (at most /16 for IPv4, /32 for IPv6)");
            }
            blocks.add(c.toString());
        }
        if (blocks.isEmpty() || blocks.size() > MAX_SOURCES) {
            throw new MaintenanceException("接続元アドレスを1〜20個書いてください / give 1 to 20 source addresses");
        }
        f.put("sources", String.join(" ", blocks));
        f.put("reaches", text(typed.get("reaches"), "接続先 / what it reaches", MAX_LONG, true));
        f.put("device", text(typed.get("device"), "機器 / device", MAX_TEXT, false));
        return write(by, ROUTE, null, vendor, f, null);
    }

    /** Records who maintains a system component (責任分界): the component and the vendor's part. */
    public Entry addComponent(Actor by, int vendor, Map<String, String> typed) {
        requireVendor(vendor);
        Map<String, String> f = new TreeMap<>();
        f.put("component", text(typed.get("component"), "システム・構成要素 / system component", MAX_TEXT, true));
        f.put("duty", text(typed.get("duty"), "業者の担当範囲 / the vendor's part", MAX_LONG, true));
        return write(by, COMPONENT, null, vendor, f, null);
    }

    /** Retires a row (a staff member leaving, a route closed, a vendor whose contract ended), with the reason. */
    public Entry retire(Actor by, String kind, int entry, String reason) {
        String why = text(reason, "理由 / reason", 1000, true);
        Entry before = find(kind, entry).orElseThrow(() -> new MaintenanceException("その行はありません / no such row"));
        if (before.retired()) {
            throw new MaintenanceException("すでに廃止されています / already retired");
        }
        return write(by, kind, entry, before.vendor(), before.fields(), why);
    }

    private void requireVendor(int vendor) {
        Entry v = find(VENDOR, vendor).orElse(null);
        if (v == null || v.retired()) {
            throw new MaintenanceException("その保守業者はありません / no such vendor");
        }
    }

    private Entry write(Actor by, String kind, Integer entry, Integer vendor, Map<String, String> fields, String retire) {
        Entry saved = Tx.inTransaction(db, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
                ps.setString(1, "mamori.maintenance.vendor." + kind);
                ps.execute();
            }
            Entry before = null;
            if (entry != null) {
                before = newest(c, kind).stream().filter(e -> e.entry() == entry).findFirst().orElseThrow(
                        () -> new MaintenanceException("その行はありません / no such row"));
                if (before.retired()) {
                    throw new MaintenanceException("廃止した行は変更できません / a retired row cannot be changed");
                }
            }
            int number = entry != null ? entry : next(c, kind);
            int version = before == null ? 1 : before.version() + 1;
            int owner = vendor != null ? vendor : before != null ? before.vendor() : number;
            List<String> changed = new ArrayList<>();
            for (String k : fields.keySet()) {
                if (before == null || !fields.get(k).equals(before.get(k))) {
                    changed.add(k);
                }
            }
            if (retire != null) {
                changed = List.of("retired");
            } else if (before != null && changed.isEmpty()) {
                return before;
            }
            Instant now = clock.instant();
            String name = by.name(200);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO maintenance_vendor_version (kind, entry, version,"
                    + " vendor, fields, retired, author, author_name, at, reason) VALUES (?, ?, ?, ?, ?::jsonb, ?, ?, ?,"
                    + " ?, ?)")) {
                ps.setString(1, kind);
                ps.setInt(2, number);
                ps.setInt(3, version);
                ps.setInt(4, owner);
                try {
                    ps.setString(5, JSON.writeValueAsString(new TreeMap<>(fields)));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
                ps.setBoolean(6, retire != null);
                ps.setString(7, by.principal());
                ps.setString(8, name);
                ps.setTimestamp(9, Timestamp.from(now));
                ps.setString(10, retire);
                ps.executeUpdate();
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.MAINTENANCE_VENDOR).detail("kind", kind)
                    .detail("entry", Integer.toString(number)).detail("version", Integer.toString(version))
                    .detail("vendor", Integer.toString(owner)).detail("changed", String.join(",", changed))
                    .detail("retired", Boolean.toString(retire != null)).build());
            return new Entry(kind, number, version, owner, Map.copyOf(fields), retire != null, name, now, retire);
        });
        audit.drainSoon();
        return saved;
    }

    private static int next(Connection c, String kind) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(entry), 0) + 1 FROM"
                + " maintenance_vendor_version WHERE kind = ?")) {
            ps.setString(1, kind);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    // ---- checking typed text -----------------------------------------------------------------------------------

    /** Typed text, trimmed and normalised (NFKC, line ends); required or at most {@code max} characters. */
    static String text(String typed, String what, int max, boolean required) {
        String s = typed == null ? "" : java.text.Normalizer.normalize(typed, java.text.Normalizer.Form.NFKC)
                .replace("\r\n", "\n").replace('\r', '\n').strip();
        if (s.chars().anyMatch(ch -> ch < 0x20 && ch != '\n' && ch != '\t')) {
            throw new MaintenanceException(what.replace(" / ", "に使えない文字があります / ") + " contains a character"
                    + " that cannot be used");
        }
        if (required && s.isEmpty()) {
            throw new MaintenanceException(what.replace(" / ", "を入力してください / enter the "));
        }
        if (s.length() > max) {
            throw new MaintenanceException(what.replace(" / ", "が長すぎます（" + max + "文字まで） / ") + " is too long"
                    + " (at most " + max + " characters)");
        }
        return s;
    }

    static LocalDate date(String typed, String what) {
        String s = typed == null ? "" : typed.strip();
        try {
            return LocalDate.parse(s);
        } catch (DateTimeParseException e) {
            throw new MaintenanceException(what.replace(" / ", "を日付（例 2026-04-01）で入力してください / enter the ")
                    + " as a date (e.g. 2026-04-01)");
        }
    }
}
