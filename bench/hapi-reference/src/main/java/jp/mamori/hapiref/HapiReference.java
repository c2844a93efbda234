package jp.mamori.hapiref;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.ResponseHighlighterInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

import java.net.BindException;

/**
 * The reference server for Mamori's performance comparisons (issue 24): HAPI FHIR JPA 8.8 (R4) on PostgreSQL, served
 * at {@code http://127.0.0.1:PORT/fhir} by Jetty 12, with the public hapi-fhir-jpaserver-starter's default settings
 * (see {@link ReferenceConfig} and bench/hapi-reference/README.md). Plain HTTP, no authentication, no audit: it is a
 * yardstick on loopback, never a part of Mamori and never a place for real data.
 *
 * <p>Usage: {@code java -Dhapiref.jdbcUrl=jdbc:postgresql://127.0.0.1:5433/hapi -Dhapiref.dbUser=hapi -jar
 * hapi-reference-all.jar --port 8080}, the database password in the environment variable {@code HAPIREF_DB_PASSWORD}.
 * The script {@code bench/hapi-reference/run} does all of this, with a fresh PostgreSQL 15 cluster.
 */
public final class HapiReference {
    private static final Logger LOG = LoggerFactory.getLogger(HapiReference.class);

    private HapiReference() {
    }

    public static void main(String[] args) {
        int port;
        try {
            port = parsePort(args);
            requireProperty("hapiref.jdbcUrl", "jdbc:postgresql://");
            requireProperty("hapiref.dbUser", "");
            if (System.getenv("HAPIREF_DB_PASSWORD") == null) {
                throw new IllegalArgumentException("the environment variable HAPIREF_DB_PASSWORD is not set");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("hapi-reference: " + e.getMessage());
            System.err.println("usage: java -Dhapiref.jdbcUrl=jdbc:postgresql://HOST:PORT/DB -Dhapiref.dbUser=USER "
                    + "-jar hapi-reference-all.jar --port PORT   (password in HAPIREF_DB_PASSWORD)");
            System.exit(2);
            return;
        }
        AnnotationConfigApplicationContext spring;
        try {
            spring = new AnnotationConfigApplicationContext(ReferenceConfig.class);
        } catch (RuntimeException e) {
            LOG.debug("start failed", e);
            System.err.println("hapi-reference: HAPI FHIR did not start: " + rootMessage(e));
            System.exit(1);
            return;
        }
        Server jetty = jetty(port, restfulServer(spring));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                jetty.stop();
            } catch (Exception e) {
                LOG.warn("stopping Jetty: {}", e.toString());
            }
            spring.close();
        }, "hapi-reference-stop"));
        try {
            jetty.start();
        } catch (Exception e) {
            spring.close();
            String why = e instanceof BindException || e.getCause() instanceof BindException
                    ? "port " + port + " on 127.0.0.1 is taken" : rootMessage(e);
            System.err.println("hapi-reference: cannot listen: " + why);
            System.exit(1);
            return;
        }
        System.out.println("HAPI FHIR JPA reference ready at http://127.0.0.1:" + port + "/fhir");
        try {
            jetty.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The HAPI RestfulServer as the starter builds it (StarterJpaConfig.restfulServer) with its default properties:
     * every R4 resource provider and the system provider (transactions), the JPA capability statement, the
     * database-backed paging provider (20 per page), pretty-printed JSON by default, ETags, no narratives, the
     * response highlighter (only for browsers). Left out of the request path on purpose: the starter's request
     * logging interceptor (an access log; the comparison is "without any audit"), CORS, OpenAPI and the tester UI;
     * the operation providers for terminology upload, subscription triggering, $reindex, $diff and ValueSet
     * operations are not registered, as no scenario calls them.
     */
    static RestfulServer restfulServer(AnnotationConfigApplicationContext spring) {
        FhirContext fhir = spring.getBean(FhirContext.class);
        fhir.setNarrativeGenerator(new NullNarrativeGenerator()); // narrative_enabled: false
        RestfulServer server = new RestfulServer(fhir);
        server.registerProviders(spring.getBean(ResourceProviderFactory.class).createProviders());
        server.registerProvider(spring.getBean("mySystemProviderR4", JpaSystemProvider.class));
        JpaCapabilityStatementProvider capabilities = new JpaCapabilityStatementProvider(server,
                spring.getBean(IFhirSystemDao.class), spring.getBean(JpaStorageSettings.class),
                spring.getBean(ISearchParamRegistry.class), spring.getBean(IValidationSupport.class));
        capabilities.setImplementationDescription("HAPI FHIR R4 Server (Mamori benchmark reference)");
        server.setServerConformanceProvider(capabilities);
        server.setDefaultPrettyPrint(true);
        server.setDefaultResponseEncoding(EncodingEnum.JSON);
        DatabaseBackedPagingProvider paging = spring.getBean(DatabaseBackedPagingProvider.class);
        paging.setDefaultPageSize(20);
        paging.setMaximumPageSize(Integer.MAX_VALUE);
        server.setPagingProvider(paging);
        server.registerInterceptor(new ResponseHighlighterInterceptor());
        server.setServerAddressStrategy(new IncomingRequestAddressStrategy());
        return server;
    }

    /** Jetty on 127.0.0.1 only, 200 threads at most (the size of Tomcat's pool under the starter). */
    static Server jetty(int port, RestfulServer fhir) {
        QueuedThreadPool threads = new QueuedThreadPool(200);
        threads.setName("hapi-http");
        Server server = new Server(threads);
        ServerConnector http = new ServerConnector(server);
        http.setHost("127.0.0.1");
        http.setPort(port);
        server.addConnector(http);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        ServletHolder holder = new ServletHolder("fhir", fhir);
        holder.setInitOrder(1);
        context.addServlet(holder, "/fhir/*");
        server.setHandler(context);
        server.setStopTimeout(5_000);
        return server;
    }

    static int parsePort(String[] args) {
        int port = 8080;
        for (int i = 0; i < args.length; i++) {
            if ("--port".equals(args[i]) && i + 1 < args.length) {
                try {
                    port = Integer.parseInt(args[++i]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--port needs a number, not '" + args[i] + "'");
                }
            } else {
                throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("--port must be 1 to 65535, not " + port);
        }
        return port;
    }

    private static void requireProperty(String name, String prefix) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank() || !v.startsWith(prefix)) {
            throw new IllegalArgumentException("-D" + name + " is missing" + (prefix.isEmpty() ? "" :
                    " or does not start with " + prefix));
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
    }
}
