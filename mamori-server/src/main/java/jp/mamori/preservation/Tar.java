package jp.mamori.preservation;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The POSIX ustar format, as far as backups need it: regular files and directories with short relative names.
 * The writer produces archives any tar reads; the reader accepts only what the writer produces (checked header
 * sums, octal fields, plain names, the end-of-archive blocks) and refuses anything else in one line, so that a
 * truncated, tampered or foreign archive is caught before its content is used. Nothing it reads sizes an
 * allocation: headers are fixed 512-byte blocks and contents are streamed.
 */
final class Tar {
    static final int BLOCK = 512;
    /** The largest size ustar's 11 octal digits hold. */
    static final long MAX_SIZE = 077777777777L;

    private Tar() {
    }

    enum Type { FILE, DIRECTORY }

    record Entry(String name, Type type, long size, int mode, long mtime) {
    }

    /** Checks an entry name: relative, {@code /}-separated, plain segments; throws naming it when it is not. */
    static String checkName(String name, String part) {
        boolean ok = name != null && !name.isEmpty() && name.length() <= 255 && !name.startsWith("/");
        if (ok) {
            for (String seg : name.split("/", -1)) {
                ok &= !seg.isEmpty() && !seg.equals(".") && !seg.equals("..") && seg.matches("[A-Za-z0-9._+-]+");
            }
        }
        if (!ok) {
            throw new BackupException("部品 " + part + " に不正な名前があります / part " + part
                    + " holds a bad entry name: " + Messages.quote(name));
        }
        return name;
    }

    /** Writes an archive into {@code out}; {@link #finish} writes the end-of-archive blocks (it does not close). */
    static final class Writer {
        private final OutputStream out;
        private final byte[] buffer = new byte[1 << 20];
        private long written;

        Writer(OutputStream out) {
            this.out = out;
        }

        long written() {
            return written;
        }

        void directory(String name, int mode, long mtime) throws IOException {
            header(name + "/", Type.DIRECTORY, 0, mode, mtime);
        }

        /** A file of {@code size} bytes from {@code in}; throws when {@code in} holds fewer. */
        void file(String name, int mode, long mtime, long size, InputStream in) throws IOException {
            header(name, Type.FILE, size, mode, mtime);
            long left = size;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new EOFException(name + " ended " + left + " bytes early");
                }
                write(buffer, n);
                left -= n;
            }
            pad(size);
        }

        /**
         * A file of exactly {@code size} bytes from {@code ch}, however it changes meanwhile: a file that shrank is
         * padded with zeros, what grew past {@code size} is left out (PostgreSQL's WAL replay repairs both).
         */
        void file(String name, int mode, long mtime, long size, FileChannel ch) throws IOException {
            header(name, Type.FILE, size, mode, mtime);
            ByteBuffer bb = ByteBuffer.wrap(buffer);
            long left = size;
            long pos = 0;
            while (left > 0) {
                bb.clear().limit((int) Math.min(buffer.length, left));
                int n = ch.read(bb, pos);
                if (n < 0) {
                    Arrays.fill(buffer, 0, bb.limit(), (byte) 0);
                    n = bb.limit();
                } else if (n == 0) {
                    continue;
                }
                write(buffer, n);
                pos += n;
                left -= n;
            }
            pad(size);
        }

        void file(String name, int mode, long mtime, byte[] content) throws IOException {
            file(name, mode, mtime, content.length, new java.io.ByteArrayInputStream(content));
        }

        void finish() throws IOException {
            write(new byte[2 * BLOCK], 2 * BLOCK);
            out.flush();
        }

        private void pad(long size) throws IOException {
            int rest = (int) (size % BLOCK);
            if (rest != 0) {
                write(new byte[BLOCK - rest], BLOCK - rest);
            }
        }

        private void write(byte[] b, int n) throws IOException {
            out.write(b, 0, n);
            written += n;
        }

        private void header(String name, Type type, long size, int mode, long mtime) throws IOException {
            if (size < 0 || size > MAX_SIZE) {
                throw new IOException(name + " is too large for the archive (" + size + " bytes)");
            }
            byte[] h = new byte[BLOCK];
            byte[] n = name.getBytes(StandardCharsets.US_ASCII);
            if (n.length <= 100) {
                System.arraycopy(n, 0, h, 0, n.length);
            } else {
                int cut = name.lastIndexOf('/', Math.min(name.length() - 1, 155));
                byte[] prefix = name.substring(0, Math.max(cut, 0)).getBytes(StandardCharsets.US_ASCII);
                byte[] rest = name.substring(cut + 1).getBytes(StandardCharsets.US_ASCII);
                if (cut <= 0 || prefix.length > 155 || rest.length > 100) {
                    throw new IOException("name too long for the archive: " + name);
                }
                System.arraycopy(rest, 0, h, 0, rest.length);
                System.arraycopy(prefix, 0, h, 345, prefix.length);
            }
            octal(h, 100, 8, mode & 07777);
            octal(h, 108, 8, 0);
            octal(h, 116, 8, 0);
            octal(h, 124, 12, size);
            octal(h, 136, 12, Math.max(0, Math.min(mtime, MAX_SIZE)));
            h[156] = (byte) (type == Type.DIRECTORY ? '5' : '0');
            System.arraycopy("ustar\0".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 6);
            h[263] = '0';
            h[264] = '0';
            Arrays.fill(h, 148, 156, (byte) ' ');
            long sum = 0;
            for (byte x : h) {
                sum += x & 0xff;
            }
            octal(h, 148, 7, sum);
            write(h, BLOCK);
        }

        private static void octal(byte[] h, int off, int len, long v) {
            String s = Long.toOctalString(v);
            if (s.length() > len - 1) {
                throw new IllegalArgumentException("value too large for a tar field: " + v);
            }
            s = "0".repeat(len - 1 - s.length()) + s;
            byte[] b = s.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(b, 0, h, off, b.length);
            h[off + len - 1] = 0;
        }
    }

    /** Reads an archive the {@link Writer} made, strictly; {@code part} names it in messages. */
    static final class Reader {
        private final InputStream in;
        private final String part;
        private final byte[] header = new byte[BLOCK];
        private long remaining;
        private int padding;
        private boolean ended;

        Reader(InputStream in, String part) {
            this.in = in;
            this.part = part;
        }

        /** The next entry, or null at the end-of-archive blocks (after which only zeros may follow). */
        Entry next() throws IOException {
            skipRest();
            if (ended) {
                return null;
            }
            readFully(header, "a header");
            if (allZero(header)) {
                readFully(header, "the end of the archive");
                if (!allZero(header)) {
                    throw bad("a header block is empty");
                }
                ended = true;
                byte[] rest = new byte[8192];
                for (int n; (n = in.read(rest)) >= 0; ) {
                    for (int i = 0; i < n; i++) {
                        if (rest[i] != 0) {
                            throw bad("data follows the end of the archive");
                        }
                    }
                }
                return null;
            }
            if (!new String(header, 257, 6, StandardCharsets.US_ASCII).equals("ustar\0")
                    || header[263] != '0' || header[264] != '0') {
                throw bad("a header is not ustar");
            }
            long sum = 0;
            for (int i = 0; i < BLOCK; i++) {
                sum += (i >= 148 && i < 156) ? ' ' : header[i] & 0xff;
            }
            if (octal(148, 8, "checksum") != sum) {
                throw bad("a header's checksum is wrong");
            }
            String name = string(0, 100);
            String prefix = string(345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
            char t = (char) header[156];
            Type type;
            if (t == '0' || t == 0) {
                type = Type.FILE;
            } else if (t == '5') {
                type = Type.DIRECTORY;
                if (name.endsWith("/")) {
                    name = name.substring(0, name.length() - 1);
                }
            } else {
                throw bad("entry " + Messages.quote(name) + " is neither a file nor a folder");
            }
            checkName(name, part);
            long size = octal(124, 12, "size");
            if (type == Type.DIRECTORY && size != 0) {
                throw bad("folder " + Messages.quote(name) + " has a size");
            }
            int mode = (int) octal(100, 8, "mode");
            long mtime = octal(136, 12, "mtime");
            remaining = size;
            padding = (int) ((BLOCK - size % BLOCK) % BLOCK);
            return new Entry(name, type, size, mode, mtime);
        }

        /** The current entry's content; reading past it returns -1, and a cut-short archive throws. */
        InputStream content() {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (remaining <= 0) {
                        return -1;
                    }
                    int n = in.read(b, off, (int) Math.min(len, remaining));
                    if (n < 0) {
                        throw truncated();
                    }
                    remaining -= n;
                    return n;
                }
            };
        }

        private void skipRest() throws IOException {
            byte[] skip = new byte[8192];
            while (remaining > 0) {
                int n = in.read(skip, 0, (int) Math.min(skip.length, remaining));
                if (n < 0) {
                    throw truncated();
                }
                remaining -= n;
            }
            if (padding > 0) {
                readFully(new byte[padding], "padding");
                padding = 0;
            }
        }

        private void readFully(byte[] b, String what) throws IOException {
            int off = 0;
            while (off < b.length) {
                int n = in.read(b, off, b.length - off);
                if (n < 0) {
                    throw truncated();
                }
                off += n;
            }
        }

        private String string(int off, int len) {
            int end = off;
            while (end < off + len && header[end] != 0) {
                end++;
            }
            for (int i = off; i < end; i++) {
                if (header[i] < 0x20 || header[i] > 0x7e) {
                    throw bad("a header holds a name that is not plain ASCII");
                }
            }
            return new String(header, off, end - off, StandardCharsets.US_ASCII);
        }

        private long octal(int off, int len, String field) {
            long v = 0;
            int i = off;
            int end = off + len;
            while (i < end && header[i] == ' ') {
                i++;
            }
            int digits = 0;
            while (i < end && header[i] >= '0' && header[i] <= '7') {
                v = v * 8 + (header[i] - '0');
                i++;
                digits++;
            }
            while (i < end && (header[i] == 0 || header[i] == ' ')) {
                i++;
            }
            if (digits == 0 || digits > 11 || i != end) {
                throw bad("a header's " + field + " field is not octal");
            }
            return v;
        }

        private BackupException bad(String what) {
            return new BackupException("部品 " + part + " は壊れています / part " + part + " is damaged: " + what);
        }

        private BackupException truncated() {
            return new BackupException("部品 " + part + " は途中で切れています / part " + part
                    + " is truncated (the archive ends early)");
        }

        private static boolean allZero(byte[] b) {
            for (byte x : b) {
                if (x != 0) {
                    return false;
                }
            }
            return true;
        }
    }
}
