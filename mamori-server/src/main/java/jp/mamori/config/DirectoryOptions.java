package jp.mamori.config;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The institution's directory, read on an interval so that leavers are suspended (issue 21; ACCT-2). Off unless
 * {@code --directory-url} is given. Only LDAPS ({@code ldaps://}) or LDAP with StartTLS ({@code ldap://}, StartTLS is
 * then required and a server that does not offer it is refused); the bind password comes from a file, never from the
 * command line (AUTH-1: a secret in a process listing is disclosed).
 *
 * @param url                 {@code --directory-url ldaps://host:636} or {@code ldap://host:389}
 * @param ca                  {@code --directory-ca FILE}: PEM trust anchors; none: the JDK's default trust store
 * @param bindDn              {@code --directory-bind-dn}
 * @param password            read from {@code --directory-password-file} at start ({@link #toString()} masks it)
 * @param base                {@code --directory-base DN}: where people are searched
 * @param filter              {@code --directory-filter}, default {@code (objectClass=person)}
 * @param loginAttribute      the attribute holding the Mamori login id ({@code --directory-login-attribute}, default
 *                            {@code uid}; AD {@code sAMAccountName})
 * @param intervalMinutes     {@code --directory-interval-minutes}, default 15
 * @param departmentAttribute {@code --directory-department-attribute}: proposals of departments; none: no proposals
 * @param qualificationAttribute {@code --directory-qualification-attribute}: proposals of qualifications (資格), each
 *                            value matched against the qualification catalogue by code or name; none: no proposals
 * @param maxSuspendPercent   {@code --directory-max-suspend-percent}, default 20: one run that would suspend more than
 *                            this share of the linked people (and more than {@link #MIN_GUARD_PEOPLE}) suspends nobody
 */
public record DirectoryOptions(Optional<URI> url, Optional<Path> ca, Optional<String> bindDn, Optional<String> password,
                               Optional<String> base, String filter, String loginAttribute, int intervalMinutes,
                               Optional<String> departmentAttribute, Optional<String> qualificationAttribute,
                               int maxSuspendPercent) {
    public static final DirectoryOptions OFF = new DirectoryOptions(Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty(), "(objectClass=person)", "uid", 15, Optional.empty(),
            Optional.empty(), 20);
    /** A run may always suspend this many people at once, whatever the share: a small site's leavers. */
    public static final int MIN_GUARD_PEOPLE = 5;
    public static final List<String> OPTIONS = List.of("--directory-url", "--directory-ca", "--directory-bind-dn",
            "--directory-password-file", "--directory-base", "--directory-filter", "--directory-login-attribute",
            "--directory-interval-minutes", "--directory-department-attribute", "--directory-qualification-attribute",
            "--directory-max-suspend-percent");

    public DirectoryOptions {
        if (url.isPresent()) {
            String scheme = String.valueOf(url.get().getScheme()).toLowerCase(java.util.Locale.ROOT);
            if (!scheme.equals("ldaps") && !scheme.equals("ldap") || url.get().getHost() == null) {
                throw new ConfigException("--directory-url は ldaps://HOST:636 か ldap://HOST:389（StartTLS 必須）です /"
                        + " --directory-url must be ldaps://HOST[:PORT] or ldap://HOST[:PORT] (with StartTLS)");
            }
            if (bindDn.isEmpty() || password.isEmpty() || base.isEmpty()) {
                throw new ConfigException("--directory-url には --directory-bind-dn, --directory-password-file,"
                        + " --directory-base が必要です / --directory-url needs --directory-bind-dn,"
                        + " --directory-password-file and --directory-base");
            }
        }
        if (!filter.startsWith("(") || !filter.endsWith(")") || filter.length() > 1000) {
            throw new ConfigException("--directory-filter は (objectClass=person) のような LDAP フィルタです /"
                    + " --directory-filter must be an LDAP filter such as (objectClass=person)");
        }
        List<String> attributes = new ArrayList<>(List.of(loginAttribute));
        departmentAttribute.ifPresent(attributes::add);
        qualificationAttribute.ifPresent(attributes::add);
        for (String attr : attributes) {
            if (!attr.matches("[A-Za-z][A-Za-z0-9-]{0,63}")) {
                throw new ConfigException("属性名が正しくありません / not an attribute name: " + attr);
            }
        }
        if (intervalMinutes < 1 || intervalMinutes > 24 * 60) {
            throw new ConfigException("--directory-interval-minutes は 1〜1440 です / --directory-interval-minutes must"
                    + " be 1 to 1440");
        }
        if (maxSuspendPercent < 1 || maxSuspendPercent > 100) {
            throw new ConfigException("--directory-max-suspend-percent は 1〜100 です / --directory-max-suspend-percent"
                    + " must be 1 to 100");
        }
    }

    /** Whether a directory is configured. */
    public boolean enabled() {
        return url.isPresent();
    }

    /** Whether TLS comes from StartTLS on an {@code ldap://} connection (required then) rather than LDAPS. */
    public boolean startTls() {
        return url.isPresent() && url.get().getScheme().equalsIgnoreCase("ldap");
    }

    public int port() {
        return url.map(u -> u.getPort() > 0 ? u.getPort() : startTls() ? 389 : 636).orElse(0);
    }

    /** Settings weaker than the defaults, one line each. */
    public List<String> deviations() {
        List<String> out = new ArrayList<>();
        if (enabled() && intervalMinutes > 15) {
            out.add("the directory is read only every " + intervalMinutes + " minutes (default 15): a leaver's ID stays"
                    + " valid that long (ACCT-2) / ディレクトリ同期の間隔が長すぎます");
        }
        return out;
    }

    /** Parses the options from {@code serve}'s arguments; the password file is read here. */
    public static DirectoryOptions from(Args a) {
        Optional<URI> url = a.value("--directory-url").map(v -> {
            try {
                return new URI(v.strip());
            } catch (URISyntaxException e) {
                throw new ConfigException("--directory-url は ldaps://HOST:636 の形式です / --directory-url must be"
                        + " ldaps://HOST[:PORT] or ldap://HOST[:PORT]");
            }
        });
        Optional<String> password = a.value("--directory-password-file").map(f -> {
            try {
                String p = Files.readString(Path.of(f), StandardCharsets.UTF_8).strip();
                if (p.isEmpty()) {
                    throw new ConfigException("--directory-password-file は空です / --directory-password-file is empty");
                }
                return p;
            } catch (IOException e) {
                throw new ConfigException("--directory-password-file を読めません / cannot read --directory-password-file: "
                        + f);
            }
        });
        Optional<Path> ca = a.value("--directory-ca").map(f -> Path.of(f).toAbsolutePath().normalize());
        if (ca.isPresent() && !Files.isReadable(ca.get())) {
            throw new ConfigException("--directory-ca を読めません / cannot read --directory-ca: " + ca.get());
        }
        return new DirectoryOptions(url, ca, a.value("--directory-bind-dn").map(String::strip), password,
                a.value("--directory-base").map(String::strip), a.value("--directory-filter").orElse(OFF.filter()),
                a.value("--directory-login-attribute").orElse(OFF.loginAttribute()),
                a.intValue("--directory-interval-minutes").orElse(OFF.intervalMinutes()),
                a.value("--directory-department-attribute"), a.value("--directory-qualification-attribute"),
                a.intValue("--directory-max-suspend-percent").orElse(OFF.maxSuspendPercent()));
    }

    @Override
    public String toString() {
        return enabled() ? url.get() + " base=" + base.orElse("") + " bind=" + bindDn.orElse("") + " password=****"
                + " filter=" + filter + " login=" + loginAttribute + " every " + intervalMinutes + " min" : "off";
    }
}
