package io.secretrun.process;

import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes on the duty of reaping orphans. As PID 1 (a container's entrypoint) the kernel re-parents every orphaned
 * process in the namespace to us; otherwise we ask to be a child subreaper ({@code PR_SET_CHILD_SUBREAPER}, as
 * {@code tini -s} does), so the app's orphans come to us instead of to an init that may not reap them.
 */
public final class Pid1 {
    private static final Logger LOG = LoggerFactory.getLogger(Pid1.class);

    private Pid1() {
    }

    /** Call once, before the app is spawned. */
    public static void takeOverReaping() {
        try {
            if (ProcessCalls.unignoreSigchld()) {
                LOG.warn("SIGCHLD was ignored (inherited from our parent); reset it so exit statuses are kept");
            }
        } catch (ErrnoException e) {
            LOG.warn("cannot check SIGCHLD's disposition: {}", e.getMessage());
        }
        becomeReaper(Libc.getpid() == 1, () -> Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 1));
    }

    /** The call that makes us a child subreaper; passed in so a test can make it fail. */
    interface SubreaperCall {
        void register() throws ErrnoException;
    }

    /**
     * As PID 1 nothing to do; otherwise registers as a child subreaper, and when that fails warns (once: this runs
     * once per start) that orphans will not be reaped, as tini does.
     *
     * @return whether orphans of the app will come to us to be reaped
     */
    static boolean becomeReaper(boolean pid1, SubreaperCall subreaper) {
        if (pid1) {
            LOG.debug("running as PID 1: reaping every orphan in this PID namespace");
            return true;
        }
        try {
            subreaper.register();
            LOG.debug("not PID 1: registered as child subreaper, the app's orphans are re-parented to us");
            return true;
        } catch (ErrnoException e) {
            LOG.warn("not PID 1 and cannot become a child subreaper ({}): orphaned processes of the app will not "
                    + "be reaped by secret-run and may stay zombies; run secret-run as PID 1 (the container's "
                    + "entrypoint)", e.getMessage());
            return false;
        }
    }

    public static boolean isPid1() {
        return Libc.getpid() == 1;
    }
}
