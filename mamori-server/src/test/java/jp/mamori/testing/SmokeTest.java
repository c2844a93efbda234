package jp.mamori.testing;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SmokeTest {
    @Test
    void theSharedServerAnswersMetadataAndRefusesAnonymousReads() {
        TestServer s = TestServer.shared();
        HttpResponse<String> meta = s.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.base()
                + "/metadata")).GET().build());
        assertEquals(200, meta.statusCode());
        assertTrue(meta.body().contains("CapabilityStatement"));
        HttpResponse<String> anon = s.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.base()
                + "/Patient")).GET().build());
        assertEquals(401, anon.statusCode());
    }
}
