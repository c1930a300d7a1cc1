package io.secretrun.process;

import static io.secretrun.process.SecretRunHarness.awaitFile;
import static io.secretrun.process.SecretRunHarness.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import io.secretrun.testing.OtherUserInstall;
import io.secretrun.process.SecretRunHarness.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code --user}: secret-run starts as root (PID 1 of a new namespace), reads the root-only passphrase, gives the
 * plaintext to the user and becomes that user, every thread of it, before it starts the app.
 */
class UserSwitchIT {
    /** What the app reports about itself and about secret-run (PID 1). */
    static final String REPORT = """
            cat secrets.yaml > secret-copy 2>&1; echo $? > secret-rc
            cat passphrase > passphrase-copy 2>&1; echo $? > passphrase-rc
            id -u > uid; id -g > gid; id -G > groups
            grep -h -E '^(Uid|Gid|Groups):' /proc/1/task/*/status | sort | uniq -c > threads
            cat /proc/1/environ > /dev/null 2> environ-err; echo $? > environ-rc
            trap 'echo TERM > signal; exit 0' TERM
            echo ready > ready
            while :; do sleep 0.05; done
            """;

    private static SecretRunHarness h;

    @BeforeAll
    static void setUp() throws Exception {
        SecretRunHarness.requireNamespaces(); // implies root: only root may make a PID namespace without -r
        h = SecretRunHarness.create();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @BeforeEach
    void cleanMarkers() throws Exception {
        for (String name : List.of("ready", "signal", "secret-copy", "passphrase-copy", "uid", "gid", "groups",
                "threads", "environ-rc", "environ-err")) {
            Files.deleteIfExists(h.file(name));
        }
    }

    @Test
    void numericUserAndGroup() throws Exception {
        Run run = h.startPid1(List.of("--user", "1000:1000"), "sh", "-c", REPORT);
        assertSwitched(run, "1000", "1000", "1000");
    }

    @Test
    void userByNameWithItsPrimaryGroup() throws Exception {
        String[] nobody = Files.readAllLines(Path.of("/etc/passwd")).stream().filter(l -> l.startsWith("nobody:"))
                .findFirst().map(l -> l.split(":")).orElse(null);
        assertNotNull(nobody, "no user nobody in /etc/passwd (every distribution has one)");
        Run run = h.start(true, Map.of("SECRET_RUN_USER", "nobody"), List.of(), "sh", "-c", REPORT);
        assertSwitched(run, nobody[2], nobody[3], nobody[3]);
    }

    /**
     * Supplementary groups from /etc/group, with a passwd and group file of our own bind-mounted over the real
     * ones inside the test's mount namespace (no user is created on the machine).
     */
    @Test
    void userByNameGetsItsSupplementaryGroups() throws Exception {
        Path passwd = h.file("passwd");
        Path group = h.file("group");
        Files.writeString(passwd, Files.readString(Path.of("/etc/passwd"))
                + "appuser:x:1234:1234:app:/nonexistent:/usr/sbin/nologin\n");
        Files.writeString(group, Files.readString(Path.of("/etc/group"))
                + "appuser:x:1234:\nextra-one:x:2001:appuser\nextra-two:x:2002:someone,appuser\nnot-this:x:2003:x\n");
        String prelude = "mount --bind " + passwd + " /etc/passwd; mount --bind " + group + " /etc/group";
        Run run = h.start(true, prelude, Map.of(), List.of("--user", "appuser"), "sh", "-c", REPORT);
        assertSwitched(run, "1234", "1234", "1234 2001 2002");
    }

    /**
     * The kernel resets a process's dumpable flag to {@code fs.suid_dumpable} when its ids change: set to 1 here
     * (root; the old value restored after), the switch would leave secret-run dumpable, and its app, now of the same
     * uid, could read its environment and memory. secret-run makes itself non-dumpable again after the switch.
     */
    @Test
    void nonDumpableAfterTheSwitchAlsoWhereSuidDumpableIsOne() throws Exception {
        Path knob = Path.of("/proc/sys/fs/suid_dumpable");
        String original = Files.readString(knob).trim();
        try {
            Files.writeString(knob, "1");
        } catch (java.io.IOException e) {
            Ci.assumeOrFail(false, "cannot set " + knob + ": " + e);
        }
        try {
            Run run = h.startPid1(List.of("--user", "1000:1000"), "sh", "-c", REPORT);
            awaitFile(h.file("ready"));
            assertEquals("1000", read("uid"), run.stderr());
            assertNotEquals("0", read("environ-rc"), "the app read secret-run's environment: " + read("environ-err"));
            run.signal("TERM");
            assertEquals(0, run.exitCode(), run.stderr());
        } finally {
            Files.writeString(knob, original);
        }
    }

    private void assertSwitched(Run run, String uid, String gid, String groups) throws Exception {
        awaitFile(h.file("ready"));
        assertEquals(uid, read("uid"), run.stderr());
        assertEquals(gid, read("gid"));
        assertEquals(groups, read("groups"));
        // the app reads the plaintext (owned by it, 0600) but not the root-only passphrase file
        assertEquals("0", read("secret-rc"), read("secret-copy"));
        assertEquals(SecretRunHarness.SECRET, Files.readString(h.file("secret-copy")));
        assertNotEquals("0", read("passphrase-rc"));
        assertTrue(read("passphrase-copy").contains("Permission denied"), read("passphrase-copy"));
        // every thread of secret-run switched, not just the one that called setuid: across all threads, the Uid,
        // Gid and Groups lines each have exactly one distinct value (uniq -c counts the threads holding it)
        List<String> lines = read("threads").lines().map(String::trim).toList();
        List<String> values = lines.stream().map(l -> l.replaceFirst("^\\d+\\s+", "").replaceAll("\\s+", " ").trim())
                .toList();
        assertEquals(List.of("Gid: " + String.join(" ", gid, gid, gid, gid), "Groups: " + groups,
                "Uid: " + String.join(" ", uid, uid, uid, uid)), values, read("threads"));
        int threads = Integer.parseInt(lines.getFirst().split("\\s+")[0]);
        assertTrue(threads > 5, "only " + threads + " threads in secret-run?");
        // non-dumpable after the switch: the app, although of the same uid, cannot read secret-run's environment
        assertNotEquals("0", read("environ-rc"), read("environ-err"));
        assertTrue(run.stderr().contains("no way back to root"), run.stderr());

        // signals still reach the app after the switch and after the plaintext is gone
        awaitTrue(() -> !Files.exists(h.plaintext), "plaintext not deleted by the switched watcher");
        run.signal("TERM");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals("TERM", read("signal"));
    }

    /** The plaintext belongs to the user while it exists (uid, gid, mode 0600), as the app sees it before reading. */
    @Test
    void thePlaintextIsOwnedByTheUser() throws Exception {
        assertOwnedAndRead(List.of("--user", "1000:1001"), "1000:1001:600:regular file");
    }

    /** --mode fifo with --user: the named pipe is the user's (uid, gid, mode 0600), and the app reads it through. */
    @Test
    void theNamedPipeOfFifoModeIsOwnedByTheUser() throws Exception {
        assertOwnedAndRead(List.of("--user", "1000:1001", "--mode", "fifo"), "1000:1001:600:fifo");
    }

    private void assertOwnedAndRead(List<String> options, String expected) throws Exception {
        for (String name : List.of("owner", "secret-copy", "uid")) {
            Files.deleteIfExists(h.file(name));
        }
        // stat(1) does not open the file, so it is not the read that deletes it
        Run run = h.startPid1(options, "sh", "-c",
                "stat -c '%u:%g:%a:%F' secrets.yaml > owner; cat secrets.yaml > secret-copy; id -u > uid");
        assertEquals(0, run.exitCode(), run.stderr());
        assertEquals(expected, read("owner"));
        assertEquals("1000", read("uid"));
        assertEquals(SecretRunHarness.SECRET, Files.readString(h.file("secret-copy")));
        assertFalse(Files.exists(h.plaintext), "plaintext left behind");
    }

    @Test
    void refusedWhenTheUserCannotDeleteThePlaintext() throws Exception {
        Path locked = h.file("locked");
        Files.createDirectories(locked);
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cmd = SecretRunHarness.javaCommand(List.of("-i", h.encrypted.toString(), "-o",
                locked.resolve("secrets.yaml").toString(), "--passphrase-file", h.passphrase.toString(),
                "--keep-passphrase-file", "--user", "1000:1000", "--", "sh", "-c", "echo started > started"));
        Process p = new ProcessBuilder(cmd).directory(h.dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(73, p.waitFor(), out);
        assertTrue(out.contains("not writable by uid 1000"), out);
        assertFalse(Files.exists(h.file("started")), "the app started");
        assertFalse(Files.exists(locked.resolve("secrets.yaml")), "plaintext written");
        assertFalse(out.contains("decrypted"), "decrypted before refusing: " + out);
    }

    @Test
    void refusedWithoutRoot() throws Exception {
        String out;
        Process p;
        // uid 1000 runs a copy it can reach: the checkout may be under a 0700 directory
        try (OtherUserInstall install = OtherUserInstall.of(SecretRunHarness.JAR)) {
            List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid", "1000", "--regid", "1000",
                    "--clear-groups"));
            cmd.addAll(install.javaCommand());
            cmd.addAll(h.launchOptions());
            cmd.addAll(List.of("--user", "1000:1000", "--", "sh", "-c", "echo started > started"));
            p = new ProcessBuilder(cmd).directory(h.dir.toFile()).redirectErrorStream(true).start();
            out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
        }
        assertEquals(64, p.exitValue(), out);
        assertTrue(out.contains("needs secret-run to start as root"), out);
        assertFalse(Files.exists(h.file("started")));
    }

    @Test
    void unknownUserIsAUsageError() throws Exception {
        Run run = h.startPlain(List.of("--user", "no-such-user-secret-run"), "true");
        assertEquals(64, run.exitCode(), run.stderr());
        assertTrue(run.stderr().contains("no user named 'no-such-user-secret-run'"), run.stderr());
    }

    private static String read(String name) throws Exception {
        return Files.readString(h.file(name)).trim();
    }
}
