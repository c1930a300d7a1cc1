package io.secretrun.cli;

import io.secretrun.author.PrivateDirectory;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import io.secretrun.place.Storage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import io.secretrun.deliver.PlaintextMode;
import io.secretrun.deliver.SecretSpec;
import io.secretrun.watch.DeleteOn;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code secret-run check}: what protects the secret here. One line per protection on stdout,
 * {@code STATUS LEVEL NAME: DETAIL}, where STATUS is {@code ok}, {@code MISSING} or {@code info} (listed, never
 * required) and LEVEL the lowest {@code --min-level} that requires it; then a summary line. Exits 0 when every
 * protection of the level holds, 1 otherwise: usable as a startup check (e.g. an init container running the same
 * image, user and volumes as the app).
 */
@Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Prints what protects the secret in this environment, one line per protection "
                + "(ok, MISSING, or info), and exits non-zero when a protection of --min-level is missing.",
            "",
            "basic:  PID 1 or child subreaper possible; secret-run not dumpable; core dumps off (RLIMIT_CORE 0); no "
                    + "plaintext left by a killed edit in $XDG_RUNTIME_DIR or /dev/shm.",
            "strict: basic, and the plaintext's directory on tmpfs/ramfs; no plaintext kept until the app exits "
                    + "(delete-on=exit); Yama ptrace_scope >= 1; CAP_SYS_PTRACE in none of CapEff, CapPrm, CapBnd.",
            "info:   core_pattern, whether running as root."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every protection of --min-level holds", "1:a protection of --min-level is missing",
            "64:usage error"})
final class CheckCommand implements Callable<Integer> {
    /** CAP_SYS_PTRACE's bit in the /proc/PID/status capability masks. */
    static final int CAP_SYS_PTRACE = 19;

    /** How much protection is required. */
    enum Level {
        BASIC, STRICT;

        /** The CLI spelling. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    @Option(names = {"-i", "--encrypted"}, paramLabel = "FILE",
            defaultValue = "${env:SECRET_RUN_ENCRYPTED:-/config/secrets.yaml.enc}",
            description = {"The encrypted secrets file, for the default plaintext path (default: ${DEFAULT-VALUE}).",
                    "Env: SECRET_RUN_ENCRYPTED."})
    Path encrypted;

    @Option(names = {"-o", "--plaintext"}, paramLabel = "FILE", defaultValue = "${env:SECRET_RUN_PLAINTEXT}",
            description = {"Where the app expects the plaintext (default: the encrypted path without its suffix).",
                    "Env: SECRET_RUN_PLAINTEXT."})
    Path plaintext;

    @Option(names = "--plaintext-dir", paramLabel = "DIR", defaultValue = "${env:SECRET_RUN_PLAINTEXT_DIR}",
            description = {"The directory the plaintext is written to instead (its file system is checked).",
                    "Env: SECRET_RUN_PLAINTEXT_DIR."})
    Path plaintextDir;

    @Option(names = "--secret", paramLabel = "SPEC", defaultValue = "${env:SECRET_RUN_SECRETS}",
            description = {"A secret of the launch, as its --secret (repeatable): the file system of each one's "
                    + "directory is checked. With --secret, -i/-o count only when given.",
                    "Env: SECRET_RUN_SECRETS (entries separated by ';' or newlines)."})
    List<String> secretSpecs;

    @Option(names = "--delete-on", paramLabel = "EVENT", defaultValue = "${env:SECRET_RUN_DELETE_ON:-open}",
            description = {"The launch's --delete-on: exit (kept until the app exits) is reported as missing under "
                    + "strict (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_DELETE_ON."})
    DeleteOn deleteOn;

    @Spec
    CommandSpec commandSpec;

    @Option(names = "--min-level", paramLabel = "LEVEL", defaultValue = "${env:SECRET_RUN_CHECK_LEVEL:-basic}",
            description = {"basic or strict (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_CHECK_LEVEL."})
    Level minLevel;

    /** Holds the logging options, which this command inherits from the launch. */
    @ParentCommand
    Main parent;

    /** One line of the report. */
    record Line(String status, Level level, String name, String detail) {
        static Line of(boolean holds, Level level, String name, String detail) {
            return new Line(holds ? "ok" : "MISSING", level, name, detail);
        }

        static Line info(String name, String detail) {
            return new Line("info", null, name, detail);
        }

        boolean missing() {
            return status.equals("MISSING");
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-7s %-6s %s: %s", status,
                    level == null ? "-" : level.name().toLowerCase(Locale.ROOT), name, detail);
        }
    }

    @Override
    public Integer call() throws SecretRunException {
        parent.logging.apply();
        List<Line> lines = new ArrayList<>();
        lines.add(pid1());
        lines.add(dumpable());
        lines.add(coreLimit());
        lines.addAll(plaintextStorage());
        lines.add(deletion());
        lines.add(editLeftovers());
        lines.add(yama());
        lines.add(ptraceCapability());
        lines.add(corePattern());
        lines.add(Line.info("user", ProcessHandleUid.describe()));

        PrintStream out = System.out;
        List<String> missing = new ArrayList<>();
        for (Line line : lines) {
            out.println(line);
            if (line.missing() && line.level().compareTo(minLevel) <= 0) {
                missing.add(line.name());
            }
        }
        String level = minLevel.name().toLowerCase(Locale.ROOT);
        out.println(missing.isEmpty() ? "level " + level + ": every protection holds"
                : "level " + level + ": missing " + String.join(", ", missing));
        out.flush();
        return missing.isEmpty() ? 0 : 1;
    }

    private static Line pid1() {
        if (Libc.getpid() == 1) {
            return Line.of(true, Level.BASIC, "pid1", "running as PID 1: reaps every orphan, relays signals");
        }
        try {
            Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 1);
            return Line.of(true, Level.BASIC, "pid1", "not PID 1; child subreaper possible (orphans of the app are "
                    + "reaped)");
        } catch (ErrnoException e) {
            return Line.of(false, Level.BASIC, "pid1", "not PID 1 and no child subreaper: " + e.getMessage());
        }
    }

    private static Line dumpable() {
        try {
            int dumpable = Libc.prctl(Libc.PR_GET_DUMPABLE, 0);
            return dumpable == 0
                    ? Line.of(true, Level.BASIC, "dumpable", "secret-run is not dumpable: same-user processes cannot "
                            + "ptrace it or read its /proc/PID/mem and environ")
                    : Line.of(false, Level.BASIC, "dumpable", "secret-run is dumpable (" + dumpable + ")");
        } catch (ErrnoException e) {
            return Line.of(false, Level.BASIC, "dumpable", "cannot tell: " + e.getMessage());
        }
    }

    private static Line coreLimit() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (l.startsWith("Max core file size")) {
                    String[] fields = l.substring("Max core file size".length()).trim().split("\\s+");
                    boolean off = fields.length > 0 && fields[0].equals("0");
                    return Line.of(off, Level.BASIC, "core-limit", "RLIMIT_CORE of secret-run: soft " + fields[0]
                            + (off ? " (no core file of it)" : ""));
                }
            }
            return Line.of(false, Level.BASIC, "core-limit", "no core limit in /proc/self/limits");
        } catch (IOException e) {
            return Line.of(false, Level.BASIC, "core-limit", "cannot read /proc/self/limits: " + e.getMessage());
        }
    }

    /** One line per distinct directory that would hold a plaintext's bytes (a FIFO's never reach one). */
    private List<Line> plaintextStorage() {
        Optional<Path> dirOption = plaintextDir != null && !plaintextDir.toString().isEmpty()
                ? Optional.of(plaintextDir) : Optional.empty();
        List<Path> dirs = new ArrayList<>();
        try {
            CommandLine.ParseResult parsed = commandSpec.commandLine().getParseResult();
            List<SecretSpecs.Entry> entries = new ArrayList<>();
            if (parsed != null && parsed.hasMatchedOption("--secret")) {
                secretSpecs.forEach(spec -> entries.add(SecretSpecs.fromOption(spec)));
            } else if (secretSpecs != null) {
                secretSpecs.forEach(value -> entries.addAll(SecretSpecs.fromEnvironment(value)));
            }
            boolean explicitIn = parsed != null && parsed.hasMatchedOption("--encrypted")
                    || !System.getenv().getOrDefault("SECRET_RUN_ENCRYPTED", "").isEmpty();
            SecretSpecs.Defaults defaults = SecretSpecs.Defaults.forPlaces(dirOption, deleteOn);
            List<SecretSpec> specs = new ArrayList<>();
            if (entries.isEmpty() || explicitIn) {
                specs.add(SecretSpecs.single(encrypted, Main.plaintextPath(encrypted, plaintext), defaults));
            }
            for (SecretSpecs.Entry entry : entries) {
                specs.add(SecretSpecs.parse(entry, defaults));
            }
            keptUntilExit = specs.stream().filter(s -> s.deleteOn().untilExit()).map(SecretSpec::plaintext).toList();
            for (SecretSpec spec : specs) {
                if (spec.mode() == PlaintextMode.FIFO) {
                    continue;
                }
                Path dir = spec.plaintextDir().map(Path::toAbsolutePath)
                        .orElse(spec.plaintext().toAbsolutePath().getParent());
                if (!dirs.contains(dir)) {
                    dirs.add(dir);
                }
            }
        } catch (SecretRunException e) {
            keptUntilExit = null;
            return List.of(Line.of(false, Level.STRICT, "plaintext-storage", e.getMessage()));
        }
        List<Line> lines = new ArrayList<>();
        for (Path dir : dirs) {
            lines.add(storage(dir));
        }
        if (lines.isEmpty()) {
            lines.add(Line.of(true, Level.STRICT, "plaintext-storage", "every secret is a FIFO: no plaintext on "
                    + "any file system"));
        }
        return lines;
    }

    /** The plaintexts kept until the app exits (delete-on=exit); null when the secrets could not be read. */
    private List<Path> keptUntilExit;

    /** Whether every plaintext goes on its first read: delete-on=exit keeps one readable for the app's life. */
    private Line deletion() {
        if (keptUntilExit == null) {
            return Line.of(false, Level.STRICT, "delete-on", "cannot tell: the secrets are not valid (see "
                    + "plaintext-storage)");
        }
        if (keptUntilExit.isEmpty()) {
            return Line.of(true, Level.STRICT, "delete-on", "every plaintext is deleted on its first read (or "
                    + "served once)");
        }
        return Line.of(false, Level.STRICT, "delete-on", "kept until the app exits (delete-on=exit), readable "
                + "for its whole life: " + String.join(", ", keptUntilExit.stream().map(Path::toString).toList()));
    }

    private static Line storage(Path dir) {
        try {
            Storage.Kind kind = Storage.of(dir);
            return Line.of(kind.inMemory(), Level.STRICT, "plaintext-storage", dir + " is on " + kind.name()
                    + (kind.inMemory() ? " (in memory)" : " (not in memory: the plaintext would touch storage)"));
        } catch (ErrnoException e) {
            return Line.of(false, Level.STRICT, "plaintext-storage", "cannot tell: " + e.getMessage());
        }
    }

    /** Plaintext left by an {@code edit} that was killed (SIGKILL, power cut); the next edit removes it. */
    private static Line editLeftovers() {
        List<Path> bases = PrivateDirectory.candidates(System.getenv());
        List<Path> leftovers = PrivateDirectory.leftovers(bases);
        return leftovers.isEmpty()
                ? Line.of(true, Level.BASIC, "edit-leftovers", "no plaintext left by a killed edit in "
                        + String.join(", ", bases.stream().map(Path::toString).toList()))
                : Line.of(false, Level.BASIC, "edit-leftovers", leftovers.size() + " director"
                        + (leftovers.size() == 1 ? "y" : "ies") + " left by a killed edit, holding plaintext: "
                        + String.join(", ", leftovers.stream().map(Path::toString).toList())
                        + " (the next secret-run edit removes them)");
    }

    private static Line yama() {
        Path scope = Path.of("/proc/sys/kernel/yama/ptrace_scope");
        try {
            String value = Files.readString(scope).trim();
            String meaning = switch (value) {
                case "0" -> "classic: any process may ptrace a dumpable process of its user";
                case "1" -> "restricted: only a parent may ptrace its descendants";
                case "2" -> "admin-only: ptrace needs CAP_SYS_PTRACE";
                case "3" -> "no attach at all";
                default -> "unknown value";
            };
            return Line.of(!value.equals("0") && value.matches("[1-3]"), Level.STRICT, "yama",
                    "ptrace_scope " + value + " (" + meaning + ")");
        } catch (NoSuchFileException e) {
            return Line.of(false, Level.STRICT, "yama", "no Yama: any process may ptrace a dumpable process of its "
                    + "user (the app, for instance)");
        } catch (IOException e) {
            return Line.of(false, Level.STRICT, "yama", "cannot read " + scope + ": " + e.getMessage());
        }
    }

    private static Line ptraceCapability() {
        try {
            List<String> with = new ArrayList<>();
            List<String> without = new ArrayList<>();
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                for (String set : new String[] {"CapEff", "CapPrm", "CapBnd"}) {
                    if (l.startsWith(set + ":")) {
                        long mask = Long.parseUnsignedLong(l.substring(set.length() + 1).trim(), 16);
                        ((mask & (1L << CAP_SYS_PTRACE)) != 0 ? with : without).add(set);
                    }
                }
            }
            if (with.isEmpty() && without.isEmpty()) {
                return Line.of(false, Level.STRICT, "cap-sys-ptrace", "no capability sets in /proc/self/status");
            }
            return with.isEmpty()
                    ? Line.of(true, Level.STRICT, "cap-sys-ptrace", "CAP_SYS_PTRACE in none of " + without)
                    : Line.of(false, Level.STRICT, "cap-sys-ptrace", "CAP_SYS_PTRACE in " + with
                            + ": a process with it reads any process's memory, dumpable or not");
        } catch (IOException | NumberFormatException e) {
            return Line.of(false, Level.STRICT, "cap-sys-ptrace", "cannot read /proc/self/status: " + e.getMessage());
        }
    }

    private static Line corePattern() {
        try {
            String pattern = Files.readString(Path.of("/proc/sys/kernel/core_pattern")).trim();
            return Line.info("core-pattern", pattern.startsWith("|")
                    ? "piped to a handler (" + pattern + "): cores of dumpable processes leave the container"
                    : "written to files (" + pattern + ")");
        } catch (IOException e) {
            return Line.info("core-pattern", "cannot read /proc/sys/kernel/core_pattern: " + e.getMessage());
        }
    }

    /** The real and effective uid, from /proc/self/status. */
    static final class ProcessHandleUid {
        static String describe() {
            try {
                for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (l.startsWith("Uid:")) {
                        String[] ids = l.substring(4).trim().split("\\s+");
                        return ids[1].equals("0") ? "running as root (uid 0)" : "running as uid " + ids[1]
                                + " (not root)";
                    }
                }
            } catch (IOException e) {
                return "cannot tell: " + e.getMessage();
            }
            return "cannot tell";
        }
    }
}
