package jp.mamori.maintenance;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A block of network addresses ({@code 192.0.2.0/24}, {@code 2001:db8::/48}, or one address) as a remote-maintenance
 * route's sources and a work request's source are written (MAINT-3, ACCESS-6). Only address literals are read: a host
 * name is refused and never looked up (no DNS query from a form).
 */
public record Cidr(byte[] network, int prefix) {
    private static final Pattern V4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern V6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    /** The block written as {@code text}; empty when it is not an address or block. */
    public static Optional<Cidr> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String s = text.strip();
        if (s.length() > 50) {
            return Optional.empty();
        }
        int slash = s.indexOf('/');
        String addr = slash < 0 ? s : s.substring(0, slash);
        boolean v4 = V4.matcher(addr).matches();
        if (!v4 && !(addr.contains(":") && V6.matcher(addr).matches())) {
            return Optional.empty();
        }
        byte[] bytes;
        try {
            bytes = InetAddress.getByName(addr).getAddress(); // a literal: no lookup
        } catch (UnknownHostException | RuntimeException e) {
            return Optional.empty();
        }
        if (v4 != (bytes.length == 4)) {
            return Optional.empty();
        }
        int max = bytes.length * 8;
        int prefix = max;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}")) {
                return Optional.empty();
            }
            prefix = Integer.parseInt(p);
            if (prefix > max) {
                return Optional.empty();
            }
        }
        return Optional.of(new Cidr(mask(bytes, prefix), prefix));
    }

    private static byte[] mask(byte[] b, int prefix) {
        byte[] out = b.clone();
        for (int i = 0; i < out.length * 8; i++) {
            if (i >= prefix) {
                out[i / 8] &= (byte) ~(0x80 >>> (i % 8));
            }
        }
        return out;
    }

    /** Whether every address of {@code other} is in this block. */
    public boolean contains(Cidr other) {
        return network.length == other.network.length && other.prefix >= prefix
                && java.util.Arrays.equals(mask(other.network, prefix), network);
    }

    /** Whether the address (a literal as the server saw it) is in this block. */
    public boolean containsAddress(String address) {
        return parse(address).filter(a -> a.prefix == a.network.length * 8).map(this::contains).orElse(false);
    }

    /** As PostgreSQL's {@code cidr} and people write it. */
    @Override
    public String toString() {
        try {
            String a = InetAddress.getByAddress(network).getHostAddress();
            if (network.length == 16) {
                a = compress(a);
            }
            return prefix == network.length * 8 ? a : a + "/" + prefix;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The longest run of zero groups as {@code ::}, as people write IPv6 addresses. */
    private static String compress(String a) {
        java.util.regex.Matcher m = Pattern.compile("(?:^|:)0(?::0)+(?::|$)").matcher(a);
        int start = -1;
        int end = -1;
        while (m.find()) {
            if (m.end() - m.start() > end - start) {
                start = m.start();
                end = m.end();
            }
        }
        return start < 0 ? a : a.substring(0, start) + "::" + a.substring(end);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cidr c && c.prefix == prefix && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return new BigInteger(1, network).hashCode() * 31 + prefix;
    }
}
