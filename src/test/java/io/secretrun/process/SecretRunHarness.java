package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import io.secretrun.testing.Ci;

/**
 * Runs the built {@code secret-run.jar} for real, black box: either as PID 1 of a fresh PID namespace
 * ({@code unshare --pid --fork --mount-proc}, which needs root or user namespaces) or as a plain child of the test.
 * Each harness owns a world-readable work directory with a real encrypted file (made by the jar's own
 * {@code encrypt}), its root-only passphrase file, and room for markers that the app writes.
 */
final class SecretRunHarness implements AutoCloseable {
    static final Path JAR = Path.of(System.getProperty("secretrun.jar", "target/secret-run.jar"));
    static final String SECRET = "db_password: hunter2\n";
    /** Bound for every wait, so a broken build fails instead of hanging; never an assertion on time. */
    static final Duration PATIENCE = Duration.ofSeconds(60);

    private static Boolean namespacesPermitted;

    final Path dir;
    final Path encrypted;
    final Path passphrase;
    final Path plaintext;

    private SecretRunHarness(Path dir) {
        this.dir = dir;
        this.encrypted = dir.resolve("secrets.yaml.enc");
        this.passphrase = dir.resolve("passphrase");
        this.plaintext = dir.resolve("secrets.yaml");
    }

    /** A work directory (mode 0777, so an app switched to another user can write its markers there). */
    static SecretRunHarness create() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("secret-run-pid1-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        SecretRunHarness h = new SecretRunHarness(dir);
        Files.writeString(h.passphrase, "correct horse\n");
        Files.setPosixFilePermissions(h.passphrase, PosixFilePermissions.fromString("rw-------"));
        Path source = dir.resolve("source.yaml");
        Files.writeString(source, SECRET);
        Process p = new ProcessBuilder(javaCommand(List.of("encrypt", "--s2k-count", "65536", "-i", source.toString(),
                "-o", h.encrypted.toString(), "--passphrase-file", h.passphrase.toString(),
                "--keep-passphrase-file"))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "secret-run encrypt failed: " + out);
        Files.delete(source);
        return h;
    }

    /**
     * Whether this machine lets us make PID namespaces. Tests skip when it does not, except in CI (see Ci), where
     * the PID 1 matrix must run: there a missing permission is a failure.
     */
    static void requireNamespaces() {
        if (namespacesPermitted == null) {
            try {
                Process p = new ProcessBuilder("unshare", "--pid", "--fork", "--mount-proc", "true")
                        .redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                namespacesPermitted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException | InterruptedException e) {
                namespacesPermitted = false;
            }
        }
        Ci.assumeOrFail(namespacesPermitted, "unshare --pid --fork --mount-proc is not permitted here (not root?)");
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /**
     * {@code java OPTIONS -jar secret-run.jar ARGS} without jvm.args: secret-run re-executes itself in place with the
     * jar's copy of it (io.secretrun.cli.HardenedJvm), so these tests also run that path, as PID 1 too.
     */
    static List<String> javaCommand(List<String> args) {
        // env --default-signal=INT: see SecretRun.javaCommand (a background test run inherits SIGINT ignored)
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT", JAVA.toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                "-XX:TieredStopAtLevel=1"));
        cmd.addAll(AOT_CACHE);
        cmd.addAll(List.of("-jar", JAR.toString()));
        cmd.addAll(args);
        return cmd;
    }

    private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    /**
     * {@code java @jvm.args -jar secret-run.jar ARGS}, the command of the launchers (bin/secret-run, the image's
     * /usr/bin/secret-run): one JVM, no re-execution, so a test that starts secret-run hundreds of times pays one
     * JVM start for each.
     */
    static List<String> launcherCommand(List<String> args) {
        Path jvmArgs = JAR.toAbsolutePath().getParent().resolveSibling("root/usr/share/secret-run/jvm.args");
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT", JAVA.toString(), "@" + jvmArgs));
        cmd.addAll(AOT_CACHE);
        cmd.addAll(List.of("-jar", JAR.toString()));
        cmd.addAll(args);
        return cmd;
    }

    /**
     * The AOT cache the build made beside the jar, used as bin/secret-run uses it (only when newer than the jar and
     * made by this JDK): these tests start secret-run hundreds of times, each start then costs about a third less
     * CPU. Without a usable cache (a build with -Daot.skip), the JDK's default class data sharing.
     */
    private static final List<String> AOT_CACHE = aotCache();

    private static List<String> aotCache() {
        Path aot = Path.of(JAR.toString().replaceFirst("\\.jar$", ".aot"));
        Path release = Path.of(aot + ".release");
        try {
            if (Files.isRegularFile(aot) && Files.getLastModifiedTime(aot).compareTo(Files.getLastModifiedTime(JAR)) > 0
                    && Files.mismatch(release, Path.of(System.getProperty("java.home"), "release")) == -1) {
                return List.of("-XX:AOTCache=" + aot, "-Xlog:aot=off", "-Xlog:cds=off");
            }
        } catch (IOException e) {
            // no release file beside the cache, or no jar: start without the cache
        }
        return List.of("-Xshare:auto");
    }

    /** The launch options every run uses: our encrypted file, a kept passphrase file, the plaintext in dir. */
    List<String> launchOptions() {
        return List.of("-i", encrypted.toString(), "-o", plaintext.toString(), "--passphrase-file",
                passphrase.toString(), "--keep-passphrase-file");
    }

    /** Starts secret-run as PID 1 of a new PID namespace. */
    Run startPid1(List<String> options, String... command) throws IOException {
        return start(true, Map.of(), options, command);
    }

    /** Starts secret-run as an ordinary child of the test JVM (then it is a child subreaper). */
    Run startPlain(List<String> options, String... command) throws IOException {
        return start(false, Map.of(), options, command);
    }

    Run start(boolean pid1, Map<String, String> env, List<String> options, String... command) throws IOException {
        return start(pid1, null, env, options, command);
    }

    /**
     * @param prelude with {@code pid1}: shell commands run inside the new namespaces (a private mount namespace,
     *                so bind mounts stay there) before the shell execs secret-run as PID 1
     */
    Run start(boolean pid1, String prelude, Map<String, String> env, List<String> options, String... command)
            throws IOException {
        return start(pid1, prelude, env, options, false, command);
    }

    /** Starts secret-run as PID 1 the way the launchers do ({@link #launcherCommand}). */
    Run startPid1AsLauncher(List<String> options, String... command) throws IOException {
        return start(true, null, Map.of(), options, true, command);
    }

    private Run start(boolean pid1, String prelude, Map<String, String> env, List<String> options, boolean launcher,
            String... command) throws IOException {
        if (pid1) {
            requireNamespaces();
        }
        List<String> args = new ArrayList<>(launchOptions());
        args.addAll(options);
        args.add("--");
        args.addAll(List.of(command));
        List<String> cmd = new ArrayList<>();
        if (pid1) {
            cmd.addAll(List.of("unshare", "--pid", "--fork", "--mount-proc"));
            if (prelude != null) {
                cmd.addAll(List.of("sh", "-euc", prelude + "\nexec \"$@\"", "sh"));
            }
        }
        cmd.addAll(launcher ? launcherCommand(args) : javaCommand(args));
        String name = "run" + runs.incrementAndGet();
        ProcessBuilder builder = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("SECRET_RUN_") || k.equals("DONT_DELETE_PWFILE"));
        builder.environment().putAll(env);
        return new Run(builder.start(), pid1, dir.resolve(name + ".out"), dir.resolve(name + ".err"));
    }

    /** Names each run's output files; runs may start from several threads. */
    private final AtomicInteger runs = new AtomicInteger();

    /** A path in the work directory. */
    Path file(String name) {
        return dir.resolve(name);
    }

    /** Waits (bounded) until {@code file} exists with content, and returns it. */
    static String awaitFile(Path file) throws IOException {
        awaitTrue(() -> Files.exists(file) && file.toFile().length() > 0, "no " + file);
        return Files.readString(file).trim();
    }

    static void awaitTrue(BooleanSupplier condition, String failure) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail(failure + " within " + PATIENCE.toSeconds() + " s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** One running secret-run. */
    static final class Run {
        final Process process;
        final boolean pid1;
        final Path out;
        final Path err;

        Run(Process process, boolean pid1, Path out, Path err) {
            this.process = process;
            this.pid1 = pid1;
            this.out = out;
            this.err = err;
        }

        /** secret-run's pid as the test sees it (in PID 1 mode: unshare's child, which is PID 1 inside). */
        long pid() {
            if (!pid1) {
                return process.pid();
            }
            long[] found = new long[1];
            awaitTrue(() -> {
                Optional<ProcessHandle> child = process.toHandle().children().findFirst();
                child.ifPresent(c -> found[0] = c.pid());
                return child.isPresent() || !process.isAlive();
            }, "unshare started no child");
            if (found[0] == 0) {
                fail("unshare ended early: " + stderr());
            }
            return found[0];
        }

        /** Sends {@code signal} to secret-run itself, as a container runtime would. */
        void signal(String signal) throws IOException {
            // kill(2) directly: a slim CI image may lack the kill binary (procps)
            io.secretrun.linux.Libc.kill((int) pid(), SIGNALS.get(signal));
        }

        /** Linux (x86_64, aarch64) numbers of the signals the tests send. */
        private static final Map<String, Integer> SIGNALS = Map.ofEntries(Map.entry("HUP", 1), Map.entry("INT", 2),
                Map.entry("QUIT", 3), Map.entry("USR1", 10), Map.entry("USR2", 12), Map.entry("PIPE", 13),
                Map.entry("ALRM", 14), Map.entry("TERM", 15), Map.entry("CONT", 18), Map.entry("TSTP", 20),
                Map.entry("WINCH", 28));

        /** Waits (bounded) for secret-run to exit and returns its exit code. */
        int exitCode() throws InterruptedException {
            if (!process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                fail("secret-run did not exit within " + PATIENCE.toSeconds() + " s; stderr:\n" + stderr());
            }
            return process.exitValue();
        }

        String stderr() {
            try {
                return Files.readString(err);
            } catch (IOException e) {
                return "(no stderr: " + e + ")";
            }
        }

        String stdout() {
            try {
                return Files.readString(out);
            } catch (IOException e) {
                return "(no stdout: " + e + ")";
            }
        }
    }
}
