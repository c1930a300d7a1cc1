package io.secretrun.cli;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.launch.Launch;
import io.secretrun.launch.LaunchOptions;
import io.secretrun.deliver.OnTamper;
import io.secretrun.deliver.SecretSpec;
import io.secretrun.deliver.Serve;
import io.secretrun.process.TargetUser;
import java.util.ArrayList;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import io.secretrun.deliver.PlaintextMode;
import io.secretrun.process.SelfProtection;
import io.secretrun.log.StartupTimer;
import io.secretrun.watch.DeleteOn;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code secret-run [OPTIONS] [--] COMMAND [ARG...]}: the launch. A thin layer: it turns options into
 * {@link LaunchOptions} and maps every failure to its exit code in {@link #execute}, the one place that does so.
 */
@Command(name = "secret-run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "Decrypts an OpenPGP-encrypted secrets file, writes it where COMMAND expects it, deletes it the moment "
                    + "COMMAND first opens it, and runs COMMAND as its child.",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "N:the child's exit code, or 128+N when signal N ended it",
            "64:usage error", "65:input not valid OpenPGP, corrupt, tampered or not integrity-protected",
            "66:encrypted file, passphrase or secret key missing", "70:internal error",
            "73:plaintext cannot be created", "77:wrong passphrase, or not encrypted to our key",
            "126:COMMAND not executable", "127:COMMAND not found"})
public final class Main implements Callable<Integer> {
    static {
        // The first code of ours the JVM runs: secret-run is non-dumpable and writes no core file before Logback,
        // picocli or anything else is loaded. Fails closed: one line (Logback's default set-up) and exit 70.
        long jvm = System.nanoTime();
        try {
            SelfProtection.apply();
        } catch (SecretRunException e) {
            LoggerFactory.getLogger(Main.class).error(e.getMessage());
            System.exit(e.exitCode().code());
        }
        StartupTimer.mark("jvm", jvm);
        StartupTimer.mark("self-protection"); // before the first logger: SLF4J and Logback start with it
    }

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    static final Path DEFAULT_ENCRYPTED = Path.of("/config/secrets.yaml.enc");
    static final List<String> ENCRYPTED_SUFFIXES = List.of(".enc", ".gpg", ".pgp", ".asc");

    @Option(names = {"-i", "--encrypted"}, paramLabel = "FILE",
            defaultValue = "${env:SECRET_RUN_ENCRYPTED:-/config/secrets.yaml.enc}",
            description = {"The encrypted secrets file (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_ENCRYPTED."})
    Path encrypted;

    @Option(names = {"-o", "--plaintext"}, paramLabel = "FILE", defaultValue = "${env:SECRET_RUN_PLAINTEXT}",
            description = {"Where the app expects the plaintext (default: the encrypted path without its .enc, "
                    + ".gpg, .pgp or .asc suffix).", "Env: SECRET_RUN_PLAINTEXT."})
    Path plaintext;

    @Option(names = "--secret", paramLabel = "SPEC", defaultValue = "${env:SECRET_RUN_SECRETS}",
            description = {"One more secret, repeatable: comma-separated key=value, keys in=FILE (required), "
                    + "out=FILE (default: in without .enc, .gpg, .pgp or .asc), mode=file|fifo, "
                    + "delete-on=open|read|close|exit, owner=USER[:GROUP], perm=OCTAL, plaintext-dir=DIR, "
                    + "serve=once|app; a key not given takes the launch-wide option's value. With --secret, -i/-o "
                    + "have no defaults: an explicit -i is one more secret.",
                    "Env: SECRET_RUN_SECRETS (entries separated by ';' or newlines)."})
    List<String> secretSpecs;

    @Option(names = "--plaintext-owner", paramLabel = "USER[:GROUP]",
            defaultValue = "${env:SECRET_RUN_PLAINTEXT_OWNER}",
            description = {"Owner of every plaintext (default: the user secret-run runs as, or --user's user); "
                    + "another user than yourself needs secret-run to start as root.",
                    "Env: SECRET_RUN_PLAINTEXT_OWNER."})
    String plaintextOwner;

    @Option(names = "--plaintext-perm", paramLabel = "OCTAL", defaultValue = "${env:SECRET_RUN_PLAINTEXT_PERM:-0600}",
            description = {"Mode bits of every plaintext, e.g. 0400, 0440, 0640; no execute bits, nothing writable "
                    + "by others (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_PLAINTEXT_PERM."})
    String plaintextPerm;

    @Option(names = "--on-tamper", paramLabel = "ACTION", defaultValue = "${env:SECRET_RUN_ON_TAMPER:-stop}",
            description = {"When a plaintext gets a second hard link (or is moved away) before it is read: stop "
                    + "(do not start the app, or stop it as on TERM; exit 65) or warn (default: ${DEFAULT-VALUE}).",
                    "Env: SECRET_RUN_ON_TAMPER."})
    OnTamper onTamper;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "${env:SECRET_RUN_MODE:-file}",
            description = {"file: a regular file deleted on first access; fifo: a named pipe that serves the "
                    + "content once to its first reader, for apps that read it once from start to end "
                    + "(default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_MODE."})
    PlaintextMode mode;

    @Option(names = "--serve", paramLabel = "HOW", defaultValue = "${env:SECRET_RUN_SERVE:-once}",
            description = {"once: the plaintext goes on its first read; app: the app may read it again while it runs "
                    + "(a FIFO is served again to the app's own processes only, a file is placed again on "
                    + "--reload-signal); per secret: serve= (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_SERVE."})
    Serve serve;

    @Option(names = "--reload-signal", paramLabel = "SIG",
            defaultValue = "${env:SECRET_RUN_RELOAD_SIGNAL:-HUP}", converter = Converters.ReloadSignalConverter.class,
            description = {"The signal (HUP, USR1 or USR2) that, once the app runs, places every serve=app file "
                    + "secret again before it is relayed to the app (default: ${DEFAULT-VALUE}).",
                    "Env: SECRET_RUN_RELOAD_SIGNAL."})
    int reloadSignal;

    @Option(names = "--plaintext-dir", paramLabel = "DIR", defaultValue = "${env:SECRET_RUN_PLAINTEXT_DIR}",
            description = {"Write the plaintext into DIR (an in-memory directory) under a unique name and make the "
                    + "-o path a symbolic link to it; both go on deletion.", "Env: SECRET_RUN_PLAINTEXT_DIR."})
    Path plaintextDir;

    @Option(names = "--require-tmpfs", defaultValue = "${env:SECRET_RUN_REQUIRE_TMPFS:-false}",
            converter = Converters.BooleanConverter.class,
            description = {"Refuse (exit 73) before decrypting when the plaintext's directory is not on tmpfs or "
                    + "ramfs (without it: a warning).", "Env: SECRET_RUN_REQUIRE_TMPFS (" + Converters.BOOLEAN_VALUES
                    + ")."})
    boolean requireTmpfs;

    @Mixin
    PassphraseOptions passphrase;

    @Mixin
    KeyOptions keys;

    @Option(names = "--delete-on", paramLabel = "EVENT", defaultValue = "${env:SECRET_RUN_DELETE_ON:-open}",
            description = {"Which first event on the plaintext deletes it: open, read or close; or exit: it stays "
                    + "until the app exits, for apps that read it per request (the weakest mode: a warning says so; "
                    + "--mode file only) (default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_DELETE_ON."})
    DeleteOn deleteOn;

    @Option(names = "--read-timeout", paramLabel = "DURATION", defaultValue = "${env:SECRET_RUN_READ_TIMEOUT:-60s}",
            converter = Converters.DurationConverter.class,
            description = {"Delete the plaintext anyway after this long, e.g. 500ms, 60s, 5m; 0 = never "
                    + "(default: ${DEFAULT-VALUE}).", "Env: SECRET_RUN_READ_TIMEOUT."})
    Duration readTimeout;

    @Mixin
    MaxSizeOption maxSize;

    @Mixin
    SupervisionOptions supervision;

    @Mixin
    LoggingOptions logging;

    @Parameters(paramLabel = "COMMAND", arity = "0..*",
            description = "The app to run, with its arguments. Put -- before it when it starts with a dash.")
    List<String> command;

    @Spec
    CommandSpec commandSpec;

    @Override
    public Integer call() throws SecretRunException {
        StartupTimer.mark("parse");
        logging.apply();
        StartupTimer.mark("logging");
        if (command == null || command.isEmpty()) {
            throw SecretRunException.usage("no COMMAND given (see secret-run --help)");
        }
        boolean linked = plaintextDir != null && !plaintextDir.toString().isEmpty();
        if (linked && mode == PlaintextMode.FIFO) {
            throw SecretRunException.usage("--plaintext-dir applies to --mode file only (a FIFO holds no data on "
                    + "any file system)");
        }
        LaunchOptions options = new LaunchOptions(secrets(linked), keys.credentials(passphrase.source()),
                passphrase.hiddenVariables(), readTimeout, maxSize.bytes, command, supervision.supervision(),
                requireTmpfs, onTamper, reloadSignal);
        return new Launch(options).run();
    }

    /**
     * The secrets of this launch: the {@code --secret} entries (or SECRET_RUN_SECRETS), and {@code -i}/{@code -o}:
     * without --secret they, with their defaults, are the one secret; with it, only an explicit -i (command line or
     * SECRET_RUN_ENCRYPTED) adds one.
     */
    private List<SecretSpec> secrets(boolean linked) throws SecretRunException {
        Optional<String> owner = plaintextOwner == null || plaintextOwner.isEmpty() ? Optional.empty()
                : Optional.of(plaintextOwner);
        Optional<TargetUser> user = supervision.supervision().user().isPresent()
                ? Optional.of(TargetUser.resolve(supervision.supervision().user().get())) : Optional.empty();
        SecretSpecs.Defaults defaults = new SecretSpecs.Defaults(mode, deleteOn, owner, "--plaintext-owner",
                SecretSpecs.perm(plaintextPerm, "--plaintext-perm"), linked ? Optional.of(plaintextDir)
                : Optional.empty(), user, true, serve);
        List<SecretSpecs.Entry> entries = new ArrayList<>();
        CommandLine.ParseResult parsed = commandSpec.commandLine().getParseResult();
        if (parsed != null && parsed.hasMatchedOption("--secret")) {
            secretSpecs.forEach(spec -> entries.add(SecretSpecs.fromOption(spec)));
        } else if (secretSpecs != null) {
            for (String value : secretSpecs) {
                entries.addAll(SecretSpecs.fromEnvironment(value));
            }
        }
        List<SecretSpec> specs = new ArrayList<>();
        boolean explicitIn = parsed != null && parsed.hasMatchedOption("--encrypted")
                || !System.getenv().getOrDefault("SECRET_RUN_ENCRYPTED", "").isEmpty();
        if (entries.isEmpty() || explicitIn) {
            specs.add(SecretSpecs.single(encrypted, plaintextPath(encrypted, plaintext), defaults));
        } else if (plaintext != null) {
            throw SecretRunException.usage("-o/--plaintext " + plaintext + " needs an explicit -i when --secret is "
                    + "given (or give out= in the --secret entry)");
        }
        for (SecretSpecs.Entry entry : entries) {
            specs.add(SecretSpecs.parse(entry, defaults));
        }
        SecretSpecs.requireDistinctOutputs(specs);
        return specs;
    }

    /** The explicit plaintext path, or the encrypted path without its encryption suffix. */
    static Path plaintextPath(Path encrypted, Path explicit) throws SecretRunException {
        if (explicit != null) {
            return explicit;
        }
        String name = encrypted.getFileName() == null ? "" : encrypted.getFileName().toString();
        for (String suffix : ENCRYPTED_SUFFIXES) {
            if (name.length() > suffix.length() && name.endsWith(suffix)) {
                return encrypted.resolveSibling(name.substring(0, name.length() - suffix.length()));
            }
        }
        throw SecretRunException.usage("cannot derive the plaintext path from " + encrypted
                + " (no .enc, .gpg, .pgp or .asc suffix); give -o/--plaintext");
    }

    public static void main(String[] args) {
        StartupTimer.mark("logback-init");
        if (!HardenedJvm.hardened()) {
            try {
                HardenedJvm.reexecute(args); // returns only by throwing
            } catch (SecretRunException e) {
                LOG.error(e.getMessage());
                System.exit(e.exitCode().code());
            }
        }
        System.exit(execute(args));
    }

    /** Parses, runs and maps every outcome to an exit code: the only place exit codes are decided. */
    public static int execute(String... args) {
        CommandLine commandLine = commandLine(mayNameASubcommand(args))
                .setParameterExceptionHandler((e, ignored) -> {
                    LOG.error("{}{} (see secret-run --help)", e.getMessage(), fromEnvironment(e, args));
                    return ExitCode.USAGE.code();
                })
                .setExecutionStrategy(Main::run)
                .setExecutionExceptionHandler((e, ignored, parseResult) -> {
                    if (e instanceof SecretRunException failure) {
                        LOG.error(failure.getMessage());
                        return failure.exitCode().code();
                    }
                    // A bug or an unexpected platform failure: one line for the user, the trace only at debug.
                    LOG.error("internal error: {}", e.toString());
                    LOG.debug("internal error", e);
                    return ExitCode.SOFTWARE.code();
                });
        try {
            return commandLine.execute(args);
        } catch (Error e) {
            // past picocli's handler, which sees exceptions only (e.g. a class missing from a trimmed runtime)
            LOG.error("internal error: {}", e.toString());
            LOG.debug("internal error", e);
            return ExitCode.SOFTWARE.code();
        }
    }

    /** The command model (with the subcommands or without, see {@link #SUBCOMMANDS}), as {@link #execute} runs it. */
    public static CommandLine commandLine(boolean withSubcommands) {
        CommandLine commandLine = new CommandLine(new Main())
                .setStopAtPositional(true)
                .setCaseInsensitiveEnumValuesAllowed(true);
        if (withSubcommands) {
            for (Object sub : SUBCOMMANDS) {
                commandLine.addSubcommand(sub);
            }
        }
        commandLine.getSubcommands().values().forEach(sub -> sub.setCaseInsensitiveEnumValuesAllowed(true));
        return commandLine;
    }

    /**
     * Runs the command picocli selected, after refusing launch options given before a subcommand: picocli would
     * set them on the launch, which does not run, and the subcommand would silently use its own defaults. Only the
     * inherited options (logging) apply on both sides of the subcommand's name.
     */
    private static int run(CommandLine.ParseResult parseResult) {
        if (parseResult.hasSubcommand() && !parseResult.isUsageHelpRequested()
                && !parseResult.isVersionHelpRequested()) {
            List<String> misplaced = parseResult.matchedOptions().stream()
                    .filter(o -> o.scopeType() != CommandLine.ScopeType.INHERIT)
                    .map(o -> o.longestName()).distinct().toList();
            if (!misplaced.isEmpty()) {
                String sub = parseResult.subcommand().commandSpec().name();
                throw new CommandLine.ParameterException(parseResult.commandSpec().commandLine(),
                        (misplaced.size() == 1 ? "option " : "options ") + String.join(", ", misplaced) + " before '"
                                + sub + "' belong" + (misplaced.size() == 1 ? "s" : "") + " to the launch and would "
                                + "be ignored; give " + sub + "'s options after its name");
            }
        }
        return new CommandLine.RunLast().execute(parseResult);
    }

    private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:(\\w+)");

    /**
     * " (from environment variable X)" when the bad value came from the option's variable rather than the command
     * line, so the user knows where to look; else "".
     */
    static String fromEnvironment(CommandLine.ParameterException e, String... args) {
        if (!(e.getArgSpec() instanceof OptionSpec option)) {
            return "";
        }
        Optional<String> variable = environmentVariable(option);
        if (variable.isEmpty()) {
            return "";
        }
        for (String arg : args) {
            if (arg.equals("--")) {
                break;
            }
            for (String name : option.names()) {
                if (arg.equals(name) || arg.startsWith(name + "=") || (name.length() == 2 && arg.startsWith(name))) {
                    return "";
                }
            }
        }
        return " (from environment variable " + variable.get() + ")";
    }

    /** The environment variable an option reads (its default value's {@code ${env:NAME...}}), if any. */
    public static Optional<String> environmentVariable(OptionSpec option) {
        // picocli keeps only the interpolated default: read the annotation
        if (option.userObject() instanceof Field field && field.getAnnotation(Option.class) != null) {
            Matcher m = ENV_DEFAULT.matcher(field.getAnnotation(Option.class).defaultValue());
            if (m.find()) {
                return Optional.of(m.group(1));
            }
        }
        return Optional.empty();
    }

    /**
     * The subcommands, added only when an argument could select one or the usage (which lists them) may be printed:
     * picocli builds a command's whole model from its annotations when it is added, and a launch, which never
     * uses them, then starts faster. Where no argument names one, picocli could not select one anyway.
     */
    private static final List<Class<?>> SUBCOMMANDS =
            List.of(EncryptCommand.class, DecryptCommand.class, EditCommand.class, RekeyCommand.class,
                    CheckCommand.class, KeygenCommand.class, CommandLine.HelpCommand.class);
    private static final java.util.Set<String> SUBCOMMAND_WORDS = java.util.Set.of("encrypt", "secret_encrypt",
            "decrypt", "secret_decrypt", "rekey", "passwd", "edit", "check", "keygen", "help", "-h", "--help");

    static boolean mayNameASubcommand(String... args) {
        for (String arg : args) {
            if (SUBCOMMAND_WORDS.contains(arg)) {
                return true;
            }
        }
        return false;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"secret-run " + (version == null ? "(development build)" : version)};
        }
    }
}
