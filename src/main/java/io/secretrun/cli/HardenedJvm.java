package io.secretrun.cli;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import io.secretrun.linux.Spawn;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;

/**
 * The JVM options of {@code jvm.args} (attach mechanism off, no perf-data file, no heap dump, ...) hold however the
 * jar is started. The launchers pass that file, and with it the marker property {@value #MARKER}; a JVM started
 * without the marker ({@code java -jar secret-run.jar}) re-executes itself at once, in the same process (the pid is
 * kept: PID 1 stays PID 1), as {@code java OPTIONS @jvm.args -cp CLASSPATH io.secretrun.cli.Main ARGS}: its own
 * command-line options first, then the copy of {@code jvm.args} the build puts into the jar, so that those win.
 * Nothing of the secret exists yet at that point. Where it cannot, secret-run refuses to run (exit 70).
 */
final class HardenedJvm {
    /** Set by {@code jvm.args}: this JVM runs with its options. */
    static final String MARKER = "secret-run.hardened";
    /** Set by the re-execution, for its debug line. */
    static final String REEXECUTED = "secret-run.reexecuted";
    /** The copy of root/usr/share/secret-run/jvm.args in the jar (the pom copies it). */
    static final String RESOURCE = "/META-INF/secret-run/jvm.args";

    private HardenedJvm() {
    }

    static boolean hardened() {
        return System.getProperty(MARKER) != null;
    }

    /** Re-executes this process with the options of jvm.args; returns only by throwing. */
    static void reexecute(String[] args) throws SecretRunException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String classPath = System.getProperty("java.class.path", "");
        if (!Files.isExecutable(java) || classPath.isEmpty()) {
            throw refusal("no " + java + " to run it with, or no class path");
        }
        List<String> argv = new ArrayList<>();
        argv.add(java.toString());
        argv.addAll(ownOptions(readCmdline(), args));
        argv.addAll(jarOptions());
        argv.add("-D" + REEXECUTED + "=true");
        argv.addAll(List.of("-cp", classPath, Main.class.getName()));
        argv.addAll(Arrays.asList(args));
        deletePerfDataFile();
        closeOwnFilesOnExec(classPath);
        try {
            Libc.execv(java, argv);
        } catch (ErrnoException | RuntimeException e) {
            throw refusal(e.getMessage());
        }
        throw refusal("execv returned");
    }

    /**
     * The perf-data file this JVM may have made ({@code /tmp/hsperfdata_USER/PID}, HotSpot's fixed place on Linux):
     * the JVM deletes it at exit, which an exec is not, and the new program keeps the pid it is named after.
     */
    private static void deletePerfDataFile() {
        try {
            Files.deleteIfExists(Path.of("/tmp", "hsperfdata_" + System.getProperty("user.name"),
                    Long.toString(ProcessHandle.current().pid())));
        } catch (IOException | RuntimeException e) {
            // none there, or not ours to delete
        }
    }

    /**
     * The descriptors this JVM opened on its runtime image and on the class path (not close-on-exec in the JDK):
     * closed at the exec, so the new JVM does not keep a second set of them. Descriptors that secret-run inherited
     * (e.g. a --passphrase-fd) stay open.
     */
    private static void closeOwnFilesOnExec(String classPath) {
        List<Path> own = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"))));
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            try {
                own.add(Path.of(entry).toRealPath());
            } catch (IOException | RuntimeException e) {
                // an entry that does not exist has no descriptor either
            }
        }
        try (var fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    int n = Integer.parseInt(fd.getFileName().toString());
                    if (n > 2 && own.stream().anyMatch(target::startsWith)) {
                        Spawn.closeOnExec(n);
                    }
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile (the directory stream's own descriptor), or not a path: left as it is
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: the new JVM merely keeps a few read-only descriptors more
        }
    }

    private static SecretRunException refusal(String why) {
        return new SecretRunException(ExitCode.SOFTWARE, "this JVM was started without secret-run's JVM options "
                + "(jvm.args: attach mechanism off, no perf data, no heap dump) and cannot restart itself with them ("
                + why + "); start secret-run through its launcher");
    }

    /** The options of the jar's jvm.args, without the AOT cache ones: a cache goes with the launchers' checks. */
    static List<String> jarOptions() throws SecretRunException {
        try (InputStream in = HardenedJvm.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw refusal("no " + RESOURCE + " in the jar");
            }
            List<String> options = parseArgFile(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            options.removeIf(o -> o.startsWith("-XX:AOT") || o.startsWith("-XX:SharedArchiveFile"));
            if (!options.contains("-D" + MARKER + "=true")) {
                throw refusal(RESOURCE + " lacks -D" + MARKER + "=true");
            }
            return options;
        } catch (IOException e) {
            throw refusal("cannot read " + RESOURCE + ": " + e.getMessage());
        }
    }

    /** A java @argfile as jvm.args writes it: options separated by white space, # to the end of a line a comment. */
    static List<String> parseArgFile(String text) {
        List<String> options = new ArrayList<>();
        for (String line : text.split("\n")) {
            for (String token : line.trim().split("\\s+")) {
                if (token.startsWith("#")) {
                    break;
                }
                if (!token.isEmpty()) {
                    options.add(token);
                }
            }
        }
        return options;
    }

    private static List<String> readCmdline() {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
            Charset charset = Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
            List<String> argv = Arrays.asList(new String(raw, charset).split("\0", -1));
            return argv.isEmpty() ? argv : argv.subList(0, argv.size() - 1); // each argument ends with a NUL
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /**
     * The JVM options this JVM was started with (e.g. {@code -Xmx64m}): the command line between the java program
     * and {@code -jar JAR} or the main class, when its tail is {@code args}; otherwise none.
     */
    static List<String> ownOptions(List<String> cmdline, String[] args) {
        int end = cmdline.size() - args.length;
        if (end < 1 || !cmdline.subList(end, cmdline.size()).equals(Arrays.asList(args))) {
            return List.of();
        }
        if (end >= 3 && cmdline.get(end - 2).equals("-jar")) {
            return List.copyOf(cmdline.subList(1, end - 2));
        }
        if (end >= 2 && cmdline.get(end - 1).equals(Main.class.getName())) {
            return List.copyOf(cmdline.subList(1, end - 1));
        }
        return List.of();
    }

    /** After logging is set up: the re-execution's debug line, and a warning when _JAVA_OPTIONS is set. */
    static void report(Logger log) {
        if (System.getProperty(REEXECUTED) != null) {
            log.debug("started without jvm.args (no -D{}): re-executed with the jar's copy of it, pid kept", MARKER);
        }
        if (System.getenv("_JAVA_OPTIONS") != null) {
            log.warn("_JAVA_OPTIONS is set: its options override secret-run's JVM options (attach mechanism off, no "
                    + "perf data, no heap dump) and can undo those protections");
        }
    }
}
