package jp.mamori.web.console;

import jp.mamori.kernel.FhirError;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console's multipart reader (RFC 7578): fields, files, and each limit a refusal, never a truncation. */
class MultipartTest {
    private static final String TYPE = "multipart/form-data; boundary=----b0undary";

    private static byte[] body(String s) {
        return s.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsFieldsAndOneFilePerFieldAndSkipsAnEmptyFileInput() {
        Multipart.Parsed p = Multipart.parse(body("""
                ------b0undary
                Content-Disposition: form-data; name="csrf"

                tok
                ------b0undary
                Content-Disposition: form-data; name="title"

                運用管理規程
                ------b0undary
                Content-Disposition: form-data; name="file"; filename="規程.pdf"
                Content-Type: application/pdf

                %PDF-1.7
                body
                ------b0undary
                Content-Disposition: form-data; name="other"; filename=""
                Content-Type: application/octet-stream


                ------b0undary--
                """), TYPE);
        assertEquals(List.of("tok"), p.form().get("csrf"));
        assertEquals(List.of("運用管理規程"), p.form().get("title"));
        ConsoleRequest.Upload f = p.files().get("file");
        assertEquals("規程.pdf", f.fileName());
        assertEquals("application/pdf", f.claimedType());
        assertArrayEquals("%PDF-1.7\r\nbody".getBytes(StandardCharsets.US_ASCII), f.bytes());
        assertEquals(1, p.files().size(), "an empty file input is no file");
    }

    @Test
    void refusesWhatItCannotReadOrWhatIsTooMuch() {
        // no or an invalid boundary
        assertEquals(400, assertThrows(FhirError.class, () -> Multipart.parse(body("x"), "multipart/form-data"))
                .status());
        assertEquals(400, assertThrows(FhirError.class, () -> Multipart.parse(body("x"),
                "multipart/form-data; boundary=a\rb")).status());
        // a body that ends inside a part
        assertEquals(400, assertThrows(FhirError.class, () -> Multipart.parse(body("""
                ------b0undary
                Content-Disposition: form-data; name="a"

                never closed
                """), TYPE)).status());
        // a part without a name
        assertEquals(400, assertThrows(FhirError.class, () -> Multipart.parse(body("""
                ------b0undary
                Content-Type: text/plain

                x
                ------b0undary--
                """), TYPE)).status());
        // too many parts
        StringBuilder many = new StringBuilder();
        for (int i = 0; i <= Multipart.MAX_PARTS; i++) {
            many.append("------b0undary\nContent-Disposition: form-data; name=\"f").append(i).append("\"\n\nx\n");
        }
        many.append("------b0undary--\n");
        FhirError e = assertThrows(FhirError.class, () -> Multipart.parse(body(many.toString()), TYPE));
        assertTrue(e.getMessage().contains("項目が多すぎます"), e::getMessage);
        // two files in one field
        e = assertThrows(FhirError.class, () -> Multipart.parse(body("""
                ------b0undary
                Content-Disposition: form-data; name="file"; filename="a.pdf"

                a
                ------b0undary
                Content-Disposition: form-data; name="file"; filename="b.pdf"

                b
                ------b0undary--
                """), TYPE));
        assertTrue(e.getMessage().contains("1つの欄に送れるファイルは1つです"), e::getMessage);
        // text fields together larger than a urlencoded form may be
        String big = "x".repeat(Console.MAX_FORM + 1);
        e = assertThrows(FhirError.class, () -> Multipart.parse(body("------b0undary\nContent-Disposition: form-data;"
                + " name=\"note\"\n\n" + big + "\n------b0undary--\n"), TYPE));
        assertEquals(413, e.status());
        // text that is not UTF-8
        byte[] latin1 = "------b0undary\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n\u00e9\r\n------b0undary--\r\n"
                .getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(400, assertThrows(FhirError.class, () -> Multipart.parse(latin1, TYPE)).status());
        // over the request limit
        assertEquals(413, assertThrows(FhirError.class, () -> Multipart.parse(new byte[Multipart.MAX_REQUEST + 1],
                TYPE)).status());
    }
}
