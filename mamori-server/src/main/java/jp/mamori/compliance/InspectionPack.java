package jp.mamori.compliance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.chart.BookPdf;
import jp.mamori.chart.JpDates;
import jp.mamori.kernel.Csv;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The inspection pack (立入検査用の資料, issue 20 "Outputs"; GOV-6 a conformity checklist usable with third parties, GOV-5
 * results a third party can verify): one framework version as the inspector reads it — each item quoted as the framework has it, with the
 * responsible party (責任分界), the answer in force, the date checked, the target date of a いいえ, the reviewer, and
 * the live evidence of the probes (status in words, summary, time) — then the registers the checklist asks about
 * ({@link PackSection}, given by whoever keeps them) and the deviations from the secure defaults.
 *
 * <p>Three renderings of the same content: a Japanese PDF ({@link BookPdf}, the bundled font; the caller seals it),
 * CSV for a spreadsheet ({@link Csv}: UTF-8 with BOM, RFC 4180, formulas neutralised), and OSCAL 1.1.2 assessment
 * results in JSON (docs/compliance-pack.md says which parts are filled and which cannot be, honestly).
 */
public final class InspectionPack {
    public static final String OSCAL_VERSION = "1.1.2";
    /** The namespace of our own OSCAL properties. */
    public static final String NS = "https://github.com/mamori-ehr/mamori/ns/oscal";
    static final String UNANSWERED = "未回答";

    /** One item with its answer in force (null: none) and its probes' evidence (each probe once). */
    public record Line(String section, Framework.Item item, Answers.Current answer, List<Evidence> evidence) {
    }

    private final Framework fw;
    private final List<Line> lines;
    private final List<PackSection> registers;
    private final List<String> deviations;
    private final String institution;
    private final String producedBy;
    private final Instant at;
    private final JpDates dates;

    private InspectionPack(Framework fw, List<Line> lines, List<PackSection> registers, List<String> deviations,
                           String institution, String producedBy, Instant at, ZoneId zone) {
        this.fw = fw;
        this.lines = lines;
        this.registers = registers;
        this.deviations = deviations;
        this.institution = institution;
        this.producedBy = producedBy;
        this.at = at;
        this.dates = new JpDates(zone);
    }

    /**
     * Assembles the pack. An evidence source that fails for a requirement gives no evidence for it (the pack is still
     * made; the item then shows none, as the console does).
     *
     * @param institution the institution's name ({@code --institution-name}) or this host's
     * @param producedBy  who produced it, as printed ("氏名（ログインID）")
     */
    public static InspectionPack of(Framework fw, Map<String, Answers.Current> answers, EvidenceSource source,
                                    List<PackSection> registers, List<String> deviations, String institution,
                                    String producedBy, Instant at, ZoneId zone) {
        List<Line> lines = new ArrayList<>();
        for (Framework.Section s : fw.sections()) {
            for (Framework.Item it : fw.items()) {
                if (it.section().equals(s.id())) {
                    lines.add(new Line(s.titleJa(), it, answers.get(it.id()), source.forItem(it)));
                }
            }
        }
        return new InspectionPack(fw, List.copyOf(lines), registers == null ? List.of() : List.copyOf(registers),
                deviations == null ? List.of() : List.copyOf(deviations), institution, producedBy,
                at.truncatedTo(ChronoUnit.SECONDS), zone);
    }

    public List<Line> lines() {
        return lines;
    }

    public Framework framework() {
        return fw;
    }

    /** A probe's status in words, as the pack prints it. */
    public static String statusJa(Evidence.Status s) {
        return switch (s) {
            case PASS -> "適合";
            case PARTIAL -> "一部適合";
            case FAIL -> "不適合";
            case UNKNOWN -> "確認できず";
        };
    }

    /** The responsible party in words. */
    static String partyJa(String party) {
        return "共同".equals(party) ? "共同（医療機関と事業者）" : party;
    }

    private String answerJa(Line l) {
        return l.answer() == null ? UNANSWERED : l.answer().entry().answer().ja;
    }

    private String date(LocalDate d) {
        return d == null ? "" : dates.date(d, JpDates.Lang.JA);
    }

    private String carried(Line l) {
        return l.answer() != null && l.answer().carried() ? "前の版（" + l.answer().fromVersion() + "）の回答を引き継ぎ"
                : "";
    }

    private String evidenceLine(Evidence e) {
        return statusJa(e.status()) + "：" + e.summary() + "（" + dates.dateTime(e.at(), JpDates.Lang.JA) + " 時点）";
    }

    /** The file name of a rendering, e.g. {@code mamori-pack-onsite-inspection-2026.pdf}. */
    public String fileName(String extension) {
        return "mamori-pack-" + (fw.id() + "-" + fw.version()).replaceAll("[^A-Za-z0-9._-]", "_") + "." + extension;
    }

    private String title() {
        return fw.titleJa() + "（" + fw.fiscalYearJa() + "）";
    }

    // ---- PDF ----------------------------------------------------------------------------------------------------

    /** The pack as a Japanese PDF (unsealed: the caller seals it with the institution's seal when one exists). */
    public byte[] pdf() {
        float body = BookPdf.BODY;
        List<BookPdf.Block> b = new ArrayList<>();
        b.add(new BookPdf.Gap(40));
        b.add(new BookPdf.Heading("安全管理の点検資料（立入検査用）", 20));
        b.add(new BookPdf.Gap(12));
        b.add(new BookPdf.Text(institution, 14, 0));
        b.add(new BookPdf.Gap(8));
        b.add(new BookPdf.Text(title(), 13, 0));
        b.add(new BookPdf.Text("出典：" + fw.source().document()
                + (fw.source().date() == null ? "" : "（" + fw.source().date() + "）"), body, 0));
        b.add(new BookPdf.Gap(12));
        b.add(new BookPdf.Text("作成日時：" + dates.dateTimeWithZone(at, JpDates.Lang.JA), 11, 0));
        b.add(new BookPdf.Text("作成者：" + producedBy, 11, 0));
        b.add(new BookPdf.Gap(16));
        b.add(new BookPdf.Heading("概要", 13));
        b.add(new BookPdf.Text(counts(), body + 1, 0));
        b.add(new BookPdf.Text(evidenceCounts(), body + 1, 0));
        b.add(new BookPdf.Gap(10));
        b.add(new BookPdf.Text("目次　1. チェックリストの回答とシステムによる確認　2. 台帳　3. 安全な既定値からの逸脱", body, 0));
        b.add(new BookPdf.Text("各項目の文言はチェックリストの原文のままです。「システムによる確認」は Mamori が稼働中のシステムから"
                + "自動で判定した結果で、判定した日時を併記しています。", body - 1, 0));
        b.add(new BookPdf.PageBreak());

        b.add(new BookPdf.Heading("1. チェックリストの回答とシステムによる確認", 15));
        String section = null;
        for (Line l : lines) {
            if (!l.section().equals(section)) {
                section = l.section();
                b.add(new BookPdf.Gap(6));
                b.add(new BookPdf.Heading(section, 13));
            }
            Framework.Item it = l.item();
            b.add(new BookPdf.Heading(it.number() + "　" + (it.title() == null ? "" : it.title()), 10.5f));
            b.add(new BookPdf.Text("「" + it.text() + "」", body, 8));
            StringBuilder a = new StringBuilder("責任主体：" + partyJa(it.party()) + "　回答：" + answerJa(l));
            if (l.answer() != null) {
                Answers.Entry e = l.answer().entry();
                a.append("　確認日：").append(date(e.checked()));
                if (e.target() != null) {
                    a.append("　対応予定日：").append(date(e.target()));
                }
                a.append("　確認者：").append(e.reviewerName());
                if (l.answer().carried()) {
                    a.append("　（").append(carried(l)).append("）");
                }
            }
            b.add(new BookPdf.Text(a.toString(), body, 8));
            if (l.answer() != null && l.answer().entry().note() != null) {
                b.add(new BookPdf.Text("備考：" + l.answer().entry().note(), body, 8));
            }
            if (l.evidence().isEmpty()) {
                b.add(new BookPdf.Text("システムによる確認：なし（この項目を自動で判定する仕組みはありません）", body - 1, 8));
            } else {
                b.add(new BookPdf.Text("システムによる確認：", body - 1, 8));
                for (Evidence e : l.evidence()) {
                    b.add(new BookPdf.Text("・" + evidenceLine(e), body - 1, 16));
                }
            }
            b.add(new BookPdf.Gap(4));
        }

        b.add(new BookPdf.PageBreak());
        b.add(new BookPdf.Heading("2. 台帳", 15));
        if (registers.isEmpty()) {
            b.add(new BookPdf.Text("台帳は登録されていません（登録なし）。", body, 0));
        }
        for (PackSection s : registers) {
            b.add(new BookPdf.Heading(s.title(), 12));
            float[] w = new float[s.columns().size()];
            Arrays.fill(w, 1f / w.length);
            b.add(new BookPdf.Table(w, s.columns(), s.rows(), 8.5f));
            if (s.note() != null && !s.note().isBlank()) {
                b.add(new BookPdf.Text(s.note(), body - 1, 0));
            }
            b.add(new BookPdf.Gap(6));
        }

        b.add(new BookPdf.Gap(10));
        b.add(new BookPdf.Heading("3. 安全な既定値からの逸脱", 15));
        if (deviations.isEmpty()) {
            b.add(new BookPdf.Text("安全な既定値からの逸脱はありません。", body, 0));
        } else {
            b.add(new BookPdf.Text("次の設定は安全な既定値と異なります（" + deviations.size() + " 件）。", body, 0));
            for (String d : deviations) {
                b.add(new BookPdf.Text("・" + d, body, 8));
            }
        }
        String head = institution + "　" + title();
        return BookPdf.render(b, head, Arrays.asList("安全管理の点検資料 · " + fw.source().document(),
                        "作成者 " + producedBy + "   作成日時 " + dates.dateTimeWithZone(at, JpDates.Lang.JA)),
                "安全管理の点検資料 " + title(), at, dates.zone());
    }

    private String counts() {
        int yes = 0, no = 0, partial = 0, na = 0, none = 0;
        for (Line l : lines) {
            if (l.answer() == null) {
                none++;
                continue;
            }
            switch (l.answer().entry().answer()) {
                case YES -> yes++;
                case NO -> no++;
                case PARTIAL -> partial++;
                case NA -> na++;
            }
        }
        return "項目 " + lines.size() + " 件：はい " + yes + "、いいえ " + no + "、一部 " + partial + "、該当なし " + na
                + "、未回答 " + none;
    }

    private String evidenceCounts() {
        Map<Evidence.Status, Integer> n = new java.util.EnumMap<>(Evidence.Status.class);
        Set<String> seen = new LinkedHashSet<>();
        for (Line l : lines) {
            for (Evidence e : l.evidence()) {
                if (seen.add(e.probeId())) {
                    n.merge(e.status(), 1, Integer::sum);
                }
            }
        }
        return "システムによる確認 " + seen.size() + " 件：適合 " + n.getOrDefault(Evidence.Status.PASS, 0) + "、一部適合 "
                + n.getOrDefault(Evidence.Status.PARTIAL, 0) + "、不適合 " + n.getOrDefault(Evidence.Status.FAIL, 0)
                + "、確認できず " + n.getOrDefault(Evidence.Status.UNKNOWN, 0);
    }

    // ---- CSV ----------------------------------------------------------------------------------------------------

    /** The CSV columns of the checklist's rows. */
    public static final List<String> CSV_HEADER = List.of("区分", "番号", "項目", "内容（原文）", "責任主体", "回答",
            "確認日", "対応予定日", "確認者", "備考", "システムによる確認", "要件ID", "引き継ぎ");

    /**
     * The pack as CSV: one row per item (the evidence lines in one cell, one per line), then, after an empty line, each
     * register under its title and the deviations. UTF-8 with a BOM, CRLF, every cell quoted, formulas neutralised.
     */
    public byte[] csv() {
        StringBuilder sb = new StringBuilder(Csv.BOM);
        Csv.row(sb, "安全管理の点検資料", institution, title(), "作成 " + dates.dateTimeWithZone(at, JpDates.Lang.JA),
                producedBy);
        Csv.row(sb, CSV_HEADER.toArray(String[]::new));
        for (Line l : lines) {
            Answers.Entry e = l.answer() == null ? null : l.answer().entry();
            Csv.row(sb, l.section(), l.item().number(), l.item().title(), l.item().text(), partyJa(l.item().party()),
                    answerJa(l), e == null ? "" : date(e.checked()), e == null ? "" : date(e.target()),
                    e == null ? "" : e.reviewerName(), e == null || e.note() == null ? "" : e.note(),
                    String.join("\n", l.evidence().stream().map(this::evidenceLine).toList()),
                    String.join(" ", l.item().requirements()), carried(l));
        }
        for (PackSection s : registers) {
            sb.append("\r\n");
            Csv.row(sb, "台帳：" + s.title());
            Csv.row(sb, s.columns().toArray(String[]::new));
            for (List<String> r : s.rows()) {
                Csv.row(sb, r.toArray(String[]::new));
            }
            if (s.note() != null && !s.note().isBlank()) {
                Csv.row(sb, s.note());
            }
        }
        sb.append("\r\n");
        Csv.row(sb, "安全な既定値からの逸脱");
        if (deviations.isEmpty()) {
            Csv.row(sb, "なし");
        }
        for (String d : deviations) {
            Csv.row(sb, d);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    // ---- OSCAL --------------------------------------------------------------------------------------------------

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private String ts(Instant i) {
        return OffsetDateTime.ofInstant(i.truncatedTo(ChronoUnit.SECONDS), dates.zone())
                .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    }

    /** An OSCAL token (a control's target id): our item ids are tokens already; anything else is made one. */
    static String token(String id) {
        String t = id.replaceAll("[^\\p{L}\\p{N}._-]", "_");
        return t.matches("^[\\p{L}_].*") ? t : "_" + t;
    }

    private static ObjectNode prop(ArrayNode props, String name, String value) {
        ObjectNode p = props.addObject();
        p.put("name", name);
        p.put("ns", NS);
        p.put("value", value);
        return p;
    }

    /**
     * The pack as OSCAL assessment results (JSON, OSCAL {@value #OSCAL_VERSION}): one result for this framework
     * version; per item a finding (target: the item; state satisfied only for はい or 該当なし with no probe at
     * 不適合) with its observations — the person's answer (method EXAMINE) and each probe's evidence (method TEST, its
     * detail path as relevant evidence, the time it was computed as {@code collected}). The registers and deviations
     * are back-matter resources. Each export is a new document: its UUIDs are random (version 4).
     */
    public byte[] oscal() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode ar = root.putObject("assessment-results");
        ar.put("uuid", UUID.randomUUID().toString());
        ObjectNode md = ar.putObject("metadata");
        md.put("title", "安全管理の点検資料 " + title());
        md.put("published", ts(at));
        md.put("last-modified", ts(at));
        md.put("version", fw.version());
        md.put("oscal-version", OSCAL_VERSION);
        String partyUuid = UUID.randomUUID().toString();
        ObjectNode party = md.putArray("parties").addObject();
        party.put("uuid", partyUuid);
        party.put("type", "organization");
        party.put("name", institution);
        ObjectNode role = md.putArray("roles").addObject();
        role.put("id", "assessor");
        role.put("title", "点検資料の作成者 / producer of the pack");
        ObjectNode rp = md.putArray("responsible-parties").addObject();
        rp.put("role-id", "assessor");
        rp.putArray("party-uuids").add(partyUuid);
        md.put("remarks", "作成者 / produced by: " + producedBy);
        // We hold no OSCAL assessment plan: the reference names our framework version (docs/compliance-pack.md).
        ar.putObject("import-ap").put("href", "urn:mamori:compliance-framework:" + token(fw.id()) + ":"
                + token(fw.version()));

        ObjectNode result = ar.putArray("results").addObject();
        result.put("uuid", UUID.randomUUID().toString());
        result.put("title", title());
        result.put("description", "出典 / source: " + fw.source().document() + ". " + counts() + ". "
                + evidenceCounts() + ".");
        result.put("start", ts(at));
        result.put("end", ts(at));
        ArrayNode rProps = result.putArray("props");
        prop(rProps, "framework", fw.id());
        prop(rProps, "framework-version", fw.version());
        prop(rProps, "fiscal-year", Integer.toString(fw.fiscalYear()));
        result.putObject("reviewed-controls").putArray("control-selections").addObject().putObject("include-all");
        ArrayNode observations = result.putArray("observations");
        ArrayNode findings = result.putArray("findings");
        for (Line l : lines) {
            List<String> obs = new ArrayList<>();
            Answers.Entry e = l.answer() == null ? null : l.answer().entry();
            if (e != null) {
                ObjectNode o = observations.addObject();
                String id = UUID.randomUUID().toString();
                obs.add(id);
                o.put("uuid", id);
                o.put("title", l.item().number() + " 回答 / answer");
                o.put("description", e.answer().ja + " / " + e.answer().en + (e.note() == null ? "" : ". 備考: "
                        + e.note()));
                o.putArray("methods").add("EXAMINE");
                ArrayNode p = o.putArray("props");
                prop(p, "answer", e.answer().code);
                prop(p, "checked-on", e.checked().toString());
                if (e.target() != null) {
                    prop(p, "target-on", e.target().toString());
                }
                prop(p, "reviewer", e.reviewerName());
                if (l.answer().carried()) {
                    prop(p, "carried-from-version", l.answer().fromVersion());
                }
                o.put("collected", ts(e.at()));
            }
            for (Evidence ev : l.evidence()) {
                ObjectNode o = observations.addObject();
                String id = UUID.randomUUID().toString();
                obs.add(id);
                o.put("uuid", id);
                o.put("title", l.item().number() + " " + statusJa(ev.status()) + " / " + ev.status().name());
                o.put("description", ev.summary());
                o.putArray("methods").add("TEST");
                prop(o.putArray("props"), "probe", ev.probeId());
                if (ev.detailPath() != null) {
                    ObjectNode re = o.putArray("relevant-evidence").addObject();
                    re.put("href", ev.detailPath());
                    re.put("description", "Mamori の管理画面の詳細 / the console page with the detail");
                }
                o.put("collected", ts(ev.at()));
            }
            ObjectNode f = findings.addObject();
            f.put("uuid", UUID.randomUUID().toString());
            f.put("title", l.item().number() + " " + (l.item().title() == null ? "" : l.item().title()));
            f.put("description", l.item().text());
            ArrayNode fp = f.putArray("props");
            prop(fp, "responsible-party", l.item().party());
            prop(fp, "answer", e == null ? "unanswered" : e.answer().code);
            for (String req : l.item().requirements()) {
                prop(fp, "requirement", req);
            }
            ObjectNode target = f.putObject("target");
            target.put("type", "objective-id");
            target.put("target-id", token(l.item().id()));
            ObjectNode status = target.putObject("status");
            boolean failing = l.evidence().stream().anyMatch(x -> x.status() == Evidence.Status.FAIL);
            boolean satisfied = e != null && (e.answer() == Answers.Answer.YES || e.answer() == Answers.Answer.NA)
                    && !failing;
            status.put("state", satisfied ? "satisfied" : "not-satisfied");
            if (!satisfied) {
                status.put("reason", e == null ? "other" : "fail");
                status.put("remarks", e == null ? "未回答 / not answered" : failing && e.answer() != Answers.Answer.NO
                        ? "システムによる確認が不適合 / a probe fails" : e.answer().ja + " / " + e.answer().en);
            }
            if (!obs.isEmpty()) {
                ArrayNode ro = f.putArray("related-observations");
                for (String id : obs) {
                    ro.addObject().put("observation-uuid", id);
                }
            }
        }
        if (observations.isEmpty()) {
            result.remove("observations"); // OSCAL arrays are never empty
        }
        if (findings.isEmpty()) {
            result.remove("findings");
        }
        ArrayNode resources = JSON.createArrayNode();
        for (PackSection s : registers) {
            ObjectNode r = resources.addObject();
            r.put("uuid", UUID.randomUUID().toString());
            r.put("title", "台帳 / register: " + s.title());
            StringBuilder d = new StringBuilder(String.join(" | ", s.columns()));
            for (List<String> row : s.rows()) {
                d.append("\n").append(String.join(" | ", row));
            }
            r.put("description", d.toString());
        }
        ObjectNode dev = resources.addObject();
        dev.put("uuid", UUID.randomUUID().toString());
        dev.put("title", "安全な既定値からの逸脱 / deviations from the secure defaults");
        dev.put("description", deviations.isEmpty() ? "なし / none" : String.join("\n", deviations));
        ar.putObject("back-matter").set("resources", resources);
        try {
            return JSON.writeValueAsBytes(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
