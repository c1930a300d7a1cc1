package io.secretrun.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Dirs;
import io.secretrun.testing.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code secret-run check}: one line per protection, and an exit code that follows --min-level. The environment
 * decides most lines (Yama, capabilities...), so the assertions compare the exit code with the lines printed; the
 * plaintext directory is the one thing the test controls: tmpfs (usually /dev/shm) versus disk (usually under
 * target/), see Storage.
 */
class CheckIT {
    static final List<String> NAMES = List.of("pid1", "dumpable", "core-limit", "plaintext-storage", "delete-on",
            "edit-leftovers", "yama",
            "cap-sys-ptrace", "core-pattern", "user");

    Path disk;
    Path memory;

    @BeforeEach
    void dirs() throws IOException {
        // a tmpfs and a disk directory wherever this machine has them: never a skip in CI
        disk = Storage.diskDir("it-check-disk-");
        memory = Storage.memoryDir("secret-run-check-");
    }

    @AfterEach
    void cleanUp() {
        Dirs.deleteTree(disk);
        Dirs.deleteTree(memory);
    }

    @Test
    void printsOneLinePerProtectionAndTheBasicOnesHoldHere() {
        SecretRun.Result r = check(disk, "basic");
        for (String name : NAMES) {
            assertTrue(line(r, name).isPresent(), "a line for " + name + ":\n" + r.stdoutText());
        }
        // secret-run makes itself non-dumpable and turns its core dumps off: true wherever it runs
        assertTrue(line(r, "dumpable").get().startsWith("ok"), r.stdoutText());
        assertTrue(line(r, "core-limit").get().startsWith("ok"), r.stdoutText());
        assertEquals(missing(r, "basic") ? 1 : 0, r.exitCode(), r.stdoutText());
        assertTrue(r.stdoutText().contains("level basic: "), r.stdoutText());
    }

    @Test
    void underStrictTheExitCodeFollowsThePlaintextDirectorysFileSystem() {
        SecretRun.Result onDisk = check(disk, "strict");
        assertTrue(line(onDisk, "plaintext-storage").get().startsWith("MISSING"), onDisk.stdoutText());
        assertEquals(1, onDisk.exitCode(), onDisk.stdoutText());
        assertTrue(onDisk.stdoutText().contains("missing") && onDisk.stdoutText().contains("plaintext-storage"));

        SecretRun.Result inMemory = check(memory, "strict");
        assertTrue(line(inMemory, "plaintext-storage").get().startsWith("ok"), inMemory.stdoutText());
        // everything else the environment decides: the exit code is 0 exactly when no strict line is missing
        assertEquals(missing(inMemory, "strict") ? 1 : 0, inMemory.exitCode(), inMemory.stdoutText());

        // basic ignores the file system
        assertEquals(check(memory, "basic").exitCode(), check(disk, "basic").exitCode());
    }

    @Test
    void theLevelAndTheDirectoryComeFromTheEnvironmentToo() {
        SecretRun.Result r = new SecretRun(disk).with()
                .env("SECRET_RUN_CHECK_LEVEL", "strict").env("SECRET_RUN_PLAINTEXT_DIR", disk.toString())
                .run("check");
        assertEquals(1, r.exitCode(), r.stdoutText());
        assertTrue(r.stdoutText().contains("level strict: missing"), r.stdoutText());
    }

    /** With several secrets, one storage line per distinct directory (a FIFO's content reaches none). */
    @Test
    void everySecretsDirectoryIsReported() {
        SecretRun.Result r = new SecretRun(disk).with()
                .env("SECRET_RUN_SECRETS", "in=" + memory.resolve("b.yaml.enc") + ";in=" + disk.resolve("c.fifo.enc")
                        + ",mode=fifo")
                .run("check", "--secret", "in=" + disk.resolve("a.yaml.enc"), "--secret",
                        "in=" + memory.resolve("b.yaml.enc"), "--secret", "in=" + disk.resolve("c.yaml.enc")
                                + ",plaintext-dir=" + memory, "--min-level", "strict");
        List<String> storage = r.stdoutText().lines().filter(l -> l.contains(" plaintext-storage: ")).toList();
        assertEquals(2, storage.size(), r.stdoutText());
        assertTrue(storage.get(0).startsWith("MISSING") && storage.get(0).contains(disk.toString()), r.stdoutText());
        assertTrue(storage.get(1).startsWith("ok") && storage.get(1).contains(memory.toString()), r.stdoutText());
        assertEquals(1, r.exitCode(), r.stdoutText());
    }

    /** delete-on=exit keeps a plaintext readable for the app's life: missing under strict, named with its path. */
    @Test
    void deleteOnExitIsMissingUnderStrict() {
        SecretRun.Result perSecret = new SecretRun(memory).run("check", "--secret", "in=" + memory.resolve("a.enc")
                + ",out=" + memory.resolve("htpasswd") + ",delete-on=exit", "--secret", "in=" + memory.resolve(
                        "b.yaml.enc"), "--min-level", "strict");
        String deleteOn = line(perSecret, "delete-on").orElseThrow();
        assertTrue(deleteOn.matches("MISSING\\s+strict delete-on: kept until the app exits.*"), deleteOn);
        assertTrue(deleteOn.contains(memory.resolve("htpasswd").toString())
                && !deleteOn.contains(memory.resolve("b.yaml").toString()), deleteOn);
        assertEquals(1, perSecret.exitCode(), perSecret.stdoutText());
        assertTrue(perSecret.stdoutText().lines().anyMatch(l -> l.startsWith("level strict: missing")
                && l.contains("delete-on")), perSecret.stdoutText());

        // launch-wide, from the launch's own variable; basic does not require it
        SecretRun.Result launchWide = new SecretRun(memory).with().env("SECRET_RUN_DELETE_ON", "exit")
                .run("check", "-o", memory.resolve("secrets.yaml").toString(), "--min-level", "basic");
        assertTrue(line(launchWide, "delete-on").orElseThrow().startsWith("MISSING"), launchWide.stdoutText());
        assertEquals(missing(launchWide, "basic") ? 1 : 0, launchWide.exitCode(), launchWide.stdoutText());

        SecretRun.Result readOnce = check(memory, "strict");
        assertTrue(line(readOnce, "delete-on").orElseThrow().startsWith("ok"), readOnce.stdoutText());
    }

    private static SecretRun.Result check(Path plaintextDir, String level) {
        return new SecretRun(plaintextDir).run("check", "-o", plaintextDir.resolve("secrets.yaml").toString(),
                "--min-level", level);
    }

    private static Optional<String> line(SecretRun.Result r, String name) {
        return r.stdoutText().lines().filter(l -> l.matches("(ok|MISSING|info)\\s+\\S+\\s+" + name + ": .*"))
                .findFirst();
    }

    private static boolean missing(SecretRun.Result r, String level) {
        return r.stdoutText().lines().anyMatch(l -> l.startsWith("MISSING") && (l.matches("MISSING\\s+basic .*")
                || level.equals("strict") && l.matches("MISSING\\s+strict .*")));
    }
}
