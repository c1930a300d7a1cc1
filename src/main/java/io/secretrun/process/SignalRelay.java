package io.secretrun.process;

import java.util.List;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Catches the signals a runtime or a user sends and hands each to a listener (which relays it to the app).
 * Uses {@code sun.misc.Signal}: the only way a JVM catches signals.
 *
 * <p>Relayed: TERM, INT, HUP, USR1, USR2, WINCH, CONT, ALRM and TSTP (as tini relays it; as PID 1 the kernel
 * would drop a TSTP to us anyway, elsewhere it would stop the whole JVM and leave the app running).
 *
 * <p>Not relayed:
 * <ul>
 *   <li>QUIT: the JVM reserves it ({@code Signal.handle} throws "Signal already used by VM", also under
 *       {@code -Xrs}, which would moreover take TERM, INT and HUP away from us). A QUIT sent to secret-run makes the
 *       JVM print a thread dump (to stdout, or stderr with {@code -XX:+DisplayVMOutputToStderr}) and nothing else:
 *       the app never sees it and keeps running. Send QUIT to the app's pid instead.</li>
 *   <li>PIPE: a broken pipe of our own (a closed log reader) must not kill the app.</li>
 *   <li>TTIN, TTOU: job control of secret-run itself; ignored once the app has the terminal.</li>
 *   <li>KILL, STOP: no process can catch them. CHLD: ours, from the app and the orphans we reap.</li>
 * </ul>
 */
public final class SignalRelay {
    private static final Logger LOG = LoggerFactory.getLogger(SignalRelay.class);

    /** Relayed signals, in the order they are installed. */
    public static final List<String> RELAYED =
            List.of("TERM", "INT", "HUP", "USR1", "USR2", "WINCH", "CONT", "ALRM", "TSTP");

    /** Signals that ask secret-run to stop: the plaintext goes at once, whatever the app does with them. */
    public static final List<String> STOPPING = List.of("TERM", "INT", "HUP");

    private static final List<String> NAMES = List.of("HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
            "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
            "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS");

    /** Signals {@code --reload-signal} may name: relayed ones an app reloads on. */
    public static final List<String> RELOAD = List.of("HUP", "USR1", "USR2");

    private SignalRelay() {
    }

    /** The number of reload signal {@code name} (without SIG), if it is one. */
    public static java.util.Optional<Integer> reloadSignal(String name) {
        return RELOAD.contains(name) ? java.util.Optional.of(new Signal(name).getNumber()) : java.util.Optional.empty();
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

    /** {@code SIGTERM} for 15; {@code signal N} for a number without a name (real-time signals). */
    public static String name(int signal) {
        return signal >= 1 && signal <= NAMES.size() ? "SIG" + NAMES.get(signal - 1) : "signal " + signal;
    }
}
