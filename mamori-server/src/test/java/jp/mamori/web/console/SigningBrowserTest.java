package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.cli.Main;
import jp.mamori.testing.Browser;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import jp.mamori.testing.pki.TestPki;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A physician signs at 確定保存 in a real Chromium (issue 17): the note form asks for the signing PIN and names the
 * key; a wrong PIN keeps the note a draft with the text and a message in Japanese; the right one finalizes and the
 * document page shows who signed, with which qualification, at the time-stamp's time, at which level. Screenshots
 * of the form and the document at desktop, tablet and phone widths go to target/screenshots/signing-*.png, and
 * nothing sticks out sideways at any width.
 */
class SigningBrowserTest {
    private static final String PIN = "2468-1357";
    private static final Path TRUST = TestPki.get().trustDir();

    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser("--signature-trust-dir", TRUST.toString(),
            "--signature-tsa-url", TestPki.get().tsaUrl().toString());
    private TestServer server;
    private Browser browser;

    @BeforeEach
    void bind() {
        server = console.server();
        browser = console.browser();
    }

    /** A screenshot of the whole page at {@code width}; asserts that nothing sticks out sideways. */
    private void shoot(int width, String name) {
        browser.driver().manage().window().setSize(new Dimension(width, 900));
        long height = ((Number) browser.js("return document.documentElement.scrollHeight;")).longValue();
        browser.driver().manage().window().setSize(new Dimension(width, (int) Math.min(height + 120, 6000)));
        long scrollWidth = ((Number) browser.js("return document.documentElement.scrollWidth;")).longValue();
        long viewport = ((Number) browser.js("return document.documentElement.clientWidth;")).longValue();
        assertTrue(scrollWidth <= viewport, name + ": the page is " + scrollWidth + " px wide in a " + viewport
                + " px window");
        browser.screenshot(name);
    }

    private void shootAllWidths(String name) {
        shoot(1280, name + "-desktop");
        shoot(820, name + "-tablet");
        shoot(390, name + "-phone");
        browser.driver().manage().window().setSize(new Dimension(1280, 900));
    }

    @Test
    void aPhysicianSignsWithThePinAndSeesWhoSignedWhenAndHow() throws Exception {
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9000000177");
        p.addName().setText("中村\u3000陽子").setFamily("中村").addGiven("陽子");
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1975-03-03"));
        String pt = server.server().records().create(Caller.system("browser-test"), p, null, null).stored().id();

        UUID me = ConsoleSteps.enrolWithCode(browser, server, "ishi.sign", false);
        ConsoleSteps.enrolTotp(browser);
        ConsoleSteps.continueToHome(browser);
        ConsoleSteps.physicianFor(server, me, pt);
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO account_qualification (account_id, qualification,"
                     + " licence_number) VALUES (?, 'physician', '917177')")) {
            ps.setObject(1, me);
            ps.executeUpdate();
        }
        // the enrolled person is 佐藤 一郎: a physician's certificate in that name, as a PIN-protected file
        Path p12 = TestPki.get().signer("佐藤 一郎", "Medical Doctor")
                .writePkcs12(Files.createDirectories(TestData.newFolder("keys-")).resolve("sato.p12"),
                        PIN.toCharArray());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            code = Main.run(List.of("signing-key", "add", "--data", server.dataDir().toString(), "--account",
                    "ishi.sign", "--pkcs12", p12.toString(), "--signature-trust-dir", TRUST.toString(),
                    "--signature-tsa-url", TestPki.get().tsaUrl().toString()), o, o, Map.of("MAMORI_SIGNING_PIN", PIN));
        }
        assertEquals(0, code, out.toString(StandardCharsets.UTF_8));

        browser.open("/console/patients/" + pt + "/notes/new");
        browser.fill("/console/notes/save", "s", "動悸の訴え。夜間に増悪。")
                .fill("/console/notes/save", "o", "脈拍 88 整、血圧 132/80。")
                .fill("/console/notes/save", "a", "発作性上室頻拍の疑い")
                .fill("/console/notes/save", "p", "ホルター心電図を予約。");
        assertTrue(browser.find("#signing-key").getText().contains("佐藤 一郎") && browser.text().contains("医師"),
                browser.text());
        shootAllWidths("signing-note-form");

        browser.fill("/console/notes/save", "pin", "0000-0000").submit("確定保存");
        assertTrue(browser.text().contains("PIN が正しくありません"), browser.text());
        assertTrue(browser.find("#soap-p").getAttribute("value").contains("ホルター心電図"), "the text is kept");
        shoot(1280, "signing-wrong-pin");

        browser.fill("/console/notes/save", "pin", PIN).submit("確定保存");
        assertTrue(browser.path().startsWith("/console/documents/"), browser.text());
        String signatures = browser.find("#signatures").getText();
        assertTrue(signatures.contains("佐藤 一郎（医師）") && signatures.contains("B-T")
                && signatures.matches("(?s).*20[0-9]{2}年[0-9]{1,2}月[0-9]{1,2}日 [0-9]{2}:[0-9]{2}.*"), signatures);
        assertTrue(browser.driver().findElements(By.cssSelector("#signatures .signature-ok")).size() == 1,
                browser.text());
        shootAllWidths("signing-document");
    }
}
