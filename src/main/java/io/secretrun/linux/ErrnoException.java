package io.secretrun.linux;

import java.io.IOException;

/**
 * A failed Linux call: carries the errno so callers can branch on it (EINTR, ENOENT, ...) and a message of the
 * form {@code "unlink /config/secrets.yaml: EACCES (Permission denied)"}.
 */
public final class ErrnoException extends IOException {
    private final int errno;

    public ErrnoException(String call, String subject, int errno) {
        super(call + (subject == null || subject.isEmpty() ? "" : " " + subject) + ": " + Errno.describe(errno));
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    /** The symbolic name, e.g. {@code "ENOENT"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
