package jp.mamori.identity;

import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Terminals where the second factor is not asked because a physical control stands in for it, e.g. a room
 * entered only with an IC card and a vein check (AUTH-4). Each exception names its terminals by network
 * address range, writes down the compensating control, expires, and is reported as a deviation from the
 * secure defaults for as long as it is in force.
 */
public final class MfaExceptions {
    public static final Duration MAX_VALIDITY = Duration.ofDays(366);

    public record Exception(UUID id, String name, String addressRange, String compensatingControl, String grantedBy,
                            Instant grantedAt, Instant expiresAt, Instant revokedAt, String revokedBy) {
        public boolean inForce(Instant now) {
            return revokedAt == null && expiresAt.isAfter(now);
        }
    }

    private final DataSource ds;
    private final Clock clock;

    public MfaExceptions(DataSource ds, Clock clock) {
        this.ds = ds;
        this.clock = clock;
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    public Exception grant(String name, String addressRange, String control, Instant expiresAt, String by) {
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new IdentityException("名前を入力してください / A name is required");
        }
        if (control == null || control.strip().length() < 10) {
            throw new IdentityException("代替となる管理策を具体的に記載してください（10文字以上） / Describe the compensating"
                    + " control (at least 10 characters)");
        }
        Instant now = now();
        if (expiresAt == null || !expiresAt.isAfter(now) || expiresAt.isAfter(now.plus(MAX_VALIDITY))) {
            throw new IdentityException("有効期限は1年以内の将来の日付にしてください / The expiry must be in the future,"
                    + " within a year");
        }
        String range = checkRange(addressRange);
        UUID id = UUID.randomUUID();
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO mfa_exception (exception_id, name, address_range,"
                    + " compensating_control, granted_by, granted_at, expires_at) VALUES (?, ?, ?::cidr, ?, ?, ?, ?)")) {
                ps.setObject(1, id);
                ps.setString(2, name.strip());
                ps.setString(3, range);
                ps.setString(4, control.strip());
                ps.setString(5, by);
                ps.setTimestamp(6, Timestamp.from(now));
                ps.setTimestamp(7, Timestamp.from(expiresAt));
                ps.executeUpdate();
            }
            return null;
        });
        return new Exception(id, name.strip(), range, control.strip(), by, now, expiresAt, null, null);
    }

    /** Accepts one address or a CIDR range no wider than /24 (IPv4) or /64 (IPv6): terminals, not networks. */
    static String checkRange(String raw) {
        String r = raw == null ? "" : raw.strip();
        String addr = r;
        int bits = -1;
        int slash = r.indexOf('/');
        if (slash > 0) {
            addr = r.substring(0, slash);
            try {
                bits = Integer.parseInt(r.substring(slash + 1));
            } catch (NumberFormatException e) {
                bits = -2;
            }
        }
        InetAddress a;
        try {
            if (!addr.matches("[0-9a-fA-F:.]+")) {
                throw new UnknownHostException(addr);
            }
            a = InetAddress.getByName(addr);
        } catch (UnknownHostException e) {
            throw new IdentityException("端末のIPアドレス（例 10.1.2.3 または 10.1.2.0/28）を入力してください"
                    + " / Enter the terminal's IP address (e.g. 10.1.2.3 or 10.1.2.0/28)");
        }
        int max = a.getAddress().length * 8;
        int min = max == 32 ? 24 : 64;
        if (bits == -1) {
            bits = max;
        }
        if (bits < min || bits > max) {
            throw new IdentityException("範囲が広すぎます（IPv4は/24まで、IPv6は/64まで） / The range is too wide"
                    + " (at most /24 for IPv4, /64 for IPv6)");
        }
        // PostgreSQL's cidr refuses an address with bits set right of the mask (10.1.2.3/24): say which
        // network was meant instead of failing on the insert.
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            b[i] = (byte) (b[i] & (0xff << (8 - keep)));
        }
        String network;
        try {
            network = InetAddress.getByAddress(b).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        if (!network.equals(a.getHostAddress())) {
            throw new IdentityException("範囲はネットワークアドレスで指定してください（例 " + network + "/" + bits + "）"
                    + " / Give the range by its network address: " + network + "/" + bits);
        }
        return a.getHostAddress() + "/" + bits;
    }

    /** The exception in force that covers {@code address}, if any. */
    public Optional<Exception> covering(String address) {
        Instant now = now();
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE revoked_at IS NULL AND expires_at > ?"
                    + " AND ?::inet <<= address_range ORDER BY granted_at LIMIT 1")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setString(2, address);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(row(rs)) : Optional.<Exception>empty();
                }
            } catch (java.sql.SQLException e) {
                if ("22P02".equals(e.getSQLState())) {
                    return Optional.<Exception>empty(); // not an IP address (e.g. a Unix socket): no exception applies
                }
                throw e;
            }
        });
    }

    public boolean revoke(UUID id, String by) {
        Instant now = now();
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE mfa_exception SET revoked_at = ?, revoked_by = ?"
                    + " WHERE exception_id = ? AND revoked_at IS NULL")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setString(2, by);
                ps.setObject(3, id);
                return ps.executeUpdate() == 1;
            }
        });
    }

    private static final String SELECT = "SELECT exception_id, name, address_range::text, compensating_control,"
            + " granted_by, granted_at, expires_at, revoked_at, revoked_by FROM mfa_exception";

    public List<Exception> list() {
        return Tx.read(ds, c -> {
            List<Exception> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(SELECT + " ORDER BY granted_at DESC");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(rs));
                }
            }
            return out;
        });
    }

    private static Exception row(ResultSet rs) throws java.sql.SQLException {
        return new Exception(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getTimestamp(6).toInstant(), rs.getTimestamp(7).toInstant(),
                Accounts.instant(rs.getTimestamp(8)), rs.getString(9));
    }

    /** One line per exception in force, for the deviations report. */
    public List<String> deviations() {
        Instant now = now();
        List<String> out = new ArrayList<>();
        for (Exception e : list()) {
            if (e.inForce(now)) {
                out.add("second factor not asked at " + e.addressRange() + " (" + e.name() + ") until " + e.expiresAt()
                        + "; compensating control: " + e.compensatingControl() + " (AUTH-2/AUTH-4)");
            }
        }
        return out;
    }
}
