package io.secretrun.process;

import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Protects the secret-run process itself, which holds the passphrase and the plaintext for a while and then lives
 * beside the app: non-dumpable ({@code PR_SET_DUMPABLE 0}), so a process of the same user (the app, or code that
 * later runs as the app's user) can neither ptrace it nor read its {@code /proc/PID/mem} or {@code environ}, and the
 * kernel writes no core dump of it; and a soft {@code RLIMIT_CORE} of 0, so no core file of it is written even
 * where {@code fs.suid_dumpable} is 2. The hard limit is kept: the app inherits the soft 0 and may raise it again
 * ({@code ulimit -c}) if it wants core files of itself. (A piped {@code core_pattern} ignores the limit; the
 * dumpable flag covers that case.)
 */
public final class SelfProtection {
    private static final Logger LOG = LoggerFactory.getLogger(SelfProtection.class);

    private SelfProtection() {
    }

    /** Called first thing in {@code main}. A failure is logged, not fatal: the other protections still hold. */
    public static void apply() {
        try {
            Libc.prctl(Libc.PR_SET_DUMPABLE, 0);
        } catch (ErrnoException | RuntimeException e) {
            LOG.warn("cannot make secret-run non-dumpable: {}", e.getMessage());
        }
        try {
            Libc.setrlimit(Libc.RLIMIT_CORE, 0, Libc.getrlimit(Libc.RLIMIT_CORE)[1]);
        } catch (ErrnoException | RuntimeException e) {
            LOG.warn("cannot turn core dumps of secret-run off: {}", e.getMessage());
        }
    }
}
