package io.secretrun.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What the tests of real servers from Debian's packages (nginx, mosquitto, PostgreSQL) share: finding their
 * binaries where Debian puts them (also off root's PATH), free ports and listening checks on 127.0.0.1, a
 * self-signed TLS key and certificate made by openssl at test time, short client commands with bounded waits.
 */
final class RealServer {
    private RealServer() {
    }

    /** The program on the PATH, else in {@code /usr/sbin} or {@code /sbin} (Debian's nginx), or a failed assumption. */
    static String binary(String name, String packageName) {
        if (SecretRun.onPath(name)) {
            return name;
        }
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin")) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        Ci.assumeOrFail(false, name + " not installed (apt-get install " + packageName + ")");
        throw new AssertionError("unreachable");
    }

    /**
     * PostgreSQL's server programs: Debian keeps them in {@code /usr/lib/postgresql/VERSION/bin}, off the PATH; the
     * newest version installed.
     */
    static Path postgresBin() {
        Path root = Path.of("/usr/lib/postgresql");
        Optional<Path> newest = Optional.empty();
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                newest = versions.filter(v -> v.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                        .filter(v -> Files.isExecutable(v.resolve("bin/postgres")))
                        .max(Comparator.comparingDouble(v -> Double.parseDouble(v.getFileName().toString())))
                        .map(v -> v.resolve("bin"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Ci.assumeOrFail(newest.isPresent(), "PostgreSQL not installed (apt-get install postgresql)");
        return newest.orElseThrow();
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    static boolean listening(int port) {
        try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A finished short command: exit code and its stdout and stderr together. */
    record Output(int exitCode, String text) {
    }

    /** Runs a short command (a client, openssl) to its end, bounded; its output is read as it comes. */
    static Output run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("hung: " + command);
            }
            return new Output(p.exitValue(), text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * A self-signed certificate for 127.0.0.1 and its P-256 key, made now by openssl: {@code cert.pem} (0644, the
     * public part, a plain file) and the key's PEM bytes (returned: the secret, to be encrypted; never on disk).
     */
    static byte[] selfSignedCert(Path dir, Path cert) {
        Path key = dir.resolve("key.pem.plain");
        Output out = run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "2",
                "-subj", "/CN=127.0.0.1"));
        assertEquals(0, out.exitCode(), out.text());
        try {
            byte[] pem = Files.readAllBytes(key);
            Files.delete(key);
            Files.setPosixFilePermissions(cert, PosixFilePermissions.fromString("rw-r--r--"));
            return pem;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The file's text, or empty while it does not exist. */
    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The part of a log file after {@code from} characters (what was logged since a mark). */
    static String since(Path log, int from) {
        String text = read(log);
        return text.length() > from ? text.substring(from) : "";
    }

    static void chown(Path path, String user) {
        Output out = run(List.of("chown", user, path.toString()));
        assertTrue(out.exitCode() == 0, "chown " + user + " " + path + ": " + out.text());
    }
}
