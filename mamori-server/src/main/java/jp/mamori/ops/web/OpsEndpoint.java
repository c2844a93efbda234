package jp.mamori.ops.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.access.Caller;
import jp.mamori.identity.Scope;
import jp.mamori.kernel.FhirError;
import jp.mamori.ops.Health;
import jp.mamori.ops.HealthCheck;
import jp.mamori.ops.Metrics;
import jp.mamori.web.Endpoint;
import jp.mamori.web.Exchange;
import jp.mamori.web.Reply;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.time.ZoneId;

/**
 * {@code /health}, {@code /health/detail} and {@code /metrics} (issue 18 §5; NET-13).
 * <ul>
 * <li>{@code /health}: anyone (a load balancer): {@code {"status":"UP"}}, {@code DEGRADED} or {@code DOWN} and nothing
 * else; 503 when DOWN so that a balancer takes this process out of rotation.</li>
 * <li>{@code /health/detail}: a system client holding {@code system/health.read} by name ({@code system/*.*} does not
 * hold it: a FHIR client has no need to learn the server's folders and links); 401 without a credential, 403 without
 * the scope. The same report the administrators' console page shows.</li>
 * <li>{@code /metrics}: a system client holding {@code system/metrics.read}; anonymous only with
 * {@code --metrics-anonymous}, a deviation.</li>
 * </ul>
 * Neither names a patient; only GET and HEAD are answered.
 */
public final class OpsEndpoint implements Endpoint {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Health health;
    private final Metrics metrics;
    private final boolean anonymousMetrics;
    private final ZoneId zone;

    public OpsEndpoint(Health health, Metrics metrics, boolean anonymousMetrics, ZoneId zone) {
        this.health = health;
        this.metrics = metrics;
        this.anonymousMetrics = anonymousMetrics;
        this.zone = zone;
    }

    @Override
    public Reply handle(Exchange ex) throws Exception {
        String method = ex.request().getMethod();
        String path = ex.path();
        if (path.equals("/health")) {
            onlyGet(method);
            Health.Report r = health.report();
            return Reply.of(r.status() == HealthCheck.Status.DOWN ? 503 : 200, "application/json",
                    "{\"status\":\"" + r.status() + "\"}");
        }
        if (path.equals("/health/detail")) {
            require(ex.authenticate().get(), "health");
            onlyGet(method);
            return Reply.of(200, "application/json;charset=UTF-8", detail(health.report()));
        }
        if (path.equals("/metrics")) {
            if (!anonymousMetrics) {
                require(ex.authenticate().get(), "metrics");
            }
            onlyGet(method);
            return Reply.of(200, Metrics.CONTENT_TYPE, metrics.scrape());
        }
        ex.authenticate().get(); // strangers learn nothing, not even which paths exist
        throw FhirError.notFound("nothing at " + path);
    }

    private static void onlyGet(String method) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            throw new FhirError(405, OperationOutcome.IssueType.NOTSUPPORTED, "only GET / GET のみです");
        }
    }

    /** The caller holds {@code system/<what>.read} by name. */
    static void require(Caller caller, String what) {
        if (caller.scopes().stream().noneMatch(s -> s.grants(what, Scope.Permission.READ))) {
            throw FhirError.forbidden("this needs the scope system/" + what + ".read / system/" + what
                    + ".read のスコープが必要です");
        }
    }

    String detail(Health.Report r) throws Exception {
        ObjectNode root = JSON.createObjectNode();
        root.put("status", r.status().name());
        root.put("at", r.at().toString());
        root.put("atLocal", r.at().atZone(zone).toOffsetDateTime().toString());
        ArrayNode checks = root.putArray("checks");
        for (Health.Line l : r.lines()) {
            ObjectNode c = checks.addObject();
            c.put("name", l.name());
            c.put("status", l.result().status().name());
            c.put("critical", l.critical());
            c.put("summary", l.result().summary());
            if (l.result().at() != null) {
                c.put("at", l.result().at().toString());
                c.put("atLocal", l.result().at().atZone(zone).toOffsetDateTime().toString());
            }
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }
}
