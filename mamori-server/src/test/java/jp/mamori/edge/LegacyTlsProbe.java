package jp.mamori.edge;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.security.cert.X509Certificate;
import java.util.Arrays;

/**
 * Run in its own JVM by {@link TlsProfileTest}: tries one handshake with an old protocol. The JDK disables
 * TLSv1 and TLSv1.1 on the client as well, and reads that setting once per JVM, so the test starts this
 * probe with {@code -Djava.security.properties} that re-enables them, so the refusal it sees comes from
 * the server. It trusts any certificate: the handshake is expected to fail long before that matters.
 *
 * <p>Prints one line and exits: 0 handshake succeeded, 3 the server refused, 4 the client could not even
 * offer the protocol (the probe is broken, not the server).
 */
public final class LegacyTlsProbe {
    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String protocol = args[2];
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[]{new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(host, port)) {
            s.setSoTimeout(10_000);
            if (!Arrays.asList(s.getSupportedProtocols()).contains(protocol)) {
                System.out.println("CLIENT-CANNOT " + protocol + " not supported by this JDK");
                System.exit(4);
            }
            s.setEnabledProtocols(new String[]{protocol});
            try {
                s.startHandshake();
                System.out.println("OK " + s.getSession().getProtocol() + " " + s.getSession().getCipherSuite());
                System.exit(0);
            } catch (SSLHandshakeException e) {
                String m = String.valueOf(e.getMessage());
                if (m.contains("No appropriate protocol")) {
                    System.out.println("CLIENT-CANNOT " + m);
                    System.exit(4);
                }
                System.out.println("REFUSED " + m);
                System.exit(3);
            } catch (java.io.IOException e) {
                // A server that closes the connection without an alert also refuses.
                System.out.println("REFUSED " + e.getClass().getSimpleName() + ": " + e.getMessage());
                System.exit(3);
            }
        }
    }
}
