package io.secretrun.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.secretrun.testing.Ci;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real {@code gpg}, with a GNUPGHOME of its own, in batch mode with loopback pinentry: makes encrypted fixtures
 * and checks what secret-run writes. Fixtures use a low S2K count (65536) unless a test passes {@code --s2k-count}.
 */
public final class GpgFixture implements AutoCloseable, BeforeAllCallback, AfterAllCallback {
    /** Low iteration count that keeps the suite fast; tests about the defaults pass their own. */
    public static final String FAST_S2K_COUNT = "65536";

    private Path home;
    /** The directory this fixture made for itself ({@link #perClass}), removed after the class. */
    private Path ownDirectory;
    private final AtomicInteger counter = new AtomicInteger();

    private GpgFixture(Path home) {
        this.home = home;
    }

    /**
     * One GNUPGHOME for a whole test class, made before its first test and removed after its last:
     * {@code @RegisterExtension static final GpgFixture gpg = GpgFixture.perClass();}
     */
    public static GpgFixture perClass() {
        return new GpgFixture(null);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        ownDirectory = Files.createTempDirectory("secret-run-gpg-");
        home = create(ownDirectory).home;
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        close();
        if (ownDirectory != null) {
            try (Stream<Path> paths = Files.walk(ownDirectory)) {
                paths.sorted(Comparator.reverseOrder()).forEach(GpgFixture::deleteQuietly);
            }
        }
    }

    /**
     * A tool the tests need: fails in CI (see Ci: CI must install it), otherwise
     * skips the test.
     */
    public static void requireTool(String name) {
        if (SecretRun.onPath(name)) {
            return;
        }
        Ci.assumeOrFail(false, name + " is not installed (on PATH)");
    }

    /** Requires gpg, then makes a GNUPGHOME (mode 0700) under {@code dir}. */
    public static GpgFixture create(Path dir) {
        requireTool("gpg");
        try {
            Path home = Files.createDirectories(dir.resolve("gnupg"));
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
            return new GpgFixture(home);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What one gpg run produced. */
    public record Output(int exitCode, byte[] stdout, String stderr) {
        public String text() {
            return new String(stdout, StandardCharsets.UTF_8) + stderr;
        }
    }

    /**
     * {@code gpg --symmetric} of {@code plaintext} with {@code passphrase} into {@code out}; {@code options} go before
     * {@code --symmetric} (e.g. {@code --armor}, {@code --cipher-algo CAST5}, {@code -z 9}).
     */
    public Path encrypt(byte[] plaintext, String passphrase, Path out, String... options) {
        Path input = scratch("plain");
        Path pw = scratch("pw");
        try {
            Files.write(input, plaintext);
            Files.writeString(pw, passphrase);
            List<String> args = new ArrayList<>(List.of("--passphrase-file", pw.toString(), "--yes"));
            if (!Arrays.asList(options).contains("--s2k-count")) {
                args.addAll(List.of("--s2k-count", FAST_S2K_COUNT));
            }
            args.addAll(Arrays.asList(options));
            args.addAll(List.of("--output", out.toString(), "--symmetric", input.toString()));
            Output result = gpg(args, new byte[0]);
            assertEquals(0, result.exitCode(), () -> "gpg --symmetric failed: " + result.stderr());
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(input);
            deleteQuietly(pw);
        }
    }

    /** {@code gpg --decrypt}; fails the test if gpg fails. */
    public byte[] decrypt(Path encrypted, String passphrase) {
        Output result = withPassphrase(passphrase, "--decrypt", encrypted.toString());
        assertEquals(0, result.exitCode(), () -> "gpg --decrypt failed: " + result.stderr());
        return result.stdout();
    }

    /** {@code gpg --list-packets} with the passphrase, stdout and stderr together. */
    public String listPackets(Path encrypted, String passphrase) {
        Output result = withPassphrase(passphrase, "--list-packets", encrypted.toString());
        assertEquals(0, result.exitCode(), () -> "gpg --list-packets failed: " + result.stderr());
        return result.text();
    }

    /**
     * {@code gpg --list-packets} whatever gpg's exit code: gpg lists the packets of a message without integrity
     * protection, then fails it ("decryption forced to fail").
     */
    public String listPacketsOfABadMessage(Path encrypted, String passphrase) {
        return withPassphrase(passphrase, "--list-packets", encrypted.toString()).text();
    }

    private Output withPassphrase(String passphrase, String... args) {
        Path pw = scratch("pw");
        try {
            Files.writeString(pw, passphrase);
            List<String> all = new ArrayList<>(List.of("--passphrase-file", pw.toString()));
            all.addAll(Arrays.asList(args));
            return gpg(all, new byte[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(pw);
        }
    }

    /**
     * A new key pair with an encryption subkey ({@code algo} as gpg names it: {@code rsa3072}, {@code nistp256},
     * {@code future-default} for Ed25519/Curve25519...), protected with {@code passphrase} unless it is empty.
     * Returns the primary key's fingerprint.
     */
    public String generateKey(String name, String algo, String passphrase) {
        String uid = name + " <" + name.replace(' ', '-') + "@secret-run.invalid>";
        Output made = withPassphrase(passphrase, "--quick-generate-key", uid, algo, "default", "never");
        assertEquals(0, made.exitCode(), () -> "gpg --quick-generate-key failed: " + made.stderr());
        Output listed = gpg(List.of("--with-colons", "--list-keys", uid), new byte[0]);
        String fingerprint = new String(listed.stdout(), StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("fpr:")).findFirst().map(l -> l.split(":")[9]).orElseThrow();
        if (!algo.endsWith("default")) {
            Output sub = withPassphrase(passphrase, "--quick-add-key", fingerprint, algo, "encr", "never");
            assertEquals(0, sub.exitCode(), () -> "gpg --quick-add-key failed: " + sub.stderr());
        }
        return fingerprint;
    }

    /** {@code gpg --export-secret-keys} of the keys into {@code out}. */
    public Path exportSecretKeys(Path out, boolean armor, String passphrase, String... keys) {
        List<String> args = new ArrayList<>(List.of("--yes", "--output", out.toString()));
        if (armor) {
            args.add("--armor");
        }
        args.add("--export-secret-keys");
        args.addAll(Arrays.asList(keys));
        Output result = withPassphrase(passphrase, args.toArray(String[]::new));
        assertEquals(0, result.exitCode(), () -> "gpg --export-secret-keys failed: " + result.stderr());
        return out;
    }

    /** {@code gpg --export} of the keys into {@code out}. */
    public Path exportPublicKeys(Path out, boolean armor, String... keys) {
        List<String> args = new ArrayList<>(List.of("--yes", "--output", out.toString()));
        if (armor) {
            args.add("--armor");
        }
        args.add("--export");
        args.addAll(Arrays.asList(keys));
        Output result = gpg(args, new byte[0]);
        assertEquals(0, result.exitCode(), () -> "gpg --export failed: " + result.stderr());
        return out;
    }

    /** {@code gpg --import} of a key file (public or secret; {@code passphrase} for a protected secret key). */
    public void importKeys(Path keys, String passphrase) {
        Output result = withPassphrase(passphrase, "--import", keys.toString());
        assertEquals(0, result.exitCode(), () -> "gpg --import failed: " + result.stderr());
    }

    /**
     * {@code gpg --encrypt} of {@code plaintext} to {@code recipients} into {@code out}, with {@code --symmetric}
     * too when {@code passphrase} is not null.
     */
    public Path encryptTo(byte[] plaintext, List<String> recipients, String passphrase, Path out, String... options) {
        Path input = scratch("plain");
        try {
            Files.write(input, plaintext);
            List<String> args = new ArrayList<>(List.of("--yes", "--trust-model", "always", "--output", out.toString()));
            args.addAll(Arrays.asList(options));
            for (String r : recipients) {
                args.addAll(List.of("--recipient", r));
            }
            args.add("--encrypt");
            if (passphrase != null) {
                args.addAll(List.of("--symmetric", "--s2k-count", FAST_S2K_COUNT));
            }
            args.add(input.toString());
            Output result = passphrase != null ? withPassphrase(passphrase, args.toArray(String[]::new))
                    : gpg(args, new byte[0]);
            assertEquals(0, result.exitCode(), () -> "gpg --encrypt failed: " + result.stderr());
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(input);
        }
    }

    /** {@code gpg --decrypt} with the secret keys of this home; {@code passphrase} for a protected key. */
    public Output decryptWithKeys(Path encrypted, String passphrase) {
        return withPassphrase(passphrase, "--decrypt", encrypted.toString());
    }

    /** Runs gpg in batch mode with loopback pinentry, no symmetric key cache, this GNUPGHOME and the C locale. */
    public Output gpg(List<String> args, byte[] stdin) {
        List<String> command = new ArrayList<>(List.of("gpg", "--batch", "--pinentry-mode", "loopback",
                "--no-symkey-cache", "--no-tty"));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().clear();
        builder.environment().putAll(SecretRun.cleanEnvironment());
        builder.environment().put("GNUPGHOME", home.toString());
        builder.environment().put("LC_ALL", "C");
        builder.environment().put("LANG", "C");
        try {
            Process process = builder.start();
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(process, false));
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(process, true));
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin);
            } catch (IOException ignored) {
                // gpg did not read its stdin
            }
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("gpg hung: " + command);
            }
            return new Output(process.exitValue(), out.join(), new String(err.join(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static byte[] readAll(Process process, boolean stderr) {
        try {
            return (stderr ? process.getErrorStream() : process.getInputStream()).readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path scratch(String prefix) {
        return home.resolve(prefix + "-" + counter.incrementAndGet());
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Stops the gpg-agent of this GNUPGHOME. */
    @Override
    public void close() {
        try {
            ProcessBuilder builder = new ProcessBuilder("gpgconf", "--kill", "gpg-agent")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            builder.environment().put("GNUPGHOME", home.toString());
            builder.start().waitFor(10, TimeUnit.SECONDS);
        } catch (IOException ignored) {
            // no gpgconf: the agent exits on its own when its home disappears
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
