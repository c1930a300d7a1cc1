package io.secretrun.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

/**
 * Runs the real {@code target/secret-run.jar} as an external process, the way a user (or a container runtime) does.
 *
 * <p>Every invocation starts from a clean environment (PATH, HOME, LANG, JAVA_HOME and what the test sets), so a
 * developer's {@code SECRET_RUN_*} variables never leak into a test. When {@code setsid} exists the process runs in a
 * session of its own: it has no controlling terminal (secret-run can never prompt on the developer's terminal and
 * hang), and everything it leaves behind can be killed as one process group.
 *
 * <p>The fixture knows the secret strings of a test (passphrases, distinctive plaintext content) and checks every
 * result: a secret never appears on stderr, and on stdout only where the test expects the child to print it.
 */
public final class SecretRun {
    /** Only to prevent hangs; never an assertion about speed. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    /** A line of secret-run's text log format: time, name, level, message. */
    private static final Pattern LOG_LINE =
            Pattern.compile("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} secret-run (ERROR|WARN |INFO |DEBUG|TRACE) .+");
    private static final Pattern EXCEPTION_NAME = Pattern.compile("\\b[A-Z][A-Za-z0-9_$]*(Exception|Error)\\b");

    private final Path workDir;
    private final Set<String> secrets = new LinkedHashSet<>();

    public SecretRun(Path workDir) {
        this.workDir = workDir;
    }

    /** The jar built by the package phase; failsafe passes its path. */
    public static Path jar() {
        String property = System.getProperty("secretrun.jar");
        assertNotNull(property, "system property secretrun.jar is not set: run the ITs through ./mvnw verify");
        Path jar = Path.of(property);
        assertTrue(Files.isRegularFile(jar), "secret-run jar missing: " + jar);
        return jar;
    }

    /** The java binary of the JVM running the tests (Java 25 through the wrapper). */
    public static Path javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    /**
     * {@code java @jvm.args -jar secret-run.jar}: the JVM options of the launchers (bin/secret-run and the image's
     * /usr/bin/secret-run), read from the same file they use, so the attach mechanism is off here too. Started through
     * {@code env --default-signal=INT}: a test run started as a background job of a non-interactive shell inherits
     * SIGINT ignored, and a JVM that starts with it ignored never installs its INT handler: the INT tests would hang.
     */
    public static List<String> javaCommand() {
        Path jar = jar();
        Path jvmArgs = jar.toAbsolutePath().getParent().resolveSibling("root/usr/share/secret-run/jvm.args");
        assertTrue(Files.isRegularFile(jvmArgs), "jvm.args missing: " + jvmArgs);
        return List.of("env", "--default-signal=INT", javaExecutable().toString(), "@" + jvmArgs, "-jar",
                jar.toString());
    }

    /** PATH, HOME, LANG and JAVA_HOME only. */
    public static Map<String, String> cleanEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
        env.put("HOME", System.getenv().getOrDefault("HOME", "/root"));
        env.put("LANG", System.getenv().getOrDefault("LANG", "C.UTF-8"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        return env;
    }

    /** Whether an executable of that name is on the PATH. */
    public static boolean onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name))) {
                return true;
            }
        }
        return false;
    }

    /** A string that must never appear on stderr, nor on stdout unless a test allows it. */
    public SecretRun secret(String secret) {
        if (secret != null && !secret.isEmpty()) {
            secrets.add(secret);
        }
        return this;
    }

    public Path workDir() {
        return workDir;
    }

    public Invocation with() {
        return new Invocation();
    }

    public Result run(String... args) {
        return with().run(args);
    }

    public Running start(String... args) {
        return with().start(args);
    }

    /** One configured launch of secret-run. */
    public final class Invocation {
        private final Map<String, String> env = cleanEnvironment();
        private Path dir = workDir;
        private byte[] stdin = new byte[0];
        private Duration timeout = DEFAULT_TIMEOUT;
        private final Set<String> allowedOnStdout = new LinkedHashSet<>();
        private final List<String> wrapper = new ArrayList<>();
        private List<String> base;

        public Invocation env(String name, String value) {
            env.put(name, value);
            return this;
        }

        public Invocation dir(Path directory) {
            this.dir = directory;
            return this;
        }

        public Invocation stdin(byte[] bytes) {
            this.stdin = bytes.clone();
            return this;
        }

        public Invocation timeout(Duration duration) {
            this.timeout = duration;
            return this;
        }

        /** The test expects the child (or {@code decrypt -o -}) to print this secret on stdout. */
        public Invocation allowOnStdout(String secret) {
            allowedOnStdout.add(secret);
            return this;
        }

        /**
         * Runs the java command through a wrapper, e.g. {@code bash -c 'exec 3<"$0"; exec "$@"' pwfile}; the wrapper
         * must exec java so that the pid stays the JVM's.
         */
        public Invocation wrapper(String... prefix) {
            wrapper.addAll(Arrays.asList(prefix));
            return this;
        }

        /** Runs this program (e.g. the {@code bin/secret-run} launcher) instead of {@code java -jar secret-run.jar}. */
        public Invocation program(String... programAndFirstArgs) {
            base = List.of(programAndFirstArgs);
            return this;
        }

        public Result run(String... args) {
            try (Running running = start(args)) {
                return running.await();
            }
        }

        public Running start(String... args) {
            List<String> command = new ArrayList<>();
            boolean setsid = onPath("setsid");
            if (setsid) {
                command.add("setsid");
            }
            command.addAll(wrapper);
            command.addAll(base != null ? base : javaCommand());
            command.addAll(Arrays.asList(args));
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
            builder.environment().clear();
            builder.environment().putAll(env);
            try {
                Process process = builder.start();
                return new Running(process, command, stdin, timeout, setsid, Set.copyOf(allowedOnStdout));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + command, e);
            }
        }
    }

    /** A started secret-run process. */
    public final class Running implements AutoCloseable {
        private final Process process;
        private final List<String> command;
        private final Duration timeout;
        private final boolean ownGroup;
        private final Set<String> allowedOnStdout;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();
        private final Thread outPump;
        private final Thread errPump;
        private final Set<ProcessHandle> seen = new LinkedHashSet<>();

        Running(Process process, List<String> command, byte[] stdin, Duration timeout, boolean ownGroup,
                Set<String> allowedOnStdout) {
            this.process = process;
            this.command = command;
            this.timeout = timeout;
            this.ownGroup = ownGroup;
            this.allowedOnStdout = allowedOnStdout;
            this.outPump = pump(process.getInputStream(), out, "stdout");
            this.errPump = pump(process.getErrorStream(), err, "stderr");
            Thread.ofVirtual().name("stdin-feeder").start(() -> {
                try (OutputStream in = process.getOutputStream()) {
                    in.write(stdin);
                } catch (IOException ignored) {
                    // the process closed its stdin or exited: fine
                }
            });
        }

        private static Thread pump(InputStream from, ByteArrayOutputStream to, String name) {
            return Thread.ofPlatform().daemon().name("pump-" + name).start(() -> {
                byte[] buffer = new byte[8192];
                try (from) {
                    int n;
                    while ((n = from.read(buffer)) > 0) {
                        synchronized (to) {
                            to.write(buffer, 0, n);
                        }
                    }
                } catch (IOException ignored) {
                    // stream closed
                }
            });
        }

        /** The pid of the JVM running secret-run (setsid and the wrappers exec in place). */
        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** Sends a signal by name (TERM, INT, HUP, USR1...) to the secret-run process itself. */
        public void signal(String name) {
            try {
                Process kill = new ProcessBuilder("kill", "-s", name, Long.toString(pid()))
                        .redirectErrorStream(true).start();
                String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(kill.waitFor(10, TimeUnit.SECONDS), "kill hung");
                assertEquals(0, kill.exitValue(), "kill -s " + name + " failed: " + output);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        /** Polls (bounded by the timeout) until the file exists; fails early if secret-run exits first. */
        public void awaitFile(Path file) {
            awaitCondition(() -> Files.exists(file), "file " + file);
        }

        /** Polls (bounded by the timeout) until the condition holds; fails early if secret-run exits first. */
        public void awaitCondition(BooleanSupplier condition, String what) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!condition.getAsBoolean()) {
                rememberDescendants();
                if (!process.isAlive()) {
                    if (condition.getAsBoolean()) {
                        return;
                    }
                    fail("secret-run exited (" + process.exitValue() + ") before " + what + "; stderr: "
                            + stderrSoFar());
                }
                if (System.nanoTime() > deadline) {
                    killAll();
                    fail("timed out after " + timeout + " waiting for " + what + "; stderr: " + stderrSoFar());
                }
                sleep(10);
            }
        }

        /** What secret-run (and the app) wrote to stderr so far, while it runs. */
        public String stderrSoFar() {
            synchronized (err) {
                return err.toString(StandardCharsets.UTF_8);
            }
        }

        /** Waits (bounded) for secret-run to exit, then checks the output for secrets. */
        public Result await() {
            try {
                long deadline = System.nanoTime() + timeout.toNanos();
                while (process.isAlive()) {
                    rememberDescendants();
                    if (System.nanoTime() > deadline) {
                        killAll();
                        fail("secret-run hung: killed after " + timeout + "; command " + command + "; stderr: "
                                + stderrSoFar());
                    }
                    process.waitFor(20, TimeUnit.MILLISECONDS);
                }
                outPump.join(Duration.ofSeconds(10));
                errPump.join(Duration.ofSeconds(10));
                if (outPump.isAlive() || errPump.isAlive()) {
                    killAll();
                    fail("secret-run exited but a leftover process still holds its stdout/stderr; stderr: "
                            + stderrSoFar());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                killAll();
                throw new AssertionError(e);
            }
            Result result;
            synchronized (out) {
                synchronized (err) {
                    result = new Result(process.exitValue(), out.toByteArray(), err.toString(StandardCharsets.UTF_8));
                }
            }
            checkSecrets(result, allowedOnStdout);
            return result;
        }

        private void rememberDescendants() {
            process.descendants().forEach(seen::add);
        }

        private void killAll() {
            rememberDescendants();
            if (ownGroup) {
                try {
                    new ProcessBuilder("kill", "-KILL", "--", "-" + pid())
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                            .start().waitFor(10, TimeUnit.SECONDS);
                } catch (IOException ignored) {
                    // fall through to the handles
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            seen.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }

        /** Kills whatever is left of the launch (the process, its group, every descendant seen). */
        @Override
        public void close() {
            killAll();
        }
    }

    private void checkSecrets(Result result, Set<String> allowedOnStdout) {
        String stdout = new String(result.stdout(), StandardCharsets.ISO_8859_1);
        String stderr = new String(result.stderr().getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        for (String secret : secrets) {
            String raw = new String(secret.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            assertFalse(stderr.contains(raw), "a secret appeared on stderr: " + secret + "\nstderr:\n"
                    + result.stderr());
            if (!allowedOnStdout.contains(secret)) {
                assertFalse(stdout.contains(raw), "a secret appeared on stdout: " + secret + "\nstdout:\n"
                        + result.stdoutText());
            }
        }
    }

    /** What a finished secret-run produced. */
    public record Result(int exitCode, byte[] stdout, String stderr) {
        public String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        /** The non-blank lines of stderr. */
        public List<String> stderrLines() {
            return stderr.lines().filter(line -> !line.isBlank()).toList();
        }

        /** Asserts the exit code, showing stderr when it differs. */
        public Result assertExit(int expected) {
            assertEquals(expected, exitCode, () -> "exit code; stderr:\n" + stderr + "\nstdout:\n" + stdoutText());
            return this;
        }

        /**
         * The failure is told in exactly one line: one ERROR log line, the last on stderr, with no stack trace
         * and no exception class name anywhere. INFO lines of the steps before the failure may precede it; every
         * line on stderr is a log line of secret-run (nothing else wrote there).
         */
        public Result assertOneCleanErrorLine() {
            List<String> lines = stderrLines();
            List<String> errors = lines.stream().filter(l -> l.contains(" ERROR ")).toList();
            assertEquals(1, errors.size(), () -> "expected exactly one ERROR line on stderr, got:\n" + stderr);
            String line = errors.getFirst();
            assertEquals(line, lines.getLast(), () -> "the error must be the last line on stderr:\n" + stderr);
            for (String l : lines) {
                assertTrue(LOG_LINE.matcher(l).matches(), () -> "not a secret-run log line: " + l + "\n" + stderr);
            }
            assertFalse(stderr.contains("\tat "), () -> "stack trace on stderr:\n" + stderr);
            assertFalse(EXCEPTION_NAME.matcher(stderr).find(), () -> "exception class name on stderr:\n" + stderr);
            String message = line.substring(line.indexOf(" ERROR ") + 7).strip();
            assertTrue(message.length() >= 10, () -> "error message too terse to be clear: " + line);
            return this;
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\nstdout:\n" + stdoutText() + "\nstderr:\n" + stderr;
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
