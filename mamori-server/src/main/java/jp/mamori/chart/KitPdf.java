package jp.mamori.chart;

import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.AccessPermission;
import org.apache.pdfbox.pdmodel.encryption.StandardProtectionPolicy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The downtime kit of one ward or department on paper (issue 18 §3; BACKUP-12 "the minimum information for care"):
 * a list of its patients, then for each patient the banner (name, kana, 患者ID, sex, age, stay), allergies and
 * infections, active problems, current medications, the latest results and vital signs, and the last notes. Every
 * page says when it was made and that it is not live.
 *
 * <p>The file is encrypted with AES-256 (PDF 2.0 standard security handler, 256-bit key) under the ward's password, so
 * that opening it needs only a PDF reader and the password the ward's leader holds; the owner password is random and
 * forgotten, and the reader may print and copy (paper is what downtime runs on). It knows nothing of records.
 */
public final class KitPdf {
    private KitPdf() {
    }

    /** One note: when, its title, who wrote it and its text (already cut to a length for paper). */
    public record Note(String when, String title, String author, String text) {
    }

    /**
     * One patient.
     *
     * @param stay        e.g. "入院中（3階東病棟、2026年12月1日入院）" or "外来（本日 10:30）"
     * @param results     rows of [test, value with unit and flag, when], newest first
     */
    public record Patient(String name, String kana, String patientId, String sex, String age, String stay,
                          List<String> allergies, List<String> infections, List<String> problems,
                          List<String> medications, List<List<String>> results, List<Note> notes) {
        public Patient {
            allergies = List.copyOf(allergies);
            infections = List.copyOf(infections);
            problems = List.copyOf(problems);
            medications = List.copyOf(medications);
            results = List.copyOf(results);
            notes = List.copyOf(notes);
        }
    }

    /** The kit of one place, made at {@code madeAt}. */
    public record Kit(String institution, String place, Instant madeAt, List<Patient> patients) {
        public Kit {
            patients = List.copyOf(patients);
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * The kit as a PDF encrypted with AES-256 under {@code password}.
     *
     * @throws IllegalArgumentException when the password is empty
     */
    public static byte[] render(Kit kit, String password, JpDates dates) {
        if (password == null || password.isEmpty()) {
            throw new IllegalArgumentException("a downtime kit is never written without its password");
        }
        String title = "縮退用資料 " + kit.place();
        try (PDDocument doc = new PDDocument(); PdfFont font = PdfFont.load(doc)) {
            PdfLayout l = new PdfLayout(doc, font);
            String made = dates.dateTimeWithZone(kit.madeAt(), JpDates.Lang.JA);
            l.heading(title + " / Downtime kit", 15);
            l.paragraph("作成日時 " + made + " 時点の情報です。以後の記録は含まれません。", PdfLayout.BODY, 0);
            l.paragraph("As of " + dates.dateTimeWithZone(kit.madeAt(), JpDates.Lang.EN)
                    + ". Later entries are not included.", 8, 0);
            l.paragraph("患者数 " + kit.patients().size() + " 名", PdfLayout.BODY, 0);
            l.space(6);
            List<List<String>> index = new ArrayList<>();
            for (Patient p : kit.patients()) {
                index.add(List.of(p.patientId(), p.name(), p.kana(), p.sex() + " " + p.age(), p.stay()));
            }
            l.table(new float[]{0.16f, 0.2f, 0.2f, 0.14f, 0.3f}, List.of("患者ID", "氏名", "カナ", "性別・年齢", "区分"),
                    index, 8.5f);
            for (Patient p : kit.patients()) {
                l.space(10);
                l.heading(p.name() + "（" + p.kana() + "）　患者ID " + p.patientId(), 13);
                l.paragraph("性別 " + p.sex() + "　年齢 " + p.age() + "　" + p.stay(), PdfLayout.BODY, 0);
                list(l, "アレルギー / Allergies", p.allergies());
                list(l, "感染症 / Infections", p.infections());
                list(l, "病名（活動中） / Active problems", p.problems());
                list(l, "現在の処方 / Current medications", p.medications());
                l.paragraph("検査結果・バイタルサイン（最新） / Latest results and vital signs", 10.5f, 0);
                l.table(new float[]{0.4f, 0.3f, 0.3f}, List.of("項目", "値", "日時"), p.results(), 8.5f);
                l.paragraph("最近の記録 / Last notes", 10.5f, 0);
                if (p.notes().isEmpty()) {
                    l.paragraph(PdfLayout.NONE, PdfLayout.BODY, 6);
                }
                for (Note n : p.notes()) {
                    l.paragraph(n.when() + "　" + n.title() + (n.author().isEmpty() ? "" : "　" + n.author()),
                            9.5f, 6);
                    l.paragraph(n.text(), 9, 14);
                }
            }
            l.finish();
            l.frame(kit.institution() + "　" + title, List.of(made + " 時点（最新ではありません / not live）　取扱注意：患者情報"));
            AccessPermission may = new AccessPermission();
            may.setCanModify(false);
            may.setCanModifyAnnotations(false);
            may.setCanFillInForm(false);
            may.setCanAssembleDocument(false);
            byte[] owner = new byte[32];
            RANDOM.nextBytes(owner);
            StandardProtectionPolicy policy = new StandardProtectionPolicy(
                    Base64.getUrlEncoder().withoutPadding().encodeToString(owner), password, may);
            policy.setEncryptionKeyLength(256);
            policy.setPreferAES(true);
            doc.protect(policy);
            return PdfLayout.save(doc, title, "縮退用資料 / downtime kit", kit.madeAt(), dates.zone());
        } catch (IOException e) {
            throw new UncheckedIOException("the downtime kit could not be written", e);
        }
    }

    private static void list(PdfLayout l, String heading, List<String> items) {
        l.paragraph(heading, 10.5f, 0);
        if (items.isEmpty()) {
            l.paragraph(PdfLayout.NONE, PdfLayout.BODY, 6);
        }
        for (String i : items) {
            l.paragraph("・" + i, PdfLayout.BODY, 6);
        }
        l.space(3);
    }
}
