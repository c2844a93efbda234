package jp.mamori.compliance.web;

import jp.mamori.audit.Actor;
import jp.mamori.chart.JpDates;
import jp.mamori.compliance.ComplianceException;
import jp.mamori.compliance.Documents;
import jp.mamori.compliance.Framework;
import jp.mamori.compliance.Frameworks;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * The compliance documents (issue 20, "Documents"; GOV-28, GOV-30, GOV-35 … GOV-37, HR-6, INC-6): the list with
 * each document's review and expiry (expired and expiring soon marked), the upload form, a document's page with its
 * versions, replacement, withdrawal with a reason, and the download.
 *
 * <p>Who: as {@link CompliancePages}: account administrators upload, change and withdraw; whoever may read the audit
 * console (the auditor role: executives, inspectors) reads and downloads. The rule is applied here, once per route.
 *
 * <p>A file is only ever sent as a download: {@code Content-Disposition: attachment} with the sanitised name (RFC 6266
 * and RFC 5987), the type detected from its bytes, {@code X-Content-Type-Options: nosniff} and {@code
 * Content-Security-Policy: sandbox}, so that even a browser that opened it would run nothing in this origin.
 */
public final class DocumentPages {
    static final String PATH = Documents.PAGE;

    private final Documents documents;
    private final Frameworks frameworks;
    private final Console console;
    private final ComplianceAccess access;
    private final JpDates dates;

    public DocumentPages(Documents documents, Frameworks frameworks, Console console,
                         Predicate<Sessions.Session> reader, ZoneId zone) {
        this.documents = documents;
        this.frameworks = frameworks;
        this.console = console;
        this.access = new ComplianceAccess(console, reader, "documents.notAllowed", "documents.notAllowed.message");
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.waiting(this::waiting);
        console.route("GET", PATH, USER, false, access.read(r -> list(r, 200, null, null)));
        console.route("GET", PATH + "/document", USER, false, access.read(r -> document(r, 200, null, null, null)));
        console.route("GET", PATH + "/download", USER, false, access.read(this::download));
        console.routeUpload(PATH + "/upload", ADMIN, false, access.write(this::upload));
        console.routeUpload(PATH + "/change", ADMIN, false, access.write(this::change));
        console.route("POST", PATH + "/withdraw", USER, false, access.write(this::withdraw));
    }

    /** The administrator's home: documents expired, expiring within 30 days, or not reviewed (their reminders). */
    java.util.List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!ComplianceAccess.mayWrite(r.session())) {
            return java.util.List.of();
        }
        try {
            java.time.LocalDate today = documents.today();
            long due = documents.current().stream().map(v -> Documents.standing(v, today)).filter(st ->
                    st == Documents.Standing.EXPIRED || st == Documents.Standing.EXPIRING
                            || st == Documents.Standing.UNREVIEWED).count();
            return due == 0 ? java.util.List.of() : java.util.List.of(new Console.Waiting(
                    r.messages().get("documents.waiting"), due, PATH));
        } catch (RuntimeException e) {
            return java.util.List.of(); // the home page never fails for a reminder
        }
    }

    private Reply notFound(ConsoleRequest r) {
        return console.error(r, 404, "documents.notFound", "documents.notFound.message");
    }

    private boolean en(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN;
    }

    private JpDates.Lang lang(ConsoleRequest r) {
        return en(r) ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String href(UUID id) {
        return PATH + "/document?id=" + id;
    }

    private String kind(ConsoleRequest r, Documents.Kind k) {
        return en(r) ? k.en : k.ja;
    }

    private List<DocumentViews.Option> kinds(ConsoleRequest r, String selected) {
        List<DocumentViews.Option> out = new ArrayList<>();
        for (Documents.Kind k : Documents.Kind.values()) {
            out.add(new DocumentViews.Option(k.code, kind(r, k), k.code.equals(selected)));
        }
        return out;
    }

    private String maxSize(ConsoleRequest r) {
        return r.messages().get("documents.form.maxSize", Documents.MAX_BYTES / 1024 / 1024);
    }

    /** The standing of a version in words and as a state class. */
    private String[] standing(ConsoleRequest r, Documents.Version v) {
        Messages t = r.messages();
        Documents.Standing s = Documents.standing(v, documents.today());
        return switch (s) {
            case VALID -> new String[]{t.get("documents.standing.valid"), "state-ok"};
            case EXPIRING -> new String[]{t.get("documents.standing.expiring", dates.date(v.expiresOn(), lang(r))),
                    "state-warn"};
            case EXPIRED -> new String[]{t.get("documents.standing.expired", dates.date(v.expiresOn(), lang(r))),
                    "state-warn"};
            case UNREVIEWED -> new String[]{t.get("documents.standing.unreviewed"), "state-warn"};
            case WITHDRAWN -> new String[]{t.get("documents.standing.withdrawn"), ""};
        };
    }

    private DocumentViews.Row row(ConsoleRequest r, Documents.Version v) {
        Messages t = r.messages();
        String[] s = standing(r, v);
        return new DocumentViews.Row(kind(r, v.kind()), v.title(), v.reviewedOn() == null ? t.get("documents.none")
                : t.get("documents.reviewedBy", dates.date(v.reviewedOn(), lang(r)), v.reviewer()),
                v.expiresOn() == null ? t.get("documents.noExpiry") : dates.date(v.expiresOn(), lang(r)), s[0], s[1],
                href(v.documentId()), String.join(", ", v.requirements()), v.withdrawn());
    }

    /** The checklist item of the form's fields in words, or null when they name none in force. */
    private String itemLabel(ConsoleRequest r, String fw, String fv, String item) {
        if (fw == null || fw.isEmpty() || item == null || item.isEmpty()) {
            return null;
        }
        Optional<Framework> f = frameworks.find(fw, fv == null ? "" : fv);
        Optional<Framework.Item> it = f.flatMap(x -> x.item(item));
        if (it.isEmpty()) {
            return null;
        }
        String title = en(r) && f.get().titleEn() != null ? f.get().titleEn() : f.get().titleJa();
        return title + " · " + it.get().number() + " " + it.get().title();
    }

    private Reply list(ConsoleRequest r, int status, String error, DocumentViews.Form typed) {
        Messages t = r.messages();
        List<DocumentViews.Row> rows = new ArrayList<>();
        List<DocumentViews.Row> withdrawn = new ArrayList<>();
        for (Documents.Version v : documents.all()) {
            (v.withdrawn() ? withdrawn : rows).add(row(r, v));
        }
        DocumentViews.Form form = typed;
        if (form == null) {
            String fw = r.param("fw");
            String fv = r.param("fv");
            String item = r.param("item");
            String label = itemLabel(r, fw, fv, item);
            form = label == null ? new DocumentViews.Form("", "", "", "", "", "", "", "", "", null)
                    : new DocumentViews.Form("", "", "", "", "", "", fw, fv, item, label);
        }
        String notice = "uploaded".equals(r.param("done")) && error == null ? t.get("documents.uploaded") : null;
        return console.page(r, status, t.get("documents.title"), "compliance/documents.jte", new DocumentViews.Listing(
                rows, withdrawn, ComplianceAccess.mayWrite(r.session()), kinds(r, form.kind()), form, maxSize(r), error,
                notice, r.csrf()));
    }

    private Optional<UUID> id(ConsoleRequest r) {
        try {
            return Optional.of(UUID.fromString(r.param("id")));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private DocumentViews.Form typed(ConsoleRequest r) {
        String fw = clip(r.param("fw"), 64);
        String fv = clip(r.param("fv"), 16);
        String item = clip(r.param("item"), 64);
        return new DocumentViews.Form(clip(r.param("kind"), 32), clip(r.param("title"), Documents.MAX_TITLE + 50),
                clip(r.param("requirements"), 1000), clip(r.param("reviewer"), 250), clip(r.param("reviewed"), 40),
                clip(r.param("expires"), 40), fw, fv, item, itemLabel(r, fw, fv, item));
    }

    private Documents.Details details(ConsoleRequest r) {
        String fw = r.param("fw");
        String fv = r.param("fv");
        String item = r.param("item");
        if (!fw.isEmpty() || !item.isEmpty()) {
            if (itemLabel(r, fw, fv, item) == null) {
                throw new ComplianceException("チェックリストの項目がありません / no such checklist item");
            }
        }
        return new Documents.Details(r.param("kind"), r.param("title"), r.param("requirements"), r.param("reviewer"),
                r.param("reviewed"), r.param("expires"), fw, fv, item);
    }

    private Reply upload(ConsoleRequest r) {
        DocumentViews.Form typed = typed(r);
        Optional<ConsoleRequest.Upload> file = r.file("file");
        try {
            Documents.Details d = details(r);
            if (file.isEmpty()) {
                throw new ComplianceException("ファイルを選んでください / choose a file");
            }
            Documents.Version v = documents.upload(Actor.of(r.session(), r.address()), file.get().fileName(),
                    file.get().bytes(), d);
            return Console.redirect(href(v.documentId()) + "&done=uploaded");
        } catch (ComplianceException e) {
            return list(r, 400, e.getMessage(), typed);
        }
    }

    private Reply document(ConsoleRequest r, int status, String error, DocumentViews.Form typed, String reason) {
        Optional<UUID> id = id(r);
        List<Documents.Version> versions = id.map(documents::versions).orElse(List.of());
        if (versions.isEmpty()) {
            return notFound(r);
        }
        Messages t = r.messages();
        Documents.Version v = versions.get(0);
        String[] s = standing(r, v);
        List<DocumentViews.VersionRow> rows = new ArrayList<>();
        for (Documents.Version x : versions) {
            rows.add(new DocumentViews.VersionRow(x.version(), x.withdrawn() ? t.get("documents.standing.withdrawn")
                    : t.get("documents.version.current"), x.title(), x.fileName(), type(x.mediaType()),
                    size(x.size()), x.sha256(), x.reviewedOn() == null ? t.get("documents.none")
                    : t.get("documents.reviewedBy", dates.date(x.reviewedOn(), lang(r)), x.reviewer()),
                    x.expiresOn() == null ? t.get("documents.noExpiry") : dates.date(x.expiresOn(), lang(r)),
                    x.reason(), x.uploadedByName(), dates.dateTime(x.at(), lang(r)),
                    PATH + "/download?id=" + x.documentId() + "&v=" + x.version()));
        }
        String label = itemLabel(r, v.framework(), v.frameworkVersion(), v.item());
        String itemHref = label == null ? null : CompliancePages.PATH + "/item?id=" + enc(v.framework()) + "&v="
                + enc(v.frameworkVersion()) + "&item=" + enc(v.item());
        DocumentViews.Form form = typed != null ? typed : new DocumentViews.Form(v.kind().code, v.title(),
                String.join(", ", v.requirements().stream().filter(q -> !v.kind().requirements.contains(q)).toList()),
                v.reviewer() == null ? "" : v.reviewer(), v.reviewedOn() == null ? "" : v.reviewedOn().toString(),
                v.expiresOn() == null ? "" : v.expiresOn().toString(), label == null ? "" : v.framework(),
                label == null ? "" : v.frameworkVersion(), label == null ? "" : v.item(), label);
        String notice = error != null ? null : switch (r.param("done")) {
            case "uploaded" -> t.get("documents.uploaded");
            case "changed" -> t.get("documents.changed");
            case "withdrawn" -> t.get("documents.withdrawn");
            default -> null;
        };
        return console.page(r, status, v.title(), "compliance/documents-document.jte", new DocumentViews.Document(
                v.documentId().toString(), kind(r, v.kind()), v.title(), s[0], s[1], String.join(", ",
                v.requirements()), label, itemHref, rows, ComplianceAccess.mayWrite(r.session()), v.withdrawn(),
                kinds(r, form.kind()), form, reason == null ? "" : reason, maxSize(r), error, notice, r.csrf()));
    }

    private Reply change(ConsoleRequest r) {
        Optional<UUID> id = id(r);
        if (id.isEmpty() || documents.newest(id.get()).isEmpty()) {
            return notFound(r);
        }
        DocumentViews.Form typed = typed(r);
        Optional<ConsoleRequest.Upload> file = r.file("file");
        try {
            documents.change(Actor.of(r.session(), r.address()), id.get(), file.map(ConsoleRequest.Upload::fileName)
                    .orElse(null), file.map(ConsoleRequest.Upload::bytes).orElse(null), details(r));
            return Console.redirect(href(id.get()) + "&done=changed");
        } catch (ComplianceException e) {
            return document(r, 400, e.getMessage(), typed, null);
        }
    }

    private Reply withdraw(ConsoleRequest r) {
        Optional<UUID> id = id(r);
        if (id.isEmpty() || documents.newest(id.get()).isEmpty()) {
            return notFound(r);
        }
        String reason = r.param("reason");
        try {
            documents.withdraw(Actor.of(r.session(), r.address()), id.get(), reason);
            return Console.redirect(href(id.get()) + "&done=withdrawn");
        } catch (ComplianceException e) {
            return document(r, 400, e.getMessage(), null, clip(reason, Documents.MAX_REASON + 100));
        }
    }

    private Reply download(ConsoleRequest r) {
        Optional<UUID> id = id(r);
        int version;
        try {
            version = Integer.parseInt(r.param("v"));
        } catch (NumberFormatException e) {
            return notFound(r);
        }
        if (id.isEmpty() || version < 1) {
            return notFound(r);
        }
        Documents.Content c;
        try {
            c = documents.download(Actor.of(r.session(), r.address()), id.get(), version);
        } catch (ComplianceException e) {
            if (documents.versions(id.get()).stream().noneMatch(x -> x.version() == version)) {
                return notFound(r);
            }
            Messages t = r.messages();
            return console.page(r.lang(), 409, t.get("documents.damaged"), r, Html.message("error", e.getMessage()));
        }
        return attachment(c.version().mediaType(), c.version().fileName(), c.bytes());
    }

    /**
     * A file as a download only: the detected type, never HTML; attachment with an ASCII fallback name and the
     * RFC 5987 UTF-8 name; not sniffed, sandboxed, not cached.
     */
    static Reply attachment(String mediaType, String fileName, byte[] bytes) {
        String type = switch (mediaType) {
            case "application/pdf", "image/png", "image/jpeg" -> mediaType;
            default -> "application/octet-stream";
        };
        return Reply.of(200, type, bytes)
                .header("Content-Disposition", "attachment; filename=\"" + asciiName(fileName) + "\"; filename*=UTF-8''"
                        + rfc5987(fileName))
                .header("X-Content-Type-Options", "nosniff")
                .header("Content-Security-Policy", "sandbox")
                .header("Cache-Control", "no-store")
                .header("Referrer-Policy", "no-referrer");
    }

    /** The file name with every character outside printable ASCII, and quotes and backslashes, as '_'. */
    static String asciiName(String name) {
        StringBuilder sb = new StringBuilder();
        for (char c : name.toCharArray()) {
            sb.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != ';' ? c : '_');
        }
        return sb.toString();
    }

    /** RFC 5987 ext-value characters: attr-char as it is, every other byte of the UTF-8 as %XX. */
    static String rfc5987(String name) {
        StringBuilder sb = new StringBuilder();
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$&+-.^_`|~".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return sb.toString();
    }

    private static String type(String mediaType) {
        return switch (mediaType) {
            case "application/pdf" -> "PDF";
            case "image/png" -> "PNG";
            default -> "JPEG";
        };
    }

    private static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        if (bytes < 1024 * 1024) {
            return (bytes + 1023) / 1024 + " KB";
        }
        return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1024.0 / 1024.0);
    }

    private static String clip(String s, int max) {
        return s == null ? "" : s.length() > max ? s.substring(0, max) : s;
    }

    /**
     * The documents an item page lists (for {@link CompliancePages#itemPart}): those in force that answer the item
     * or support one of its requirements, with their standing (expired and expiring amber); for administrators a link
     * to upload one for this item. Null when the person may not read documents.
     */
    public gg.jte.Content itemPart(ConsoleRequest r, Framework fw, Framework.Item it) {
        if (!access.mayRead(r.session())) {
            return null;
        }
        List<DocumentViews.Row> rows = documents.forItem(fw.id(), it.id(), it.requirements()).stream()
                .map(v -> row(r, v)).toList();
        String upload = ComplianceAccess.mayWrite(r.session()) ? PATH + "?fw=" + enc(fw.id()) + "&fv="
                + enc(fw.version()) + "&item=" + enc(it.id()) + "#upload" : null;
        return Templates.content("compliance/documents-item.jte", r.messages(), new DocumentViews.ItemPart(rows,
                upload));
    }
}
