package jp.mamori.compliance.web;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.compliance.Answers;
import jp.mamori.compliance.EvidenceSource;
import jp.mamori.compliance.Framework;
import jp.mamori.compliance.Frameworks;
import jp.mamori.compliance.InspectionPack;
import jp.mamori.compliance.PackSection;
import jp.mamori.identity.Sessions;
import jp.mamori.signatures.PdfSeal;
import jp.mamori.signatures.SignatureFailure;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;
import jp.mamori.web.console.Messages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.ZoneId;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static jp.mamori.web.console.Console.Access.USER;

/**
 * The inspection pack of one framework version (issue 20 "Outputs"; GOV-5, GOV-6): {@code GET
 * /console/compliance/pack?id=…&v=…&format=pdf|csv|oscal}, a download. Who: the compliance console's readers
 * (account administrators and readers of the audit console, e.g. an executive or an inspector with the auditor role);
 * the rule is applied here, once, before anything is assembled. Each download is an audit entry (who, which framework
 * and version, which format, for a PDF whether it is sealed). With the institution's seal configured every PDF is
 * sealed (ADR 0012) before it leaves; when sealing fails nothing is served (503 with the reason), as for the chart's
 * printouts.
 */
public final class PackPages {
    private static final Logger log = LoggerFactory.getLogger(PackPages.class);
    static final String PATH = CompliancePages.PATH + "/pack";

    private final Frameworks frameworks;
    private final Answers answers;
    private final EvidenceSource evidence;
    private final Console console;
    private final ComplianceAccess access;
    private final ZoneId zone;
    private final PdfSeal seal;
    private final AuditRecorder audit;
    private final String institution;
    private final Supplier<List<PackSection>> registers;
    private final Supplier<List<String>> deviations;

    /**
     * @param reader      who may read besides account administrators (the audit console's rule)
     * @param seal        the institution's seal, or null (the PDF is served unsealed, as the start's deviations say)
     * @param institution the institution's name, or this host's
     * @param registers   the registers the checklist asks about, as sections of the pack (none: an empty list)
     * @param deviations  the deviations from the secure defaults, as the administrator's home page lists them
     */
    public PackPages(Frameworks frameworks, Answers answers, EvidenceSource evidence, Console console,
                     Predicate<Sessions.Session> reader, ZoneId zone, PdfSeal seal, AuditRecorder audit,
                     String institution, Supplier<List<PackSection>> registers, Supplier<List<String>> deviations) {
        this.frameworks = frameworks;
        this.answers = answers;
        this.evidence = evidence;
        this.console = console;
        this.access = new ComplianceAccess(console, reader);
        this.zone = zone;
        this.seal = seal;
        this.audit = audit;
        this.institution = institution;
        this.registers = registers;
        this.deviations = deviations;
    }

    public void register() {
        console.route("GET", PATH, USER, false, access.read(this::pack));
    }

    private Reply pack(ConsoleRequest r) {
        Messages t = r.messages();
        Framework fw = frameworks.find(r.param("id"), r.param("v")).orElse(null);
        if (fw == null) {
            return console.error(r, 404, "compliance.notFound", "compliance.notFound.message");
        }
        String format = r.param("format") == null || r.param("format").isEmpty() ? "pdf" : r.param("format");
        if (!List.of("pdf", "csv", "oscal").contains(format)) {
            return console.error(r, 400, "compliance.pack.badFormat", "compliance.pack.badFormat.message");
        }
        Sessions.Session s = r.session();
        List<PackSection> regs;
        try {
            regs = registers.get();
        } catch (RuntimeException e) {
            log.warn("compliance: the registers for the inspection pack could not be read: {}", e.toString());
            regs = List.of(new PackSection("台帳", List.of("状態"), List.of(List.of(
                    "台帳を読み込めませんでした / the registers could not be read")), null));
        }
        InspectionPack pack = InspectionPack.of(fw, answers.current(fw), evidence, regs, deviations.get(),
                institution, s.displayName() + "（" + s.loginId() + "）", console.clock().instant(), zone);
        AuditEvent.Builder entry = AuditEvent.by(Actor.of(s, r.address()), AuditAction.COMPLIANCE_PACK)
                .detail("framework", fw.id()).detail("version", fw.version()).detail("format", format);
        byte[] body;
        String type;
        String ext;
        switch (format) {
            case "csv" -> {
                body = pack.csv();
                type = "text/csv;charset=UTF-8";
                ext = "csv";
            }
            case "oscal" -> {
                body = pack.oscal();
                type = "application/json;charset=UTF-8";
                ext = "oscal.json";
            }
            default -> {
                body = pack.pdf();
                type = "application/pdf";
                ext = "pdf";
                if (seal == null) {
                    entry.detail("sealed", "false");
                } else {
                    try {
                        PdfSeal.Sealed sealed = seal.seal(body);
                        body = sealed.pdf();
                        entry.detail("sealed", "true").detail("sealLevel", "PAdES-" + sealed.level().label());
                        sealed.pending().ifPresent(why -> log.warn("inspection pack sealed without a time-stamp"
                                + " (level B): {}", why));
                    } catch (SignatureFailure f) {
                        log.error("inspection pack not served: the institution seal failed: {}", f.getMessage());
                        audit.append(entry.detail("sealed", "false").detail("sealError", f.reason().name())
                                .outcome(jp.mamori.audit.Outcome.of(false)).build());
                        return console.page(r.lang(), 503, t.get("compliance.pack.unsealed"), r, Html.message(
                                "error", t.get("compliance.pack.unsealed.message")));
                    }
                }
            }
        }
        audit.append(entry.build());
        return Reply.of(200, type, body)
                .header("Content-Disposition", "attachment; filename=\"" + pack.fileName(ext) + "\"")
                .header("X-Content-Type-Options", "nosniff")
                .header("Cache-Control", "no-store");
    }
}
