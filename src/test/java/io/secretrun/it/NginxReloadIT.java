package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.linux.ProcessCalls;
import io.secretrun.testing.Ci;
import io.secretrun.testing.Dirs;
import io.secretrun.testing.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * nginx from Debian's package with its TLS key as a {@code serve=app} secret, the way a self-hoster runs it:
 * {@code nginx -g 'daemon off;'} as secret-run's child, a reload by HUP to secret-run ({@code docker kill -s HUP}).
 * nginx's master process reads the key, at start and on every reload (its workers, {@code nobody} when the master is
 * root, never do), and applies a new configuration only when all of it, key included, loads: with read-once the
 * reload fails ({@code [emerg] cannot load certificate key ... No such file or directory}) and nginx silently keeps
 * the old configuration. Here each reload carries a changed response body, so a client seeing the new body proves
 * nginx loaded the key again. Clients only on 127.0.0.1; every path (pid, logs, temp) in the test's directory.
 * Needs root (for the uid 1000 case and nginx's worker user), nginx, curl and openssl ({@code .ci/run} installs them).
 */
class NginxReloadIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    private String nginx;
    private Path dir;
    private Path shared;

    @BeforeEach
    void setUp() throws IOException {
        Ci.assumeOrFail(ProcessCalls.geteuid() == 0, "the nginx tests run nginx as root and as uid 1000");
        nginx = RealServer.binary("nginx", "nginx");
        RealServer.binary("curl", "curl");
        RealServer.binary("openssl", "openssl");
        dir = Storage.memoryDir("secret-run-nginx-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void cleanUp() throws IOException {
        Dirs.deleteTree(dir);
        Dirs.deleteTree(shared);
    }

    /** One nginx site: its files in {@link #dir}, its key encrypted, its passphrase in a file. */
    private final class Site {
        final int port = RealServer.freePort();
        final String passphrase = "pw-Nginx-" + Scenario.token();
        final Path conf = dir.resolve("nginx.conf");
        final Path errorLog = dir.resolve("error.log");
        final Path cert = dir.resolve("cert.pem");
        final Path key = dir.resolve("key.pem");
        final Path encrypted = dir.resolve("key.pem.enc");
        final Path pw = dir.resolve("pw");
        final String keyLine;

        Site() throws IOException {
            byte[] pem = RealServer.selfSignedCert(dir, cert);
            keyLine = new String(pem, StandardCharsets.US_ASCII).lines().skip(1).findFirst().orElseThrow();
            gpg.encrypt(pem, passphrase, encrypted);
            java.util.Arrays.fill(pem, (byte) 0);
            Files.writeString(pw, passphrase + "\n");
            Files.createDirectories(dir.resolve("tmp"));
            configure("first");
        }

        SecretRun secretRun() {
            return new SecretRun(dir).secret(passphrase).secret(keyLine);
        }

        /** A configuration that answers every request with {@code body}: a change visible after a reload. */
        void configure(String body) throws IOException {
            Files.writeString(conf, """
                    pid %1$s/nginx.pid;
                    error_log %2$s notice;
                    worker_processes 1;
                    events { worker_connections 64; }
                    http {
                        access_log off;
                        client_body_temp_path %1$s/tmp/body;
                        proxy_temp_path %1$s/tmp/proxy;
                        fastcgi_temp_path %1$s/tmp/fastcgi;
                        uwsgi_temp_path %1$s/tmp/uwsgi;
                        scgi_temp_path %1$s/tmp/scgi;
                        server {
                            listen 127.0.0.1:%3$d ssl;
                            ssl_certificate %4$s;
                            ssl_certificate_key %5$s;
                            location / { return 200 "%6$s\\n"; }
                        }
                    }
                    """.formatted(dir, errorLog, port, cert, key, body));
        }

        /** nginx in the foreground (as a supervised child must run), its start-up log in our file too. */
        List<String> command(String spec) {
            return List.of("--passphrase-file", pw.toString(), "--secret", spec, "--", nginx, "-g", "daemon off;",
                    "-c", conf.toString(), "-p", dir.toString(), "-e", errorLog.toString());
        }

        /** What {@code curl -k https://127.0.0.1:PORT/} gets: the body, or empty when TLS or the server fails. */
        String get() {
            RealServer.Output out = RealServer.run(List.of("curl", "-sk", "--max-time", "10",
                    "https://127.0.0.1:" + port + "/"));
            return out.exitCode() == 0 ? out.text().strip() : "";
        }

        /**
         * HUP to secret-run (which places the key again, then relays HUP to nginx), with a new body in the
         * configuration: done when clients get that body. nginx's log since then shows the reload and new workers,
         * and no {@code emerg}.
         */
        void reload(SecretRun.Running running, String body) throws IOException {
            int mark = RealServer.read(errorLog).length();
            configure(body);
            running.signal("HUP");
            running.awaitCondition(() -> body.equals(get()) || RealServer.since(errorLog, mark).contains("[emerg]"),
                    "nginx's reload to answer " + body);
            assertFalse(RealServer.since(errorLog, mark).contains("[emerg]"),
                    () -> "the reload failed:\n" + RealServer.since(errorLog, mark));
            // until the old worker has exited it may still take a new connection, with the old configuration
            running.awaitCondition(() -> RealServer.since(errorLog, mark).contains("exited with code"),
                    "the old worker's exit after the reload");
            String log = RealServer.since(errorLog, mark);
            assertFalse(log.contains("[emerg]"), "the reload failed:\n" + log);
            assertEquals(body, get(), "after the reload, over TLS");
            assertTrue(log.contains("reconfiguring"), log);
            assertTrue(log.contains("start worker process"), "a reload starts new workers:\n" + log);
        }
    }

    @Test
    void keyInAFifoIsServedToNginxAgainOnEveryReloadAndAForeignReaderGetsNothing() throws Exception {
        Site site = new Site();
        SecretRun.Result result;
        long foreignPid;
        try (SecretRun.Running running = site.secretRun().start(site.command(
                "in=" + site.encrypted + ",out=" + site.key + ",mode=fifo,serve=app").toArray(String[]::new))) {
            running.awaitCondition(() -> "first".equals(site.get()), "nginx answering over TLS");

            // a shell in the container (docker exec): not in the app's tree, it gets no byte of the key
            Process foreign = new ProcessBuilder("cat", site.key.toString()).start();
            foreignPid = foreign.pid();
            byte[] got = foreign.getInputStream().readAllBytes();
            assertTrue(foreign.waitFor(60, TimeUnit.SECONDS), "the foreign cat hung");
            assertEquals(0, got.length, "a reader outside the app's tree got bytes of the key");

            site.reload(running, "second");
            site.reload(running, "third");
            running.signal("TERM");
            result = running.await();
        }
        assertEquals(0, result.exitCode(), result.stderr());
        assertTrue(result.stderrLines().stream().anyMatch(l -> l.contains(" WARN ")
                && l.contains(Long.toString(foreignPid)) && l.contains("cat")), result.stderr());
        assertFalse(existsNoFollow(site.key), "the FIFO outlived the app");
    }

    @Test
    void keyInAFileIsPlacedAgainOnEveryReloadForNginxRunningAsUid1000() throws Exception {
        OtherUser.require();
        shared = Files.createTempDirectory(Path.of("/tmp"), "secret-run-nginx-install-");
        Site site = new Site();
        for (Path p : List.of(dir, site.pw, site.encrypted, site.conf, dir.resolve("tmp"))) {
            OtherUser.chown(p);
        }
        List<String> program = new ArrayList<>(OtherUser.javaCommand(shared));
        SecretRun.Result result;
        try (SecretRun.Running running = site.secretRun().with().program(program.toArray(String[]::new))
                .start(site.command("in=" + site.encrypted + ",out=" + site.key + ",serve=app")
                        .toArray(String[]::new))) {
            running.awaitCondition(() -> "first".equals(site.get()), "nginx answering over TLS");
            running.awaitCondition(() -> !existsNoFollow(site.key), "the key deleted once nginx opened it");
            site.reload(running, "second");
            running.awaitCondition(() -> !existsNoFollow(site.key), "the key deleted again after the reload");
            site.reload(running, "third");
            running.signal("TERM");
            result = running.await();
        }
        assertEquals(0, result.exitCode(), result.stderr());
        assertFalse(existsNoFollow(site.key), "the key outlived the app");
    }
}
