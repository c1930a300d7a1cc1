package io.secretrun.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real GnuPG as a test oracle: each instance has its own temporary GNUPGHOME, and every call runs
 * {@code gpg --batch --pinentry-mode loopback --no-symkey-cache} with the passphrase in a 0600 file that is
 * deleted right after. Inputs and outputs go through files (never pipes), so large messages cannot deadlock.
 *
 * <pre>
 * try (Gpg gpg = Gpg.start()) {
 *     byte[] enc = gpg.encrypt(plain, pass, "--armor", "--cipher-algo", "AES256");
 *     byte[] back = gpg.decrypt(enc, pass);
 * }
 * </pre>
 */
public final class Gpg implements AutoCloseable {
    private static final String GPG = "gpg";
    private static volatile Boolean available;

    private final Path home;
    private int counter;

    /** What one gpg run produced. */
    /** {@code output} is what gpg wrote to {@code --output}; {@code stdout} e.g. the packet listing. */
    public record Result(int exitCode, byte[] output, String stdout, String stderr) {
        public String outputText() {
            return new String(output, StandardCharsets.UTF_8);
        }
    }

    private Gpg(Path home) {
        this.home = home;
    }

    /**
     * Makes sure gpg can be run. Without it the calling test is skipped, except in CI (see Ci), where a
     * missing oracle must fail the build instead of silently testing nothing.
     */
    public static void requireGpg() {
        if (available == null) {
            available = probe();
        }
        if (!available) {
            String why = "gpg is not installed or not runnable; the interoperability tests need it (apt-get install gnupg)";
            Ci.assumeOrFail(false, why);
        }
    }

    private static boolean probe() {
        try {
            Process p = new ProcessBuilder(GPG, "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Checks for gpg (see {@link #requireGpg()}) and creates a fresh GNUPGHOME. */
    public static Gpg start() {
        requireGpg();
        try {
            // Short path: gpg-agent's socket path must stay under the Unix socket limit.
            Path home = Files.createTempDirectory(Path.of("/tmp"), "gpg",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            return new Gpg(home);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path home() {
        return home;
    }

    /** {@code gpg --symmetric} of {@code plaintext}; {@code args} e.g. "--armor", "--cipher-algo", "AES256". */
    public byte[] encrypt(byte[] plaintext, byte[] passphrase, String... args) {
        return check(encryptResult(plaintext, passphrase, false, args), "encrypt");
    }

    /**
     * As {@link #encrypt}, with {@code viaStdin} feeding the plaintext on stdin, where gpg does not know its
     * size and so writes partial body lengths.
     */
    public Result encryptResult(byte[] plaintext, byte[] passphrase, boolean viaStdin, String... args) {
        List<String> all = new ArrayList<>(List.of("--symmetric"));
        all.addAll(Arrays.asList(args));
        return run(plaintext, viaStdin, passphrase, all);
    }

    /** {@code gpg --decrypt}, failing the test unless gpg exits 0. */
    public byte[] decrypt(byte[] message, byte[] passphrase) {
        return check(decryptResult(message, passphrase), "decrypt");
    }

    public Result decryptResult(byte[] message, byte[] passphrase) {
        return run(message, false, passphrase, List.of("--decrypt"));
    }

    /** {@code gpg --list-packets} (with the passphrase, so the encrypted packets are listed too). */
    public String listPackets(byte[] message, byte[] passphrase) {
        Result r = run(message, false, passphrase, List.of("--list-packets"));
        check(r, "list-packets");
        return r.stdout();
    }

    /** Runs gpg with arbitrary arguments; the input file's path is appended unless {@code viaStdin}. */
    public synchronized Result run(byte[] input, boolean viaStdin, byte[] passphrase, List<String> args) {
        int n = counter++;
        Path in = home.resolve("in" + n);
        Path out = home.resolve("out" + n);
        Path pw = home.resolve("pw" + n);
        Path err = home.resolve("err" + n);
        Path stdout = home.resolve("stdout" + n);
        try {
            Files.write(in, input);
            List<String> cmd = new ArrayList<>(List.of(GPG, "--homedir", home.toString(), "--batch", "--yes",
                    "--no-tty", "--pinentry-mode", "loopback", "--no-symkey-cache", "--no-permission-warning"));
            if (passphrase != null) {
                Files.createFile(pw, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.write(pw, passphrase);
                cmd.addAll(List.of("--passphrase-file", pw.toString()));
            }
            cmd.addAll(List.of("--output", out.toString()));
            cmd.addAll(args);
            if (!viaStdin) {
                cmd.add(in.toString());
            }
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
            pb.environment().put("GNUPGHOME", home.toString());
            pb.environment().put("LC_ALL", "C");
            pb.redirectInput(viaStdin ? in.toFile() : new java.io.File("/dev/null"));
            pb.redirectOutput(stdout.toFile());
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("gpg timed out: " + String.join(" ", args));
            }
            byte[] output = Files.exists(out) ? Files.readAllBytes(out) : new byte[0];
            return new Result(p.exitValue(), output, Files.readString(stdout, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            for (Path p : List.of(in, out, pw, err, stdout)) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort; close() removes the whole home
                }
            }
        }
    }

    /**
     * Creates a key pair without a passphrase (ed25519 signing primary, cv25519 encryption subkey) for tests
     * that need signed or public-key encrypted messages; returns its user id for {@code -r} / {@code -u}.
     */
    public String generateKey() {
        String uid = "secret-run test <test@secret-run.invalid>";
        check(run(new byte[0], true, null, List.of("--passphrase", "", "--quick-generate-key", uid,
                "future-default", "default", "never")), "generate key");
        return uid;
    }

    /**
     * A key pair as {@code gpg --quick-generate-key}, with an encryption subkey: {@code algo} is gpg's name
     * ({@code rsa3072}, {@code nistp256}, {@code future-default}...); {@code passphrase} null or empty for an
     * unprotected key. Returns the primary key's fingerprint.
     */
    public String generateKey(String name, String algo, byte[] passphrase) {
        boolean combined = algo.equals("future-default") || algo.equals("default");
        String encryption = combined ? null
                : algo.startsWith("nistp") || algo.startsWith("brainpool") ? algo
                : algo.startsWith("ed25519") ? "cv25519" : algo;
        return generateKey(name, algo, encryption, passphrase);
    }

    /**
     * A key pair with primary key {@code primary} ({@code default} usage) and, unless {@code encryption} is null,
     * an encryption subkey of that algorithm (e.g. {@code dsa2048} with {@code elg1024}). Returns the fingerprint.
     */
    public String generateKey(String name, String primary, String encryption, byte[] passphrase) {
        String uid = name + " <" + name.replace(' ', '-') + "@secret-run.invalid>";
        byte[] pass = passphrase == null ? new byte[0] : passphrase;
        check(run(new byte[0], true, pass, List.of("--quick-generate-key", uid,
                primary, "default", "never")), "generate key");
        String fingerprint = fingerprint(uid);
        if (encryption != null) {
            check(run(new byte[0], true, pass, List.of("--quick-add-key", fingerprint, encryption, "encr",
                    "never")), "add encryption subkey");
        }
        return fingerprint;
    }

    /** The primary key fingerprint of the (first) key with user id {@code uid}. */
    public String fingerprint(String query) {
        Result r = run(new byte[0], true, null, List.of("--with-colons", "--list-keys", query));
        check(r, "list keys");
        return r.stdout().lines().filter(l -> l.startsWith("fpr:")).findFirst()
                .map(l -> l.split(":")[9]).orElseThrow(() -> new AssertionError("no key " + query));
    }

    /** {@code gpg --export-secret-keys} of {@code keys} (the key's passphrase unlocks it for the export). */
    public byte[] exportSecretKeys(boolean armor, byte[] passphrase, String... keys) {
        List<String> args = new ArrayList<>(armor ? List.of("--armor") : List.of());
        args.add("--export-secret-keys");
        args.addAll(Arrays.asList(keys));
        return check(run(new byte[0], true, passphrase == null ? new byte[0] : passphrase, args), "export");
    }

    /** {@code gpg --export} of {@code keys}. */
    public byte[] exportPublicKeys(boolean armor, String... keys) {
        List<String> args = new ArrayList<>(armor ? List.of("--armor") : List.of());
        args.add("--export");
        args.addAll(Arrays.asList(keys));
        return check(run(new byte[0], true, null, args), "export");
    }

    /** {@code gpg --import} of keys (public or secret). */
    public void importKeys(byte[] keys, byte[] passphrase) {
        check(run(keys, false, passphrase, List.of("--import")), "import");
    }

    /**
     * {@code gpg --encrypt} to {@code recipients} (fingerprints), with {@code --symmetric} too when
     * {@code passphrase} is not null; {@code args} e.g. "--armor".
     */
    public byte[] encryptTo(byte[] plaintext, List<String> recipients, byte[] passphrase, String... args) {
        List<String> all = new ArrayList<>(List.of("--trust-model", "always", "--encrypt"));
        if (passphrase != null) {
            all.addAll(List.of("--symmetric", "--s2k-count", "65536"));
        }
        for (String r : recipients) {
            all.addAll(List.of("--recipient", r));
        }
        all.addAll(Arrays.asList(args));
        return check(run(plaintext, false, passphrase, all), "encrypt");
    }

    /** {@code gpg --decrypt} with whatever secret keys this home holds; {@code passphrase} for a protected key. */
    public Result decryptWithKeys(byte[] message, byte[] passphrase) {
        return run(message, false, passphrase, List.of("--decrypt"));
    }

    private static byte[] check(Result r, String what) {
        if (r.exitCode() != 0) {
            fail("gpg " + what + " failed with exit " + r.exitCode() + ": " + r.stderr().strip());
        }
        return r.output();
    }

    /** Stops the agent gpg may have started and deletes the home directory. */
    @Override
    public void close() {
        try {
            ProcessBuilder pb = new ProcessBuilder("gpgconf", "--homedir", home.toString(), "--kill", "all")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("GNUPGHOME", home.toString());
            pb.start().waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            // no gpgconf: nothing to stop
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(home)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
