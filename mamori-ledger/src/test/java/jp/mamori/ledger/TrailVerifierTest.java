package jp.mamori.ledger;

import static jp.mamori.ledger.Finding.Kind.BAD_SIGNATURE;
import static jp.mamori.ledger.Finding.Kind.DELETED;
import static jp.mamori.ledger.Finding.Kind.EDITED;
import static jp.mamori.ledger.Finding.Kind.INCONSISTENT_CHECKPOINTS;
import static jp.mamori.ledger.Finding.Kind.INSERTED;
import static jp.mamori.ledger.Finding.Kind.MALFORMED;
import static jp.mamori.ledger.Finding.Kind.NOT_COVERED;
import static jp.mamori.ledger.Finding.Kind.NO_CHECKPOINT;
import static jp.mamori.ledger.Finding.Kind.REORDERED;
import static jp.mamori.ledger.Finding.Kind.ROOT_MISMATCH;
import static jp.mamori.ledger.Finding.Kind.START_MISMATCH;
import static jp.mamori.ledger.Finding.Kind.TRUNCATED;
import static jp.mamori.ledger.Finding.Kind.UNKNOWN_KEY;
import static jp.mamori.ledger.Finding.Kind.WRONG_ORIGIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trail of 50 entries with a signed checkpoint after every 10 (sizes 10 … 50), tampered with in each
 * way an insider could; each test asserts the exact findings and their positions. Entry seq N is on line N+1.
 */
class TrailVerifierTest {
    static final NoteSigner SIGNER = NoteSigner.generate(TrailFixture.ORIGIN);

    @TempDir
    Path tmp;
    TrailFixture trail;

    @BeforeEach
    void writeTrail() throws IOException {
        trail = TrailFixture.write(tmp.resolve("export"), SIGNER, 50, 10);
    }

    static List<Finding> failures(Report r) {
        return r.findings().stream().filter(Finding::fails).toList();
    }

    static String kinds(Report r) {
        return failures(r).stream().map(f -> f.kind() + "@" + f.line() + "/" + f.seq()).collect(Collectors.joining(" "));
    }

    @Test
    void anUntouchedTrailVerifies() throws IOException {
        Report r = trail.verify();
        assertEquals(List.of(), r.findings());
        assertFalse(r.failed());
        assertEquals(50, r.entries());
        assertEquals(5, r.checkpointsMatched());
        assertEquals(50, r.coveredSize());
        assertTrue(r.summary().startsWith("検証成功 / verified"), r.summary());
    }

    @Test
    void anEditedEntryIsPinpointedByTheNextEntrysPrev() throws IOException {
        trail.lines.set(23, trail.edited(23));
        Report r = trail.verify();
        // The chain names the entry; the first checkpoint after it names the range; later ones follow from it.
        assertEquals("ROOT_MISMATCH@21/20 EDITED@24/23 ROOT_MISMATCH@-1/-1", kinds(r));
        assertTrue(failures(r).get(0).message().contains("#3 (size 30"), failures(r).get(0).message());
        assertTrue(failures(r).get(0).message().contains("seq 20–29"));
        assertEquals(failures(r), r.findings(), "no warning");
    }

    @Test
    void anEditedEntryWhoseSuccessorsWereRelinkedIsCaughtByTheCheckpointRange() throws IOException {
        trail.lines.set(23, trail.edited(23));
        trail.relink(24);
        Report r = trail.verify();
        assertEquals("ROOT_MISMATCH@21/20 ROOT_MISMATCH@-1/-1", kinds(r));
        assertTrue(failures(r).get(1).message().contains("2 later checkpoint(s)"), failures(r).get(1).message());
    }

    @Test
    void entriesAfterTheLastCheckpointAreOnlyAWarning() throws IOException {
        trail.lines.add("{\"seq\":50,\"prev\":\"" + TrailFixture.b64(TrailFixture.leaf(trail.lines.get(49))) + "\","
                + TrailFixture.rest(50, Instant.parse("2026-11-23T10:00:00Z")));
        Report r = trail.verify();
        assertFalse(r.failed(), kinds(r));
        assertEquals(List.of(NOT_COVERED), r.findings().stream().map(Finding::kind).toList());
        assertEquals(50, r.findings().get(0).seq());
        assertEquals(51, r.findings().get(0).line());
    }

    @Test
    void aDeletedEntryIsReportedWhereTheSequenceJumps() throws IOException {
        trail.lines.remove(23);
        Report r = trail.verify();
        assertEquals("ROOT_MISMATCH@21/20 DELETED@24/23 ROOT_MISMATCH@-1/-1 ROOT_MISMATCH@-1/-1", kinds(r));
        assertTrue(failures(r).get(1).message().contains("seq 23"), failures(r).get(1).message());
        assertTrue(failures(r).stream().noneMatch(f -> f.kind() == TRUNCATED), "a deletion is not a truncation");
        assertEquals(failures(r), r.findings(), "no warning: every entry is under a signed checkpoint");
    }

    @Test
    void anInsertedEntryIsNamedByItsLine() throws IOException {
        String forged = "{\"seq\":24,\"prev\":\"" + TrailFixture.b64(TrailFixture.leaf(trail.lines.get(23))) + "\","
                + TrailFixture.rest(24, Instant.parse("2026-11-23T09:02:50Z")).replace("person-11", "person-99");
        trail.lines.add(24, forged);
        Report r = trail.verify();
        assertEquals("ROOT_MISMATCH@21/20 INSERTED@25/24 ROOT_MISMATCH@-1/-1", kinds(r));
    }

    @Test
    void twoSwappedEntriesAreReportedAsReordered() throws IOException {
        String a = trail.lines.get(23);
        trail.lines.set(23, trail.lines.get(24));
        trail.lines.set(24, a);
        Report r = trail.verify();
        assertEquals("ROOT_MISMATCH@21/20 REORDERED@25/23 ROOT_MISMATCH@-1/-1", kinds(r));
    }

    @Test
    void aDuplicatedEntryIsReported() throws IOException {
        trail.lines.add(24, trail.lines.get(23));
        Report r = trail.verify();
        assertEquals("ROOT_MISMATCH@21/20 INSERTED@24/23 ROOT_MISMATCH@-1/-1", kinds(r));
    }

    @Test
    void aTruncatedTailIsReportedWithTheMissingRange() throws IOException {
        trail.lines.subList(45, 50).clear();
        Report r = trail.verify();
        assertEquals("TRUNCATED@-1/45", kinds(r));
        assertTrue(failures(r).get(0).message().contains("seq 45–49"), failures(r).get(0).message());
        assertEquals(1, r.findings().size(), "entries 40–44 are under the truncated checkpoint, not 'not yet covered'");
    }

    @Test
    void anUnreadableLineIsReported() throws IOException {
        trail.lines.set(30, "garbage");
        Report r = trail.verify();
        assertTrue(failures(r).stream().anyMatch(f -> f.kind() == MALFORMED && f.line() == 31), kinds(r));
    }

    @Test
    void aForgedCheckpointFailsItsSignature() throws IOException {
        String text = trail.checkpointsText();
        SignedCheckpoint third = SignedCheckpoint.readAll(text).get(2).checkpoint();
        String root = TrailFixture.b64(third.checkpoint().root());
        trail.checkpointsText(text.replace(root, TrailFixture.b64(Merkle.leafHash(new byte[] {42}))));
        Report r = trail.verify();
        assertEquals("BAD_SIGNATURE@-1/-1", kinds(r));
        assertTrue(failures(r).get(0).message().contains("#3 (size 30"), failures(r).get(0).message());
        assertEquals(4, r.checkpointsMatched());
    }

    @Test
    void checkpointsSignedWithAnotherKeyProveNothing() throws IOException {
        NoteSigner attacker = NoteSigner.generate(TrailFixture.ORIGIN);
        TrailFixture forged = TrailFixture.write(tmp.resolve("forged"), attacker, 50, 10);
        Report r = new TrailVerifier(SIGNER.verifierKey()).verify(Export.open(forged.dir));
        assertEquals("UNKNOWN_KEY@-1/-1 UNKNOWN_KEY@-1/-1 UNKNOWN_KEY@-1/-1 UNKNOWN_KEY@-1/-1 UNKNOWN_KEY@-1/-1 NO_CHECKPOINT@-1/-1",
                kinds(r));
    }

    @Test
    void aCheckpointOfAnotherLogIsRefused() throws IOException {
        SignedCheckpoint other = new Checkpoint("other.example/log", 50, Merkle.emptyRoot(), null).sign(SIGNER);
        trail.checkpointsText(trail.checkpointsText() + other.encode() + "\n");
        Report r = trail.verify();
        assertEquals("WRONG_ORIGIN@-1/-1", kinds(r));
    }

    @Test
    void twoSignedCheckpointsOfOneSizeWithDifferentRootsAreAFork() throws IOException {
        SignedCheckpoint fork = new Checkpoint(TrailFixture.ORIGIN, 30, Merkle.leafHash(new byte[] {7}), null).sign(SIGNER);
        trail.checkpointsText(trail.checkpointsText() + fork.encode() + "\n");
        Report r = trail.verify();
        assertEquals(List.of(INCONSISTENT_CHECKPOINTS, ROOT_MISMATCH), failures(r).stream().map(Finding::kind).toList());
    }

    @Test
    void anArchivedPrefixWithItsStartVerifiesAndATamperedStartIsReported() throws IOException {
        ArchiveStart start = ArchiveStart.of(20, SubtreeHashes.fromLeaves(trail.leafHashes()));
        Files.writeString(trail.dir.resolve(Export.START), start.format());
        trail.lines.subList(0, 20).clear();
        Report r = trail.verify();
        assertEquals(List.of(), r.findings());
        assertEquals(30, r.entries());
        assertEquals(50, r.treeSize());
        assertEquals(4, r.checkpointsMatched(), "the start's checkpoint and 30, 40, 50");

        byte[] bad = start.frontier().get(0).clone();
        bad[0] ^= 1;
        Files.writeString(trail.dir.resolve(Export.START),
                new ArchiveStart(20, start.lastLeafHash(), List.of(bad, start.frontier().get(1)), start.lastLeafProof()).format());
        Report r2 = trail.verify();
        assertEquals(START_MISMATCH, failures(r2).get(0).kind(), kinds(r2));
        assertTrue(failures(r2).get(0).message().contains("size 20"));

        byte[] last = start.lastLeafHash();
        last[31] ^= 1;
        Files.writeString(trail.dir.resolve(Export.START),
                new ArchiveStart(20, last, start.frontier(), start.lastLeafProof()).format());
        Report r3 = trail.verify();
        assertEquals("START_MISMATCH@-1/-1 START_MISMATCH@1/20", kinds(r3));
    }

    @Test
    void anArchiveStartWithoutASignedCheckpointOfItsSizeIsReported() throws IOException {
        ArchiveStart start = ArchiveStart.of(25, SubtreeHashes.fromLeaves(trail.leafHashes()));
        Files.writeString(trail.dir.resolve(Export.START), start.format());
        trail.lines.subList(0, 25).clear();
        Report r = trail.verify();
        assertEquals("START_MISMATCH@-1/-1", kinds(r));
    }

    @Test
    void noCheckpointAtAllIsAFailure() throws IOException {
        trail.checkpointsText("");
        Report r = trail.verify();
        assertEquals(List.of(NO_CHECKPOINT), failures(r).stream().map(Finding::kind).toList());
    }

    @Test
    void aLastLineWithoutNewlineIsStillAnEntry() throws IOException {
        trail.save();
        Path entries = trail.dir.resolve(Export.ENTRIES);
        String text = Files.readString(entries);
        Files.writeString(entries, text.substring(0, text.length() - 1));
        TrailVerifier v = new TrailVerifier(SIGNER.verifierKey());
        for (TrailVerifier w : List.of(v.threads(1), v.threads(2).chunkSize(64))) {
            Report r = w.verify(Export.open(trail.dir));
            assertEquals(List.of(), r.findings());
            assertEquals(50, r.entries());
        }
    }
}
