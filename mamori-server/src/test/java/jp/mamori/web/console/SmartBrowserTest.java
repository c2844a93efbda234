package jp.mamori.web.console;

import com.nimbusds.oauth2.sdk.AccessTokenResponse;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.AuthorizationRequest;
import com.nimbusds.oauth2.sdk.AuthorizationResponse;
import com.nimbusds.oauth2.sdk.AuthorizationSuccessResponse;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import jp.mamori.access.Caller;
import jp.mamori.kernel.QueryString;
import jp.mamori.testing.Browser;
import jp.mamori.testing.Screens;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SMART on FHIR in a real Chromium (issue 21): the administrator registers an app (with the step-up), launches it from
 * a patient's chart (EHR launch), then, signed out, follows an app's authorization request: the browser signs in with
 * the second factor, comes back to the consent page in Japanese, allows, and is sent to the app's redirect URI with
 * the code, which a real OAuth client (Nimbus) exchanges for a token that reads the launch patient. Screenshots of the
 * registration, the launch page and the consent page at 1280, 768 and 390 px (target/screenshots/smart-*.png). Then
 * the person's own account page lists the app in words and revokes it, which ends its tokens at once (smart-mine-*).
 */
class SmartBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    private static final String REDIRECT = "http://127.0.0.1:9/callback";

    @Test
    void anAdministratorRegistersAnAppLaunchesItAndConsents() throws Exception {
        Browser b = console.browser();
        ConsoleSteps.setUpFirstAdministrator(b, console.server(), "kanri.smart");
        ConsoleSteps.App totp = ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        UUID me = (UUID) one("SELECT account_id FROM account WHERE login_id = 'kanri.smart'");
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9200000001");
        p.addName().setFamily("山田").addGiven("花子").setText("山田\u3000花子");
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1970-04-01"));
        String patient = console.server().server().records().create(Caller.system("test"), p, null, null).stored().id();
        ConsoleSteps.physicianFor(console.server(), me, patient);

        // registration
        b.open("/console/home");
        b.find("#smart-apps-link").click();
        assertEquals("/console/admin/smart-apps", b.path());
        b.fill("/console/admin/smart-apps", "name", "血糖トレンドビューア")
                .fill("/console/admin/smart-apps", "redirects", REDIRECT)
                .fill("/console/admin/smart-apps", "launch_url", "http://127.0.0.1:9/launch")
                .fill("/console/admin/smart-apps", "scopes", "user/*.rs patient/*.rs launch launch/patient offline_access");
        b.submit("登録する");
        if (b.path().equals("/console/step-up")) {
            b.fill("/console/step-up", "code", totp.nextCode()).submit("確認");
        }
        assertTrue(b.text().contains("「血糖トレンドビューア」を登録しました"), b.text());
        Screens.check(b, "smart-apps");
        String clientId = (String) one("SELECT client_id FROM smart_app WHERE name = '血糖トレンドビューア'");

        // EHR launch from the chart
        b.open("/console/patients/" + patient);
        b.find("#launch-app").click();
        assertEquals("/console/smart/launch", b.path());
        assertTrue(b.text().contains("山田"), b.text());
        Screens.check(b, "smart-launch");
        b.button("「血糖トレンドビューア」を起動する").click();
        b.waitFor(d -> d.getCurrentUrl().startsWith("http://127.0.0.1:9/launch"), Duration.ofSeconds(20));
        Map<String, List<String>> launch = QueryString.parse(URI.create(b.driver().getCurrentUrl()).getRawQuery());
        assertEquals(console.server().base(), launch.get("iss").get(0));

        // signed out, the app's request leads through sign-in to the consent page
        b.open("/console/home");
        ConsoleSteps.logOut(b);
        CodeVerifier verifier = new CodeVerifier();
        State state = new State();
        URI request = new AuthorizationRequest.Builder(new ResponseType(ResponseType.Value.CODE),
                new ClientID(clientId)).endpointURI(URI.create(console.server().consoleOrigin() + "/oauth/authorize"))
                .redirectionURI(URI.create(REDIRECT)).scope(Scope.parse("launch patient/*.rs offline_access"))
                .state(state).codeChallenge(verifier, CodeChallengeMethod.S256)
                .customParameter("aud", console.server().base())
                .customParameter("launch", launch.get("launch").get(0)).build().toURI();
        b.open(request.toString());
        b.waitForPath("/console/login", Duration.ofSeconds(20));
        b.fill("/console/login", "login_id", "kanri.smart").fill("/console/login", "password", ConsoleSteps.PASSWORD)
                .submit("次へ（二要素認証）");
        b.fill("/console/login/factor", "code", totp.nextCodeInWindow()).submit("ログイン");
        assertEquals("/console/smart/authorize", b.path(), "back to the app's request: " + b.text());
        String page = b.text();
        assertTrue(page.contains("「血糖トレンドビューア」があなたの代わりに診療情報を扱う許可を求めています")
                && page.contains("山田") && page.contains("すべての種類の診療情報：参照・検索（選ばれた患者のみ）"), page);
        Screens.check(b, "smart-consent");
        b.click("許可する");
        b.waitFor(d -> d.getCurrentUrl().startsWith(REDIRECT), Duration.ofSeconds(20));
        AuthorizationResponse answer = AuthorizationResponse.parse(URI.create(b.driver().getCurrentUrl()));
        assertTrue(answer.indicatesSuccess());
        assertEquals(state, answer.getState());

        TokenResponse t = TokenResponse.parse(new TokenRequest(URI.create(console.server().base()
                .replaceFirst("/fhir$", "") + "/oauth/token"), new ClientID(clientId), new AuthorizationCodeGrant(
                ((AuthorizationSuccessResponse) answer).getAuthorizationCode(), URI.create(REDIRECT), verifier))
                .toHTTPRequest().send());
        assertTrue(t.indicatesSuccess(), () -> t.toErrorResponse().getErrorObject().toJSONObject().toString());
        AccessTokenResponse ok = t.toSuccessResponse();
        assertEquals(patient, ok.getCustomParameters().get("patient"));
        HttpResponse<String> read = console.server().send(HttpRequest.newBuilder(URI.create(console.server().base()
                + "/Patient/" + patient)).header("Authorization", "Bearer " + ok.getTokens().getAccessToken()
                .getValue()).GET().build());
        assertEquals(200, read.statusCode(), read::body);

        // the person's own account page lists the app they allowed, in words, and revokes it (CSRF-protected form)
        b.open("/console/me");
        String mine = b.find("#my-apps").getText();
        assertTrue(mine.contains("血糖トレンドビューア") && mine.contains("すべての種類の診療情報：参照・検索（選ばれた患者のみ）")
                && mine.contains("ログアウト後も使える更新トークン"), mine);
        assertTrue(mine.matches("(?s).*\\d{4}年\\d{1,2}月\\d{1,2}日.*"), "Japanese dates: " + mine);
        assertTrue(!mine.contains("patient/") && !mine.contains(clientId), "no raw scope codes or ids: " + mine);
        assertTrue(!mine.contains("まだ使われていません"), "the read just made counts as a use: " + mine);
        Screens.check(b, "smart-mine");
        Screens.size(b, 820, 1180);
        Screens.capture(b, "smart-mine-820");
        Screens.reset(b);
        b.button("許可を取り消す").click();
        b.waitForPath("/console/me", Duration.ofSeconds(20));
        assertTrue(b.text().contains("アプリの許可を取り消しました"), b.text());
        assertTrue(b.find("#no-apps").getText().contains("利用を許可しているアプリはありません"), b.text());
        Screens.check(b, "smart-mine-revoked");
        HttpResponse<String> after = console.server().send(HttpRequest.newBuilder(URI.create(console.server().base()
                + "/Patient/" + patient)).header("Authorization", "Bearer " + ok.getTokens().getAccessToken()
                .getValue()).GET().build());
        assertEquals(401, after.statusCode(), "every token of the grant ends at once");
        TokenResponse refreshed = TokenResponse.parse(new TokenRequest(URI.create(console.server().base()
                .replaceFirst("/fhir$", "") + "/oauth/token"), new ClientID(clientId),
                new com.nimbusds.oauth2.sdk.RefreshTokenGrant(ok.getTokens().getRefreshToken())).toHTTPRequest().send());
        assertTrue(!refreshed.indicatesSuccess(), "the refresh token too");
        assertEquals("revoked by the person", one("SELECT revoked_reason FROM smart_grant WHERE client_id = '"
                + clientId + "' AND revoked_at IS NOT NULL LIMIT 1"));
        for (int i = 0; i < 100 && one("SELECT count(*) FROM audit_entry WHERE action = 'smart.revoke' AND outcome ="
                + " 'success'").equals(0L); i++) {
            Thread.sleep(100);
        }
        assertEquals(1L, one("SELECT count(*) FROM audit_entry WHERE action = 'smart.revoke' AND outcome = 'success'"
                + " AND actor = 'account:kanri.smart' AND convert_from(entry, 'UTF8') LIKE '%" + clientId + "%'"),
                "audited as the person's own revocation");
    }

    private static Object one(String sql) throws Exception {
        try (java.sql.Connection c = console.server().superuserConnection();
             java.sql.ResultSet rs = c.createStatement().executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
        }
    }
}
