package io.secretrun.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One test's world: a directory, a distinctive passphrase and plaintext (registered as secrets with the
 * {@link SecretRun} fixture), the gpg-encrypted file {@code secrets.yaml.enc} and its plaintext target
 * {@code secrets.yaml}.
 */
final class Scenario {
    final Path dir;
    final GpgFixture gpg;
    final String passphrase;
    /** A distinctive ASCII string inside the plaintext; must never show up in secret-run's own output. */
    final String contentMarker;
    final byte[] plaintext;
    final SecretRun secretRun;
    final Path encrypted;
    final Path target;
    private final AtomicInteger counter = new AtomicInteger();

    Scenario(Path dir, GpgFixture gpg) {
        this(dir, gpg, null);
    }

    /** With {@code plaintext} null, a distinctive plaintext with binary bytes is made. */
    Scenario(Path dir, GpgFixture gpg, byte[] plaintext) {
        this.dir = dir;
        this.gpg = gpg;
        String token = token();
        this.passphrase = "pw-Quokka-" + token;
        this.contentMarker = "SECRET-CONTENT-" + token;
        this.plaintext = plaintext != null ? plaintext : defaultPlaintext(contentMarker);
        this.secretRun = new SecretRun(dir).secret(passphrase).secret(contentMarker);
        this.encrypted = dir.resolve("secrets.yaml.enc");
        this.target = dir.resolve("secrets.yaml");
    }

    static String token() {
        return HexFormat.of().formatHex(longBytes(ThreadLocalRandom.current().nextLong()));
    }

    private static byte[] longBytes(long value) {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        return bytes;
    }

    /** A YAML-ish first line with the marker, more lines, then every byte value (not valid UTF-8). */
    static byte[] defaultPlaintext(String marker) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("api_key: " + marker + "\nhttp:\n  base_url: https://example.invalid\n")
                .getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 256; i++) {
            out.write(i);
        }
        out.writeBytes("\ntrailer without newline".getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /** The first line of the plaintext (what {@code read -r} gets). */
    String firstLine() {
        String text = new String(plaintext, StandardCharsets.ISO_8859_1);
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }

    /** Encrypts the plaintext with gpg into {@code secrets.yaml.enc}. */
    Scenario encrypt(String... gpgOptions) {
        gpg.encrypt(plaintext, passphrase, encrypted, gpgOptions);
        return this;
    }

    /** A fresh passphrase file {@code pw-N} holding the passphrase and a newline. */
    Path passphraseFile() {
        return write("pw-" + counter.incrementAndGet(), (passphrase + "\n").getBytes(StandardCharsets.UTF_8));
    }

    Path write(String name, byte[] content) {
        try {
            return Files.write(dir.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code -i secrets.yaml.enc -o secrets.yaml --passphrase-file <fresh> [options] -- command...}.
     */
    String[] launch(List<String> options, String... command) {
        List<String> args = new ArrayList<>(List.of("-i", encrypted.toString(), "-o", target.toString(),
                "--passphrase-file", passphraseFile().toString()));
        args.addAll(options);
        args.add("--");
        args.addAll(Arrays.asList(command));
        return args.toArray(String[]::new);
    }

    /**
     * {@code -i MESSAGE -o secrets.yaml OPTIONS... --}: a launch with other credentials than the passphrase file;
     * append the command.
     */
    List<String> launchWith(Path message, String... options) {
        List<String> args = new ArrayList<>(List.of("-i", message.toString(), "-o", target.toString()));
        args.addAll(Arrays.asList(options));
        args.add("--");
        return args;
    }

    String[] launch(String... command) {
        return launch(List.of(), command);
    }

    /** {@code sh -c script args...}: inside the script {@code $0} is the first arg. */
    static String[] sh(String script, Object... args) {
        List<String> command = new ArrayList<>(List.of("sh", "-c", script));
        for (Object arg : args) {
            command.add(arg.toString());
        }
        return command.toArray(String[]::new);
    }

    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String readString(Path file) {
        return new String(read(file), StandardCharsets.UTF_8);
    }

    static boolean existsNoFollow(Path path) {
        return Files.exists(path, LinkOption.NOFOLLOW_LINKS);
    }

    static Set<PosixFilePermission> permissions(Path file) {
        try {
            return Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String[] concat(String[] first, String... more) {
        String[] all = Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }
}
