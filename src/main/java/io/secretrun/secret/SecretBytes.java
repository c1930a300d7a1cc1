package io.secretrun.secret;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * A growable byte buffer for secret material (passphrases, plaintext) that never leaves stale copies behind:
 * growing wipes the old array, and {@link #close()} wipes the content. Use it in try-with-resources and never turn
 * its content into a String.
 */
public final class SecretBytes implements AutoCloseable {
    private byte[] buf;
    private int length;

    public SecretBytes() {
        this(256);
    }

    public SecretBytes(int initialCapacity) {
        buf = new byte[Math.max(16, initialCapacity)];
    }

    /** Takes ownership of {@code bytes}: the caller must not use the array afterwards. */
    public static SecretBytes wrap(byte[] bytes) {
        SecretBytes s = new SecretBytes(0);
        s.buf = bytes;
        s.length = bytes.length;
        return s;
    }

    public void append(byte[] src, int off, int len) {
        ensureCapacity(length + len);
        System.arraycopy(src, off, buf, length, len);
        length += len;
    }

    public void append(int b) {
        ensureCapacity(length + 1);
        buf[length++] = (byte) b;
    }

    /**
     * Appends everything {@code in} yields, failing once more than {@code maxBytes} arrive.
     *
     * @return false when the stream held more than {@code maxBytes} (the buffer then holds the first bytes)
     */
    public boolean readFrom(InputStream in, long maxBytes) throws IOException {
        byte[] chunk = new byte[8192];
        try {
            int n;
            while ((n = in.read(chunk)) > 0) {
                if (length + (long) n > maxBytes) {
                    return false;
                }
                append(chunk, 0, n);
            }
            return true;
        } finally {
            Arrays.fill(chunk, (byte) 0);
        }
    }

    private void ensureCapacity(int needed) {
        if (needed < 0) {
            throw new OutOfMemoryError("secret too large");
        }
        if (needed <= buf.length) {
            return;
        }
        int capacity = (int) Math.min(Integer.MAX_VALUE - 8L, Math.max(needed, 2L * buf.length));
        byte[] bigger = Arrays.copyOf(buf, capacity);
        Arrays.fill(buf, (byte) 0);
        buf = bigger;
    }

    public int length() {
        return length;
    }

    public byte byteAt(int index) {
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException(index);
        }
        return buf[index];
    }

    /** The backing array; only the first {@link #length()} bytes are content. Do not keep a reference. */
    public byte[] array() {
        return buf;
    }

    /** A copy of the content, which the caller must wipe. */
    public byte[] toByteArray() {
        return Arrays.copyOf(buf, length);
    }

    public void writeTo(OutputStream out) throws IOException {
        out.write(buf, 0, length);
    }

    /** Whether both hold the same bytes; in time that depends on the lengths only, not on where they differ. */
    public boolean contentEquals(SecretBytes other) {
        return length == other.length && constantTimeEquals(buf, other.buf, length);
    }

    private static boolean constantTimeEquals(byte[] a, byte[] b, int length) {
        int difference = 0;
        for (int i = 0; i < length; i++) {
            difference |= a[i] ^ b[i];
        }
        return difference == 0;
    }

    /** Drops everything from {@code newLength} on, wiping it. */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IndexOutOfBoundsException(newLength);
        }
        Arrays.fill(buf, newLength, length, (byte) 0);
        length = newLength;
    }

    /** Wipes the content. The buffer stays usable and empty. */
    @Override
    public void close() {
        Arrays.fill(buf, (byte) 0);
        length = 0;
    }

    @Override
    public String toString() {
        return "SecretBytes[" + length + " bytes]";
    }
}
