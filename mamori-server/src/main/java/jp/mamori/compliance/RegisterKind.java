package jp.mamori.compliance;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * One register (台帳) of the compliance console (issue 20, "Registers"): its key, its title, its columns with their
 * types and which are required, and the requirement IDs it supports. Kinds are data in code: the engine
 * ({@link Registers}), the forms, the CSV and the inspection pack read them, and none of them knows a register by
 * name. The columns are the ones the seeds ask for (requirements §3.4: G42 機器台帳, G46 事業者・契約一覧, G49 連絡体制図,
 * G50 BCP, G51 教育・訓練の実施記録, G58 任命; §3.2 G25/G27 for the risk register; G62 for incidents).
 */
public record RegisterKind(String key, String titleJa, String titleEn, String hintJa, String hintEn,
                           List<Column> columns, Set<String> requirements, Function<Map<String, String>, String> rule) {

    /** The kinds of value a column holds. */
    public enum Type { TEXT, LONGTEXT, DATE, CHOICE, YESNO, NUMBER }

    /** The longest one-line text and the longest long text a cell takes. */
    public static final int MAX_TEXT = 200;
    public static final int MAX_LONGTEXT = 2000;

    /**
     * One column.
     *
     * @param key     the field's key in the stored JSON (never shown to a person)
     * @param choices for {@link Type#CHOICE}: stored code → Japanese label (the CSV takes either)
     */
    public record Column(String key, String labelJa, String labelEn, Type type, boolean required,
                         Map<String, String> choices) {
        public Column {
            choices = choices == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(choices));
        }

        public String label(boolean en) {
            return en ? labelEn : labelJa;
        }

        /** The value as a person reads it: a choice's label, はい/いいえ, or the text itself; "" when empty. */
        public String display(String value, boolean en) {
            if (value == null || value.isEmpty()) {
                return "";
            }
            return switch (type) {
                case CHOICE -> choices.getOrDefault(value, value);
                case YESNO -> "yes".equals(value) ? (en ? "Yes" : "はい") : (en ? "No" : "いいえ");
                default -> value;
            };
        }
    }

    public RegisterKind {
        columns = List.copyOf(columns);
        requirements = Set.copyOf(requirements);
        rule = rule == null ? f -> null : rule;
    }

    public String title(boolean en) {
        return en ? titleEn : titleJa;
    }

    public Optional<Column> column(String key) {
        return columns.stream().filter(c -> c.key().equals(key)).findFirst();
    }

    /** The first column: what names a row in lists, history and the audit's reader. */
    public Column naming() {
        return columns.get(0);
    }

    // ---- the kinds --------------------------------------------------------------------------------------------

    private static Column text(String key, String ja, String en, boolean required) {
        return new Column(key, ja, en, Type.TEXT, required, null);
    }

    private static Column longText(String key, String ja, String en, boolean required) {
        return new Column(key, ja, en, Type.LONGTEXT, required, null);
    }

    private static Column date(String key, String ja, String en, boolean required) {
        return new Column(key, ja, en, Type.DATE, required, null);
    }

    private static Column yesNo(String key, String ja, String en, boolean required) {
        return new Column(key, ja, en, Type.YESNO, required, null);
    }

    private static Column number(String key, String ja, String en, boolean required) {
        return new Column(key, ja, en, Type.NUMBER, required, null);
    }

    private static Column choice(String key, String ja, String en, boolean required, String... codeLabel) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < codeLabel.length; i += 2) {
            m.put(codeLabel[i], codeLabel[i + 1]);
        }
        return new Column(key, ja, en, Type.CHOICE, required, m);
    }

    private static LocalDate day(Map<String, String> f, String key) {
        String v = f.get(key);
        return v == null || v.isEmpty() ? null : LocalDate.parse(v);
    }

    /** 機器・ソフトウェア台帳 (G42; GOV-29, SUPPLY-7, MAINT-16, PHYS-1, PHYS-3, PHYS-7). */
    public static final RegisterKind DEVICES = new RegisterKind("devices", "機器・ソフトウェア台帳",
            "Devices and software",
            "サーバ、端末PC、ネットワーク機器、ネットワークにつながる医療機器、ソフトウェアとクラウドサービス。リモート保守の有無と保守事業者も記録します。",
            "Servers, terminals, network devices, networked medical devices, software and cloud services, with remote"
                    + " maintenance and its vendor.",
            List.of(text("name", "名称", "Name", true),
                    choice("category", "種別", "Kind", true, "server", "サーバ", "terminal", "端末PC", "network",
                            "ネットワーク機器", "medical", "医療機器", "software", "ソフトウェア", "cloud", "クラウドサービス",
                            "media", "外部記録媒体", "other", "その他"),
                    text("location", "設置場所", "Location", true),
                    text("users", "管理者・利用者", "Owner and users", false),
                    text("version", "OS・ソフトウェアとバージョン", "OS, software and version", false),
                    choice("state", "使用可否の状態", "State", true, "in_use", "使用中", "standby", "予備",
                            "stopped", "停止中", "disposed", "廃棄済"),
                    date("end_of_support", "サポート終了日", "End of support", false),
                    longText("eos_exception", "サポート終了後も使う理由と代替策", "Why used past end of support, and the"
                            + " compensating control", false),
                    yesNo("remote", "リモート保守", "Remote maintenance", true),
                    text("vendor", "保守事業者", "Maintenance vendor", false),
                    longText("note", "備考", "Note", false)),
            Set.of("GOV-29", "SUPPLY-7", "MAINT-16", "PHYS-1", "PHYS-3", "PHYS-7"),
            f -> "yes".equals(f.get("remote")) && f.getOrDefault("vendor", "").isEmpty()
                    ? "リモート保守の機器は保守事業者を入力してください / a device under remote maintenance names its vendor"
                    : null);

    /** 事業者・契約台帳 (G46, G5, G2; GOV-31, GOV-32, GOV-36, GOV-37, SUPPLY-6, SUPPLY-7). */
    public static final RegisterKind VENDORS = new RegisterKind("vendors", "事業者・契約台帳", "Vendors and contracts",
            "どの事業者がどのシステム・サービスをどの契約で提供しているか。SLA、サービス仕様適合開示書・MDS/SDS の受領、再委託と事前同意、契約終了時のデータの扱い。",
            "Which vendor provides which system or service under which contract: SLA, the conformity disclosure and"
                    + " MDS/SDS received, subcontractors and consent, data at contract end.",
            List.of(text("name", "事業者名", "Vendor", true),
                    text("service", "提供システム・サービス", "System or service", true),
                    date("contract_start", "契約開始日", "Contract start", false),
                    date("contract_end", "契約終了日", "Contract end", false),
                    yesNo("sla", "SLA 締結", "SLA agreed", true),
                    yesNo("sds", "サービス仕様適合開示書の受領", "Conformity disclosure received", true),
                    yesNo("mds", "MDS/SDS の受領", "MDS/SDS received", false),
                    text("subcontractors", "再委託先", "Subcontractors", false),
                    choice("consent", "再委託の事前同意", "Consent to subcontracting", false, "none", "再委託なし",
                            "consented", "同意済", "pending", "未同意"),
                    text("certification", "第三者認証（Pマーク・ISMS 等）", "Certification (Privacy Mark, ISMS …)", false),
                    text("contact", "窓口・緊急時の連絡先", "Contact and emergency contact", false),
                    longText("exit", "契約終了時のデータの扱い", "Data at contract end", false)),
            Set.of("GOV-31", "GOV-32", "GOV-36", "GOV-37", "SUPPLY-6", "SUPPLY-7"),
            f -> {
                LocalDate s = day(f, "contract_start");
                LocalDate e = day(f, "contract_end");
                if (s != null && e != null && e.isBefore(s)) {
                    return "契約終了日は契約開始日より後の日付です / the contract end must not be before its start";
                }
                if (!f.getOrDefault("subcontractors", "").isEmpty() && f.getOrDefault("consent", "").isEmpty()) {
                    return "再委託先があるときは事前同意の状況を選んでください / with subcontractors, say whether the"
                            + " institution consented";
                }
                return null;
            });

    /** 任命台帳 (G58; GOV-28). */
    public static final RegisterKind APPOINTMENTS = new RegisterKind("appointments", "任命台帳（責任者・担当者）",
            "Appointments",
            "医療情報システム安全管理責任者、企画管理者、システム管理者などを誰がいつから（いつまで）務めるか。",
            "Who holds which role (security manager, planning manager, system administrator …), since and until when.",
            List.of(choice("role", "役割", "Role", true, "security_manager", "医療情報システム安全管理責任者",
                            "planning_manager", "企画管理者", "system_admin", "システム管理者", "privacy", "個人情報保護責任者",
                            "incident", "インシデント対応責任者", "audit", "監査責任者", "education", "教育・訓練担当者",
                            "other", "その他"),
                    text("person", "氏名", "Name", true),
                    text("position", "所属・役職", "Department and position", false),
                    date("since", "任命日", "Since", true),
                    date("until", "任期終了日", "Until", false),
                    longText("scope", "権限と範囲", "Scope and authority", false),
                    text("document", "任命の文書（辞令番号など）", "Appointing document", false)),
            Set.of("GOV-28"),
            f -> {
                LocalDate s = day(f, "since");
                LocalDate u = day(f, "until");
                return s != null && u != null && u.isBefore(s)
                        ? "任期終了日は任命日より後の日付です / the end must not be before the appointment" : null;
            });

    /** 連絡体制図 (G49; GOV-30, INC-6, INC-4). */
    public static final RegisterKind CONTACTS = new RegisterKind("contacts", "連絡体制図（緊急連絡網）", "Contact chart",
            "インシデントのとき誰に、どの順に、いつ連絡するか。院内、事業者、情報セキュリティ事業者、都道府県警察、厚生労働省、都道府県・保健所。",
            "Whom to call in an incident, in which order and when: inside, vendors, security firms, the prefectural"
                    + " police, the MHLW, the prefecture.",
            List.of(text("organisation", "組織・部署", "Organisation", true),
                    choice("category", "区分", "Kind", true, "internal", "院内", "vendor", "事業者", "security",
                            "情報セキュリティ事業者", "expert", "外部有識者", "police", "警察（都道府県警察）", "mhlw",
                            "厚生労働省", "prefecture", "都道府県・保健所", "other", "その他"),
                    number("order", "連絡順", "Order", true),
                    text("person", "担当者", "Person", false),
                    text("phone", "電話番号", "Phone", true),
                    text("email", "メール", "E-mail", false),
                    longText("when", "連絡する場面・時機", "When to call", true),
                    text("hours", "連絡できる時間帯", "Hours", false)),
            Set.of("GOV-30", "INC-6", "INC-4"),
            f -> f.getOrDefault("phone", "").matches("[0-9０-９+()（）\\- ー－内線]{2,40}") ? null
                    : "電話番号は数字とハイフンで入力してください / give the phone number in digits and hyphens");

    /** BCP・訓練台帳 (G50; GOV-30, BACKUP-12). */
    public static final RegisterKind BCP = new RegisterKind("bcp", "BCP・訓練台帳", "BCP documents and drills",
            "サイバー攻撃を想定したBCP（IT-BCP）の文書とその見直し、職員の訓練の実施記録。",
            "The business continuity plan for a cyber-attack, its reviews, and the drills held.",
            List.of(text("title", "名称", "Title", true),
                    choice("type", "種別", "Kind", true, "plan", "BCP文書", "review", "BCPの見直し", "drill", "訓練"),
                    date("date", "制定日・実施日", "Date", true),
                    longText("scenario", "対象・想定シナリオ", "Scope and scenario", false),
                    text("participants", "参加者", "Participants", false),
                    longText("result", "結果・課題", "Result and follow-up", false),
                    text("kept", "保管場所（紙・クラウドなど）", "Where kept (paper, cloud …)", false)),
            Set.of("GOV-30", "BACKUP-12"), null);

    /** 教育・訓練記録 (G51; HR-2, HR-6, HR-7, HR-8). */
    public static final RegisterKind TRAINING = new RegisterKind("training", "教育・訓練記録", "Training records",
            "採用時と定期の教育・訓練、事業者職員向けの研修、経営層への報告。",
            "Training at hiring and periodically, for vendor staff too, and the report to management.",
            List.of(text("title", "研修名", "Course", true),
                    choice("kind", "種別", "Kind", true, "hiring", "採用時", "periodic", "定期", "drill",
                            "インシデント対応訓練", "vendor", "事業者職員向け"),
                    date("date", "実施日", "Held on", true),
                    text("audience", "対象者", "Audience", true),
                    number("attendees", "受講者数", "Attendees", false),
                    longText("content", "内容", "Content", false),
                    date("reported", "経営層への報告日", "Reported to management", false)),
            Set.of("HR-2", "HR-6", "HR-7", "HR-8"), null);

    /** リスク台帳 (G25, G27; GOV-15, GOV-16, GOV-17). */
    public static final RegisterKind RISKS = new RegisterKind("risks", "リスク台帳", "Risk register",
            "リスク、責任者、顕在化率と影響度、リスクレベル、対応（低減・回避・移転・受容）と残存リスク。",
            "Each risk with its owner, likelihood and impact, level, treatment and residual risk.",
            List.of(longText("risk", "リスク", "Risk", true),
                    text("asset", "対象の情報・システム", "Information or system", false),
                    text("owner", "責任者", "Owner", true),
                    choice("likelihood", "顕在化率", "Likelihood", true, "high", "高", "medium", "中", "low", "低"),
                    choice("impact", "影響度", "Impact", true, "high", "高", "medium", "中", "low", "低"),
                    choice("level", "リスクレベル", "Level", false, "S", "S（複数の対策が必須）", "A", "A（対策が必須）",
                            "B", "B（個別に判断）", "C", "C（個別に判断）", "D", "D（対応不要）"),
                    choice("treatment", "対応", "Treatment", true, "reduce", "低減", "avoid", "回避", "share", "移転（共有）",
                            "accept", "受容"),
                    longText("measures", "対策", "Measures", false),
                    longText("residual", "残存リスク", "Residual risk", false)),
            Set.of("GOV-15", "GOV-16", "GOV-17"), null);

    /** インシデント台帳 (G62; INC-3, INC-4, INC-5). */
    public static final RegisterKind INCIDENTS = new RegisterKind("incidents", "インシデント台帳", "Incidents",
            "何が、いつ起き、いつ見つかり、誰に報告したか、対応の状況と終結、再発防止策。",
            "What happened, when it occurred and was found, whom was notified, its status, closure and prevention.",
            List.of(text("title", "概要", "Summary", true),
                    date("occurred", "発生日", "Occurred", false),
                    date("found", "発見日", "Found", true),
                    longText("description", "内容", "What happened", false),
                    longText("scope", "影響範囲", "Scope", false),
                    longText("notified", "報告・連絡先（事業者・警察・厚生労働省・個人情報保護委員会など）",
                            "Notified (vendor, police, MHLW, PPC …)", false),
                    date("notified_on", "報告日", "Notified on", false),
                    choice("status", "状況", "Status", true, "open", "対応中", "contained", "封じ込め済", "closed", "終結"),
                    date("closed", "終結日", "Closed on", false),
                    longText("prevention", "再発防止策", "Recurrence prevention", false)),
            Set.of("INC-3", "INC-4", "INC-5"),
            f -> {
                LocalDate found = day(f, "found");
                LocalDate occurred = day(f, "occurred");
                LocalDate closed = day(f, "closed");
                if ("closed".equals(f.get("status")) && closed == null) {
                    return "終結した場合は終結日を入力してください / a closed incident needs its closing date";
                }
                if (occurred != null && found != null && found.isBefore(occurred)) {
                    return "発見日は発生日より後の日付です / found must not be before occurred";
                }
                if (closed != null && found != null && closed.isBefore(found)) {
                    return "終結日は発見日より後の日付です / closed must not be before found";
                }
                return null;
            });

    /** Every register, in the order the console lists them. */
    public static final List<RegisterKind> ALL = List.of(DEVICES, VENDORS, APPOINTMENTS, CONTACTS, BCP, TRAINING,
            RISKS, INCIDENTS);

    public static Optional<RegisterKind> of(String key) {
        return ALL.stream().filter(k -> k.key.equals(key)).findFirst();
    }

    /** The column labels in order (for a header). */
    public List<String> labels(boolean en) {
        List<String> out = new ArrayList<>();
        for (Column c : columns) {
            out.add(c.label(en));
        }
        return out;
    }
}
