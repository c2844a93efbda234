package jp.mamori.records;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.identity.Scope.Permission;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jp.mamori.kernel.FhirError;

/**
 * The resources a page of search results includes ({@code _include}, {@code _revinclude}). The specifications are
 * checked before anything is read ({@link Include#parse}); which included resources the caller may see is known only
 * once the page's references are read, and is decided here through {@link RecordAuthorization} (the type gate of each
 * included resource, and for a person each resource as a search decides it).
 */
final class SearchIncludes {
    private static final int MAX_INCLUDES = 1000;

    private final RecordStore store;
    private final RecordAuthorization auth;

    SearchIncludes(RecordStore store, RecordAuthorization auth) {
        this.store = store;
        this.auth = auth;
    }

    /**
     * One {@code _include} ({@code reverse} false: {@code Source:param[:Target]}, Source the searched type, param a
     * reference parameter or {@code *}) or {@code _revinclude} ({@code Source:param[:Target]}, Source any type, param a
     * reference parameter); {@code target} is null when not given. Every segment must be present and known: an empty
     * one, a bare ':' or an extra segment is a 400, never an index error.
     */
    record Include(boolean reverse, String source, String param, String target) {
        static List<Include> parse(String type, Map<String, List<String>> params) {
            List<Include> out = new ArrayList<>();
            for (String spec : params.getOrDefault("_include", List.of())) {
                String[] p = spec.split(":", -1);
                if (p.length < 2 || p.length > 3 || !p[0].equals(type) || p[1].isEmpty()) {
                    throw FhirError.badRequest("_include の形式が正しくありません / _include must be " + type
                            + ":param[:TargetType] or " + type + ":*, not '" + spec + "'");
                }
                if (!p[1].equals("*")) {
                    requireReferenceParam(type, p[1]);
                }
                out.add(new Include(false, type, p[1], target(p, "_include", spec)));
            }
            for (String spec : params.getOrDefault("_revinclude", List.of())) {
                String[] p = spec.split(":", -1);
                if (p.length < 2 || p.length > 3 || !FhirSupport.isResourceType(p[0]) || p[1].isEmpty()) {
                    throw FhirError.badRequest("_revinclude の形式が正しくありません / _revinclude must be"
                            + " SourceType:param[:TargetType], e.g. Observation:subject, not '" + spec + "'");
                }
                requireReferenceParam(p[0], p[1]);
                out.add(new Include(true, p[0], p[1], target(p, "_revinclude", spec)));
            }
            return out;
        }

        private static String target(String[] p, String name, String spec) {
            if (p.length < 3) {
                return null;
            }
            if (!FhirSupport.isResourceType(p[2])) {
                throw FhirError.badRequest(name + " の対象リソース種別が不明です / the target type in " + name + " '"
                        + spec + "' is not an R4 resource type");
            }
            return p[2];
        }
    }

    /**
     * _include and _revinclude of the page; types the caller may not read are left out, and so are reverse includes
     * of a type the caller may not search.
     */
    List<RecordStore.Version> read(Connection c, Caller caller, String type,
                                               List<RecordStore.Version> matches, List<Include> specs,
                                               AccessPolicy.SearchDecisions decisions, long pageBytes)
            throws SQLException {
        if (specs.isEmpty() || matches.isEmpty()) {
            return List.of();
        }
        Set<Long> seen = new LinkedHashSet<>();
        matches.forEach(m -> seen.add(m.pk()));
        Long[] pageKeys = matches.stream().map(RecordStore.Version::pk).toArray(Long[]::new);
        String[] pageIds = matches.stream().map(RecordStore.Version::id).toArray(String[]::new);
        List<Long> found = new ArrayList<>();
        for (Include inc : specs) {
            if (!inc.reverse()) {
                boolean any = inc.param().equals("*");
                String sql = "SELECT t.res_pk FROM sp_reference x JOIN resource t ON t.res_type = x.target_type"
                        + " AND t.res_id = x.target_id WHERE x.res_pk = ANY(?) AND NOT t.deleted"
                        + (any ? "" : " AND x.param = ?") + (inc.target() != null ? " AND x.target_type = ?" : "");
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    int i = 1;
                    ps.setArray(i++, c.createArrayOf("bigint", pageKeys));
                    if (!any) {
                        ps.setString(i++, inc.param());
                    }
                    if (inc.target() != null) {
                        ps.setString(i, inc.target());
                    }
                    collect(ps, found);
                }
            } else if ((inc.target() == null || inc.target().equals(type))
                    && auth.allows(caller, inc.source(), Permission.SEARCH)) {
                // a target type other than the searched one names references to resources not on the page; a
                // reverse include is a search of its source type by reference, so it needs that type's search
                // permission (s), as type history does: read (r) alone would list resources never named to the caller
                try (PreparedStatement ps = c.prepareStatement("SELECT x.res_pk FROM sp_reference x JOIN resource s"
                        + " ON s.res_pk = x.res_pk WHERE x.res_type = ? AND x.param = ? AND x.target_type = ?"
                        + " AND x.target_id = ANY(?) AND NOT s.deleted")) {
                    ps.setString(1, inc.source());
                    ps.setString(2, inc.param());
                    ps.setString(3, type);
                    ps.setArray(4, c.createArrayOf("text", pageIds));
                    collect(ps, found);
                }
            }
        }
        List<Long> wanted = new ArrayList<>();
        for (Long pk : found) {
            if (seen.add(pk) && wanted.size() < MAX_INCLUDES) {
                wanted.add(pk);
            }
        }
        List<RecordStore.Version> readable = new ArrayList<>();
        Map<Long, AccessPolicy.Subject> subjects = caller.isPerson() ? new java.util.HashMap<>() : null;
        for (RecordStore.Version v : store.currentByPk(c, wanted, subjects, pageBytes)) {
            if (v.withheld()) {
                throw new FhirError(413, OperationOutcome.IssueType.TOOCOSTLY, "取り込むリソース (_include,"
                        + " _revinclude) が 1 ページの上限 " + pageBytes + " バイトを超えます。_count を小さくしてください"
                        + " / the included resources exceed the page's limit of " + pageBytes + " bytes; ask for"
                        + " fewer matches per page (_count)");
            }
            if (auth.allows(caller, v.type(), Permission.READ)) {
                readable.add(v);
            }
        }
        return caller.isPerson() ? RecordAuthorization.visible(decisions, readable, subjects) : readable;
    }

    private static void requireReferenceParam(String type, String name) {
        var sp = SearchParser.searchParam(type, name);
        if (sp.getParamType() != ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.REFERENCE) {
            throw FhirError.badRequest("'" + name + "' of " + type + " is not a reference parameter");
        }
    }

    private static void collect(PreparedStatement ps, List<Long> out) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
    }
}
