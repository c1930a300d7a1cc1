package io.secretrun.process;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.Libc;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The app, run as our child with our stdin, stdout, stderr, working directory and environment (less the variables
 * named in {@code hiddenVariables}). This is the seam for PID 1 duties (reaping, process groups, user switching).
 */
public final class Child {
    private static final Logger LOG = LoggerFactory.getLogger(Child.class);

    private final Process process;
    private final String name;

    private Child(Process process, String name) {
        this.process = process;
        this.name = name;
    }

    public static Child start(List<String> command, Set<String> hiddenVariables) throws SecretRunException {
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        Map<String, String> environment = builder.environment();
        hiddenVariables.forEach(environment::remove);
        try {
            Child child = new Child(builder.start(), command.getFirst());
            LOG.info("started {} (pid {})", child.name, child.pid());
            return child;
        } catch (IOException e) {
            // The JDK reports the exec errno in the message ("error=2, No such file or directory").
            String message = String.valueOf(e.getMessage());
            if (message.contains("error=2,")) {
                throw new SecretRunException(ExitCode.NOT_FOUND, "command not found: " + command.getFirst());
            }
            throw new SecretRunException(ExitCode.NOT_EXECUTABLE, "cannot execute " + command.getFirst() + ": "
                    + message.replaceFirst("^.*error=\\d+, ", ""));
        }
    }

    public long pid() {
        return process.pid();
    }

    public String name() {
        return name;
    }

    /** Sends {@code signal} to the child if it still runs; a child that just exited is not an error. */
    public void signal(int signal) {
        if (!process.isAlive()) {
            return;
        }
        try {
            Libc.kill((int) process.pid(), signal);
        } catch (IOException e) {
            LOG.warn("could not send signal {} to {}: {}", signal, name, e.getMessage());
        }
    }

    /** Waits for the child and returns its exit code, or 128+N when signal N ended it (the JDK's convention). */
    public int waitFor() {
        while (true) {
            try {
                return process.waitFor();
            } catch (InterruptedException e) {
                // only our own shutdown interrupts; the child's status is still what we must return
                Thread.interrupted();
            }
        }
    }
}
