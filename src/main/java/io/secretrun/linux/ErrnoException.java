package io.secretrun.linux;

import java.io.IOException;

/**
 * A failed Linux call: carries the errno so callers can branch on it (EINTR, ENOENT, ...) and a message of the
 * form {@code "unlink /config/secrets.yaml: EACCES (Permission denied)"}. The message is made when first asked
 * for: many of these are expected and dropped (ESRCH from signalling a group that has already exited), and its
 * text needs strerror(3), one more native call to bind.
 */
public final class ErrnoException extends IOException {
    private final String call;
    private final String subject;
    private final int errno;
    private String message;

    public ErrnoException(String call, String subject, int errno) {
        this.call = call;
        this.subject = subject;
        this.errno = errno;
    }

    @Override
    public synchronized String getMessage() {
        if (message == null) {
            message = call + (subject == null || subject.isEmpty() ? "" : " " + subject) + ": " + Errno.describe(errno);
        }
        return message;
    }

    public int errno() {
        return errno;
    }

    /** The symbolic name, e.g. {@code "ENOENT"}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
