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
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PostgreSQL from Debian's package with its {@code server.key} as a {@code mode=file,serve=app} secret, run as a
 * self-hoster's container entrypoint would: secret-run starts as root (the passphrase readable by root only), gives
 * the key to {@code postgres} and runs {@code postgres -D DIR} as that user ({@code --user postgres}). PostgreSQL
 * reads the key at start and again on every configuration reload (SIGHUP); with read-once the reload logs
 * {@code could not access private key file} and {@code SSL configuration was not reloaded}. A reload goes through
 * secret-run (HUP to it: it places the key again, then relays HUP to the postmaster); {@code pg_ctl reload} signals the
 * postmaster directly and finds no key, unless the key was placed first by another reload signal the postmaster
 * ignores ({@code --reload-signal USR2}). Clients only on 127.0.0.1 with {@code sslmode=require}. Needs root,
 * postgresql (server programs under /usr/lib/postgresql/VERSION/bin), psql and openssl ({@code .ci/run} installs
 * them).
 */
class PostgresReloadIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    private static final String SSL_IN_USE = "select ssl from pg_stat_ssl where pid = pg_backend_pid()";

    private Path bin;
    private Path dir;

    @BeforeEach
    void setUp() throws IOException {
        Ci.assumeOrFail(ProcessCalls.geteuid() == 0, "secret-run starts PostgreSQL as root with --user postgres");
        bin = RealServer.postgresBin();
        RealServer.binary("psql", "postgresql-client");
        RealServer.binary("openssl", "openssl");
        Ci.assumeOrFail(RealServer.run(List.of("id", "-u", "postgres")).exitCode() == 0,
                "no user postgres (apt-get install postgresql)");
        dir = Storage.memoryDir("secret-run-postgres-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void cleanUp() throws IOException {
        Dirs.deleteTree(dir);
    }

    /**
     * {@code HUP}: the documented reload, HUP to secret-run, which places the key and relays HUP to the postmaster.
     * {@code pg_ctl}: for an operator used to {@code pg_ctl reload} (which signals the postmaster directly):
     * {@code --reload-signal USR2}, then USR2 to secret-run places the key (relayed, the postmaster ignores USR2)
     * and {@code pg_ctl reload} finds it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"HUP", "pg_ctl"})
    void serverKeyIsPlacedAgainOnEveryReloadAndSslKeepsWorking(String how) throws Exception {
        int port = RealServer.freePort();
        String passphrase = "pw-Postgres-" + Scenario.token();
        Path cert = dir.resolve("server.crt");
        byte[] pem = RealServer.selfSignedCert(dir, cert);
        String keyLine = new String(pem, StandardCharsets.US_ASCII).lines().skip(1).findFirst().orElseThrow();
        Path encrypted = gpg.encrypt(pem, passphrase, dir.resolve("server.key.enc"));
        java.util.Arrays.fill(pem, (byte) 0);
        Path pw = Files.writeString(dir.resolve("pw"), passphrase + "\n");

        // the postgres user's directories: data (initdb), the key's (it deletes the key after --user), sockets, logs
        Path data = dir.resolve("data");
        Path keys = dir.resolve("keys");
        Path sockets = dir.resolve("sockets");
        Path logs = dir.resolve("logs");
        for (Path p : List.of(keys, sockets, logs)) {
            Files.createDirectory(p);
            RealServer.chown(p, "postgres:postgres");
        }
        Files.createDirectory(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        RealServer.chown(data, "postgres:postgres");
        RealServer.Output initdb = RealServer.run(List.of("setpriv", "--reuid", "postgres", "--regid", "postgres",
                "--init-groups", "--", bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                "--auth=trust", "--no-sync"));
        assertEquals(0, initdb.exitCode(), initdb.text());
        Path key = keys.resolve("server.key");
        Path log = logs.resolve("postgresql.log");

        boolean pgCtl = how.equals("pg_ctl");
        SecretRun.Result result;
        try (SecretRun.Running running = new SecretRun(dir).secret(passphrase).secret(keyLine).start(
                "--passphrase-file", pw.toString(), "--user", "postgres", "--reload-signal", pgCtl ? "USR2" : "HUP",
                "--secret", "in=" + encrypted + ",out=" + key + ",mode=file,serve=app,owner=postgres",
                "--", bin.resolve("postgres").toString(), "-D", data.toString(),
                "-c", "listen_addresses=127.0.0.1", "-c", "port=" + port, "-c", "unix_socket_directories=" + sockets,
                "-c", "ssl=on", "-c", "ssl_cert_file=" + cert, "-c", "ssl_key_file=" + key,
                "-c", "logging_collector=on", "-c", "log_directory=" + logs, "-c", "log_filename=postgresql.log")) {
            running.awaitCondition(() -> "t".equals(sql(port, SSL_IN_USE)),
                    "PostgreSQL answering over SSL on 127.0.0.1:" + port);
            assertFalse(existsNoFollow(key), "the key is deleted once PostgreSQL opened it");

            for (int reload = 1; reload <= 2; reload++) {
                // a visible change that only a reload applies
                String workMem = (4 + reload) + "MB";
                assertEquals("ALTER SYSTEM", sql(port, "alter system set work_mem = '" + workMem + "'"));
                int mark = RealServer.read(log).length();
                if (pgCtl) {
                    running.signal("USR2");
                    running.awaitCondition(() -> existsNoFollow(key), "the key placed again on USR2");
                    RealServer.Output reloaded = RealServer.run(List.of("setpriv", "--reuid", "postgres", "--regid",
                            "postgres", "--init-groups", "--", bin.resolve("pg_ctl").toString(), "-D", data.toString(),
                            "reload"));
                    assertEquals(0, reloaded.exitCode(), reloaded.text());
                } else {
                    running.signal("HUP");
                }
                running.awaitCondition(() -> workMem.equals(sql(port, "show work_mem")),
                        "PostgreSQL's reload " + reload + " applying work_mem " + workMem);
                String since = RealServer.since(log, mark);
                assertTrue(since.contains("received SIGHUP, reloading configuration files"), since);
                assertFalse(since.contains("SSL configuration was not reloaded"), since);
                assertFalse(since.contains("could not access private key file"), since);
                assertEquals("t", sql(port, SSL_IN_USE),
                        "SSL after reload " + reload);
                running.awaitCondition(() -> !existsNoFollow(key), "the key deleted again after reload " + reload);
            }
            running.signal("TERM");
            result = running.await();
        }
        assertEquals(0, result.exitCode(), result.stderr());
        assertFalse(existsNoFollow(key), "the key outlived PostgreSQL");
        String all = RealServer.read(log);
        assertFalse(all.contains("private key file"), all);
    }

    /** One statement over TCP with SSL required; its single value, or empty when it fails (not up yet). */
    private static String sql(int port, String statement) {
        RealServer.Output out = RealServer.run(List.of("psql", "-X", "-At", "-c", statement,
                "sslmode=require host=127.0.0.1 port=" + port + " user=postgres dbname=postgres connect_timeout=10"));
        return out.exitCode() == 0 ? out.text().strip() : "";
    }
}
