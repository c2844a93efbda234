package jp.mamori.compliance.web;

import jp.mamori.web.Reply;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The download's headers: attachment with both file names, the detected type only, not sniffed, sandboxed. */
class DocumentPagesTest {
    @Test
    void aDownloadIsAnAttachmentWithAnAsciiAndAnRfc5987Name() {
        Reply r = DocumentPages.attachment("application/pdf", "運用管理規程 \"第3版\";.pdf", new byte[]{1});
        assertEquals("application/pdf", r.contentType());
        assertEquals("attachment; filename=\"______ __3___.pdf\"; filename*=UTF-8''%E9%81%8B%E7%94%A8%E7%AE%A1%E7%90%86"
                + "%E8%A6%8F%E7%A8%8B%20%22%E7%AC%AC3%E7%89%88%22%3B.pdf", r.headers().get("Content-Disposition"));
        assertEquals("nosniff", r.headers().get("X-Content-Type-Options"));
        assertEquals("sandbox", r.headers().get("Content-Security-Policy"));
        assertEquals("application/octet-stream", DocumentPages.attachment("text/html", "a", new byte[0]).contentType(),
                "never HTML");
    }
}
