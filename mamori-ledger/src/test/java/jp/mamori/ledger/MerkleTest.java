package jp.mamori.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tree, roots and proofs against the published RFC 6962 test vectors and against a brute-force
 * implementation of the RFC's recursive definitions.
 *
 * <p>Vectors: the eight standard test leaves and the roots of the trees of sizes 1..8, the inclusion paths
 * and consistency proofs, as published by the certificate-transparency reference tests and kept in
 * transparency-dev/merkle ({@code testonly/constants.go}, {@code proof/verify_test.go}; the inclusion
 * vectors there count leaves from 1).
 */
class MerkleTest {
    private static final HexFormat HEX = HexFormat.of();

    static final String[] LEAVES = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
            "606162636465666768696a6b6c6d6e6f"};
    static final String[] ROOTS = {
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

    static List<byte[]> vectorLeafHashes() {
        List<byte[]> out = new ArrayList<>();
        for (String l : LEAVES) {
            out.add(Merkle.leafHash(HEX.parseHex(l)));
        }
        return out;
    }

    static List<byte[]> hashes(String... hex) {
        List<byte[]> out = new ArrayList<>();
        for (String h : hex) {
            out.add(HEX.parseHex(h));
        }
        return out;
    }

    @Test
    void theCompactRangeReachesThePublishedRootAtEverySize() {
        CompactRange tree = new CompactRange();
        assertEquals(ROOTS[0], HEX.formatHex(tree.root()));
        List<byte[]> leaves = vectorLeafHashes();
        for (int i = 0; i < leaves.size(); i++) {
            tree.append(leaves.get(i));
            assertEquals(ROOTS[i + 1], HEX.formatHex(tree.root()), "size " + (i + 1));
            assertEquals(ROOTS[i + 1], HEX.formatHex(Proofs.root(i + 1, SubtreeHashes.fromLeaves(leaves))));
        }
        assertEquals("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", HEX.formatHex(leaves.get(0)),
                "leaf hash of the empty entry = SHA-256(0x00)");
    }

    @Test
    void aTreeResumedFromItsFrontierContinuesToTheSameRoots() {
        List<byte[]> leaves = vectorLeafHashes();
        for (int k = 0; k <= leaves.size(); k++) {
            CompactRange a = new CompactRange();
            leaves.subList(0, k).forEach(a::append);
            CompactRange b = CompactRange.of(k, a.frontier());
            leaves.subList(k, leaves.size()).forEach(b::append);
            assertEquals(ROOTS[8], HEX.formatHex(b.root()));
        }
        assertThrows(IllegalArgumentException.class, () -> CompactRange.of(3, hashes(ROOTS[1])));
    }

    @Test
    void thePublishedInclusionPathsAreGeneratedAndVerify() {
        SubtreeHashes src = SubtreeHashes.fromLeaves(vectorLeafHashes());
        record V(long index, long size, List<byte[]> path) { }
        List<V> vectors = List.of(
                new V(0, 8, hashes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
                new V(5, 8, hashes("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
                new V(2, 3, hashes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
                new V(1, 5, hashes("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
                new V(0, 1, List.of()));
        List<byte[]> leaves = vectorLeafHashes();
        for (V v : vectors) {
            assertHashesEqual(v.path(), Proofs.inclusion(v.index(), v.size(), src));
            byte[] root = HEX.parseHex(ROOTS[(int) v.size()]);
            assertTrue(Proofs.verifyInclusion(v.index(), v.size(), leaves.get((int) v.index()), v.path(), root));
            assertFalse(Proofs.verifyInclusion(v.index(), v.size(), leaves.get((int) v.index() ^ 1), v.path(), root));
        }
    }

    @Test
    void thePublishedConsistencyProofsAreGeneratedAndVerify() {
        SubtreeHashes src = SubtreeHashes.fromLeaves(vectorLeafHashes());
        record V(long size1, long size2, List<byte[]> proof) { }
        List<V> vectors = List.of(
                new V(1, 1, List.of()),
                new V(1, 8, hashes("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
                new V(6, 8, hashes("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
                new V(2, 5, hashes("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
                new V(6, 7, hashes("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")));
        for (V v : vectors) {
            assertHashesEqual(v.proof(), Proofs.consistency(v.size1(), v.size2(), src));
            byte[] r1 = HEX.parseHex(ROOTS[(int) v.size1()]);
            byte[] r2 = HEX.parseHex(ROOTS[(int) v.size2()]);
            assertTrue(Proofs.verifyConsistency(v.size1(), v.size2(), r1, r2, v.proof()));
            if (!v.proof().isEmpty()) {
                assertFalse(Proofs.verifyConsistency(v.size1(), v.size2(), r2, r1, v.proof()), "swapped roots");
                assertFalse(Proofs.verifyConsistency(v.size1(), v.size2(), r1, r2, v.proof().subList(0, v.proof().size() - 1)));
            }
        }
    }

    @Test
    void consistencyEdgeCasesFollowRfc9162() {
        byte[] a = HEX.parseHex(ROOTS[1]);
        byte[] b = HEX.parseHex(ROOTS[2]);
        assertTrue(Proofs.verifyConsistency(0, 0, a, a, List.of()));
        assertTrue(Proofs.verifyConsistency(0, 5, a, b, List.of()), "the empty tree is a prefix of every tree");
        assertFalse(Proofs.verifyConsistency(1, 1, a, b, List.of()), "same size, different roots");
        assertFalse(Proofs.verifyConsistency(2, 1, a, b, List.of()), "a tree cannot shrink");
        assertFalse(Proofs.verifyConsistency(1, 2, a, b, List.of()), "a proof is needed to grow");
        assertFalse(Proofs.verifyConsistency(1, 1, a, a, List.of(a)), "equal trees need an empty proof");
    }

    // ---- brute force: the RFC 6962 §2.1 definitions, recursive over the leaf list ----

    static byte[] mth(List<byte[]> d) {
        if (d.isEmpty()) {
            return Merkle.emptyRoot();
        }
        if (d.size() == 1) {
            return d.get(0);
        }
        int k = Integer.highestOneBit(d.size() - 1);
        return Merkle.nodeHash(mth(d.subList(0, k)), mth(d.subList(k, d.size())));
    }

    static List<byte[]> path(int m, List<byte[]> d) {
        List<byte[]> out = new ArrayList<>();
        if (d.size() > 1) {
            int k = Integer.highestOneBit(d.size() - 1);
            if (m < k) {
                out.addAll(path(m, d.subList(0, k)));
                out.add(mth(d.subList(k, d.size())));
            } else {
                out.addAll(path(m - k, d.subList(k, d.size())));
                out.add(mth(d.subList(0, k)));
            }
        }
        return out;
    }

    static List<byte[]> subproof(int m, List<byte[]> d, boolean b) {
        List<byte[]> out = new ArrayList<>();
        int n = d.size();
        if (m == n) {
            if (!b) {
                out.add(mth(d));
            }
            return out;
        }
        int k = Integer.highestOneBit(n - 1);
        if (m <= k) {
            out.addAll(subproof(m, d.subList(0, k), b));
            out.add(mth(d.subList(k, n)));
        } else {
            out.addAll(subproof(m - k, d.subList(k, n), false));
            out.add(mth(d.subList(0, k)));
        }
        return out;
    }

    @Test
    void everyInclusionAndConsistencyProofUpTo64LeavesMatchesTheDefinitionAndVerifies() {
        List<byte[]> leaves = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            leaves.add(Merkle.leafHash(("entry " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        SubtreeHashes src = SubtreeHashes.fromLeaves(leaves);
        CompactRange tree = new CompactRange();
        List<byte[]> roots = new ArrayList<>();
        roots.add(Merkle.emptyRoot());
        for (byte[] l : leaves) {
            tree.append(l);
            roots.add(tree.root());
        }
        for (int n = 1; n <= 64; n++) {
            List<byte[]> d = leaves.subList(0, n);
            byte[] root = mth(d);
            assertArrayEquals(root, roots.get(n), "root at size " + n);
            assertArrayEquals(root, Proofs.root(n, src));
            for (int m = 0; m < n; m++) {
                List<byte[]> p = Proofs.inclusion(m, n, src);
                assertHashesEqual(path(m, d), p);
                assertTrue(Proofs.verifyInclusion(m, n, leaves.get(m), p, root), m + " in " + n);
                assertFalse(Proofs.verifyInclusion(m, n, leaves.get((m + 1) % 64), p, root));
                if (!p.isEmpty()) {
                    List<byte[]> bad = flipped(p, m % p.size());
                    assertFalse(Proofs.verifyInclusion(m, n, leaves.get(m), bad, root));
                    if (n < 64) {
                        assertFalse(Proofs.verifyInclusion(m, n + 1, leaves.get(m), p, roots.get(n + 1)), "wrong size");
                    }
                }
            }
            for (int m = 0; m <= n; m++) {
                List<byte[]> p = Proofs.consistency(m, n, src);
                List<byte[]> expected = m == 0 || m == n ? List.of() : subproof(m, d, true);
                assertHashesEqual(expected, p);
                assertTrue(Proofs.verifyConsistency(m, n, roots.get(m), root, p), m + " to " + n);
                if (!p.isEmpty()) {
                    assertFalse(Proofs.verifyConsistency(m, n, roots.get(m), root, flipped(p, n % p.size())));
                    if (m > 1) {
                        assertFalse(Proofs.verifyConsistency(m, n, roots.get(m - 1), root, p), "wrong old root");
                    }
                }
            }
        }
    }

    private static List<byte[]> flipped(List<byte[]> p, int i) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] h : p) {
            out.add(h.clone());
        }
        out.get(i)[0] ^= 8;
        return out;
    }

    static void assertHashesEqual(List<byte[]> expected, List<byte[]> actual) {
        assertEquals(expected.size(), actual.size(), "proof length");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "hash " + i);
        }
    }

    @Test
    void theWorkedExampleOfTheExportFormatDocumentHolds() {
        byte[] e0 = "{\"seq\":0,\"time\":\"2026-11-23T01:15:30.000000Z\",\"actor\":\"person-00042\",\"action\":\"read\",\"patients\":[\"Patient/123\"]}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] h0 = Merkle.leafHash(e0);
        assertEquals("1MuYiFbFS3jtNMclaQi6fLGZZYgxbkbNhPk/7Vk8YPw=", java.util.Base64.getEncoder().encodeToString(h0));
        byte[] e1 = (ExportWriter.entryPrefix(1, h0) + "\"time\":\"2026-11-23T01:15:31.250000Z\",\"actor\":\"person-00042\","
                + "\"action\":\"search\",\"patients\":[\"Patient/123\",\"Patient/456\"]}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] h1 = Merkle.leafHash(e1);
        assertEquals("65cpVWhOL7TRtBzrphkWg+4gRZE9tSBpfwbKy3Z5CLA=", java.util.Base64.getEncoder().encodeToString(h1));
        CompactRange tree = new CompactRange();
        tree.append(h0);
        tree.append(h1);
        assertEquals("ipjEk9zbo0Ybs+2itNy+EwZrT5Fo8qwVXOlFbbCS16U=", java.util.Base64.getEncoder().encodeToString(tree.root()));
    }
}
