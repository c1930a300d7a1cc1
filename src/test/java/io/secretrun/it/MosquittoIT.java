package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.linux.ProcessCalls;
import io.secretrun.testing.Ci;
import io.secretrun.testing.Dirs;
import io.secretrun.testing.Storage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real server from Debian's packages with two secrets in one launch: mosquitto's config (read as root) and its
 * password file, which mosquitto reads after dropping to user {@code mosquitto}, so it is given to that user
 * ({@code owner=mosquitto,perm=0400}). Clients on 127.0.0.1 get in with the right password and are refused with a
 * wrong one. Needs root, mosquitto and mosquitto-clients ({@code .ci/run} installs them).
 */
class MosquittoIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    Path dir;

    @BeforeEach
    void setUp() throws IOException {
        Ci.assumeOrFail(ProcessCalls.geteuid() == 0, "mosquitto drops privileges only when started as root");
        for (String tool : List.of("mosquitto", "mosquitto_pub", "mosquitto_passwd")) {
            Ci.assumeOrFail(SecretRun.onPath(tool), tool + " not installed (apt-get install mosquitto "
                    + "mosquitto-clients)");
        }
        dir = Storage.memoryDir("secret-run-mosquitto-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // mosquitto must reach it
    }

    @AfterEach
    void cleanUp() {
        Dirs.deleteTree(dir);
    }

    /** passwd.enc: mosquitto's password file for alice with {@code password}, encrypted; no plaintext left. */
    private void encryptPasswordFile(String password, String passphrase) throws Exception {
        Path passwd = dir.resolve("passwd.plain");
        assertEquals(0, new ProcessBuilder("mosquitto_passwd", "-b", "-c", passwd.toString(), "alice", password)
                .redirectErrorStream(true).start().waitFor());
        gpg.encrypt(Files.readAllBytes(passwd), passphrase, dir.resolve("passwd.enc"));
        Files.delete(passwd);
    }

    @Test
    void mosquittoGetsItsConfigAndItsPasswordFileAndOnlyTheRightPasswordGetsIn() throws Exception {
        String passphrase = "pw-Mosquitto-" + Scenario.token();
        String password = "mqtt-" + Scenario.token();
        int port = freePort();

        encryptPasswordFile(password, passphrase);
        String config = "listener " + port + " 127.0.0.1\nallow_anonymous false\npassword_file "
                + dir.resolve("passwd") + "\nuser mosquitto\npersistence false\nlog_dest stderr\n";
        gpg.encrypt(config.getBytes(StandardCharsets.UTF_8), passphrase, dir.resolve("mosquitto.conf.enc"));
        Path pw = Files.writeString(dir.resolve("pw"), passphrase + "\n");

        SecretRun secretRun = new SecretRun(dir).secret(passphrase).secret(password);
        SecretRun.Running running = secretRun.start("--passphrase-file", pw.toString(),
                "--secret", "in=" + dir.resolve("mosquitto.conf.enc"),
                "--secret", "in=" + dir.resolve("passwd.enc") + ",owner=mosquitto,perm=0400",
                "--", "mosquitto", "-c", dir.resolve("mosquitto.conf").toString());
        SecretRun.Result result;
        try (running) {
            running.awaitCondition(() -> listening(port), "mosquitto listening on 127.0.0.1:" + port);
            assertEquals(0, publish(port, password), "the right password gets in");
            assertNotEquals(0, publish(port, "wrong-" + password), "a wrong password is refused");
            running.signal("TERM");
            result = running.await();
        }
        assertEquals(0, result.exitCode(), result.stderr());
        assertTrue(result.stderr().contains("(mode 0400, owner mosquitto, deleted on first open)"), result.stderr());
        assertTrue(result.stderr().contains("mosquitto.conf opened after"), result.stderr());
        assertTrue(result.stderr().contains("passwd opened after"), result.stderr());
        assertFalse(existsNoFollow(dir.resolve("mosquitto.conf")));
        assertFalse(existsNoFollow(dir.resolve("passwd")));
    }

    /**
     * Reloads served (issue 11): with {@code --serve app} both files are placed again when secret-run gets HUP,
     * before it relays HUP to mosquitto, which then reads its config and password file again ("Reloading config.").
     * Under read-once the reload found them gone ({@code Unable to open pwfile}) and mosquitto refused every client,
     * even with the right password. Both files belong to user {@code mosquitto}: mosquitto has dropped to that user
     * when it reloads, and reads its config again as that user ({@code Unable to open config file} otherwise). The
     * password file as a plain file and as a FIFO (mosquitto reads it either way).
     */
    @ParameterizedTest
    @ValueSource(strings = {"file", "fifo"})
    void afterEveryReloadTheRightPasswordStillGetsInAndAWrongOneIsRefused(String passwdMode) throws Exception {
        String passphrase = "pw-Mosquitto-" + Scenario.token();
        String password = "mqtt-" + Scenario.token();
        int port = freePort();

        encryptPasswordFile(password, passphrase);
        // mosquitto opens its log file after dropping to its user: one it may write, to see its reloads
        Path log = Files.createFile(dir.resolve("mosquitto.log"));
        RealServer.chown(log, "mosquitto");
        String config = "listener " + port + " 127.0.0.1\nallow_anonymous false\npassword_file "
                + dir.resolve("passwd") + "\nuser mosquitto\npersistence false\nlog_dest file " + log + "\n";
        gpg.encrypt(config.getBytes(StandardCharsets.UTF_8), passphrase, dir.resolve("mosquitto.conf.enc"));
        Path pw = Files.writeString(dir.resolve("pw"), passphrase + "\n");

        SecretRun secretRun = new SecretRun(dir).secret(passphrase).secret(password);
        SecretRun.Result result;
        try (SecretRun.Running running = secretRun.start("--passphrase-file", pw.toString(), "--serve", "app",
                // a reload runs as user mosquitto: it reads its config again as that user too
                "--secret", "in=" + dir.resolve("mosquitto.conf.enc") + ",owner=mosquitto,perm=0400",
                "--secret", "in=" + dir.resolve("passwd.enc") + ",owner=mosquitto,perm=0400,mode=" + passwdMode,
                "--", "mosquitto", "-c", dir.resolve("mosquitto.conf").toString())) {
            running.awaitCondition(() -> listening(port), "mosquitto listening on 127.0.0.1:" + port);
            assertEquals(0, publish(port, password), "the right password gets in");
            for (int reload = 1; reload <= 2; reload++) {
                int mark = RealServer.read(log).length();
                running.signal("HUP");
                // mosquitto reads both files again right after this line, before it serves the next client
                running.awaitCondition(() -> RealServer.since(log, mark).contains("Reloading config."),
                        "mosquitto's reload " + reload);
                assertEquals(0, publish(port, password), "after reload " + reload + " the right password gets in");
                assertNotEquals(0, publish(port, "wrong-" + password), "after reload " + reload
                        + " a wrong password is refused");
                String since = RealServer.since(log, mark);
                assertFalse(since.contains("Unable to open") || since.contains("Error"), since);
            }
            running.signal("TERM");
            result = running.await();
        }
        assertEquals(0, result.exitCode(), result.stderr());
        assertFalse(existsNoFollow(dir.resolve("mosquitto.conf")));
        assertFalse(existsNoFollow(dir.resolve("passwd")));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static boolean listening(int port) {
        try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int publish(int port, String password) throws Exception {
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port), "-u", "alice",
                "-P", password, "-t", "test", "-m", "hello").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "mosquitto_pub did not finish");
        return p.exitValue();
    }
}
