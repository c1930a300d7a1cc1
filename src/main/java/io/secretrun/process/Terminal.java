package io.secretrun.process;

import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import io.secretrun.linux.ProcessCalls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The terminal on stdin, when secret-run owns it (its process group is the terminal's foreground group): the app's
 * process group gets the foreground, so Ctrl-C, Ctrl-Z and terminal reads act on the app as if it were run
 * directly, and secret-run takes it back when the app stops or exits.
 *
 * <p>secret-run ignores SIGTTOU and SIGTTIN once it has handed the terminal over (as tini does): it is then a
 * background process of that terminal, and a log line or a tcsetpgrp must not stop it. The app does not inherit
 * that: it starts with every signal at its default action.
 */
final class Terminal {
    private static final Logger LOG = LoggerFactory.getLogger(Terminal.class);
    static final int STDIN = 0;

    private final int ownGroup;

    private Terminal(int ownGroup) {
        this.ownGroup = ownGroup;
    }

    /** The terminal on stdin if we are its foreground process group; null otherwise (no terminal, or background). */
    static Terminal detect() {
        if (!Libc.isatty(STDIN)) {
            return null;
        }
        int ownGroup = ProcessCalls.getpgrp();
        try {
            int foreground = ProcessCalls.tcgetpgrp(STDIN);
            if (foreground != ownGroup) {
                LOG.debug("stdin is a terminal whose foreground group ({}) is not ours ({}); leaving it alone",
                        foreground, ownGroup);
                return null;
            }
        } catch (ErrnoException e) {
            // ENOTTY: a terminal, but not our controlling terminal
            LOG.debug("stdin is a terminal we do not control: {}", e.getMessage());
            return null;
        }
        Signal.handle(new Signal("TTOU"), SignalHandler.SIG_IGN);
        Signal.handle(new Signal("TTIN"), SignalHandler.SIG_IGN);
        return new Terminal(ownGroup);
    }

    /** Loads this class ahead of time (see {@link Child#prepare}). */
    static void prepare() {
        // nothing: loading and initializing the class is the point
    }

    /** Makes {@code group} the foreground group (used where the C library cannot do it inside the child). */
    void handTo(int group) throws ErrnoException {
        ProcessCalls.tcsetpgrp(STDIN, group);
    }

    /** On SIGCONT: gives the terminal back to the app's group if the shell has just given it to us ({@code fg}). */
    void handToIfOurs(int group) {
        try {
            if (ProcessCalls.tcgetpgrp(STDIN) == ownGroup) {
                ProcessCalls.tcsetpgrp(STDIN, group);
            }
        } catch (ErrnoException e) {
            LOG.debug("cannot hand the terminal to the app: {}", e.getMessage());
        }
    }

    /** When the app stops or exits: takes the terminal back if the app's group holds it. */
    void reclaimFrom(int group) {
        try {
            if (ProcessCalls.tcgetpgrp(STDIN) == group) {
                ProcessCalls.tcsetpgrp(STDIN, ownGroup);
            }
        } catch (ErrnoException e) {
            LOG.debug("cannot take the terminal back: {}", e.getMessage());
        }
    }
}
