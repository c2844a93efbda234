package jp.mamori.signatures;

import jp.mamori.db.Tx;
import jp.mamori.kernel.FhirError;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * What the console needs to let a person sign (issue 17; SIGN-6, AUTH-7): whether they have a key, and running a
 * write with their key opened by their PIN ({@link #signingAs}). Wrong PINs are limited per person: after
 * {@link #MAX_WRONG_PINS} within {@link #WINDOW} signing is refused for that window, so a software key's PIN cannot be
 * guessed through the console (a card or token also counts and locks by itself).
 */
public final class PersonSigning {
    static final int MAX_WRONG_PINS = 5;
    static final Duration WINDOW = Duration.ofMinutes(15);
    private static final int MAX_PIN_CHARS = 64;

    private final DataSource ds;
    private final DocumentSigning signing;
    private final Clock clock;
    private final Map<UUID, Deque<Instant>> wrongPins = new ConcurrentHashMap<>();

    public PersonSigning(DataSource ds, DocumentSigning signing, Clock clock) {
        this.ds = ds;
        this.signing = signing;
        this.clock = clock;
    }

    /** The person's registered key, if any: the console then asks for the PIN at 確定保存. */
    public Optional<SigningKeyRegistry.Registered> key(UUID account) {
        return Tx.read(ds, c -> SigningKeyRegistry.active(c, account));
    }

    /** The signatures of a document's versions, oldest first. */
    public List<SignatureStore.Row> signatures(String type, String id) {
        return Tx.read(ds, c -> SignatureStore.ofResource(c, type, id));
    }

    /** The stored ETSI validation report of a signed version, when it has been validated. */
    public Optional<String> report(String type, String id, int version) {
        return Tx.read(ds, c -> {
            Optional<SignatureStore.Row> row = SignatureStore.of(c, type, id, version);
            return row.isEmpty() ? Optional.<String>empty() : SignatureStore.report(c, row.get().id())
                    .filter(x -> !x.isEmpty());
        });
    }

    /**
     * Runs {@code work} (a write that finalizes, amends or marks entered-in-error) with the person's key opened with
     * {@code pin}, so that what it locks is signed in its transaction; the key is closed after. A person without a
     * key runs it as it is (the store decides whether that is allowed).
     *
     * @throws FhirError 422 with the reason a person reads (no PIN, wrong PIN, locked, certificate expired, revoked,
     *                   another person's) — nothing is written then
     */
    public <T> T signingAs(UUID account, String pin, Supplier<T> work) {
        Optional<SigningKeyRegistry.Registered> key = key(account);
        if (key.isEmpty()) {
            return work.get();
        }
        if (!signing.available()) {
            throw FhirError.unprocessable(SignatureFailure.Reason.SETTINGS.message() + ": 信頼する認証局が未設定です"
                    + " / no trusted roots are configured");
        }
        if (pin == null || pin.isEmpty()) {
            throw FhirError.unprocessable(SignatureFailure.Reason.NO_PIN.message());
        }
        if (pin.length() > MAX_PIN_CHARS) {
            throw FhirError.unprocessable(SignatureFailure.Reason.WRONG_PIN.message());
        }
        Instant now = clock.instant();
        Deque<Instant> wrong = wrongPins.computeIfAbsent(account, a -> new ArrayDeque<>());
        synchronized (wrong) {
            while (!wrong.isEmpty() && wrong.peekFirst().isBefore(now.minus(WINDOW))) {
                wrong.pollFirst();
            }
            if (wrong.size() >= MAX_WRONG_PINS) {
                throw FhirError.unprocessable("PIN の誤りが続いたため、署名を " + WINDOW.toMinutes() + " 分間停止しています"
                        + " / signing is paused for " + WINDOW.toMinutes() + " minutes after repeated wrong PINs");
            }
        }
        char[] chars = pin.toCharArray();
        SignerKey k;
        try {
            k = key.get().open(chars);
        } catch (SignatureFailure f) {
            if (f.reason() == SignatureFailure.Reason.WRONG_PIN) {
                synchronized (wrong) {
                    wrong.addLast(now);
                }
            }
            throw FhirError.unprocessable(f.getMessage());
        } finally {
            java.util.Arrays.fill(chars, '\0');
        }
        try (SignerKey open = k) {
            return DocumentSigning.within(new DocumentSigning.Signer(account, key.get(), open), work);
        }
    }
}
