package io.secretrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.openpgp.EncryptOptions;
import io.secretrun.secret.PassphraseSource;
import io.secretrun.watch.DeleteOn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MainTest {
    @ParameterizedTest
    @CsvSource({
        "/config/secrets.yaml.enc,/config/secrets.yaml",
        "/a/b.json.gpg,/a/b.json",
        "x.pgp,x",
        "/etc/app/conf.asc,/etc/app/conf"})
    void plaintextPathDropsTheEncryptionSuffix(String encrypted, String plaintext) throws Exception {
        assertEquals(Path.of(plaintext), Main.plaintextPath(Path.of(encrypted), null));
    }

    @Test
    void anExplicitPlaintextPathWins() throws Exception {
        assertEquals(Path.of("/run/s.yaml"), Main.plaintextPath(Path.of("/c/s.yaml.enc"), Path.of("/run/s.yaml")));
    }

    @Test
    void noSuffixMeansTheUserMustNameThePlaintext() {
        SecretRunException e = assertThrows(SecretRunException.class,
                () -> Main.plaintextPath(Path.of("/config/secrets"), null));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertThrows(SecretRunException.class, () -> Main.plaintextPath(Path.of("/config/.enc"), null));
    }

    @Test
    void usageErrorsExit64() {
        assertEquals(64, Main.execute("--no-such-option", "true"));
        assertEquals(64, Main.execute("--delete-on", "sometimes", "true"));
        assertEquals(64, Main.execute("--max-size", "12XB", "true"));
        assertEquals(64, Main.execute("--log-format", "xml", "true"));
        assertEquals(64, Main.execute("-i", "/nonexistent/s.enc", "--passphrase-file", "/nonexistent/pw"));
        assertEquals(64, Main.execute("--serve", "always", "true"));
        assertEquals(64, Main.execute("--reload-signal", "TERM", "true"), "a stop signal is no reload");
        assertEquals(64, Main.execute("--reload-signal", "KILL", "true"));
        assertEquals(64, Main.execute("--reload-signal", "", "true"));
    }

    @Test
    void serveAndReloadSignalDefaultsAndSpellings() {
        Main main = parse(Main.class, "app");
        assertEquals(io.secretrun.deliver.Serve.ONCE, main.serve, "today's behaviour unless asked");
        assertEquals(1, main.reloadSignal, "SIGHUP");
        assertEquals(io.secretrun.deliver.Serve.APP, parse(Main.class, "--serve", "app", "x").serve);
        assertEquals(io.secretrun.deliver.Serve.APP, parse(Main.class, "--serve", "APP", "x").serve);
        assertEquals(10, parse(Main.class, "--reload-signal", "USR1", "x").reloadSignal);
        assertEquals(10, parse(Main.class, "--reload-signal", "sigusr1", "x").reloadSignal);
        assertEquals(12, parse(Main.class, "--reload-signal", "SIGUSR2", "x").reloadSignal);
        assertEquals(1, parse(Main.class, "--reload-signal", "hup", "x").reloadSignal);
    }

    @Test
    void aMissingCommandFailsBeforeAnythingIsRead() {
        assertEquals(127, Main.execute("-i", "/nonexistent/s.enc", "--passphrase-file", "/nonexistent/pw",
                "--", "no-such-command-secret-run-test"));
    }

    @Test
    void helpAndVersionExit0() {
        assertEquals(0, Main.execute("--help"));
        assertEquals(0, Main.execute("--version"));
        assertEquals(0, Main.execute("encrypt", "--help"));
        assertEquals(0, Main.execute("secret_decrypt", "--help"));
    }

    // The defaults the issue fixes (the test JVM has no SECRET_RUN_* variables: CI sets none, and neither does
    // the surefire configuration).

    private static <T> T parse(Class<T> type, String... args) {
        CommandLine.ParseResult result = Main.commandLine(true).parseArgs(args);
        while (result.hasSubcommand()) {
            result = result.subcommand();
        }
        return type.cast(result.commandSpec().userObject());
    }

    @Test
    void launchDefaults() throws Exception {
        Main main = parse(Main.class, "app");

        assertEquals(Path.of("/config/secrets.yaml.enc"), main.encrypted);
        assertEquals(Path.of("/config/secrets.yaml"), Main.plaintextPath(main.encrypted, main.plaintext));
        assertEquals(DeleteOn.OPEN, main.deleteOn);
        assertEquals(Duration.ofSeconds(60), main.readTimeout);
        assertEquals(16L * 1024 * 1024, main.maxSize.bytes);
        assertEquals(LoggingOptions.LogLevel.INFO, main.logging.level);
        assertEquals(LoggingOptions.LogFormat.text, main.logging.format);
        assertFalse(main.passphrase.keepFile);
        assertEquals(List.of("app"), main.command);
    }

    @Test
    void theDefaultPassphraseFileIsTheOldScriptsOneAndIsUsedWhenItExists(@TempDir Path dir) throws Exception {
        assertEquals(Path.of("/etc/init-secrets/secretfile_pw"), PassphraseOptions.DEFAULT_FILE);
        PassphraseOptions none = parse(Main.class, "app").passphrase;

        Path present = Files.writeString(dir.resolve("secretfile_pw"), "pw\n");
        assertEquals(new PassphraseSource.File(present, false), none.source(present), "deleted after reading");
        assertInstanceOf(PassphraseSource.TerminalPrompt.class, none.source(dir.resolve("absent")));
        // an explicit source wins over the default file
        PassphraseOptions env = parse(Main.class, "--passphrase-env", "PW", "app").passphrase;
        assertEquals(new PassphraseSource.Environment("PW"), env.source(present));
    }

    @Test
    void encryptAndRekeyKeepANamedPassphraseFileButNotTheDefaultOne(@TempDir Path dir) throws Exception {
        Path defaultFile = Files.writeString(dir.resolve("secretfile_pw"), "pw\n");
        PassphraseOptions none = parse(EncryptCommand.class, "encrypt").passphrase;
        assertEquals(new PassphraseSource.File(defaultFile, false), none.sourceKeepingNamedFile(defaultFile),
                "the default file: deleted, as secret_encrypt did");

        Path named = dir.resolve("my-pw");
        PassphraseOptions explicit = parse(EncryptCommand.class, "encrypt", "--passphrase-file", named.toString())
                .passphrase;
        assertEquals(new PassphraseSource.File(named, true), explicit.sourceKeepingNamedFile(defaultFile));
        assertEquals(new PassphraseSource.File(named, false), explicit.source(defaultFile),
                "a launch and decrypt still delete it");
    }

    @Test
    void encryptDefaults() throws Exception {
        EncryptCommand encrypt = parse(EncryptCommand.class, "encrypt");

        assertEquals(Path.of("/config/secrets.yaml"), encrypt.input);
        assertEquals(Path.of("/config/secrets.yaml.enc"), encrypt.target());
        EncryptOptions options = encrypt.options();
        assertTrue(options.armor());
        assertEquals(SymmetricKeyAlgorithmTags.AES_256, options.cipherAlgorithm());
        assertEquals(65011712, options.s2kCount());
        assertEquals(16L * 1024 * 1024, encrypt.maxSize.bytes);
        assertEquals(Path.of("/run/x.enc"), parse(EncryptCommand.class, "encrypt", "-i", "/run/x").target());
    }

    @Test
    void decryptDefaults() throws Exception {
        DecryptCommand decrypt = parse(DecryptCommand.class, "decrypt");

        assertEquals(Path.of("/config/secrets.yaml.enc"), decrypt.encrypted);
        assertEquals(null, decrypt.output, "derived from the encrypted path");
        assertEquals(16L * 1024 * 1024, decrypt.maxSize.bytes);
    }

    @Test
    void loggingOptionsWorkBeforeAndAfterTheSubcommand() {
        for (String sub : List.of("encrypt", "decrypt", "check")) {
            Object before = parse(Object.class, "--log-level", "warn", "--log-format", "json", sub);
            Object after = parse(Object.class, sub, "--log-level", "warn", "--log-format", "json");
            for (Object command : List.of(before, after)) {
                Main parent = switch (command) {
                    case EncryptCommand c -> c.parent;
                    case DecryptCommand c -> c.parent;
                    case CheckCommand c -> c.parent;
                    default -> throw new AssertionError(command);
                };
                assertEquals(LoggingOptions.LogLevel.WARN, parent.logging.level, sub);
                assertEquals(LoggingOptions.LogFormat.json, parent.logging.format, sub);
            }
        }
    }

    @Test
    void launchOptionsBeforeASubcommandAreAUsageError() {
        assertEquals(64, Main.execute("-i", "/nonexistent/s.enc", "decrypt", "-o", "-"));
        assertEquals(64, Main.execute("--passphrase-file", "/nonexistent/pw", "encrypt"));
        assertEquals(64, Main.execute("--max-size", "1KiB", "check"));
    }

    @Test
    void everyFlagOfEveryCommandTakesTheSameBooleanSpellings() {
        CommandLine top = Main.commandLine(true);
        List<CommandLine> commands = new ArrayList<>(top.getSubcommands().values());
        commands.add(top);
        int flags = 0;
        for (CommandLine command : commands) {
            for (CommandLine.Model.OptionSpec option : command.getCommandSpec().options()) {
                if ((option.type() == boolean.class || option.type() == Boolean.class) && !option.usageHelp()
                        && !option.versionHelp() && Main.environmentVariable(option).isPresent()) {
                    flags++;
                    assertTrue(option.converters().length == 1
                            && option.converters()[0] instanceof Converters.BooleanConverter,
                            command.getCommandName() + " " + option.longestName() + " does not use BooleanConverter");
                }
            }
        }
        assertTrue(flags >= 4, "found the flags: " + flags);
    }
}
