package jp.mamori.identity;

import com.yubico.webauthn.CredentialRepository;
import com.yubico.webauthn.RegisteredCredential;
import com.yubico.webauthn.RegistrationResult;
import com.yubico.webauthn.data.AuthenticatorTransport;
import com.yubico.webauthn.data.ByteArray;
import com.yubico.webauthn.data.PublicKeyCredentialDescriptor;
import com.yubico.webauthn.data.exception.Base64UrlException;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The passkey tables: user handles ({@code webauthn_user_handle}), credentials ({@code webauthn_credential}) and
 * started ceremonies ({@code webauthn_request}). Also the credential store as java-webauthn-server sees it (its
 * {@link CredentialRepository}), and the account holder's own view of their credentials (list, remove).
 */
final class PasskeyStore implements CredentialRepository {
    /** Logs under {@link Passkeys}, as all of the passkey classes do. */
    private static final Logger log = LoggerFactory.getLogger(Passkeys.class);

    /** The kinds of ceremony in {@code webauthn_request}: a ceremony finishes only as the kind it was started. */
    static final String REGISTRATION = "registration";
    static final String ASSERTION = "assertion";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A started ceremony as stored: the account it was started for (null for a login without one) and its JSON. */
    record Pending(UUID accountId, String json) {
    }

    /** A credential as stored, removed or not. */
    record Stored(UUID accountId, ByteArray userHandle, long signatureCount, boolean removed) {
    }

    private final DataSource ds;
    /** What waits for the database while it is read-only (degraded mode, issue 18 §2); nothing by default. */
    Deferred deferred = new Deferred();

    /** A ceremony started while the database is read-only: kept here for its short life (single use). */
    private record HeldCeremony(UUID accountId, String kind, String json, java.time.Instant expiresAt) {
    }

    private final java.util.concurrent.ConcurrentHashMap<String, HeldCeremony> heldCeremonies =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Ceremonies of the database consumed while it is read-only, and signature counters seen meanwhile. */
    private final java.util.Set<String> heldTaken = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.ConcurrentHashMap<ByteArray, Long> heldCounts =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Forgets the counters and consumed ids held in memory (written to the database now). */
    void heldWritten() {
        heldTaken.clear();
        heldCounts.clear();
    }

    PasskeyStore(DataSource ds) {
        this.ds = Objects.requireNonNull(ds, "ds");
    }

    // ---------------------------------------------------------------- user handles

    static ByteArray randomHandle() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return new ByteArray(b);
    }

    /** The account's user handle, made on first use. */
    ByteArray userHandleFor(UUID accountId) {
        byte[] fresh = randomHandle().getBytes();
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM account WHERE account_id = ?")) {
                ps.setObject(1, accountId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IdentityException(Passkeys.MSG_NO_ACCOUNT);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO webauthn_user_handle (account_id, user_handle)"
                    + " VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING")) {
                ps.setObject(1, accountId);
                ps.setBytes(2, fresh);
                ps.executeUpdate();
            }
            return handleOf(c, accountId).orElseThrow();
        });
    }

    Optional<ByteArray> existingUserHandle(UUID accountId) {
        return Tx.read(ds, c -> handleOf(c, accountId));
    }

    private static Optional<ByteArray> handleOf(Connection c, UUID accountId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT user_handle FROM webauthn_user_handle"
                + " WHERE account_id = ?")) {
            ps.setObject(1, accountId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new ByteArray(rs.getBytes(1))) : Optional.empty();
            }
        }
    }

    // ---------------------------------------------------------------- credentials

    Set<PublicKeyCredentialDescriptor> activeDescriptors(UUID accountId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT credential_id, transports FROM webauthn_credential"
                    + " WHERE account_id = ? AND removed_at IS NULL")) {
                ps.setObject(1, accountId);
                return descriptors(ps);
            }
        });
    }

    private static Set<PublicKeyCredentialDescriptor> descriptors(PreparedStatement ps) throws SQLException {
        Set<PublicKeyCredentialDescriptor> out = new LinkedHashSet<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                PublicKeyCredentialDescriptor.PublicKeyCredentialDescriptorBuilder d =
                        PublicKeyCredentialDescriptor.builder().id(new ByteArray(rs.getBytes(1)));
                String transports = rs.getString(2);
                if (transports != null && !transports.isEmpty()) {
                    SortedSet<AuthenticatorTransport> ts = new TreeSet<>();
                    Arrays.stream(transports.split(",")).map(AuthenticatorTransport::of).forEach(ts::add);
                    d.transports(ts);
                }
                out.add(d.build());
            }
        }
        return out;
    }

    Optional<Stored> find(ByteArray credentialId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT account_id, user_handle, signature_count,"
                    + " removed_at IS NOT NULL FROM webauthn_credential WHERE credential_id = ?")) {
                ps.setBytes(1, credentialId.getBytes());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Stored(rs.getObject(1, UUID.class),
                            new ByteArray(rs.getBytes(2)), rs.getLong(3), rs.getBoolean(4))) : Optional.empty();
                }
            }
        });
    }

    /**
     * Stores a newly registered credential.
     *
     * @throws jp.mamori.db.DataAccessException with SQL state 23505 if the credential id is already stored
     */
    void insert(UUID accountId, ByteArray userHandle, RegistrationResult result, String transports, String nickname) {
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO webauthn_credential (credential_id,"
                    + " account_id, user_handle, public_key_cose, signature_count, aaguid, transports, nickname,"
                    + " backup_eligible, backed_up, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())")) {
                ps.setBytes(1, result.getKeyId().getId().getBytes());
                ps.setObject(2, accountId);
                ps.setBytes(3, userHandle.getBytes());
                ps.setBytes(4, result.getPublicKeyCose().getBytes());
                ps.setLong(5, result.getSignatureCount());
                ps.setBytes(6, result.getAaguid().getBytes());
                ps.setString(7, transports);
                ps.setString(8, nickname);
                ps.setBoolean(9, result.isBackupEligible());
                ps.setBoolean(10, result.isBackedUp());
                ps.executeUpdate();
            }
            return null;
        });
    }

    /**
     * Records a login with the credential: its new signature counter, last use and backup state. A
     * compare-and-set: of two logins racing with the same counter value, only one wins. Returns false if the
     * counter did not move forward (unless both are 0) or the credential is not the owner's or is removed.
     */
    boolean recordUse(ByteArray credentialId, UUID owner, long count, boolean backedUp) {
        if (deferred.active()) {
            synchronized (heldCounts) {
                Optional<Stored> st = find(credentialId);
                if (st.isEmpty() || st.get().removed() || !st.get().accountId().equals(owner)) {
                    return false;
                }
                long last = Math.max(st.get().signatureCount(), heldCounts.getOrDefault(credentialId, 0L));
                if (!(last < count || (last == 0 && count == 0))) {
                    return false;
                }
                heldCounts.put(credentialId, count);
            }
            deferred.later("passkey use by account " + owner, c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE webauthn_credential SET signature_count ="
                        + " greatest(signature_count, ?), last_used_at = now(), backed_up = ? WHERE credential_id = ?")) {
                    ps.setLong(1, count);
                    ps.setBoolean(2, backedUp);
                    ps.setBytes(3, credentialId.getBytes());
                    ps.executeUpdate();
                }
            });
            return true;
        }
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE webauthn_credential SET signature_count = ?,"
                    + " last_used_at = now(), backed_up = ? WHERE credential_id = ? AND account_id = ?"
                    + " AND removed_at IS NULL AND (signature_count < ? OR (signature_count = 0 AND ? = 0))")) {
                ps.setLong(1, count);
                ps.setBoolean(2, backedUp);
                ps.setBytes(3, credentialId.getBytes());
                ps.setObject(4, owner);
                ps.setLong(5, count);
                ps.setLong(6, count);
                return ps.executeUpdate() == 1;
            }
        });
    }

    // ---------------------------------------------------------------- ceremonies

    /** Stores a started ceremony and returns its id; purges ceremonies that expired over an hour ago. */
    String save(UUID accountId, String kind, String requestJson) {
        String requestId = Secrets.random256();
        if (deferred.active()) {
            java.time.Instant now = java.time.Instant.now();
            heldCeremonies.values().removeIf(h -> h.expiresAt().isBefore(now));
            if (heldCeremonies.size() >= 10_000) {
                // a flood of opened login pages: memory stays bounded, the oldest ceremony goes first
                heldCeremonies.entrySet().stream().min(java.util.Map.Entry.comparingByValue(
                        java.util.Comparator.comparing(HeldCeremony::expiresAt)))
                        .ifPresent(e -> heldCeremonies.remove(e.getKey()));
            }
            heldCeremonies.put(requestId, new HeldCeremony(accountId, kind, requestJson, now.plus(Passkeys.REQUEST_TTL)));
            return requestId;
        }
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM webauthn_request"
                    + " WHERE expires_at < now() - interval '1 hour'")) {
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO webauthn_request (request_id, account_id,"
                    + " kind, request_json, created_at, expires_at) VALUES (?, ?, ?, ?, now(), now() + ?::interval)")) {
                ps.setString(1, requestId);
                ps.setObject(2, accountId);
                ps.setString(3, kind);
                ps.setString(4, requestJson);
                ps.setString(5, Passkeys.REQUEST_TTL.toSeconds() + " seconds");
                ps.executeUpdate();
            }
            return null;
        });
        return requestId;
    }

    /** Consumes a pending, unexpired ceremony of the given kind, or refuses. The consumption commits at once. */
    Pending take(String requestId, String kind) {
        if (requestId == null || requestId.isEmpty() || requestId.length() > 100) {
            throw new IdentityException(Passkeys.MSG_EXPIRED);
        }
        HeldCeremony held = heldCeremonies.remove(requestId);
        if (held != null) {
            if (!held.kind().equals(kind) || held.expiresAt().isBefore(java.time.Instant.now())) {
                throw new IdentityException(Passkeys.MSG_EXPIRED);
            }
            return new Pending(held.accountId(), held.json());
        }
        if (deferred.active()) {
            Optional<Pending> p = Tx.read(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT account_id, request_json FROM webauthn_request"
                        + " WHERE request_id = ? AND kind = ? AND used_at IS NULL AND expires_at > now()")) {
                    ps.setString(1, requestId);
                    ps.setString(2, kind);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? Optional.of(new Pending(rs.getObject(1, UUID.class), rs.getString(2)))
                                : Optional.<Pending>empty();
                    }
                }
            });
            if (p.isEmpty() || !heldTaken.add(requestId)) {
                throw new IdentityException(Passkeys.MSG_EXPIRED);
            }
            deferred.later("passkey ceremony used", c -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE webauthn_request SET used_at = now()"
                        + " WHERE request_id = ? AND used_at IS NULL")) {
                    ps.setString(1, requestId);
                    ps.executeUpdate();
                }
            });
            return p.get();
        }
        Optional<Pending> p = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE webauthn_request SET used_at = now()"
                    + " WHERE request_id = ? AND kind = ? AND used_at IS NULL AND expires_at > now()"
                    + " RETURNING account_id, request_json")) {
                ps.setString(1, requestId);
                ps.setString(2, kind);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Pending(rs.getObject(1, UUID.class), rs.getString(2)))
                            : Optional.<Pending>empty();
                }
            }
        });
        return p.orElseThrow(() -> {
            log.info("passkey {} refused: request {} unknown, used or expired", kind, Passkeys.shortId(requestId));
            return new IdentityException(Passkeys.MSG_EXPIRED);
        });
    }

    // ---------------------------------------------------------------- the account holder's view

    /** See {@link Passkeys#list}. */
    List<Passkeys.PasskeyInfo> list(UUID accountId) {
        Objects.requireNonNull(accountId, "accountId");
        return Tx.read(ds, c -> {
            List<Passkeys.PasskeyInfo> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT credential_id, nickname, created_at, last_used_at,"
                    + " coalesce(backed_up, false) FROM webauthn_credential WHERE account_id = ? AND removed_at IS NULL"
                    + " ORDER BY created_at, credential_id")) {
                ps.setObject(1, accountId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        OffsetDateTime used = rs.getObject(4, OffsetDateTime.class);
                        out.add(new Passkeys.PasskeyInfo(new ByteArray(rs.getBytes(1)).getBase64Url(),
                                rs.getString(2), rs.getObject(3, OffsetDateTime.class).toInstant(),
                                used == null ? null : used.toInstant(), rs.getBoolean(5)));
                    }
                }
            }
            return out;
        });
    }

    /** See {@link Passkeys#remove}. */
    boolean remove(UUID accountId, String credentialId, String by) {
        Objects.requireNonNull(accountId, "accountId");
        if (by == null || by.isBlank()) {
            throw new IllegalArgumentException("by is required");
        }
        ByteArray id;
        try {
            id = credentialId == null || credentialId.length() > 2000 ? null : ByteArray.fromBase64Url(credentialId);
        } catch (Base64UrlException | IllegalArgumentException e) {
            id = null;
        }
        if (id == null || id.isEmpty()) {
            return false;
        }
        byte[] bytes = id.getBytes();
        boolean done = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE webauthn_credential SET removed_at = now(),"
                    + " removed_by = ? WHERE credential_id = ? AND account_id = ? AND removed_at IS NULL")) {
                ps.setString(1, by);
                ps.setBytes(2, bytes);
                ps.setObject(3, accountId);
                return ps.executeUpdate() == 1;
            }
        });
        if (done) {
            log.info("passkey removed from account {} by {}", accountId, by);
        }
        return done;
    }

    /** See {@link Passkeys#hasAny}. */
    boolean hasAny(UUID accountId) {
        Objects.requireNonNull(accountId, "accountId");
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM webauthn_credential"
                    + " WHERE account_id = ? AND removed_at IS NULL)")) {
                ps.setObject(1, accountId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    // ---------------------------------------------------------------- Yubico's view of the tables
    //
    // The credential store as java-webauthn-server sees it. Its "username" is the account's login id. No method
    // returns null. Removed credentials are not offered or accepted, but lookupAll still finds them, so that a
    // removed credential id cannot be registered again.

    @Override
    public Set<PublicKeyCredentialDescriptor> getCredentialIdsForUsername(String username) {
        if (username == null) {
            return Set.of();
        }
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT w.credential_id, w.transports"
                    + " FROM webauthn_credential w JOIN account a ON a.account_id = w.account_id"
                    + " WHERE a.login_id = ? AND w.removed_at IS NULL")) {
                ps.setString(1, username);
                return descriptors(ps);
            }
        });
    }

    @Override
    public Optional<ByteArray> getUserHandleForUsername(String username) {
        if (username == null) {
            return Optional.empty();
        }
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT h.user_handle FROM webauthn_user_handle h"
                    + " JOIN account a ON a.account_id = h.account_id WHERE a.login_id = ?")) {
                ps.setString(1, username);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new ByteArray(rs.getBytes(1))) : Optional.<ByteArray>empty();
                }
            }
        });
    }

    @Override
    public Optional<String> getUsernameForUserHandle(ByteArray userHandle) {
        if (userHandle == null) {
            return Optional.empty();
        }
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT a.login_id FROM webauthn_user_handle h"
                    + " JOIN account a ON a.account_id = h.account_id WHERE h.user_handle = ?")) {
                ps.setBytes(1, userHandle.getBytes());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                }
            }
        });
    }

    @Override
    public Optional<RegisteredCredential> lookup(ByteArray credentialId, ByteArray userHandle) {
        if (credentialId == null || userHandle == null) {
            return Optional.empty();
        }
        List<RegisteredCredential> found = credentials(credentialId, userHandle);
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    @Override
    public Set<RegisteredCredential> lookupAll(ByteArray credentialId) {
        if (credentialId == null) {
            return Set.of();
        }
        return new LinkedHashSet<>(credentials(credentialId, null));
    }

    /** With a user handle: that user's credential if not removed. Without: any, removed or not. */
    private List<RegisteredCredential> credentials(ByteArray credentialId, ByteArray userHandle) {
        return Tx.read(ds, c -> {
            String sql = "SELECT credential_id, user_handle, public_key_cose, signature_count, backup_eligible,"
                    + " backed_up FROM webauthn_credential WHERE credential_id = ?"
                    + (userHandle == null ? "" : " AND user_handle = ? AND removed_at IS NULL");
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setBytes(1, credentialId.getBytes());
                if (userHandle != null) {
                    ps.setBytes(2, userHandle.getBytes());
                }
                List<RegisteredCredential> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(RegisteredCredential.builder()
                                .credentialId(new ByteArray(rs.getBytes(1)))
                                .userHandle(new ByteArray(rs.getBytes(2)))
                                .publicKeyCose(new ByteArray(rs.getBytes(3)))
                                .signatureCount(rs.getLong(4))
                                .backupEligible((Boolean) rs.getObject(5))
                                .backupState((Boolean) rs.getObject(6))
                                .build());
                    }
                }
                return out;
            }
        });
    }
}
