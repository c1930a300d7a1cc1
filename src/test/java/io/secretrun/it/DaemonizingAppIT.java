package io.secretrun.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Dirs;
import io.secretrun.testing.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An app that goes to the background (exits 0 at once, leaving its processes running) is one secret-run cannot
 * supervise: a WARN says so and names the usual foreground flag. An app that simply finishes gets no such line.
 */
class DaemonizingAppIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    private static final String WENT = "it went to the background, where secret-run cannot supervise it";

    Path dir;

    @BeforeEach
    void setUp() {
        dir = Storage.memoryDir("secret-run-daemon-");
    }

    @AfterEach
    void cleanUp() {
        Dirs.deleteTree(dir);
    }

    @Test
    void aShellAppThatBackgroundsASleepAndExitsZeroIsReportedAndTheSleepIsStopped() throws Exception {
        Scenario s = new Scenario(dir, gpg).encrypt();
        SecretRun.Result r = s.secretRun.run(s.launch("sh", "-c",
                "cat \"$0\" >/dev/null; sleep 300 >/dev/null 2>&1 & echo $!; exit 0", s.target.toString()));
        long sleep = Long.parseLong(r.stdoutText().strip());
        try {
            r.assertExit(0);
            List<String> warnings = r.stderrLines().stream().filter(l -> l.contains(WENT)).toList();
            assertEquals(1, warnings.size(), r.stderr());
            assertTrue(warnings.getFirst().contains(" WARN ") && warnings.getFirst().contains("(pid " + sleep
                    + " (sleep))") && warnings.getFirst().contains("daemon off"), warnings.getFirst());
            // reported before the rest of its group was stopped: the sleep does not outlive secret-run
            assertTrue(r.stderr().indexOf(WENT) < r.stderr().indexOf("stopping the rest of its process group"),
                    r.stderr());
            Optional<ProcessHandle> left = ProcessHandle.of(sleep);
            left.ifPresent(h -> h.onExit().orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join());
        } finally {
            ProcessHandle.of(sleep).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void anAppThatExitsZeroWithNothingLeftIsNotReported() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        SecretRun.Result r = s.secretRun.run(s.launch("sh", "-c", "cat \"$0\" >/dev/null; exit 0",
                s.target.toString()));
        r.assertExit(0);
        assertFalse(r.stderr().contains("went to the background"), r.stderr());
        // nor one that leaves something behind but failed: a failed start is no daemon
        SecretRun.Result failed = s.secretRun.run(s.launch("sh", "-c",
                "cat \"$0\" >/dev/null; sleep 300 >/dev/null 2>&1 & exit 4", s.target.toString()));
        failed.assertExit(4);
        assertFalse(failed.stderr().contains("went to the background"), failed.stderr());
    }

    /**
     * nginx without {@code daemon off}: its master forks, the parent exits 0, the child calls setsid() and runs on,
     * adopted by secret-run (subreaper) but out of its reach. Runs as uid 1000, as in the image.
     */
    @Test
    void nginxWithoutDaemonOffIsReportedWithTheFlagItNeeds() throws Exception {
        OtherUser.require();
        Nginx.require();
        String passphrase = "pw-Daemon-" + Scenario.token();
        Nginx nginx = new Nginx(dir);
        Path config = nginx.writeConfig(dir.resolve("htpasswd"));
        gpg.encrypt(Files.readAllBytes(config), passphrase, dir.resolve("nginx.conf.enc"));
        Files.delete(config);
        Path pw = Files.writeString(dir.resolve("pw"), passphrase + "\n");
        Path shared = Files.createDirectory(dir.resolve("install"));
        try (Stream<Path> all = Files.walk(dir)) {
            all.forEach(OtherUser::chown);
        }
        SecretRun secretRun = new SecretRun(dir).secret(passphrase);
        SecretRun.Running running = secretRun.with().program(OtherUser.javaCommand(shared).toArray(String[]::new))
                .start(Scenario.concat(new String[] {"--passphrase-file", pw.toString(),
                        "--secret", "in=" + dir.resolve("nginx.conf.enc"), "--"},
                        nginx.command(config, false).toArray(String[]::new)));
        SecretRun.Result r;
        try (running) {
            running.awaitCondition(() -> !running.isAlive(), "secret-run's exit after nginx went to the background");
            for (int i = 0; i < 1000 && nginx.master().isEmpty(); i++) {
                Thread.sleep(10); // the background master writes its pid file after the fork, bounded wait
            }
            assertTrue(nginx.master().isPresent(), "nginx's background master and its pid file: " + nginx.errorLog());
            assertTrue(nginx.listening(), "nginx runs on in the background: " + nginx.errorLog());
            nginx.killMaster();
            r = running.await();
        } finally {
            nginx.killMaster();
        }
        r.assertExit(0);
        List<String> warnings = r.stderrLines().stream().filter(l -> l.contains(WENT)).toList();
        assertEquals(1, warnings.size(), r.stderr());
        assertTrue(warnings.getFirst().contains("(nginx)") && warnings.getFirst().contains("-g 'daemon off;'"),
                warnings.getFirst());
        assertFalse(Files.exists(config), "the config was read once and deleted");
    }
}
