package jp.mamori.identity;

import jp.mamori.access.Caller;
import jp.mamori.access.Scope;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;
import jp.mamori.records.VersionHash;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Systems that call the API with a bearer token. A token is shown once, when it is made; only its
 * SHA-256 is stored. Tokens carry SMART scopes, which {@link jp.mamori.access.AccessPolicy} enforces.
 *
 * <p>Authenticated tokens are remembered for {@link #CACHE_TTL} so that a busy API does not look each one
 * up in the database; a revocation therefore takes effect within that time.
 */
public final class SystemClients {
    public static final String TOKEN_PREFIX = "mamori_";
    public static final Duration CACHE_TTL = Duration.ofSeconds(5);

    /** A client as listed; the token itself is never kept. */
    public record Client(String clientId, String name, String scopes, Instant createdAt, String createdBy,
                         Instant revokedAt, String revokedBy, String revokeReason) {
        public boolean active() {
            return revokedAt == null;
        }
    }

    /** A new client and its token, to be shown once. */
    public record Created(Client client, String token) {
        @Override
        public String toString() {
            return "Created[" + client.clientId() + ", token=****]";
        }
    }

    private record Cached(Caller caller, long expiresAtNanos) {
    }

    private final DataSource ds;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    public SystemClients(DataSource ds) {
        this.ds = ds;
    }

    public Created create(String name, String scopes, String createdBy) {
        if (name == null || name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException("--name must be 1 to 200 characters");
        }
        Set<Scope> parsed = Scope.parseList(scopes);
        String normalized = String.join(" ", parsed.stream().map(SystemClients::scopeText).toList());
        String clientId = HexFormat.of().formatHex(VersionHash.sha256(Secrets.random256().getBytes(
                StandardCharsets.UTF_8)), 0, 8);
        String token = TOKEN_PREFIX + Secrets.random256();
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO system_client (client_id, name, scopes,"
                    + " token_sha256, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, clientId);
                ps.setString(2, name.strip());
                ps.setString(3, normalized);
                ps.setBytes(4, hash(token));
                ps.setTimestamp(5, Timestamp.from(now));
                ps.setString(6, createdBy);
                ps.executeUpdate();
            }
            return null;
        });
        return new Created(new Client(clientId, name.strip(), normalized, now, createdBy, null, null, null), token);
    }

    private static String scopeText(Scope s) {
        return "system/" + s.resourceType() + "." + letters(s.permissions());
    }

    private static String letters(Set<Scope.Permission> p) {
        StringBuilder sb = new StringBuilder();
        if (p.contains(Scope.Permission.CREATE)) sb.append('c');
        if (p.contains(Scope.Permission.READ)) sb.append('r');
        if (p.contains(Scope.Permission.UPDATE)) sb.append('u');
        if (p.contains(Scope.Permission.DELETE)) sb.append('d');
        if (p.contains(Scope.Permission.SEARCH)) sb.append('s');
        return sb.toString();
    }

    public List<Client> list() {
        return Tx.read(ds, c -> {
            List<Client> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT client_id, name, scopes, created_at, created_by,"
                    + " revoked_at, revoked_by, revoke_reason FROM system_client ORDER BY created_at");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Timestamp rev = rs.getTimestamp(6);
                    out.add(new Client(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getTimestamp(4).toInstant(), rs.getString(5), rev == null ? null : rev.toInstant(),
                            rs.getString(7), rs.getString(8)));
                }
            }
            return out;
        });
    }

    /** Revokes a client; returns false if no active client has that id. */
    public boolean revoke(String clientId, String reason, String by) {
        boolean done = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE system_client SET revoked_at = now(),"
                    + " revoked_by = ?, revoke_reason = ? WHERE client_id = ? AND revoked_at IS NULL")) {
                ps.setString(1, by);
                ps.setString(2, reason);
                ps.setString(3, clientId);
                return ps.executeUpdate() == 1;
            }
        });
        cache.clear();
        return done;
    }

    /** The caller a bearer token stands for, if it is a current token. */
    public Optional<Caller> authenticate(String token, String address) {
        if (token == null || !token.startsWith(TOKEN_PREFIX) || token.length() > 200) {
            return Optional.empty();
        }
        long now = System.nanoTime();
        Cached hit = cache.get(token);
        if (hit != null && hit.expiresAtNanos() - now > 0) {
            return Optional.of(withAddress(hit.caller(), address));
        }
        Optional<Caller> found = Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT client_id, name, scopes FROM system_client"
                    + " WHERE token_sha256 = ? AND revoked_at IS NULL")) {
                ps.setBytes(1, hash(token));
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<Caller>empty();
                    }
                    return Optional.of(new Caller("client:" + rs.getString(1), rs.getString(2),
                            Scope.parseList(rs.getString(3)), address));
                }
            }
        });
        if (found.isPresent()) {
            if (cache.size() > 10_000) {
                cache.clear();
            }
            cache.put(token, new Cached(found.get(), now + CACHE_TTL.toNanos()));
        } else {
            cache.remove(token);
        }
        return found;
    }

    private static Caller withAddress(Caller c, String address) {
        return address.equals(c.address()) ? c : new Caller(c.principal(), c.display(), c.scopes(), address);
    }

    private static byte[] hash(String token) {
        return VersionHash.sha256(token.getBytes(StandardCharsets.UTF_8));
    }
}
