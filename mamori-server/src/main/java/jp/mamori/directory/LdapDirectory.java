package jp.mamori.directory;

import com.unboundid.asn1.ASN1OctetString;
import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.ExtendedResult;
import com.unboundid.ldap.sdk.Filter;
import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPConnectionOptions;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.LDAPSearchException;
import com.unboundid.ldap.sdk.ResultCode;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResult;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import com.unboundid.ldap.sdk.controls.SimplePagedResultsControl;
import com.unboundid.ldap.sdk.extensions.StartTLSExtendedRequest;
import com.unboundid.util.ssl.HostNameSSLSocketVerifier;
import com.unboundid.util.ssl.JVMDefaultTrustManager;
import com.unboundid.util.ssl.PEMFileTrustManager;
import com.unboundid.util.ssl.SSLUtil;
import jp.mamori.config.ConfigException;
import jp.mamori.config.DirectoryOptions;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The directory over LDAP with TLS only (issue 21): LDAPS, or LDAP with StartTLS, which is then required. The server's
 * certificate must chain to {@code --directory-ca} (or the JDK's trust store) and name the host. The search is paged
 * (AD answers 1,000 entries a page); a size limit, a referral or any error makes the whole answer unusable.
 */
public final class LdapDirectory implements Directory {
    /** More entries than this is not a staff directory: refused as incomplete rather than held in memory. */
    static final int MAX_ENTRIES = 200_000;
    private static final int PAGE = 500;

    private final DirectoryOptions o;
    private final Filter filter;
    private final String[] attributes;

    public LdapDirectory(DirectoryOptions o) {
        if (!o.enabled()) {
            throw new IllegalArgumentException("no directory configured");
        }
        this.o = o;
        try {
            this.filter = Filter.create(o.filter());
        } catch (LDAPException e) {
            throw new ConfigException("--directory-filter を解釈できません / --directory-filter is not an LDAP filter: "
                    + o.filter());
        }
        List<String> attrs = new ArrayList<>(List.of(o.loginAttribute(), "entryUUID", "objectGUID",
                "userAccountControl", "pwdAccountLockedTime", "nsAccountLock"));
        o.departmentAttribute().ifPresent(attrs::add);
        o.qualificationAttribute().ifPresent(attrs::add);
        this.attributes = attrs.toArray(String[]::new);
    }

    /**
     * Connects, sets up TLS and binds, without searching: what {@code serve} asks at start. A server on
     * {@code ldap://} that does not offer StartTLS is a configuration error (the start is refused); anything else is
     * the same failure a run records.
     */
    public void check() throws DirectoryException {
        try (LDAPConnection c = connect()) {
            c.getConnectedAddress();
        }
    }

    @Override
    public List<DirectoryEntry> read() throws DirectoryException {
        try (LDAPConnection c = connect()) {
            List<DirectoryEntry> out = new ArrayList<>();
            SearchRequest req = new SearchRequest(o.base().orElseThrow(), SearchScope.SUB, filter, attributes);
            req.setTimeLimitSeconds(120);
            ASN1OctetString cookie = null;
            do {
                req.setControls(new SimplePagedResultsControl(PAGE, cookie, false));
                SearchResult res;
                try {
                    res = c.search(req);
                } catch (LDAPSearchException e) {
                    throw searchFailure(e);
                }
                if (res.getReferenceCount() > 0) {
                    throw new DirectoryException(DirectoryException.Kind.INCOMPLETE, "ディレクトリの回答が一部（参照先あり）"
                            + "でした / the directory answered in part (referrals)");
                }
                for (SearchResultEntry e : res.getSearchEntries()) {
                    out.add(entry(e));
                }
                if (out.size() > MAX_ENTRIES) {
                    throw new DirectoryException(DirectoryException.Kind.INCOMPLETE, "ディレクトリの回答が多すぎます / more"
                            + " than " + MAX_ENTRIES + " entries");
                }
                SimplePagedResultsControl paged;
                try {
                    paged = SimplePagedResultsControl.get(res);
                } catch (LDAPException e) {
                    throw new DirectoryException(DirectoryException.Kind.INCOMPLETE, "ページ分割の応答が不正です / the paged"
                            + " results answer is malformed");
                }
                cookie = paged != null && paged.moreResultsToReturn() ? paged.getCookie() : null;
            } while (cookie != null);
            return out;
        }
    }

    private DirectoryEntry entry(SearchResultEntry e) throws DirectoryException {
        String id = e.getAttributeValue("entryUUID");
        if (id == null) {
            byte[] guid = e.getAttributeValueBytes("objectGUID");
            id = guid == null ? null : "guid:" + HexFormat.of().formatHex(guid);
        }
        if (id == null || id.isBlank() || id.length() > 200) {
            throw new DirectoryException(DirectoryException.Kind.INCOMPLETE, "エントリに entryUUID / objectGUID がありません"
                    + " / an entry has no entryUUID or objectGUID: " + shortDn(e.getDN()));
        }
        String login = e.getAttributeValue(o.loginAttribute());
        boolean disabled = false;
        String uac = e.getAttributeValue("userAccountControl");
        if (uac != null) {
            try {
                disabled = (Long.parseLong(uac.strip()) & 0x2) != 0;
            } catch (NumberFormatException ex) {
                disabled = true; // unreadable: not known to be enabled; the guard still bounds how many
            }
        }
        disabled |= e.hasAttribute("pwdAccountLockedTime");
        disabled |= "true".equalsIgnoreCase(e.getAttributeValue("nsAccountLock"));
        return new DirectoryEntry(id, e.getDN(), login == null ? null : login.strip().toLowerCase(Locale.ROOT),
                disabled, values(e, o.departmentAttribute()), values(e, o.qualificationAttribute()));
    }

    /** An attribute's values, stripped; blank ones and ones over 100 characters left out, at most 50. */
    private static List<String> values(SearchResultEntry e, Optional<String> attribute) {
        List<String> out = new ArrayList<>();
        Attribute a = attribute.isEmpty() ? null : e.getAttribute(attribute.get());
        if (a != null) {
            for (String v : a.getValues()) {
                if (!v.isBlank() && v.strip().length() <= 100 && out.size() < 50) {
                    out.add(v.strip());
                }
            }
        }
        return out;
    }

    static String shortDn(String dn) {
        return dn.length() <= 300 ? dn : dn.substring(0, 300) + "…";
    }

    private static DirectoryException searchFailure(LDAPSearchException e) {
        ResultCode rc = e.getResultCode();
        if (rc == ResultCode.SIZE_LIMIT_EXCEEDED || rc == ResultCode.TIME_LIMIT_EXCEEDED
                || rc == ResultCode.ADMIN_LIMIT_EXCEEDED || rc == ResultCode.REFERRAL) {
            return new DirectoryException(DirectoryException.Kind.INCOMPLETE, "ディレクトリの回答が上限で打ち切られました / the"
                    + " directory's answer was cut short (" + rc.getName() + ")");
        }
        if (rc == ResultCode.NO_SUCH_OBJECT) {
            return new DirectoryException(DirectoryException.Kind.FAILED, "検索の基点（--directory-base）がありません / the"
                    + " search base does not exist");
        }
        return new DirectoryException(DirectoryException.Kind.FAILED, "ディレクトリの検索に失敗しました / the directory"
                + " search failed (" + rc.getName() + ")");
    }

    private LDAPConnection connect() throws DirectoryException {
        SSLUtil ssl;
        try {
            TrustManager tm = o.ca().isPresent() ? new PEMFileTrustManager(o.ca().get().toFile())
                    : JVMDefaultTrustManager.getInstance();
            ssl = new SSLUtil(tm);
        } catch (RuntimeException | GeneralSecurityException e) {
            throw new DirectoryException(DirectoryException.Kind.TLS, "--directory-ca を読めません / cannot read"
                    + " --directory-ca");
        }
        LDAPConnectionOptions opts = new LDAPConnectionOptions();
        opts.setConnectTimeoutMillis(10_000);
        opts.setResponseTimeoutMillis(120_000);
        opts.setSSLSocketVerifier(new HostNameSSLSocketVerifier(true));
        opts.setFollowReferrals(false);
        String host = o.url().orElseThrow().getHost();
        int port = o.port();
        LDAPConnection c;
        try {
            if (o.startTls()) {
                c = new LDAPConnection(opts, host, port);
                try {
                    SSLContext ctx = ssl.createSSLContext();
                    ExtendedResult r = c.processExtendedOperation(new StartTLSExtendedRequest(ctx));
                    if (r.getResultCode() != ResultCode.SUCCESS) {
                        c.close();
                        throw new DirectoryException(DirectoryException.Kind.NO_STARTTLS, "ディレクトリが StartTLS に"
                                + "応じません。平文の LDAP は使いません / the directory does not offer StartTLS; plain LDAP"
                                + " is refused (" + host + ":" + port + ")");
                    }
                } catch (LDAPException e) {
                    c.close();
                    if (tlsCause(e)) {
                        throw tlsFailure(host, port);
                    }
                    throw new DirectoryException(DirectoryException.Kind.NO_STARTTLS, "ディレクトリが StartTLS に応じません。"
                            + "平文の LDAP は使いません / the directory does not offer StartTLS; plain LDAP is refused ("
                            + host + ":" + port + ")");
                }
            } else {
                c = new LDAPConnection(ssl.createSSLSocketFactory(), opts, host, port);
            }
        } catch (LDAPException e) {
            if (tlsCause(e)) {
                throw tlsFailure(host, port);
            }
            throw new DirectoryException(DirectoryException.Kind.UNREACHABLE, "ディレクトリに接続できません / cannot reach"
                    + " the directory at " + host + ":" + port);
        } catch (GeneralSecurityException e) {
            throw tlsFailure(host, port);
        }
        try {
            c.bind(o.bindDn().orElseThrow(), o.password().orElseThrow());
        } catch (LDAPException e) {
            c.close();
            if (e.getResultCode() == ResultCode.INVALID_CREDENTIALS) {
                throw new DirectoryException(DirectoryException.Kind.BIND, "ディレクトリへのバインドが拒否されました（DN か"
                        + "パスワード） / the directory refused the bind (DN or password)");
            }
            throw new DirectoryException(DirectoryException.Kind.BIND, "ディレクトリへのバインドに失敗しました / the bind"
                    + " failed (" + e.getResultCode().getName() + ")");
        }
        return c;
    }

    private static DirectoryException tlsFailure(String host, int port) {
        return new DirectoryException(DirectoryException.Kind.TLS, "ディレクトリの証明書を信頼できません（または TLS を確立"
                + "できません） / the directory's certificate is not trusted, or TLS failed (" + host + ":" + port + ")");
    }

    private static boolean tlsCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof javax.net.ssl.SSLException || t instanceof java.security.cert.CertificateException) {
                return true;
            }
            String m = String.valueOf(t.getMessage());
            if (m.contains("SSL") || m.contains("TLS") || m.contains("certificate") || m.contains("handshake")) {
                return true;
            }
        }
        return false;
    }
}
