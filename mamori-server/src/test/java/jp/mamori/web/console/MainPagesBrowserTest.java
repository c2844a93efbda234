package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.records.RecordService;
import jp.mamori.testing.Accessibility;
import jp.mamori.testing.Browser;
import jp.mamori.testing.Screens;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.interactions.Actions;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every main page of the console, as the first administrator and as a physician see it, at 1280×800, 768×1024 and
 * 390×844 (issue 22): screenshots kept in target/screenshots/PAGE-WIDTH.png, no page scrolls sideways, and axe-core
 * finds no serious or critical accessibility violation (the whole list per page in target/accessibility/). All
 * findings are collected and reported together, so one run shows everything that is wrong.
 */
class MainPagesBrowserTest {
    @RegisterExtension
    static final ConsoleInBrowser console = new ConsoleInBrowser();

    private static String patient(TestServer server) {
        RecordService records = server.server().records();
        Caller system = Caller.system("browser-test");
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9000000201");
        for (String[] n : new String[][]{{"IDE", "渡邊", "美咲"}, {"SYL", "ワタナベ", "ミサキ"}}) {
            HumanName name = new HumanName().setText(n[1] + "\u3000" + n[2]).setFamily(n[1]).addGiven(n[2]);
            name.addExtension("http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", new CodeType(n[0]));
            p.addName(name);
        }
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1968-03-09"));
        String id = records.create(system, p, null, null).stored().id();
        double[] values = {6.9, 7.4, 7.1};
        for (int i = 0; i < values.length; i++) {
            Observation o = new Observation();
            o.setStatus(Observation.ObservationStatus.FINAL);
            o.setCode(new CodeableConcept().addCoding(new Coding("http://loinc.org", "4548-4", "HbA1c")).setText("HbA1c"));
            o.setSubject(new Reference("Patient/" + id));
            o.setEffective(new DateTimeType(Date.from(Instant.now().minus(90L - 30L * i, ChronoUnit.DAYS))));
            o.setValue(new Quantity().setValue(values[i]).setUnit("%").setSystem("http://unitsofmeasure.org").setCode("%"));
            o.addReferenceRange().setLow(new Quantity().setValue(4.6)).setHigh(new Quantity().setValue(6.2));
            records.create(system, o, null, null);
        }
        return id;
    }

    /** The header's menu links a person can see now (WebDriver's isDisplayed treats a closed details as hiding all). */
    private static long shownLinks(Browser b) {
        return ((Number) b.js("return [...document.querySelectorAll('header.top nav a')].filter(a => a.checkVisibility()"
                + " && a.getBoundingClientRect().width > 0).length;")).longValue();
    }

    /**
     * The header of an administrator's page (the longest menu): one line at 1280 px with every link shown; at 768
     * and 390 px one compact line whose links fold into a メニュー button that opens and closes by keyboard, with
     * a visible focus.
     */
    private static List<String> header(Browser b) {
        List<String> out = new ArrayList<>();
        try {
            for (int[] size : Screens.SIZES) {
                Screens.size(b, size[0], size[1]);
                Number height = (Number) b.js("return document.querySelector('header.top').getBoundingClientRect().height;");
                if (height.doubleValue() > 64) {
                    out.add("the header is " + height + " px high at " + size[0] + " px: more than one line");
                }
                boolean wide = size[0] >= 1280;
                int links = b.driver().findElements(By.cssSelector("header.top nav a")).size();
                long shown = shownLinks(b);
                boolean button = b.find("header.top summary").isDisplayed();
                if (wide && (shown != links || button)) {
                    out.add("at " + size[0] + " px every link is shown without a menu button: " + shown + " of "
                            + links + " shown, button " + button);
                }
                if (!wide) {
                    if (shown != 0 || !button) {
                        out.add("at " + size[0] + " px the links fold into the menu button: " + shown + " shown, button "
                                + button);
                        continue;
                    }
                    // by keyboard: Tab from the brand reaches the button, Enter opens, Tab reaches the first link
                    b.js("document.querySelector('header.top .brand').focus();");
                    new Actions(b.driver()).sendKeys(Keys.TAB).perform();
                    Object focused = b.js("const e = document.activeElement; return e.tagName + ':'"
                            + " + getComputedStyle(e).outlineStyle;");
                    if (!"SUMMARY:solid".equals(focused)) {
                        out.add("at " + size[0] + " px Tab from the brand focuses the menu button visibly: " + focused);
                    }
                    new Actions(b.driver()).sendKeys(Keys.ENTER).perform();
                    long open = shownLinks(b);
                    Screens.capture(b, "menu-open-" + size[0]);
                    new Actions(b.driver()).sendKeys(Keys.TAB).perform();
                    Object first = b.js("return document.activeElement.getAttribute('href');");
                    if (open != links || !"/console/home".equals(first)) {
                        out.add("at " + size[0] + " px Enter opens the menu (" + open + " of " + links
                                + " links shown) and Tab reaches its first link (" + first + ")");
                    }
                    new Actions(b.driver()).sendKeys(Keys.ESCAPE).perform();
                    if (shownLinks(b) != 0) {
                        out.add("at " + size[0] + " px Escape closes the menu");
                    }
                }
            }
        } finally {
            Screens.reset(b);
        }
        return out;
    }

    @Test
    void axeRunsUnderTheConsolesContentSecurityPolicy() {
        Browser b = console.browser();
        b.open("/console/login");
        // The page's policy forbids inline scripts: one added to the page does not run ...
        Object ran = b.js("const s = document.createElement('script'); s.textContent = 'window.inlineRan = true;';"
                + " document.head.appendChild(s); return window.inlineRan === true ? true : null;");
        assertNull(ran, "the console's CSP blocks inline scripts");
        // ... yet axe-core, evaluated through the DevTools protocol, runs and reports.
        List<Accessibility.Violation> v = Accessibility.check(b);
        assertTrue(v.stream().noneMatch(Accessibility.Violation::serious), v.toString());
        assertEquals(Boolean.TRUE, b.js("return typeof window.axe === 'object';"));
    }

    @Test
    void everyMainPageAtThreeSizesIsAccessibleAndNeverScrollsSideways() throws Exception {
        TestServer server = console.server();
        Browser b = console.browser();
        List<String> problems = new ArrayList<>();

        b.open("/console/setup");
        problems.addAll(Screens.problems(b, "setup"));
        ConsoleSteps.setUpFirstAdministrator(b, server, "kanri.main");
        problems.addAll(Screens.problems(b, "enrol-factor"));
        ConsoleSteps.enrolTotp(b);
        problems.addAll(Screens.problems(b, "recovery-codes"));
        ConsoleSteps.continueToHome(b);
        problems.addAll(Screens.problems(b, "home-admin"));
        problems.addAll(header(b));
        for (String[] page : new String[][]{{"/console/admin/accounts", "admin-accounts"},
                {"/console/admin/accounts/new", "admin-account-new"}, {"/console/admin/access", "admin-access"},
                {"/console/admin/care", "admin-care"}, {"/console/admin/break-glass", "admin-break-glass"},
                {"/console/audit", "audit"}, {"/console/me", "me"}, {"/console/break-glass", "break-glass"},
                {"/console/no-such-page", "error-404"}}) {
            b.open(page[0]);
            problems.addAll(Screens.problems(b, page[1]));
        }
        b.open("/console/home");
        ConsoleSteps.logOut(b);
        problems.addAll(Screens.problems(b, "login"));

        String pt = patient(server);
        UUID me = ConsoleSteps.enrolWithCode(b, server, "ishi.main", false);
        ConsoleSteps.enrolTotp(b);
        ConsoleSteps.continueToHome(b);
        ConsoleSteps.physicianFor(server, me, pt);
        b.open("/console/home");
        problems.addAll(Screens.problems(b, "home-physician"));
        b.open("/console/patients");
        b.fill("/console/patients", "name", "わたなべ").submit("検索");
        problems.addAll(Screens.problems(b, "patient-search"));
        b.open("/console/patients/" + pt);
        problems.addAll(Screens.problems(b, "chart"));
        b.driver().findElement(By.linkText("経過記録を書く")).click();
        problems.addAll(Screens.problems(b, "note-form"));
        b.fill("/console/notes/save", "s", "2週間前から口渇と多尿。\n体重減少なし。")
                .fill("/console/notes/save", "o", "BMI 24.1、血圧 132/84 mmHg。")
                .fill("/console/notes/save", "a", "2型糖尿病、コントロールやや不良。")
                .fill("/console/notes/save", "p", "食事指導。4週後再診。").submit("下書き保存");
        assertTrue(b.path().startsWith("/console/documents/"), b.text());
        problems.addAll(Screens.problems(b, "document"));
        b.open("/console/admin/accounts");
        assertEquals(403, b.status());
        problems.addAll(Screens.problems(b, "error-403"));

        assertTrue(problems.isEmpty(), problems.size() + " problem(s):\n" + String.join("\n", problems));
    }
}
