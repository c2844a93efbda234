package jp.mamori.identity.web;

import jp.mamori.MamoriServer;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditReports;
import jp.mamori.compliance.ComplianceException;
import jp.mamori.compliance.Documents;
import jp.mamori.compliance.Evidence;
import jp.mamori.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The compliance documents over HTTP (issue 20, "Documents"; GOV-28, GOV-30, INC-6): uploads typed by their bytes,
 * kept encrypted in the database under their SHA-256 and stored once (served by every node on that database), checked
 * on every download (a ciphertext changed by the database's superuser is refused), served only as attachments; an
 * auditor reads and downloads, never uploads; every post needs the form's token; an expired document turns its probe
 * PARTIAL and its item amber; the table only grows. The gate's multipart limits are tested here too.
 */
class ComplianceDocumentsTest {
    private static final String LIST = "/console/compliance/documents";
    private static final String UPLOAD = "/console/compliance/documents/upload";
    private static Hospital h;
    private static Person auditor;
    private static Person physician;

    @BeforeAll
    static void start() {
        h = Hospital.open();
        auditor = h.staffWithRole("kansa.d", "監査室", "auditor");
        physician = h.staffWithRole("ishi.d", "内科", "physician");
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static byte[] png(String marker) {
        byte[] head = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        return concat(head, ("tEXt" + marker).getBytes(StandardCharsets.UTF_8));
    }

    static byte[] pdf(String marker) {
        return ("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% " + marker + "\n%%EOF\n").getBytes(StandardCharsets.UTF_8);
    }

    static byte[] jpeg(String marker) {
        return concat(new byte[]{(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0},
                marker.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static Map<String, String> fields(String kind, String title, String reviewed, String expires) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("kind", kind);
        f.put("title", title);
        f.put("reviewer", reviewed.isEmpty() ? "" : "院長 山田太郎");
        f.put("reviewed", reviewed);
        f.put("expires", expires);
        f.put("requirements", "");
        return f;
    }

    private static String today() {
        return LocalDate.now(Hospital.JST).toString();
    }

    /** Uploads as the administrator from the list page; returns the document page it lands on. */
    private static Browser.Page upload(String kind, String title, String reviewed, String expires, String fileName,
                                       String type, byte[] bytes) {
        h.admin.browser.get(LIST);
        return h.admin.browser.submitMultipart(UPLOAD, fields(kind, title, reviewed, expires),
                new Browser.FilePart("file", fileName, type, bytes));
    }

    private static long rows() {
        return h.<Long>one("SELECT count(*) FROM compliance_document");
    }

    private static UUID idOf(Browser.Page documentPage) {
        String q = documentPage.uri().getQuery();
        return UUID.fromString(q.replaceAll(".*id=([0-9a-f-]{36}).*", "$1"));
    }

    /** The kept ciphertext of {@code sha}, as the database's superuser reads it. */
    private static byte[] kept(String sha) {
        return h.one("SELECT ciphertext FROM compliance_document_blob WHERE sha256 = ?", sha);
    }

    private static long blobs() {
        return h.<Long>one("SELECT count(*) FROM compliance_document_blob");
    }

    /**
     * The database's superuser changes a kept ciphertext behind the server's back: with the triggers off for the
     * session ({@code session_replication_role = replica}), as only a superuser can.
     */
    private static void tamper(String sha, byte[] ciphertext) throws Exception {
        try (var c = h.server.superuserConnection(); var st = c.createStatement()) {
            st.execute("SET session_replication_role = replica");
            try (var ps = c.prepareStatement("UPDATE compliance_document_blob SET ciphertext = ? WHERE sha256 = ?")) {
                ps.setBytes(1, ciphertext);
                ps.setString(2, sha);
                assertEquals(1, ps.executeUpdate());
            }
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void uploadsAreTypedByContentEncryptedContentAddressedAndServedOnlyAsCheckedAttachments() throws Exception {
        Browser b = h.admin.browser;
        Browser.Page list = b.get(LIST);
        assertEquals(200, list.status(), list::toString);
        assertTrue(list.body().contains("enctype=\"multipart/form-data\"") && list.contains("安全管理責任者・企画管理者の任命書"),
                list::toString);
        Browser.Page home = b.get("/console/compliance");
        assertTrue(home.body().contains("href=\"/console/compliance/documents\""), "linked from the compliance home");

        String marker = "MAMORI-PLAINTEXT-" + UUID.randomUUID();
        byte[] bytes = png(marker);
        long before = rows();
        Browser.Page doc = upload("appointment", "医療情報システム安全管理責任者 任命書", today(),
                LocalDate.now(Hospital.JST).plusYears(1).toString(), "任命書.png", "image/png", bytes);
        assertEquals(200, doc.status(), doc::toString);
        assertTrue(doc.contains("文書を登録しました") && doc.contains("医療情報システム安全管理責任者 任命書")
                && doc.contains("有効（確認済み）") && doc.contains("GOV-28"), doc::toString);
        assertEquals(before + 1, rows());
        UUID id = idOf(doc);
        String sha = h.one("SELECT sha256 FROM compliance_document WHERE document_id = ?", id);
        assertEquals(jp.mamori.kernel.Hashes.hex(jp.mamori.kernel.Hashes.sha256(bytes)), sha);
        assertEquals("image/png", h.<String>one("SELECT media_type FROM compliance_document WHERE document_id = ?", id));

        // in the database: the row's key is the plaintext's SHA-256, its bytes are not the plaintext; the key is not
        // in the database but in the data folder's secrets, owner-only; nothing is written to the data folder
        byte[] stored = kept(sha);
        assertTrue(stored != null && stored.length > bytes.length, "kept under its SHA-256, sealed");
        assertEquals((long) bytes.length, h.<Long>one("SELECT size_bytes FROM compliance_document_blob WHERE sha256 = ?",
                sha));
        assertEquals(-1, indexOf(stored, marker.getBytes(StandardCharsets.UTF_8)), "the row's bytes are encrypted");
        assertEquals(-1, indexOf(stored, Arrays.copyOf(bytes, 8)), "not even the PNG signature is visible");
        byte[] key = Files.readAllBytes(h.server.dataDir().resolve("secrets").resolve("compliance-document-keys"));
        assertEquals(-1, indexOf(stored, Arrays.copyOf(key, Math.min(16, key.length))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(h.server.dataDir()
                .resolve("secrets").resolve("compliance-document-keys"))));
        assertFalse(Files.exists(h.server.dataDir().resolve("compliance-documents")), "no document folder");

        // the same bytes again, as another document: stored once
        long kept = blobs();
        Browser.Page again = upload("other", "任命書（写し）", "", "", "copy.png", "image/png", bytes);
        assertEquals(200, again.status(), again::toString);
        assertNotEquals(id, idOf(again));
        assertEquals(kept, blobs(), "the same bytes are stored once");
        assertEquals(1L, h.<Long>one("SELECT count(*) FROM compliance_document_blob WHERE sha256 = ?", sha));
        assertEquals(2L, h.<Long>one("SELECT count(*) FROM compliance_document WHERE sha256 = ?", sha));

        // the download: the bytes, as an attachment of the detected type, never rendered
        Browser.Page dl = b.get(LIST + "/download?id=" + id + "&v=1");
        assertEquals(200, dl.status(), dl::toString);
        assertArrayEquals(bytes, dl.bytes());
        var headers = dl.response().headers();
        assertEquals("image/png", headers.firstValue("Content-Type").orElse(""));
        String disposition = headers.firstValue("Content-Disposition").orElse("");
        assertTrue(disposition.startsWith("attachment; filename=\"") && disposition.contains(
                "filename*=UTF-8''%E4%BB%BB%E5%91%BD%E6%9B%B8.png"), disposition);
        assertEquals("nosniff", headers.firstValue("X-Content-Type-Options").orElse(""));
        assertEquals("sandbox", headers.firstValue("Content-Security-Policy").orElse(""));

        // a PDF named as a web page is kept as a PDF, and saved with .pdf; a JPEG is accepted too
        Browser.Page pdfDoc = upload("rules", "運用管理規程（第3版）", today(), "", "kitei.html", "text/html",
                pdf("rules"));
        assertEquals(200, pdfDoc.status(), pdfDoc::toString);
        Browser.Page pdfDl = b.get(LIST + "/download?id=" + idOf(pdfDoc) + "&v=1");
        assertEquals("application/pdf", pdfDl.response().headers().firstValue("Content-Type").orElse(""));
        assertTrue(pdfDl.response().headers().firstValue("Content-Disposition").orElse("")
                .contains("filename=\"kitei.html.pdf\""), pdfDl.response().headers()::toString);
        Browser.Page jpg = upload("training", "情報セキュリティ研修 受講記録", today(), "", "kenshu.jpg", "image/jpeg",
                jpeg("training"));
        assertEquals(200, jpg.status(), jpg::toString);

        // the database's superuser changes the ciphertext, or puts another document's under this SHA-256: refused,
        // never served; the same bytes uploaded again are refused too (no new version pointing at bytes that cannot
        // be served), and nothing is recorded
        byte[] damaged = stored.clone();
        damaged[damaged.length - 1] ^= 1;
        tamper(sha, damaged);
        Browser.Page refused = b.get(LIST + "/download?id=" + id + "&v=1");
        assertEquals(409, refused.status(), refused::toString);
        assertTrue(refused.contains("文書のファイルが壊れているか差し替えられています"), refused::toString);
        assertEquals(-1, indexOf(refused.bytes(), marker.getBytes(StandardCharsets.UTF_8)));
        long versions = rows();
        Browser.Page reupload = upload("other", "任命書（再登録）", "", "", "again.png", "image/png", bytes);
        assertEquals(400, reupload.status(), reupload::toString);
        assertTrue(reupload.contains("暗号文が壊れているか差し替えられています") && reupload.contains("任命書（再登録）"),
                reupload::toString);
        assertEquals(versions, rows(), "nothing recorded");
        String otherSha = h.one("SELECT sha256 FROM compliance_document WHERE document_id = ?", idOf(jpg));
        tamper(sha, kept(otherSha));
        refused = b.get(LIST + "/download?id=" + id + "&v=1");
        assertEquals(409, refused.status(), "a swapped ciphertext is refused: " + refused);
        tamper(sha, stored);
        assertEquals(200, b.get(LIST + "/download?id=" + id + "&v=1").status(), "served again once restored");

        // every upload and download is an audit entry
        List<AuditReports.Row> entries = List.of();
        for (int i = 0; i < 100; i++) {
            entries = h.server.server().audit().reports().actorActivity(h.admin.loginId, Instant.EPOCH,
                    Instant.now().plusSeconds(5), 1000).stream().filter(r -> r.action().startsWith("compliance.document"))
                    .toList();
            if (entries.stream().filter(r -> r.action().equals("compliance.document.download")).count() >= 3
                    && entries.stream().filter(r -> r.action().equals("compliance.document.upload")).count() >= 4) {
                break;
            }
            Browser.sleep(100);
        }
        assertTrue(entries.stream().filter(r -> r.action().equals("compliance.document.upload")).count() >= 4,
                entries::toString);
        assertTrue(entries.stream().filter(r -> r.action().equals("compliance.document.download")).count() >= 3,
                entries::toString);
    }

    /**
     * ADR 0013: several processes on one database are one system. A second node's {@link Documents}, with its own
     * data folder holding the installation's key as {@code mamori node add} copies it, over the same database, serves
     * what was uploaded through the first, and the first serves what the second stored; a node without the key cannot
     * (the key is not in the database).
     */
    @Test
    void aDocumentUploadedThroughOneNodeIsServedThroughAnotherOnTheSameDatabase() throws Exception {
        Path nodeB = TestData.newFolder("docs-node-b-");
        Files.createDirectories(nodeB.resolve("secrets"));
        Files.copy(h.server.dataDir().resolve("secrets").resolve("compliance-document-keys"),
                nodeB.resolve("secrets").resolve("compliance-document-keys"), StandardCopyOption.COPY_ATTRIBUTES);
        MamoriServer a = h.server.server();
        Documents onB = new Documents(a.database().dataSource(), a.audit().recorder(), nodeB, Clock.systemUTC(),
                Hospital.JST);
        Actor reader = Actor.person("node-b-kansa", "監査 二郎", List.of("auditor"), null, null, null);

        byte[] viaA = pdf("via-a-" + UUID.randomUUID());
        Browser.Page doc = upload("other", "ノードAで登録した文書", "", "", "a.pdf", "application/pdf", viaA);
        assertEquals(200, doc.status(), doc::toString);
        UUID id = idOf(doc);
        assertArrayEquals(viaA, onB.download(reader, id, 1).bytes(), "uploaded through A, served through B");

        byte[] viaB = png("via-b-" + UUID.randomUUID());
        Documents.Version v = onB.upload(Actor.person("node-b-admin", "管理 三郎", List.of("admin"), null, null, null),
                "b.png", viaB, new Documents.Details("other", "ノードBで登録した文書", "", "", "", "", null, null, null));
        Browser.Page dl = h.admin.browser.get(LIST + "/download?id=" + v.documentId() + "&v=1");
        assertEquals(200, dl.status(), dl::toString);
        assertArrayEquals(viaB, dl.bytes(), "stored through B, served through A");

        Documents withoutKey = new Documents(a.database().dataSource(), a.audit().recorder(),
                TestData.newFolder("docs-node-c-"), Clock.systemUTC(), Hospital.JST);
        ComplianceException refused = assertThrows(ComplianceException.class,
                () -> withoutKey.download(reader, id, 1));
        assertTrue(refused.getMessage().contains("壊れているか差し替えられています"), refused::getMessage);
    }

    @Test
    void contentTypeSizeAndFormLimitsAreCheckedAndTypedTextStays() {
        Browser b = h.admin.browser;
        long before = rows();
        Map<String, byte[]> hostile = new LinkedHashMap<>();
        hostile.put("page.html", "<!doctype html><html><script>alert(1)</script></html>".getBytes(StandardCharsets.UTF_8));
        hostile.put("logo.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"
                .getBytes(StandardCharsets.UTF_8));
        hostile.put("bundle.zip", new byte[]{'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0});
        hostile.put("scan.pdf", concat(new byte[]{'M', 'Z', (byte) 0x90, 0}, "This program cannot be run in DOS mode"
                .getBytes(StandardCharsets.US_ASCII)));
        for (Map.Entry<String, byte[]> e : hostile.entrySet()) {
            Browser.Page refused = upload("bcp", "BCP（サイバー攻撃編） " + e.getKey(), today(), "", e.getKey(),
                    "application/pdf", e.getValue());
            assertEquals(400, refused.status(), e.getKey() + ": " + refused);
            assertTrue(refused.contains("PDF・PNG・JPEG のファイルだけを登録できます"), refused::toString);
            assertTrue(refused.contains("BCP（サイバー攻撃編） " + e.getKey()), "the typed title stays: " + refused);
            assertFalse(refused.body().contains("<script>alert(1)"), "never shown back");
        }
        // larger than a document may be: refused on the form, with the typed text
        Browser.Page big = upload("contract", "保守契約書", today(), "", "big.pdf", "application/pdf",
                concat(pdf("big"), new byte[jp.mamori.compliance.Documents.MAX_BYTES]));
        assertEquals(400, big.status(), big::toString);
        assertTrue(big.contains("ファイルが大きすぎます（10 MB まで）") && big.contains("保守契約書"), big::toString);
        // larger than the gate reads: refused before any page code
        b.get(LIST);
        // (declared length past the limit: refused before the body is asked for, so no half-sent upload is cut off)
        Map<String, String> form = new java.util.LinkedHashMap<>(b.last().hiddenFields(UPLOAD));
        form.putAll(fields("contract", "x", "", ""));
        Browser.Page huge = b.postMultipart(UPLOAD, form, List.of(new Browser.FilePart("file", "huge.pdf",
                "application/pdf", concat(pdf("huge"), new byte[21 * 1024 * 1024]))), Map.of("Expect", "100-continue"));
        assertEquals(413, huge.status(), "the gate's limit");
        assertTrue(huge.contains("送信された内容が大きすぎます"), huge::toString);
        // too many parts; two files in one field
        b.get(LIST);
        Map<String, String> many = new LinkedHashMap<>(b.last().hiddenFields(UPLOAD));
        for (int i = 0; i < 60; i++) {
            many.put("f" + i, "x");
        }
        Browser.Page parts = b.postMultipart(UPLOAD, many, List.of(), Map.of());
        assertEquals(400, parts.status(), parts::toString);
        assertTrue(parts.contains("項目が多すぎます"), parts::toString);
        b.get(LIST);
        Browser.Page two = b.submitMultipart(UPLOAD, fields("bcp", "二つ", today(), ""),
                new Browser.FilePart("file", "a.pdf", "application/pdf", pdf("a")),
                new Browser.FilePart("file", "b.pdf", "application/pdf", pdf("b")));
        assertEquals(400, two.status(), two::toString);
        assertTrue(two.contains("1つの欄に送れるファイルは1つです"), two::toString);
        // the gate checks the token of a multipart form as of any form
        b.get(LIST);
        Map<String, String> noToken = new LinkedHashMap<>(b.last().hiddenFields(UPLOAD));
        noToken.remove("csrf");
        noToken.putAll(fields("bcp", "トークンなし", today(), ""));
        Browser.Page csrf = b.postMultipart(UPLOAD, noToken, List.of(new Browser.FilePart("file", "a.pdf",
                "application/pdf", pdf("csrf"))), Map.of());
        assertEquals(403, csrf.status(), csrf::toString);
        // another site's form is refused before the body is read
        Browser.Page evil = b.postMultipart(UPLOAD, b.get(LIST).hiddenFields(UPLOAD), List.of(new Browser.FilePart(
                "file", "a.pdf", "application/pdf", pdf("x"))), Map.of("Origin", "https://evil.example",
                "Sec-Fetch-Site", "cross-site"));
        assertEquals(403, evil.status(), evil::toString);
        // multipart where a route takes no files; a body that is neither form
        Browser.Page item = b.get("/console/compliance/item?id=onsite-inspection&v=2026&item=p1-k-2");
        Browser.Page notHere = b.postMultipart("/console/compliance/answer", item.hiddenFields(
                "/console/compliance/answer"), List.of(), Map.of());
        assertEquals(415, notHere.status(), notHere::toString);
        Browser.Page plain = b.postRaw(UPLOAD, "text/plain", "csrf=x".getBytes(StandardCharsets.UTF_8), Map.of());
        assertEquals(415, plain.status(), plain::toString);
        Browser.Page noBoundary = b.postRaw(UPLOAD, "multipart/form-data", "--x\r\n".getBytes(StandardCharsets.UTF_8),
                Map.of());
        assertEquals(400, noBoundary.status(), noBoundary::toString);
        // no session: nothing is read
        Browser stranger = new Browser(h.server, "stranger");
        Browser.Page anon = stranger.postMultipart(UPLOAD, Map.of("csrf", "x"), List.of(new Browser.FilePart("file",
                "a.pdf", "application/pdf", pdf("anon"))), Map.of());
        assertEquals(403, anon.status(), anon::toString);
        assertEquals(before, rows(), "nothing refused is recorded");
    }

    @Test
    void anAuditorReadsAndDownloadsButNeverUploadsAPhysicianIsRefused() {
        Browser.Page doc = upload("disclosure", "サービス仕様適合開示書（電子カルテ）", today(), "", "sds.pdf",
                "application/pdf", pdf("sds"));
        UUID id = idOf(doc);
        Browser.Page list = auditor.browser.get(LIST);
        assertEquals(200, list.status(), list::toString);
        assertTrue(list.contains("サービス仕様適合開示書（電子カルテ）") && !list.body().contains("action=\"" + UPLOAD + "\""),
                list::toString);
        Browser.Page page = auditor.browser.get(LIST + "/document?id=" + id);
        assertEquals(200, page.status(), page::toString);
        assertTrue(page.contains("閲覧とダウンロードのみです") && !page.body().contains("/documents/withdraw"), page::toString);
        assertEquals(200, auditor.browser.get(LIST + "/download?id=" + id + "&v=1").status());
        long before = rows();
        auditor.browser.get(LIST);
        Browser.Page post = auditor.browser.postMultipart(UPLOAD, Map.of("csrf", page.csrf(), "kind", "other",
                "title", "監査担当の文書"), List.of(new Browser.FilePart("file", "a.pdf", "application/pdf",
                pdf("auditor"))), Map.of());
        assertEquals(403, post.status(), "an auditor never uploads: " + post);
        // and the gate refuses them before it reads the body: a body past the gate's limit is a 403, not a 413,
        // answered without asking for the body (the client waits for 100 Continue, which never comes)
        Browser.Page hugeFromAuditor = auditor.browser.postMultipart(UPLOAD, Map.of("csrf", page.csrf(), "kind",
                "other", "title", "x"), List.of(new Browser.FilePart("file", "a.pdf", "application/pdf",
                new byte[21 * 1024 * 1024])), Map.of("Expect", "100-continue"));
        assertEquals(403, hugeFromAuditor.status(), "refused before the body is read: " + hugeFromAuditor);
        Browser.Page withdraw = auditor.browser.post(LIST + "/withdraw", Map.of("csrf", page.csrf(), "id",
                id.toString(), "reason", "x"), Map.of());
        assertEquals(403, withdraw.status(), withdraw::toString);
        assertEquals(before, rows());
        for (String path : List.of(LIST, LIST + "/document?id=" + id, LIST + "/download?id=" + id + "&v=1")) {
            Browser.Page refused = physician.browser.get(path);
            assertEquals(403, refused.status(), path + ": " + refused);
            assertFalse(refused.contains("サービス仕様適合開示書（電子カルテ）"), path);
        }
        // odd ids are plain not-founds
        assertEquals(404, h.admin.browser.get(LIST + "/document?id=%3Cscript%3E").status());
        assertEquals(404, h.admin.browser.get(LIST + "/download?id=" + id + "&v=9").status());
        assertEquals(404, h.admin.browser.get(LIST + "/download?id=" + UUID.randomUUID() + "&v=1").status());
    }

    @Test
    void anExpiredDocumentTurnsItsProbePartialAndItsItemAmberAndTheTableOnlyGrows() {
        String item = "/console/compliance/item?id=onsite-inspection&v=2026&item=p1-k-5-1";
        LocalDate today = LocalDate.now(Hospital.JST);
        Browser.Page doc = upload("bcp", "サイバー攻撃を想定したBCP", today.minusDays(400).toString(),
                today.minusDays(1).toString(), "bcp.pdf", "application/pdf", pdf("bcp-old"));
        assertEquals(200, doc.status(), doc::toString);
        UUID id = idOf(doc);
        Evidence e = h.server.server().probes().evaluate().stream().filter(x -> x.probeId().equals("documents.bcp"))
                .findFirst().orElseThrow();
        assertEquals(Evidence.Status.PARTIAL, e.status(), e::toString);
        assertTrue(e.summary().contains("期限切れ") && e.summary().contains("サイバー攻撃を想定したBCP"), e.summary());
        Browser.Page page = h.admin.browser.get(item);
        assertEquals(200, page.status(), page::toString);
        String body = page.body();
        int docs = body.indexOf("この項目の文書");
        assertTrue(docs > 0 && body.indexOf("サイバー攻撃を想定したBCP", docs) > 0, body);
        assertTrue(body.indexOf("class=\"state-warn\">" + new jp.mamori.chart.JpDates(Hospital.JST).date(
                today.minusDays(1)) + "に期限切れ", docs) > 0, "the expired document is amber: " + body);
        assertTrue(page.contains(e.summary().split(" / ")[0]), "the probe's evidence on the item");
        Browser.Page home = h.admin.browser.get("/console/home");
        assertTrue(home.contains("期限切れ・期限間近・未確認の安全管理文書") && home.body().contains(
                "href=\"/console/compliance/documents\""), "a reminder on the administrator's home: " + home);

        // reviewed again with a new expiry: a new version, the probe passes
        h.admin.browser.get(LIST + "/document?id=" + id);
        Map<String, String> renewed = fields("bcp", "サイバー攻撃を想定したBCP", today.toString(),
                today.plusYears(1).toString());
        Browser.Page changed = h.admin.browser.submitMultipart(LIST + "/change", renewed);
        assertEquals(200, changed.status(), changed::toString);
        assertTrue(changed.contains("新しい版を記録しました") && changed.contains("第2版") && changed.contains("第1版"),
                changed::toString);
        e = h.server.server().probes().evaluate().stream().filter(x -> x.probeId().equals("documents.bcp"))
                .findFirst().orElseThrow();
        assertEquals(Evidence.Status.PASS, e.status(), e::toString);

        // withdrawn without a reason: refused; with one: a version, the probe no longer knows of a BCP
        Browser.Page noReason = h.admin.browser.submit(LIST + "/withdraw", "reason", " ");
        assertEquals(400, noReason.status(), noReason::toString);
        assertTrue(noReason.contains("取り下げの理由を入力してください"), noReason::toString);
        Browser.Page withdrawn = h.admin.browser.submit(LIST + "/withdraw", "reason", "新しい BCP に統合したため");
        assertEquals(200, withdrawn.status(), withdrawn::toString);
        assertTrue(withdrawn.contains("取り下げ済み") && withdrawn.contains("新しい BCP に統合したため"), withdrawn::toString);
        assertEquals(3L, h.<Long>one("SELECT count(*) FROM compliance_document WHERE document_id = ?", id));
        e = h.server.server().probes().evaluate().stream().filter(x -> x.probeId().equals("documents.bcp"))
                .findFirst().orElseThrow();
        assertEquals(Evidence.Status.UNKNOWN, e.status(), e::toString);
        assertTrue(e.summary().startsWith("BCP・インシデント対応計画が登録されていません"), e.summary());

        // the runtime role may only read and add the bytes; the tables only grow, even for the superuser
        for (String privilege : List.of("UPDATE", "DELETE", "TRUNCATE")) {
            assertEquals(Boolean.FALSE, h.one("SELECT has_table_privilege('mamori_app', 'compliance_document_blob', ?)",
                    privilege), privilege);
        }
        for (String privilege : List.of("SELECT", "INSERT")) {
            assertEquals(Boolean.TRUE, h.one("SELECT has_table_privilege('mamori_app', 'compliance_document_blob', ?)",
                    privilege), privilege);
        }
        for (String sql : List.of("UPDATE compliance_document SET title = 'x'", "DELETE FROM compliance_document",
                "TRUNCATE compliance_document", "UPDATE compliance_document_blob SET size_bytes = 1",
                "DELETE FROM compliance_document_blob", "TRUNCATE compliance_document_blob CASCADE")) {
            try (var c = h.server.superuserConnection(); var st = c.createStatement()) {
                st.executeUpdate(sql);
                throw new AssertionError("changed in place: " + sql);
            } catch (java.sql.SQLException ex) {
                assertTrue(ex.getMessage().contains("is refused"), ex::getMessage);
            }
        }
    }
}
