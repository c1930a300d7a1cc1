package io.secretrun.process;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;

/**
 * Protects the secret-run process itself, which holds the passphrase and the plaintext for a while and then lives
 * beside the app: non-dumpable ({@code PR_SET_DUMPABLE 0}), so a process of the same user (the app, or code that
 * later runs as the app's user) can neither ptrace it nor read its {@code /proc/PID/mem} or {@code environ}, and the
 * kernel writes no core dump of it; and a soft {@code RLIMIT_CORE} of 0, so no core file of it is written even
 * where {@code fs.suid_dumpable} is 2. The hard limit is kept: the app inherits the soft 0 and may raise it again
 * ({@code ulimit -c}) if it wants core files of itself. (A piped {@code core_pattern} ignores the limit; the
 * dumpable flag covers that case.)
 *
 * <p>Both hold for the process, not for one program: an exec resets the dumpable flag (the re-exec of
 * {@code io.secretrun.cli.HardenedJvm} then applies it again first thing), and so does a change of the process's
 * ids ({@link UserSwitch}), to {@code fs.suid_dumpable}, hence {@link #nonDumpable} after the switch.
 *
 * <p>No logging here: {@link #apply} runs before Logback is set up, and a failure is the caller's to report.
 */
public final class SelfProtection {
    private SelfProtection() {
    }

    /** Called first thing in the JVM (Main's static initializer). Fails closed: the caller exits on a failure. */
    public static void apply() throws SecretRunException {
        nonDumpable();
        try {
            Libc.setrlimit(Libc.RLIMIT_CORE, 0, Libc.getrlimit(Libc.RLIMIT_CORE)[1]);
        } catch (ErrnoException | RuntimeException e) {
            throw new SecretRunException(ExitCode.SOFTWARE, "cannot turn core dumps of secret-run off: "
                    + e.getMessage());
        }
    }

    /** {@code PR_SET_DUMPABLE 0}, verified with {@code PR_GET_DUMPABLE}. */
    public static void nonDumpable() throws SecretRunException {
        int dumpable;
        try {
            Libc.prctl(Libc.PR_SET_DUMPABLE, 0);
            dumpable = Libc.prctl(Libc.PR_GET_DUMPABLE, 0);
        } catch (ErrnoException | RuntimeException e) {
            throw new SecretRunException(ExitCode.SOFTWARE, "cannot make secret-run non-dumpable: " + e.getMessage());
        }
        if (dumpable != 0) {
            throw new SecretRunException(ExitCode.SOFTWARE, "cannot make secret-run non-dumpable: the kernel still "
                    + "reports dumpable " + dumpable);
        }
    }
}
