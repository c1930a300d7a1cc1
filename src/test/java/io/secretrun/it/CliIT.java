package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static io.secretrun.it.Scenario.readString;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.cli.Main;
import io.secretrun.error.ExitCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** The command line and environment contract, logging, and that no output ever shows secret material. */
class CliIT {
    static final List<String> LAUNCH_OPTIONS = List.of("-i", "--encrypted", "-o", "--plaintext",
            "--passphrase-file", "--keep-passphrase-file", "--passphrase-env", "--passphrase-fd", "--delete-on",
            "--read-timeout", "--max-size", "--log-level", "--log-format", "--help", "--version");
    static final List<String> LAUNCH_VARIABLES = List.of("SECRET_RUN_ENCRYPTED", "SECRET_RUN_PLAINTEXT",
            "SECRET_RUN_PASSPHRASE_FILE", "SECRET_RUN_DELETE_ON", "SECRET_RUN_READ_TIMEOUT", "SECRET_RUN_LOG_LEVEL",
            "SECRET_RUN_LOG_FORMAT", "DONT_DELETE_PWFILE");

    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path copy;
    Path marker;

    @BeforeEach
    void scenario() {
        s = new Scenario(dir, gpg).encrypt();
        copy = dir.resolve("copy");
        marker = dir.resolve("child-started");
    }

    private String[] catToCopy() {
        return sh("cat \"$0\" > \"$1\"", s.target, copy);
    }

    @Test
    void helpMentionsEveryOptionItsEnvironmentVariableAndTheSubcommands() {
        SecretRun.Result result = s.secretRun.run("--help").assertExit(0);

        String help = result.stdoutText();
        for (String word : Stream.concat(LAUNCH_OPTIONS.stream(), LAUNCH_VARIABLES.stream()).toList()) {
            assertTrue(help.contains(word), "--help on stdout mentions " + word + ":\n" + help);
        }
        assertTrue(help.contains("encrypt"), "mentions the encrypt subcommand:\n" + help);
        assertTrue(help.contains("decrypt"), "mentions the decrypt subcommand:\n" + help);
    }

    @ParameterizedTest
    @ValueSource(strings = {"encrypt", "secret_encrypt"})
    void encryptHelpMentionsItsOptions(String subcommand) {
        String help = s.secretRun.run(subcommand, "--help").assertExit(0).stdoutText();

        for (String word : List.of("-i", "-o", "--passphrase-file", "--keep-passphrase-file", "--passphrase-env",
                "--passphrase-fd", "--no-armor", "--cipher", "--s2k-count")) {
            assertTrue(help.contains(word), subcommand + " --help mentions " + word + ":\n" + help);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"decrypt", "secret_decrypt"})
    void decryptHelpMentionsItsOptions(String subcommand) {
        String help = s.secretRun.run(subcommand, "--help").assertExit(0).stdoutText();

        for (String word : List.of("-i", "-o", "--passphrase-file", "--keep-passphrase-file", "--passphrase-env",
                "--passphrase-fd")) {
            assertTrue(help.contains(word), subcommand + " --help mentions " + word + ":\n" + help);
        }
    }

    /** The launch ("") and every subcommand, with their option models, from the same picocli model secret-run runs. */
    static Stream<Arguments> commands() {
        CommandLine top = Main.commandLine(true);
        Stream<Arguments> subs = top.getSubcommands().entrySet().stream()
                .filter(e -> !e.getKey().equals("help") && e.getValue().getCommandName().equals(e.getKey()))
                .map(e -> Arguments.of(e.getKey(), e.getValue().getCommandSpec()));
        return Stream.concat(Stream.of(Arguments.of("", top.getCommandSpec())), subs);
    }

    /**
     * Every option of every command reads an environment variable, and its entry in --help shows it: the options
     * come from the command model, so a new option without a variable (or without it in its help) fails here.
     */
    @ParameterizedTest(name = "secret-run {0} --help")
    @MethodSource("commands")
    void everyOptionInHelpShowsItsEnvironmentVariable(String command, CommandSpec spec) {
        String[] args = command.isEmpty() ? new String[] {"--help"} : new String[] {command, "--help"};
        List<String> help = s.secretRun.run(args).assertExit(0).stdoutText().lines().toList();

        assertTrue(spec.options().size() > 3, "the model has the options: " + spec.options());
        for (OptionSpec option : spec.options()) {
            if (option.usageHelp() || option.versionHelp()) {
                continue;
            }
            Optional<String> variable = Main.environmentVariable(option);
            assertTrue(variable.isPresent(), command + " " + option.longestName() + " reads no environment variable");
            String entry = helpEntry(help, option);
            assertTrue(entry.contains(variable.get()), command + " --help shows " + variable.get() + " for "
                    + option.longestName() + ":\n" + entry);
        }
    }

    /** An option's lines in --help: its name line and the indented description lines under it. */
    private static String helpEntry(List<String> help, OptionSpec option) {
        Pattern optionLine = Pattern.compile("^ {1,8}-.*");
        for (int i = 0; i < help.size(); i++) {
            String line = help.get(i);
            if (optionLine.matcher(line).matches() && List.of(line.trim().split("[ ,=]+")).contains(
                    option.longestName())) {
                StringBuilder entry = new StringBuilder(line);
                for (int j = i + 1; j < help.size() && !help.get(j).isBlank()
                        && !optionLine.matcher(help.get(j)).matches(); j++) {
                    entry.append('\n').append(help.get(j));
                }
                return entry.toString();
            }
        }
        throw new AssertionError("no entry for " + option.longestName() + " in:\n" + String.join("\n", help));
    }

    @Test
    void versionExitsZeroAndPrintsAVersion() {
        String version = s.secretRun.run("--version").assertExit(0).stdoutText();

        assertTrue(version.matches("(?s).*\\d+\\.\\d+.*"), "a version number on stdout: " + version);
    }

    @Test
    void everyLaunchSettingCanComeFromTheEnvironment() {
        Path pw = s.passphraseFile();

        s.secretRun.with().env("SECRET_RUN_ENCRYPTED", s.encrypted.toString())
                .env("SECRET_RUN_PLAINTEXT", s.target.toString())
                .env("SECRET_RUN_PASSPHRASE_FILE", pw.toString())
                .env("DONT_DELETE_PWFILE", "1")
                .run(catToCopy()).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertTrue(Files.exists(pw), "DONT_DELETE_PWFILE kept the passphrase file");
        assertFalse(existsNoFollow(s.target));
    }

    /** One launch setting from its variable, with what the launch must then do. */
    static Stream<Arguments> launchVariables() {
        return Stream.of(
                Arguments.of("SECRET_RUN_MAX_SIZE", "100", ExitCode.DATA_ERROR.code(), "larger than"),
                Arguments.of("SECRET_RUN_PASSPHRASE_ENV", "APP_PW", 0, "environment variable APP_PW"),
                Arguments.of("SECRET_RUN_PASSPHRASE_FD", "3", 0, "file descriptor 3"),
                Arguments.of("SECRET_RUN_PASSPHRASE_FILE", "pw-file", 0, "; deleted"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("launchVariables")
    void aLaunchSettingFromItsVariable(String variable, String value, int exit, String logged) {
        Path pw = s.passphraseFile();
        SecretRun.Invocation invocation = s.secretRun.with().env(variable, value.equals("pw-file") ? pw.toString()
                : value);
        List<String> args = new ArrayList<>(List.of("-i", s.encrypted.toString(), "-o", s.target.toString()));
        switch (variable) {
            case "SECRET_RUN_PASSPHRASE_ENV" -> invocation.env("APP_PW", s.passphrase);
            case "SECRET_RUN_PASSPHRASE_FD" -> invocation.wrapper("bash", "-c", "exec 3<\"$0\"; exec \"$@\"",
                    pw.toString());
            case "SECRET_RUN_PASSPHRASE_FILE" -> { }
            default -> args.addAll(List.of("--passphrase-file", pw.toString()));
        }
        args.add("--");
        args.addAll(List.of(sh("cat \"$0\" > \"$1\"", s.target, copy)));

        SecretRun.Result result = invocation.run(args.toArray(String[]::new)).assertExit(exit);

        assertTrue(result.stderr().contains(logged), "stderr mentions " + logged + ":\n" + result.stderr());
        if (exit == 0) {
            assertArrayEquals(s.plaintext, read(copy));
        } else {
            assertFalse(Files.exists(copy), "child never started");
            result.assertOneCleanErrorLine();
        }
        assertFalse(existsNoFollow(s.target));
    }

    @ParameterizedTest(name = "SECRET_RUN_KEEP_PASSPHRASE_FILE={0}")
    @CsvSource({"true,true", "1,true", "yes,true", "ON,true", "false,false", "0,false", "no,false", "Off,false",
        "'',false"})
    void keepPassphraseFileFromItsVariableTakesTheUsualBooleanSpellings(String value, boolean kept) {
        Path pw = s.passphraseFile();

        s.secretRun.with().env("SECRET_RUN_KEEP_PASSPHRASE_FILE", value)
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-file", pw.toString(), "--",
                        "sh", "-c", "cat \"$0\" > \"$1\"", s.target.toString(), copy.toString())
                .assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertEquals(kept, Files.exists(pw), "passphrase file kept");
    }

    @ParameterizedTest(name = "{0}=maybe")
    @ValueSource(strings = {"SECRET_RUN_KEEP_PASSPHRASE_FILE", "SECRET_RUN_REQUIRE_TMPFS", "SECRET_RUN_SIGNAL_GROUP"})
    void aBooleanVariableThatIsNoBooleanIsAUsageErrorNamingIt(String variable) {
        SecretRun.Result result = s.secretRun.with().env(variable, "maybe")
                .run(s.launch(sh("touch \"$0\"", marker))).assertExit(ExitCode.USAGE.code());

        assertFalse(Files.exists(marker), "child never started");
        result.assertOneCleanErrorLine();
        String error = result.stderrLines().getLast();
        assertTrue(error.contains("'maybe' is not a boolean (true/false, yes/no, on/off or 1/0)")
                && error.contains("from environment variable " + variable), error);
    }

    @Test
    void anOptionOverridesItsEnvironmentVariable() {
        Path elsewhere = dir.resolve("from-env.yaml");

        s.secretRun.with().env("SECRET_RUN_PLAINTEXT", elsewhere.toString()).run(s.launch(catToCopy()))
                .assertExit(0);

        assertArrayEquals(s.plaintext, read(copy), "-o won over SECRET_RUN_PLAINTEXT");
        assertFalse(existsNoFollow(elsewhere));
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void deleteOnFromTheEnvironment() {
        // with "read", an open without a read keeps the path (6 if not); the read then removes it (3 if not)
        Path polls = dir.resolve("polls");
        s.secretRun.with().env("SECRET_RUN_DELETE_ON", "read").env("SECRET_RUN_READ_TIMEOUT", "0")
                .run(s.launch(sh("P=\"$0\"; N=\"$2\"; exec 3< \"$P\"; sleep 0.3; [ -e \"$P\" ] || exit 6; "
                        + "cat <&3 > \"$1\"; " + ReadOnceIT.POLL_GONE, s.target, copy, polls)))
                .assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
    }

    @ParameterizedTest
    @ValueSource(strings = {"option", "environment"})
    void readTimeoutInMillisecondsFromOptionOrEnvironment(String how) {
        Path polls = dir.resolve("polls");
        String[] child = sh("P=\"$0\"; N=\"$1\"; " + ReadOnceIT.POLL_GONE, s.target, polls);
        SecretRun.Invocation invocation = s.secretRun.with();
        String[] args;
        if (how.equals("option")) {
            args = s.launch(List.of("--read-timeout", "300ms"), child);
        } else {
            invocation.env("SECRET_RUN_READ_TIMEOUT", "300ms");
            args = s.launch(child);
        }

        invocation.run(args).assertExit(0);

        assertTrue(Files.exists(polls), "the path went away while the child ran, without a read");
    }

    @Test
    void logLevelErrorSilencesASuccessfulLaunchWhileTheDefaultLogsSteps() {
        SecretRun.Result info = s.secretRun.run(s.launch(catToCopy())).assertExit(0);
        assertFalse(info.stderrLines().isEmpty(), "INFO (default) logs the steps on stderr");

        SecretRun.Result quietByOption = s.secretRun.run(s.launch(List.of("--log-level", "error"), catToCopy()))
                .assertExit(0);
        assertEquals(List.of(), quietByOption.stderrLines(), "--log-level error: nothing on stderr");

        SecretRun.Result quietByEnv = s.secretRun.with().env("SECRET_RUN_LOG_LEVEL", "error")
                .run(s.launch(catToCopy())).assertExit(0);
        assertEquals(List.of(), quietByEnv.stderrLines(), "SECRET_RUN_LOG_LEVEL=error: nothing on stderr");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"before", "after"})
    void logLevelWorksBeforeOrAfterTheSubcommand(String where) {
        List<String> args = new ArrayList<>();
        List<String> decrypt = List.of("decrypt", "-i", s.encrypted.toString(), "-o", copy.toString(),
                "--passphrase-file", s.passphraseFile().toString());
        if (where.equals("before")) {
            args.addAll(List.of("--log-level", "error", "--log-format", "json"));
            args.addAll(decrypt);
        } else {
            args.addAll(decrypt);
            args.addAll(List.of("--log-level", "error", "--log-format", "json"));
        }

        SecretRun.Result result = s.secretRun.run(args.toArray(String[]::new)).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertEquals(List.of(), result.stderrLines(), "--log-level error " + where + " decrypt: nothing logged");

        SecretRun.Result failing = s.secretRun.run("--log-format", "json", "decrypt", "-i",
                dir.resolve("missing.enc").toString(), "-o", "-").assertExit(ExitCode.NO_INPUT.code());
        assertTrue(failing.stderrLines().stream().allMatch(MiniJson::isObject), failing.stderr());
    }

    @ParameterizedTest(name = "{0} before {1}")
    @CsvSource({"-i,decrypt,--encrypted", "--max-size,encrypt,--max-size", "--read-timeout,check,--read-timeout",
        "--passphrase-file,decrypt,--passphrase-file"})
    void aLaunchOptionBeforeASubcommandIsAUsageError(String option, String subcommand, String named) {
        SecretRun.Result result = s.secretRun.run(option, "1", subcommand).assertExit(ExitCode.USAGE.code());

        result.assertOneCleanErrorLine();
        String error = result.stderrLines().getLast();
        assertTrue(error.contains("option " + named + " before '" + subcommand + "' belongs to the launch"), error);
    }

    @Test
    void debugLoggingNeverShowsSecretMaterial() {
        // the fixture checks stdout and stderr for the passphrase and the plaintext
        SecretRun.Result result = s.secretRun.run(s.launch(List.of("--log-level", "debug"), catToCopy()))
                .assertExit(0);

        assertFalse(result.stderrLines().isEmpty());
        assertArrayEquals(s.plaintext, read(copy));
    }

    @ParameterizedTest
    @ValueSource(strings = {"option", "environment"})
    void jsonLogFormatMakesEveryStderrLineAJsonObject(String how) {
        SecretRun.Result result = how.equals("option")
                ? s.secretRun.run(s.launch(List.of("--log-format", "json"), catToCopy()))
                : s.secretRun.with().env("SECRET_RUN_LOG_FORMAT", "json").run(s.launch(catToCopy()));

        result.assertExit(0);
        assertFalse(result.stderrLines().isEmpty(), "some log lines at INFO");
        for (String line : result.stderrLines()) {
            assertTrue(MiniJson.isObject(line), "a JSON object per line, got: " + line);
        }
    }

    @Test
    void textLogLinesAreNotJson() {
        SecretRun.Result result = s.secretRun.run(s.launch(List.of("--log-format", "text"), catToCopy()))
                .assertExit(0);

        assertFalse(result.stderrLines().isEmpty());
        assertTrue(result.stderrLines().stream().noneMatch(MiniJson::isObject), result.stderr());
    }

    static Stream<Arguments> invalidSettings() {
        return Stream.of(
                Arguments.of(List.of("--delete-on", "sometimes"), List.of()),
                Arguments.of(List.of("--read-timeout", "abc"), List.of()),
                Arguments.of(List.of("--read-timeout", "-5s"), List.of()),
                Arguments.of(List.of("--max-size", "12XB"), List.of()),
                Arguments.of(List.of("--log-format", "xml"), List.of()),
                Arguments.of(List.of("--passphrase-fd", "three"), List.of()),
                Arguments.of(List.of(), List.of("SECRET_RUN_DELETE_ON", "sometimes")),
                Arguments.of(List.of(), List.of("SECRET_RUN_READ_TIMEOUT", "abc")),
                Arguments.of(List.of(), List.of("SECRET_RUN_LOG_FORMAT", "xml")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("invalidSettings")
    void anInvalidSettingIsAUsageError(List<String> options, List<String> env) {
        SecretRun.Invocation invocation = s.secretRun.with();
        if (!env.isEmpty()) {
            invocation.env(env.get(0), env.get(1));
        }
        List<String> args = new ArrayList<>(List.of("--keep-passphrase-file"));
        args.addAll(options);

        SecretRun.Result result = invocation.run(s.launch(args, sh("touch \"$0\"", marker)));

        result.assertExit(ExitCode.USAGE.code());
        assertFalse(Files.exists(marker), "child never started");
        assertFalse(existsNoFollow(s.target), "no plaintext");
        result.assertOneCleanErrorLine();
    }

    @Test
    void aLaunchWithoutCommandIsAUsageError() {
        Path pw = s.passphraseFile();

        SecretRun.Result result = s.secretRun.run("-i", s.encrypted.toString(), "-o", s.target.toString(),
                "--passphrase-file", pw.toString(), "--keep-passphrase-file").assertExit(ExitCode.USAGE.code());

        assertFalse(existsNoFollow(s.target));
        result.assertOneCleanErrorLine();
    }

    @Test
    void maxSizeIsTheLargestPlaintextAccepted() throws Exception {
        byte[] exactly = new byte[1024];
        java.util.Arrays.fill(exactly, (byte) 'a');
        Scenario fits = new Scenario(Files.createDirectories(dir.resolve("fits")), gpg, exactly).encrypt();
        Path fitsCopy = fits.dir.resolve("copy");
        fits.secretRun.run(fits.launch(List.of("--max-size", "1KiB"), sh("cat \"$0\" > \"$1\"", fits.target,
                fitsCopy))).assertExit(0);
        assertArrayEquals(exactly, read(fitsCopy), "1024 bytes fit in 1KiB");

        byte[] oneMore = new byte[1025];
        java.util.Arrays.fill(oneMore, (byte) 'a');
        Scenario over = new Scenario(Files.createDirectories(dir.resolve("over")), gpg, oneMore).encrypt();
        Path overMarker = over.dir.resolve("child-started");
        SecretRun.Result result = over.secretRun.run(over.launch(List.of("--max-size", "1KiB"),
                sh("touch \"$0\"", overMarker))).assertExit(ExitCode.DATA_ERROR.code());
        assertFalse(Files.exists(overMarker), "child never started");
        assertFalse(existsNoFollow(over.target));
        result.assertOneCleanErrorLine();
    }

    @Test
    void argumentsAfterTheCommandBelongToTheChild() {
        Path args = dir.resolve("args");

        s.secretRun.run(s.launch(sh("cat \"$1\" > /dev/null; shift; printf '%s|' \"$@\" > \"$0\"", args,
                s.target, "--help", "-i", "x", "--", "--version"))).assertExit(0);

        assertEquals("--help|-i|x|--|--version|", readString(args));
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void theCommandMayFollowTheOptionsWithoutDoubleDash() {
        s.secretRun.run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-file",
                s.passphraseFile().toString(), "sh", "-c", "cat \"$0\" > \"$1\"", s.target.toString(),
                copy.toString()).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target));
    }
}
