package jp.mamori.signatures;

import eu.europa.esig.dss.enumerations.DigestAlgorithm;
import eu.europa.esig.dss.model.Digest;
import eu.europa.esig.dss.model.x509.CertificateToken;
import eu.europa.esig.dss.token.AbstractKeyStoreTokenConnection;
import eu.europa.esig.dss.token.DSSPrivateKeyEntry;
import eu.europa.esig.dss.token.Pkcs11SignatureToken;
import eu.europa.esig.dss.token.Pkcs12SignatureToken;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Opens a signer's key for one signing session (AUTH-7, SIGN-6: never without the holder's PIN). Two kinds are
 * built: a PKCS#12 file protected by its PIN (sites without cards) and a PKCS#11 token (HPKI cards, SoftHSM2 in the
 * tests) through DSS's Pkcs11SignatureToken; a remote signing service implements {@link SignerKey} itself.
 */
public final class SignerKeys {
    /** A PKCS#12 file larger than this is not a key file (and is not read into memory). */
    static final long MAX_PKCS12_BYTES = 256 * 1024;

    private SignerKeys() {
    }

    /**
     * The only key of a PKCS#12 file, unlocked by its PIN.
     *
     * @throws SignatureFailure NO_PIN, WRONG_PIN, KEY_FILE_UNREADABLE, KEY_NOT_FOUND
     */
    public static SignerKey pkcs12(Path file, char[] pin) {
        requirePin(pin);
        byte[] bytes;
        try {
            if (!Files.isRegularFile(file) || Files.size(file) > MAX_PKCS12_BYTES) {
                throw new SignatureFailure(SignatureFailure.Reason.KEY_FILE_UNREADABLE, String.valueOf(file.getFileName()));
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new SignatureFailure(SignatureFailure.Reason.KEY_FILE_UNREADABLE, String.valueOf(file.getFileName()), e);
        }
        KeyStore.PasswordProtection protection = new KeyStore.PasswordProtection(pin.clone());
        Pkcs12SignatureToken token;
        List<DSSPrivateKeyEntry> keys;
        try {
            token = new Pkcs12SignatureToken(bytes, protection);
            keys = token.getKeys();
        } catch (RuntimeException e) {
            wipe(protection);
            throw translate(e, SignatureFailure.Reason.KEY_FILE_UNREADABLE);
        }
        if (keys.size() != 1) {
            token.close();
            wipe(protection);
            throw new SignatureFailure(SignatureFailure.Reason.KEY_NOT_FOUND,
                    "鍵の数 / keys in the file: " + keys.size() + " (1 expected)");
        }
        return new TokenKey(token, keys.get(0), () -> wipe(protection));
    }

    /**
     * The key labelled {@code keyLabel} on the PKCS#11 token labelled {@code tokenLabel}, logged in with the PIN.
     * The token is found by its label through the PKCS#11 library's slot list (needs the JVM option
     * {@code --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED}, set in the server jar's
     * manifest and the tests).
     *
     * @throws SignatureFailure NO_PIN, WRONG_PIN, TOKEN_LOCKED, TOKEN_NOT_FOUND, KEY_NOT_FOUND, SETTINGS
     */
    public static SignerKey pkcs11(Path library, String tokenLabel, String keyLabel, char[] pin) {
        requirePin(pin);
        if (!Files.isRegularFile(library)) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS,
                    "PKCS#11 ライブラリがありません / no PKCS#11 library at " + library);
        }
        requireSystemLibrary(library);
        int index = slotListIndex(library, tokenLabel);
        char[] sessionPin = pin.clone();
        Pkcs11SignatureToken token = new Pkcs11SignatureToken(library.toString(), () -> sessionPin.clone(), -1, index,
                null);
        try {
            for (DSSPrivateKeyEntry entry : token.getKeys()) {
                if (entry instanceof eu.europa.esig.dss.token.KSPrivateKeyEntry ks && keyLabel.equals(ks.getAlias())) {
                    return new TokenKey(token, entry, () -> Arrays.fill(sessionPin, '\0'));
                }
            }
        } catch (RuntimeException e) {
            token.close();
            Arrays.fill(sessionPin, '\0');
            throw translate(e, SignatureFailure.Reason.TOKEN_NOT_FOUND);
        }
        token.close();
        Arrays.fill(sessionPin, '\0');
        throw new SignatureFailure(SignatureFailure.Reason.KEY_NOT_FOUND, "鍵ラベル / key label " + keyLabel);
    }

    /** Where a PKCS#11 library may be loaded from: the system's library folders, which only root can write. */
    static final List<Path> LIBRARY_ROOTS = List.of(Path.of("/usr/lib"), Path.of("/usr/lib64"),
            Path.of("/usr/local/lib"), Path.of("/lib"), Path.of("/lib64"), Path.of("/opt"));

    /**
     * A PKCS#11 library is native code run inside the server: it is loaded only from a system library folder
     * ({@link #LIBRARY_ROOTS}, after resolving links), owned by root and writable by nobody else, with every folder
     * above it the same. So a library path written into the database (a registered key's locator) by someone who can
     * change the database, but not the server's system folders, cannot make the server run their code.
     *
     * @throws SignatureFailure SETTINGS naming the library and why
     */
    static void requireSystemLibrary(Path library) {
        Path real;
        try {
            real = library.toRealPath();
        } catch (java.io.IOException e) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "PKCS#11 ライブラリを読めません / cannot"
                    + " read the PKCS#11 library " + library);
        }
        if (LIBRARY_ROOTS.stream().noneMatch(real::startsWith)) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "PKCS#11 ライブラリはシステムのフォルダ"
                    + " (/usr/lib, /usr/local/lib, /opt など) に置いてください / a PKCS#11 library is loaded only from"
                    + " a system folder (/usr/lib, /usr/local/lib, /opt, ...): " + real);
        }
        for (Path p = real; p != null && p.getNameCount() > 0; p = p.getParent()) {
            try {
                java.nio.file.attribute.PosixFileAttributes a = Files.readAttributes(p,
                        java.nio.file.attribute.PosixFileAttributes.class);
                java.util.Set<java.nio.file.attribute.PosixFilePermission> perms = a.permissions();
                if (!a.owner().getName().equals("root")
                        || perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_WRITE)
                        || perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE)) {
                    throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "PKCS#11 ライブラリまたはその"
                            + "フォルダを root 以外も書き換えられます / the PKCS#11 library or a folder above it can be"
                            + " changed by someone other than root: " + p);
                }
            } catch (java.io.IOException | UnsupportedOperationException e) {
                throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "PKCS#11 ライブラリの権限を確認できません"
                        + " / cannot check who may change the PKCS#11 library: " + p);
            }
        }
    }

    private static void requirePin(char[] pin) {
        if (pin == null || pin.length == 0) {
            throw new SignatureFailure(SignatureFailure.Reason.NO_PIN);
        }
    }

    private static void wipe(KeyStore.PasswordProtection protection) {
        try {
            protection.destroy();
        } catch (javax.security.auth.DestroyFailedException ignored) {
            // the password array is still cleared by destroy() before this is thrown
        }
    }

    /** Finds what the token's own words (PKCS#11 return codes, keystore errors) say went wrong. */
    static SignatureFailure translate(Throwable e, SignatureFailure.Reason otherwise) {
        if (e instanceof SignatureFailure f) {
            return f;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toUpperCase(Locale.ROOT);
            if (m.contains("CKR_PIN_LOCKED")) {
                return new SignatureFailure(SignatureFailure.Reason.TOKEN_LOCKED, null, e);
            }
            if (m.contains("CKR_PIN_INCORRECT") || m.contains("CKR_PIN_LEN_RANGE") || m.contains("BAD PASSWORD")
                    || m.contains("PASSWORD WAS INCORRECT") || t instanceof java.security.UnrecoverableKeyException) {
                return new SignatureFailure(SignatureFailure.Reason.WRONG_PIN, null, e);
            }
            if (m.contains("CKR_TOKEN_NOT_PRESENT") || m.contains("CKR_SLOT_ID_INVALID")
                    || m.contains("CKR_DEVICE_REMOVED")) {
                return new SignatureFailure(SignatureFailure.Reason.TOKEN_NOT_FOUND, null, e);
            }
        }
        return new SignatureFailure(otherwise, null, e);
    }

    /** The index in the library's slot list of the slot whose token carries this label. */
    static int slotListIndex(Path library, String tokenLabel) {
        try {
            Class<?> pkcs11 = Class.forName("sun.security.pkcs11.wrapper.PKCS11");
            Class<?> initArgsClass = Class.forName("sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS");
            Constructor<?> initArgsNew = initArgsClass.getConstructor();
            Object initArgs = initArgsNew.newInstance();
            initArgsClass.getField("flags").setLong(initArgs, 2L); // CKF_OS_LOCKING_OK, as SunPKCS11 itself
            Method getInstance = pkcs11.getMethod("getInstance", String.class, String.class, initArgsClass,
                    boolean.class);
            Object p11 = getInstance.invoke(null, library.toString(), "C_GetFunctionList", initArgs, false);
            long[] slots = (long[]) pkcs11.getMethod("C_GetSlotList", boolean.class).invoke(p11, false);
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < slots.length; i++) {
                Object info;
                try {
                    info = pkcs11.getMethod("C_GetTokenInfo", long.class).invoke(p11, slots[i]);
                } catch (java.lang.reflect.InvocationTargetException noToken) {
                    continue; // an empty reader
                }
                String label = new String((char[]) info.getClass().getField("label").get(info)).strip();
                seen.add(label);
                if (label.equals(tokenLabel)) {
                    return i;
                }
            }
            throw new SignatureFailure(SignatureFailure.Reason.TOKEN_NOT_FOUND,
                    "トークンラベル / token label " + tokenLabel);
        } catch (SignatureFailure f) {
            throw f;
        } catch (IllegalAccessException | ClassNotFoundException | NoSuchMethodException | NoSuchFieldException
                 | InstantiationException e) {
            throw new SignatureFailure(SignatureFailure.Reason.SETTINGS, "Java の起動オプション --add-exports "
                    + "jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED が必要です / the JVM needs that option "
                    + "to find a token by its label", e);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw translate(e.getCause(), SignatureFailure.Reason.TOKEN_NOT_FOUND);
        }
    }

    /** A key on a DSS token (PKCS#12 or PKCS#11), signing through the token. */
    private static final class TokenKey implements SignerKey {
        private final AbstractKeyStoreTokenConnection token;
        private final DSSPrivateKeyEntry entry;
        private final Runnable forget;
        private final X509Certificate certificate;
        private final List<X509Certificate> chain;
        private volatile boolean closed;

        TokenKey(AbstractKeyStoreTokenConnection token, DSSPrivateKeyEntry entry, Runnable forget) {
            this.token = token;
            this.entry = entry;
            this.forget = forget;
            if (entry.getCertificate() == null) {
                token.close();
                forget.run();
                throw new SignatureFailure(SignatureFailure.Reason.KEY_NOT_FOUND, "証明書 / certificate");
            }
            this.certificate = entry.getCertificate().getCertificate();
            List<X509Certificate> c = new ArrayList<>();
            CertificateToken[] tokens = entry.getCertificateChain();
            if (tokens != null) {
                for (CertificateToken t : tokens) {
                    c.add(t.getCertificate());
                }
            }
            if (c.isEmpty() || !c.get(0).equals(certificate)) {
                c.add(0, certificate);
            }
            this.chain = List.copyOf(c);
        }

        @Override
        public X509Certificate certificate() {
            return certificate;
        }

        @Override
        public List<X509Certificate> chain() {
            return chain;
        }

        @Override
        public byte[] signDigest(DigestAlgorithm digestAlgorithm, byte[] digest) {
            if (closed) {
                throw new SignatureFailure(SignatureFailure.Reason.FAILED, "鍵は閉じられています / the key is closed");
            }
            try {
                return token.signDigest(new Digest(digestAlgorithm, digest), entry).getValue();
            } catch (RuntimeException e) {
                throw translate(e, SignatureFailure.Reason.FAILED);
            }
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                token.close();
            } catch (RuntimeException ignored) {
                // a token already gone is closed enough
            } finally {
                forget.run();
            }
        }
    }
}
