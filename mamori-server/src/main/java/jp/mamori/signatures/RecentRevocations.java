package jp.mamori.signatures;

import eu.europa.esig.dss.model.x509.CertificateToken;
import eu.europa.esig.dss.model.x509.revocation.Revocation;
import eu.europa.esig.dss.spi.x509.revocation.RevocationSource;
import eu.europa.esig.dss.spi.x509.revocation.RevocationToken;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An online revocation source (CRL or OCSP) that answers again from the same answer for the same certificate for a
 * short while (issue 17, performance): signing checks the signer's certificate and every validation asks for the
 * signer's, the CA's and the TSA's revocation status; without this, verifying 10,000 signatures of a few doctors
 * fetched the same CRLs and OCSP answers 30,000 times.
 *
 * <p>What it may cost: a certificate revoked within the last {@link #TTL} can still be seen as good for at most that
 * long after the CRL or OCSP responder says so (a CRL is published daily or so, so this adds little to the delay that
 * already exists). An answer is kept no longer than its own nextUpdate; no answer (a responder down) is never kept, so
 * the next call asks again. At most {@link #MAX_ENTRIES} answers are held (then the expired ones are dropped, or all).
 */
final class RecentRevocations<R extends Revocation> implements RevocationSource<R> {
    static final Duration TTL = Duration.ofSeconds(60);
    static final int MAX_ENTRIES = 10_000;

    private final RevocationSource<R> online;
    private final Clock clock;
    private final Map<String, Entry<R>> recent = new ConcurrentHashMap<>();

    private record Entry<R extends Revocation>(RevocationToken<R> token, Instant until) {
    }

    RecentRevocations(RevocationSource<R> online, Clock clock) {
        this.online = online;
        this.clock = clock;
    }

    @Override
    public RevocationToken<R> getRevocationToken(CertificateToken certificate, CertificateToken issuer) {
        String key = certificate.getDSSIdAsString() + "/" + (issuer == null ? "-" : issuer.getDSSIdAsString());
        Instant now = clock.instant();
        Entry<R> e = recent.get(key);
        if (e != null && now.isBefore(e.until())) {
            return e.token();
        }
        RevocationToken<R> token = online.getRevocationToken(certificate, issuer);
        if (token == null) {
            recent.remove(key);
            return null;
        }
        Instant until = now.plus(TTL);
        if (token.getNextUpdate() != null && token.getNextUpdate().toInstant().isBefore(until)) {
            until = token.getNextUpdate().toInstant();
        }
        if (until.isAfter(now)) {
            if (recent.size() >= MAX_ENTRIES) {
                trim(now);
            }
            recent.put(key, new Entry<>(token, until));
        }
        return token;
    }

    /** Drops what has expired and, when that is not enough, everything (the next calls fetch again). */
    private synchronized void trim(Instant now) {
        recent.values().removeIf(x -> !now.isBefore(x.until()));
        if (recent.size() >= MAX_ENTRIES) {
            recent.clear();
        }
    }

    int size() {
        return recent.size();
    }
}
