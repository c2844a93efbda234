package jp.mamori.ledger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 18 §2: a degraded-mode audit journal verifies on its own (genesis, chain, groups, signatures). */
class JournalFileTest {
    private static final NoteSigner SIGNER = NoteSigner.generate("test.example/mamori-audit");
    private static final String ID = "0b7d2c1e-4a5f-4e61-9c3d-2f1a0b9c8d7e";

    @TempDir
    Path dir;

    /** A journal continuing a trail of 5 entries, in two groups (2 + 1 entries). */
    private static String journal(String... tail) {
        byte[] trailHead = Merkle.leafHash("x".getBytes(StandardCharsets.UTF_8));
        String genesis = JournalFile.genesisLine(ID, "2026-12-07T03:00:00Z", "ward-pc", 5, trailHead);
        byte[] gh = JournalFile.sha256(genesis.getBytes(StandardCharsets.UTF_8));
        StringBuilder b = new StringBuilder(genesis).append('\n');
        byte[] prev = trailHead;
        long seq = 5;
        int[] groups = {2, 1};
        for (int g = 0; g < groups.length; g++) {
            long first = seq;
            for (int i = 0; i < groups[g]; i++) {
                String e = "{\"seq\":" + seq + ",\"prev\":\"" + Base64.getEncoder().encodeToString(prev)
                        + "\",\"time\":\"2026-12-07T03:00:0" + seq + ".000000Z\",\"actor\":\"a\",\"action\":\"read\"}";
                b.append(e).append('\n');
                prev = Merkle.leafHash(e.getBytes(StandardCharsets.UTF_8));
                seq++;
            }
            byte[] sig = SIGNER.sign(JournalFile.groupMessage(ID, gh, g, first, groups[g], prev));
            b.append(JournalFile.groupLine(g, first, groups[g], prev, sig)).append('\n');
        }
        for (String t : tail) {
            b.append(t);
        }
        return b.toString();
    }

    private Path write(String text) throws Exception {
        Path p = dir.resolve("j.journal");
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void aJournalVerifiesWithItsKeyAndAnIncompleteLastGroupIsDropped() throws Exception {
        JournalFile.Result r = JournalFile.verify(write(journal()), SIGNER.verifierKey());
        assertTrue(r.ok(), r.problems().toString());
        assertEquals(3, r.entries());
        assertEquals(2, r.groups());
        assertEquals(5, r.firstSeq());
        assertEquals(5, r.genesis().trailSize());

        String complete = journal();
        JournalFile.Result cut = JournalFile.verify(write(journal("{\"seq\":8,\"prev\":\"AAAA")),
                SIGNER.verifierKey());
        assertTrue(cut.ok(), "a crash while a group was written drops that group only");
        assertEquals(3, cut.entries());
        assertEquals(1, cut.dropped());
        assertEquals(complete.getBytes(StandardCharsets.UTF_8).length, cut.validBytes());
    }

    @Test
    void anEditedEntryOrAForeignKeyIsFound() throws Exception {
        String edited = journal().replace("\"actor\":\"a\",\"action\":\"read\"}\n{\"group\":1",
                "\"actor\":\"b\",\"action\":\"read\"}\n{\"group\":1");
        assertFalse(JournalFile.verify(write(edited), null).ok(), "the group head no longer matches");
        NoteSigner other = NoteSigner.generate("test.example/mamori-audit");
        assertFalse(JournalFile.verify(write(journal()), other.verifierKey()).ok(), "signed by another key");
        assertFalse(JournalFile.verify(write("not a journal\n"), null).ok());
        JournalFile.Result huge = JournalFile.verify(write(journal("x".repeat(JournalFile.MAX_LINE + 10) + "\n")),
                null);
        assertFalse(huge.ok(), "a hostile line is a problem, not an error that would keep the journal unmerged");
    }

    @Test
    void theCommandLineVerifiesAJournal() throws Exception {
        Path p = write(journal());
        Path key = dir.resolve("key");
        Files.writeString(key, SIGNER.verifierKey().format());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[]{"verify-journal", p.toString(), "--key", key.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, out + " " + err);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("journal verified: 3 entries"));
        Files.writeString(p, journal().replace("\"seq\":6", "\"seq\":9"));
        assertEquals(1, Main.run(new String[]{"verify-journal", p.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8)));
    }
}
