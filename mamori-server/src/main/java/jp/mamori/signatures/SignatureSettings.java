package jp.mamori.signatures;

import eu.europa.esig.dss.enumerations.DigestAlgorithm;

import java.net.URI;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Trust and time as configuration (issue 17): the roots a signer's and a TSA's certificate must chain to (HPKI root
 * CAs, the institution's own CA), the RFC 3161 time-stamping authorities tried in order (SIGN-3: accredited ones in
 * production), whether revocation (CRL and OCSP) is fetched online, the digest, and the bounds of every network
 * call. Secure by default: revocation fetched, SHA-256, 10 s and 4 MiB per answer.
 *
 * @param trustedRoots      trust anchors for signers and TSAs; at least one
 * @param tsaUrls           http(s) URLs of TSAs, tried in order; none means every signature stays time-stamp pending
 * @param onlineRevocation  fetch CRLs and OCSP answers named in certificates (switching it off is a deviation:
 *                          only what a signature already embeds is used)
 * @param digest            SHA-256, SHA-384 or SHA-512
 * @param networkTimeout    the most one network call (connect and whole answer) may take
 * @param maxResponseBytes  the largest answer read from a TSA, OCSP responder or CRL server
 */
public record SignatureSettings(List<X509Certificate> trustedRoots, List<URI> tsaUrls, boolean onlineRevocation,
                                DigestAlgorithm digest, Duration networkTimeout, int maxResponseBytes) {
    static final Set<DigestAlgorithm> ALLOWED_DIGESTS = Set.of(DigestAlgorithm.SHA256, DigestAlgorithm.SHA384,
            DigestAlgorithm.SHA512);

    public SignatureSettings {
        trustedRoots = List.copyOf(trustedRoots);
        tsaUrls = List.copyOf(tsaUrls);
        if (trustedRoots.isEmpty()) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "信頼する認証局がありません / no trusted root");
        }
        for (URI u : tsaUrls) {
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null) {
                throw new SignatureFailure(SignatureFailure.Reason.SETTINGS,
                        "タイムスタンプ局の URL は http(s) です / a TSA URL must be http(s): " + u);
            }
        }
        if (digest == null || !ALLOWED_DIGESTS.contains(digest)) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS,
                    "ダイジェストは SHA-256/384/512 です / the digest must be SHA-256, SHA-384 or SHA-512: " + digest);
        }
        if (networkTimeout == null || networkTimeout.isNegative() || networkTimeout.isZero()
                || networkTimeout.compareTo(Duration.ofMinutes(2)) > 0) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS,
                    "通信の時間制限は 2 分以内です / the network timeout must be above 0 and at most 2 minutes");
        }
        if (maxResponseBytes < 1024 || maxResponseBytes > 64 * 1024 * 1024) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS,
                    "応答の上限は 1 KiB〜64 MiB です / the answer limit must be 1 KiB to 64 MiB");
        }
    }

    /** The defaults: revocation online, SHA-256, 10 s per call, 4 MiB per answer. */
    public static SignatureSettings of(List<X509Certificate> trustedRoots, List<URI> tsaUrls) {
        return new SignatureSettings(trustedRoots, tsaUrls, true, DigestAlgorithm.SHA256, Duration.ofSeconds(10),
                4 * 1024 * 1024);
    }

    public SignatureSettings withOnlineRevocation(boolean online) {
        return new SignatureSettings(trustedRoots, tsaUrls, online, digest, networkTimeout, maxResponseBytes);
    }

    public SignatureSettings withTsaUrls(List<URI> urls) {
        return new SignatureSettings(trustedRoots, urls, onlineRevocation, digest, networkTimeout, maxResponseBytes);
    }

    public SignatureSettings withNetworkTimeout(Duration timeout) {
        return new SignatureSettings(trustedRoots, tsaUrls, onlineRevocation, digest, timeout, maxResponseBytes);
    }
}
