package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Dirs;
import io.secretrun.testing.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code delete-on=exit}: for apps that read a secret per request (nginx's htpasswd), the file stays while the app
 * runs, a WARN at start names it, and every way out removes it. secret-run and nginx run as uid 1000, as in the image.
 */
class DeleteOnExitIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    private static final String WARN = " stays readable until the app exits (delete-on=exit)";

    Path dir;

    @BeforeEach
    void setUp() {
        dir = Storage.memoryDir("secret-run-exit-");
    }

    @AfterEach
    void cleanUp() {
        Dirs.deleteTree(dir);
    }

    /** Everything in the test's directory to uid 1000, which runs secret-run and the app. */
    private void giveToUser() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            all.forEach(OtherUser::chown);
        }
    }

    @Test
    void nginxChecksEveryRequestAgainstAnHtpasswdFileThatIsGoneAfterTheStop() throws Exception {
        OtherUser.require();
        Nginx.require();
        String passphrase = "pw-Nginx-" + Scenario.token();
        String password = "web-" + Scenario.token();
        Nginx nginx = new Nginx(dir);
        Path htpasswd = dir.resolve("htpasswd");
        String line = Nginx.htpasswdLine("alice", password);
        gpg.encrypt(line.getBytes(StandardCharsets.UTF_8), passphrase, dir.resolve("htpasswd.enc"));
        Path config = nginx.writeConfig(htpasswd);
        Path pw = Files.writeString(dir.resolve("pw"), passphrase + "\n");
        Path shared = Files.createDirectory(dir.resolve("install"));
        giveToUser();

        SecretRun secretRun = new SecretRun(dir).secret(passphrase).secret(password).secret(line.strip());
        List<String> command = nginx.command(config, true);
        SecretRun.Running running = secretRun.with().program(OtherUser.javaCommand(shared).toArray(String[]::new))
                .start(Scenario.concat(new String[] {"--passphrase-file", pw.toString(),
                        "--secret", "in=" + dir.resolve("htpasswd.enc") + ",delete-on=exit", "--"},
                        command.toArray(String[]::new)));
        SecretRun.Result result;
        try (running) {
            running.awaitCondition(nginx::listening, "nginx listening on 127.0.0.1:" + nginx.port);
            for (int i = 0; i < 3; i++) {
                assertEquals(200, nginx.get("alice", password), "request " + i + ": " + nginx.errorLog());
            }
            assertEquals(401, nginx.get("alice", "wrong-" + password), "a wrong password is refused");
            assertEquals(401, nginx.get("mallory", password), "an unknown user is refused");
            assertTrue(existsNoFollow(htpasswd), "kept while nginx runs");
            running.signal("TERM");
            result = running.await();
        } finally {
            nginx.killMaster();
        }
        assertEquals(0, result.exitCode(), result.stderr());
        assertFalse(existsNoFollow(htpasswd), "gone after the stop");
        assertTrue(result.stderr().contains("WARN  " + htpasswd + WARN), result.stderr());
        assertTrue(result.stderr().contains("(mode 0600, kept until the app exits)"), result.stderr());
        assertTrue(result.stderr().contains("stopping: htpasswd kept until now (delete-on=exit); deleted"),
                result.stderr());
        assertFalse(nginx.errorLog().contains("[emerg]"), nginx.errorLog());
    }

    /** The launch-wide --delete-on exit: an app reads the file as often as it likes; its exit removes it. */
    @Test
    void aShellAppReadsTheFileThreeTimesAndItsExitRemovesIt() throws Exception {
        Scenario s = new Scenario(dir, gpg).encrypt();
        Path shared = Files.createDirectory(dir.resolve("install"));
        Path pw = s.passphraseFile();
        giveToUser();
        SecretRun.Result r = s.secretRun.with().program(OtherUser.javaCommand(shared).toArray(String[]::new))
                .run("-i", s.encrypted.toString(), "-o", s.target.toString(), "--passphrase-file", pw.toString(),
                        "--delete-on", "exit", "--read-timeout", "100ms", "--",
                        "sh", "-c", "for i in 1 2 3; do cat \"$0\" >/dev/null || exit 9; "
                                + "sleep 0.2; done; test -e \"$0\" && echo still-there", s.target.toString());
        r.assertExit(0);
        assertEquals("still-there\n", r.stdoutText(), "kept across reads and past the read timeout");
        assertFalse(existsNoFollow(s.target));
        assertTrue(r.stderr().contains("WARN  " + s.target + WARN), r.stderr());
        assertTrue(r.stderr().contains("the app exited: secrets.yaml kept until now (delete-on=exit); deleted"),
                r.stderr());
    }

    /** Per secret, next to a read-once one: only that one stays; a failing app removes it too. */
    @Test
    void perSecretItStaysWhileTheOtherGoesOnItsFirstRead() throws Exception {
        String passphrase = "pw-Exit-" + Scenario.token();
        gpg.encrypt("kept: 1\n".getBytes(StandardCharsets.UTF_8), passphrase, dir.resolve("kept.yaml.enc"));
        gpg.encrypt("once: 1\n".getBytes(StandardCharsets.UTF_8), passphrase, dir.resolve("once.yaml.enc"));
        Path pw = Files.writeString(dir.resolve("pw"), passphrase + "\n");
        Path kept = dir.resolve("kept.yaml");
        Path once = dir.resolve("once.yaml");
        SecretRun.Result r = new SecretRun(dir).secret(passphrase).run("--passphrase-file", pw.toString(),
                "--secret", "in=" + dir.resolve("kept.yaml.enc") + ",delete-on=exit",
                "--secret", "in=" + dir.resolve("once.yaml.enc"), "--",
                "sh", "-c", "cat \"$0\" \"$1\" >/dev/null; while [ -e \"$1\" ]; do sleep 0.01; done; "
                        + "cat \"$0\" >/dev/null && exit 3", kept.toString(), once.toString());
        r.assertExit(3);
        assertFalse(existsNoFollow(kept), "the app's failure removes it too");
        assertFalse(existsNoFollow(once));
        assertEquals(1, r.stderr().lines().filter(l -> l.contains(WARN)).count(), r.stderr());
    }

    /** A FIFO is served once: delete-on=exit cannot apply to it, and saying so beats a surprise. */
    @Test
    void aFifoWithDeleteOnExitIsAUsageError() {
        Scenario s = new Scenario(dir, gpg).encrypt();
        s.secretRun.run(s.launch(List.of("--mode", "fifo", "--delete-on", "exit"), "true"))
                .assertExit(64).assertOneCleanErrorLine();
        SecretRun.Result r = s.secretRun.run("--passphrase-file", s.passphraseFile().toString(), "--secret",
                "in=" + s.encrypted + ",mode=fifo,delete-on=exit", "--", "true");
        r.assertExit(64).assertOneCleanErrorLine();
        assertTrue(r.stderr().contains("delete-on=exit applies to mode=file only"), r.stderr());
        assertFalse(existsNoFollow(s.target));
        // the launch-wide --delete-on exit is for files: a secret that asks for a FIFO is served once
        SecretRun.Result fifo = s.secretRun.with().allowOnStdout(s.contentMarker).run("--passphrase-file",
                s.passphraseFile().toString(), "--delete-on", "exit", "--secret", "in=" + s.encrypted + ",mode=fifo",
                "--", "sh", "-c", "head -n1 \"$0\"", s.target.toString());
        fifo.assertExit(0);
        assertEquals(s.firstLine() + "\n", fifo.stdoutText());
        assertFalse(fifo.stderr().contains(WARN), fifo.stderr());
    }
}
