package io.secretrun.linux;

/**
 * errno numbers and their names. The values are the generic Linux ones ({@code asm-generic/errno-base.h} and
 * {@code errno.h}), shared by x86_64 and aarch64, the two architectures secret-run supports.
 */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EFAULT = 14;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENFILE = 23;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int ETXTBSY = 26;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int EOVERFLOW = 75;
    public static final int EOPNOTSUPP = 95;

    private static final String[] NAMES = new String[128];

    static {
        NAMES[EPERM] = "EPERM";
        NAMES[ENOENT] = "ENOENT";
        NAMES[ESRCH] = "ESRCH";
        NAMES[EINTR] = "EINTR";
        NAMES[EIO] = "EIO";
        NAMES[7] = "E2BIG";
        NAMES[8] = "ENOEXEC";
        NAMES[EBADF] = "EBADF";
        NAMES[10] = "ECHILD";
        NAMES[EAGAIN] = "EAGAIN";
        NAMES[ENOMEM] = "ENOMEM";
        NAMES[EACCES] = "EACCES";
        NAMES[EFAULT] = "EFAULT";
        NAMES[EBUSY] = "EBUSY";
        NAMES[EEXIST] = "EEXIST";
        NAMES[EXDEV] = "EXDEV";
        NAMES[ENODEV] = "ENODEV";
        NAMES[ENOTDIR] = "ENOTDIR";
        NAMES[EISDIR] = "EISDIR";
        NAMES[EOPNOTSUPP] = "EOPNOTSUPP";
        NAMES[EINVAL] = "EINVAL";
        NAMES[ENFILE] = "ENFILE";
        NAMES[EMFILE] = "EMFILE";
        NAMES[ENOTTY] = "ENOTTY";
        NAMES[ETXTBSY] = "ETXTBSY";
        NAMES[27] = "EFBIG";
        NAMES[ENOSPC] = "ENOSPC";
        NAMES[29] = "ESPIPE";
        NAMES[EROFS] = "EROFS";
        NAMES[31] = "EMLINK";
        NAMES[32] = "EPIPE";
        NAMES[34] = "ERANGE";
        NAMES[ENAMETOOLONG] = "ENAMETOOLONG";
        NAMES[ENOSYS] = "ENOSYS";
        NAMES[39] = "ENOTEMPTY";
        NAMES[ELOOP] = "ELOOP";
        NAMES[EOVERFLOW] = "EOVERFLOW";
        NAMES[95] = "EOPNOTSUPP";
        NAMES[116] = "ESTALE";
        NAMES[122] = "EDQUOT";
    }

    private Errno() {
    }

    /** {@code "ENOENT"}, or {@code "errno 200"} for a number without a known name. */
    public static String name(int errno) {
        String n = errno > 0 && errno < NAMES.length ? NAMES[errno] : null;
        return n != null ? n : "errno " + errno;
    }

    /** {@code "ENOENT (No such file or directory)"}: the name plus the C library's message. */
    public static String describe(int errno) {
        String message;
        try {
            message = Libc.strerror(errno);
        } catch (RuntimeException | LinkageError e) {
            message = null;
        }
        return message == null || message.isEmpty() ? name(errno) : name(errno) + " (" + message + ")";
    }
}
