package jp.mamori.signatures;

import jp.mamori.config.ServerConfig;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Signatures as the server's configuration sets them up (issue 17; ADR 0012): the trusted roots from the trust folder
 * ({@code --signature-trust-dir}: PEM or DER certificates, the HPKI root CAs and the institution's own CA), the TSAs,
 * revocation; the institution seal's PIN from the environment or the data folder's secrets. Files are read with
 * bounds: at most {@link #MAX_FILES} files of at most {@link #MAX_FILE_BYTES} each.
 */
public final class SignatureSetup {
    static final int MAX_FILES = 200;
    static final int MAX_FILE_BYTES = 1024 * 1024;

    private SignatureSetup() {
    }

    /**
     * The settings, or empty when the trust folder holds no certificate (then nothing can be signed or validated:
     * a deviation the caller reports).
     *
     * @throws SignatureFailure SETTINGS when a file in the trust folder is not a certificate, or too many or too large
     */
    public static Optional<SignatureSettings> settings(ServerConfig.SignatureOptions o) {
        List<X509Certificate> roots = trustedRoots(o.trustDir());
        if (roots.isEmpty()) {
            return Optional.empty();
        }
        List<URI> tsas = new ArrayList<>();
        for (String u : o.tsaUrls()) {
            tsas.add(URI.create(u));
        }
        return Optional.of(SignatureSettings.of(roots, tsas).withOnlineRevocation(o.onlineRevocation()));
    }

    /** The certificates in {@code dir} (none when it does not exist), each file PEM (one or more) or DER. */
    public static List<X509Certificate> trustedRoots(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile).sorted().limit(MAX_FILES + 1L).toList();
        } catch (IOException e) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "信頼する認証局のフォルダを読めません / cannot"
                    + " read the trust folder " + dir + ": " + e.getMessage());
        }
        if (files.size() > MAX_FILES) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "信頼する認証局のファイルが多すぎます / more"
                    + " than " + MAX_FILES + " files in the trust folder " + dir);
        }
        List<X509Certificate> out = new ArrayList<>();
        for (Path f : files) {
            out.addAll(certificates(f));
        }
        return out;
    }

    /** The certificates in one PEM or DER file. */
    public static List<X509Certificate> certificates(Path file) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "証明書ファイルが大きすぎます / the"
                        + " certificate file is larger than 1 MiB: " + file.getFileName());
            }
            byte[] bytes = Files.readAllBytes(file);
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            Collection<? extends java.security.cert.Certificate> certs;
            try (InputStream in = new ByteArrayInputStream(bytes)) {
                certs = cf.generateCertificates(in);
            }
            List<X509Certificate> out = new ArrayList<>();
            for (java.security.cert.Certificate c : certs) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new CertificateException("no certificate");
            }
            return out;
        } catch (IOException | CertificateException | ClassCastException e) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "証明書として読めません / not a certificate"
                    + " (PEM or DER): " + file.getFileName());
        }
    }

    /**
     * The institution seal's PIN: {@code MAMORI_SEAL_PIN}, else the first line of {@code <data>/secrets/seal-pin};
     * empty when neither is there.
     */
    public static Optional<char[]> sealPin(Path dataDir, Map<String, String> env) {
        String v = env.get("MAMORI_SEAL_PIN");
        if (v != null && !v.isEmpty()) {
            return Optional.of(v.toCharArray());
        }
        Path f = dataDir.resolve("secrets").resolve("seal-pin");
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            if (Files.size(f) > 4096) {
                throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "seal-pin が大きすぎます / the seal-pin"
                        + " file is larger than 4 KiB");
            }
            String line = Files.readString(f, StandardCharsets.UTF_8).lines().findFirst().orElse("").strip();
            return line.isEmpty() ? Optional.empty() : Optional.of(line.toCharArray());
        } catch (IOException e) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "seal-pin を読めません / cannot read the"
                    + " seal-pin file: " + e.getMessage());
        }
    }

    /**
     * Opens the institution seal's key as configured, with its PIN; empty when no seal is configured.
     *
     * @throws SignatureFailure NO_PIN, WRONG_PIN, KEY_NOT_FOUND, ... as {@link SignerKeys} says
     */
    public static Optional<SignerKey> openSeal(ServerConfig.SignatureOptions o, Path dataDir, Map<String, String> env) {
        if (!o.seal()) {
            return Optional.empty();
        }
        char[] pin = sealPin(dataDir, env).orElse(null);
        if (o.sealPkcs12().isPresent()) {
            return Optional.of(SignerKeys.pkcs12(o.sealPkcs12().get(), pin));
        }
        List<String> p = o.sealPkcs11().orElseThrow();
        return Optional.of(SignerKeys.pkcs11(Path.of(p.get(0)), p.get(1), p.get(2), pin));
    }
}
