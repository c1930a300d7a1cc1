package io.secretrun.process;

import java.util.List;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Catches the signals a runtime or a user sends and hands each to a listener (which forwards it to the child).
 * Uses {@code sun.misc.Signal}: the only way a JVM catches signals. SIGQUIT cannot be caught (the JVM keeps it for
 * thread dumps), SIGKILL and SIGSTOP never can; SIGPIPE is not relayed (it concerns our own pipes, not the app).
 */
public final class SignalRelay {
    private static final Logger LOG = LoggerFactory.getLogger(SignalRelay.class);

    /** Relayed signals, in the order they are installed. */
    public static final List<String> RELAYED = List.of("TERM", "INT", "HUP", "USR1", "USR2", "WINCH", "CONT", "ALRM");

    /** Signals that ask secret-run to stop: the plaintext goes at once, whatever the app does with them. */
    public static final List<String> STOPPING = List.of("TERM", "INT", "HUP");

    private SignalRelay() {
    }

    /** Installs handlers for every relayed signal; the listener gets the signal number. */
    public static void install(IntConsumer listener) {
        for (String name : RELAYED) {
            try {
                Signal.handle(new Signal(name), signal -> listener.accept(signal.getNumber()));
            } catch (IllegalArgumentException e) {
                LOG.warn("cannot relay SIG{}: {}", name, e.getMessage());
            }
        }
    }

    public static boolean isStopping(int signal) {
        return STOPPING.stream().anyMatch(name -> new Signal(name).getNumber() == signal);
    }

    public static String name(int signal) {
        for (String name : RELAYED) {
            if (new Signal(name).getNumber() == signal) {
                return "SIG" + name;
            }
        }
        return "signal " + signal;
    }
}
