package jp.mamori.signatures;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A PKCS#11 library is native code the server runs: a path to one written into the database (a registered key's
 * locator) by someone who can change the database is loaded only when it lies in a system folder only root can
 * change, never from a folder such a person could write.
 */
class Pkcs11LibraryTest {
    @Test
    void aLibraryOutsideTheSystemFoldersIsNotLoaded() throws Exception {
        Path planted = Files.write(Files.createDirectories(TestData.newFolder("lib-")).resolve("libevil.so"),
                new byte[]{0x7f, 'E', 'L', 'F'});
        SignatureFailure f = assertThrows(SignatureFailure.class,
                () -> SignerKeys.pkcs11(planted, "token", "key", "1234".toCharArray()));
        assertEquals(SignatureFailure.Reason.SETTINGS, f.reason());
        assertTrue(f.getMessage().contains("システムのフォルダ") && f.getMessage().contains(planted.toString()),
                f.getMessage());
    }

    @Test
    void aLinkFromASystemFolderNameIsJudgedByWhereItLeads() throws Exception {
        Path dir = Files.createDirectories(TestData.newFolder("lib-"));
        Path planted = Files.write(dir.resolve("libevil.so"), new byte[]{1});
        Path link = Files.createSymbolicLink(dir.resolve("libsofthsm2.so"), planted);
        SignatureFailure f = assertThrows(SignatureFailure.class, () -> SignerKeys.requireSystemLibrary(link));
        assertTrue(f.getMessage().contains(planted.toRealPath().toString()), f.getMessage());
    }

    @Test
    void aRootOwnedSystemLibraryPasses() {
        Path libc = Path.of("/usr/lib/x86_64-linux-gnu/libc.so.6");
        if (Files.exists(libc)) {
            assertDoesNotThrow(() -> SignerKeys.requireSystemLibrary(libc));
        }
        assertThrows(SignatureFailure.class, () -> SignerKeys.requireSystemLibrary(Path.of("/no/such/lib.so")));
    }
}
