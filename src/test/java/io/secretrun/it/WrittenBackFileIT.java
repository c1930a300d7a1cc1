package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import io.secretrun.testing.Dirs;
import io.secretrun.testing.Storage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A file the app writes back where secret-run deleted a secret (Redis {@code CONFIG REWRITE} writes its config,
 * {@code requirepass} included, in plaintext, mode 0644): one WARN naming the path, as soon as it appears, and the
 * file is left alone (secret-run did not write it).
 */
class WrittenBackFileIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    private static final String APPEARED = "a file appeared at ";

    Path dir;

    @BeforeEach
    void setUp() {
        dir = Storage.memoryDir("secret-run-written-back-");
    }

    @AfterEach
    void cleanUp() {
        Dirs.deleteTree(dir);
    }

    private static long count(String text, String what) {
        return text.lines().filter(l -> l.contains(what)).count();
    }

    /**
     * Redis 7 (Debian's redis-server) reads its config once at start (deleted on that open); {@code CONFIG REWRITE}
     * then finds no file and writes a new one in its place (a temporary file renamed over the path, mode 0644),
     * with {@code requirepass} in plaintext. secret-run and Redis run as uid 1000.
     */
    @Test
    void redisConfigRewriteWritesThePasswordBackAndIsReportedOnce() throws Exception {
        OtherUser.require();
        for (String tool : new String[] {"redis-server", "redis-cli"}) {
            Ci.assumeOrFail(SecretRun.onPath(tool), tool + " not installed (apt-get install redis-server "
                    + "redis-tools)");
        }
        String passphrase = "pw-Redis-" + Scenario.token();
        String password = "redis-" + Scenario.token();
        int port = Nginx.freePort();
        Path config = dir.resolve("redis.conf");
        Path data = Files.createDirectory(dir.resolve("data"));
        String text = "port " + port + "\nbind 127.0.0.1\ndir " + data + "\ndaemonize no\nrequirepass " + password
                + "\nsave \"\"\nappendonly no\nlogfile \"\"\n";
        gpg.encrypt(text.getBytes(StandardCharsets.UTF_8), passphrase, dir.resolve("redis.conf.enc"));
        Path pw = Files.writeString(dir.resolve("pw"), passphrase + "\n");
        Path shared = Files.createDirectory(dir.resolve("install"));
        try (Stream<Path> all = Files.walk(dir)) {
            all.forEach(OtherUser::chown);
        }
        SecretRun secretRun = new SecretRun(dir).secret(passphrase).secret(password);
        SecretRun.Running running = secretRun.with().program(OtherUser.javaCommand(shared).toArray(String[]::new))
                .start("--passphrase-file", pw.toString(), "--secret", "in=" + dir.resolve("redis.conf.enc"), "--",
                        "redis-server", config.toString());
        SecretRun.Result result;
        try (running) {
            running.awaitCondition(() -> redis(port, password, "PING").equals("PONG"), "redis answering PING");
            assertTrue(!existsNoFollow(config), "read once at start and deleted");
            assertEquals("OK", redis(port, password, "CONFIG", "REWRITE"));
            running.awaitCondition(() -> running.stderrSoFar().contains(APPEARED + config), "the WARN");
            assertEquals("OK", redis(port, password, "CONFIG", "REWRITE"), "a second rewrite");
            assertTrue(Files.readString(config).contains("requirepass"), "Redis wrote its password back");
            assertTrue(Files.getPosixFilePermissions(config).contains(PosixFilePermission.OTHERS_READ),
                    "mode 0644: " + Files.getPosixFilePermissions(config));
            running.signal("TERM");
            result = running.await();
        }
        assertEquals(0, result.exitCode(), result.stderr());
        assertEquals(1, count(result.stderr(), APPEARED), "once: " + result.stderr());
        assertTrue(result.stderr().lines().anyMatch(l -> l.contains(" WARN  " + APPEARED + config + " after "
                + "secret-run deleted the secret there")), result.stderr());
        assertTrue(existsNoFollow(config), "not ours: left alone");
    }

    /** Any app: it reads the secret, waits until it is gone, then writes the path again. */
    @Test
    void aShellAppWritingThePathAgainIsReportedOnceAndItsFileLeftAlone() throws Exception {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path done = dir.resolve("done");
        SecretRun.Running running = s.secretRun.start(s.launch("sh", "-c", "cat \"$0\" >/dev/null; "
                + "while [ -e \"$0\" ]; do sleep 0.01; done; printf 'written back\\n' > \"$0\"; "
                + "printf 'and again\\n' > \"$0\"; i=0; while [ ! -e \"$1\" ] && [ $i -lt 3000 ]; do sleep 0.01; "
                + "i=$((i+1)); done", s.target.toString(), done.toString()));
        SecretRun.Result r;
        try (running) {
            running.awaitCondition(() -> running.stderrSoFar().contains(APPEARED + s.target), "the WARN");
            Files.writeString(done, "");
            r = running.await();
        }
        r.assertExit(0);
        assertEquals(1, count(r.stderr(), APPEARED), r.stderr());
        assertEquals("and again\n", Files.readString(s.target), "not ours: left alone");
    }

    private static String redis(int port, String password, String... command) {
        try {
            String[] args = Scenario.concat(new String[] {"redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port),
                    "-a", password, "--no-auth-warning"}, command);
            Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "(redis-cli hung)";
            }
            return out;
        } catch (Exception e) {
            return e.toString();
        }
    }
}
