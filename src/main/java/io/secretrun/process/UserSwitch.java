package io.secretrun.process;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.ProcessCalls;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --user}: secret-run starts as root, does the root-only part (reads and deletes the passphrase file,
 * writes the plaintext and gives it to the user), then drops the privileges of the <em>whole process</em> for good
 * (supplementary groups, then gid, then uid, each real, effective and saved) before it spawns the app, which
 * inherits the user's ids with no way back. No helper process, no setuid between fork and exec.
 *
 * <p>This works from a JVM because the kernel calls are per thread, but the C library's wrappers are not: glibc
 * signals every thread of the process to repeat the call (its SIGSETXID broadcast), musl does the same with
 * {@code __synccall}, so the JVM's own threads (GC, compiler, signal dispatcher, our watcher and reaper) change with
 * the calling thread. {@link #drop} verifies that in {@code /proc/self/task/*}{@code /status} and refuses to go on
 * otherwise, and checks that {@code setuid(0)} now fails.
 *
 * <p>A change of ids resets the process's dumpable flag to {@code fs.suid_dumpable} (0, 1 or 2), which would undo
 * {@link SelfProtection} where it is 1: {@link #drop} makes secret-run non-dumpable again right after the switch,
 * before the app exists, and refuses to go on unless the kernel then reports 0. So the app's user can neither ptrace
 * secret-run nor read its memory or environment, although they now share a uid.
 */
public final class UserSwitch {
    private static final Logger LOG = LoggerFactory.getLogger(UserSwitch.class);

    private UserSwitch() {
    }

    /**
     * Checks, before any secret is decrypted, that the switch can work: we run as root (else 64), and the user can
     * delete the plaintext (else 73): after the switch, the watcher that deletes it runs as that user.
     */
    public static void check(TargetUser user, Path plaintext) throws SecretRunException {
        int euid = ProcessCalls.geteuid();
        if (euid != 0) {
            throw SecretRunException.usage("--user " + user.spec() + " needs secret-run to start as root (it runs as "
                    + "uid " + Integer.toUnsignedString(euid) + "); run the app as this user without --user");
        }
        // Run the verification once now (our ids are root's, so it fails quietly): its first run costs some 100 ms
        // of class loading that would otherwise fall between writing the plaintext and starting the app.
        try {
            verifyAllThreads(user);
        } catch (SecretRunException expected) {
            // we are still root
        }
        Path directory = plaintext.toAbsolutePath().getParent();
        if (directory != null && Files.isDirectory(directory) && !canDeleteIn(directory, user)) {
            throw SecretRunException.cantCreate("--user " + user.spec() + ": the plaintext's directory " + directory
                    + " is not writable by " + user + ", so secret-run, running as that user once it has switched, "
                    + "could not delete the plaintext");
        }
    }

    /** Search permission on every ancestor, write and search on the directory itself (mode bits; ACLs ignored). */
    static boolean canDeleteIn(Path directory, TargetUser user) throws SecretRunException {
        if (user.uid() == 0) {
            return true;
        }
        Path absolute = directory.toAbsolutePath().normalize();
        for (Path p = absolute.getParent(); p != null; p = p.getParent()) {
            if (!permits(p, user, 1)) {
                return false;
            }
        }
        return permits(absolute, user, 3);
    }

    /** Whether {@code user} has the permission bits {@code wanted} (4 r, 2 w, 1 x) on {@code path}. */
    private static boolean permits(Path path, TargetUser user, int wanted) throws SecretRunException {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(path, "unix:uid,gid,mode");
        } catch (IOException e) {
            throw SecretRunException.cantCreate("--user: cannot inspect " + path + ": " + e.getMessage());
        }
        int mode = (Integer) a.get("mode");
        int shift = (Integer) a.get("uid") == user.uid() ? 6 : user.groups().contains((Integer) a.get("gid")) ? 3 : 0;
        return ((mode >> shift) & wanted) == wanted;
    }

    /** Drops every thread of this process to {@code user}, irrevocably, and verifies it. */
    public static void drop(TargetUser user) throws SecretRunException {
        try {
            ProcessCalls.setgroups(user.groups());
            ProcessCalls.setresgid(user.gid());
            ProcessCalls.setresuid(user.uid());
        } catch (ErrnoException e) {
            throw new SecretRunException(ExitCode.SOFTWARE, "cannot switch to " + user + ": " + e.getMessage());
        }
        if (user.uid() != 0 && ProcessCalls.setuidOrErrno(0) == 0) {
            throw new SecretRunException(ExitCode.SOFTWARE, "switched to " + user + " but could become root again");
        }
        // the kernel has just set dumpable to fs.suid_dumpable; secret-run holds the plaintext and the passphrase
        SelfProtection.nonDumpable();
        int threads = verifyAllThreads(user);
        LOG.info("switched to {} ({} threads checked; no way back to root)", user, threads);
    }

    /**
     * Reads the Uid, Gid and Groups lines of every thread in {@code /proc/self/task} and throws unless all of them
     * carry exactly the user's ids.
     *
     * @return the number of threads checked
     */
    static int verifyAllThreads(TargetUser user) throws SecretRunException {
        String uid = Integer.toUnsignedString(user.uid());
        String gid = Integer.toUnsignedString(user.gid());
        Set<String> groups = new HashSet<>(user.groups().stream().map(Integer::toUnsignedString).toList());
        int checked = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                List<String> status;
                try {
                    status = Files.readAllLines(task.resolve("status"));
                } catch (NoSuchFileException e) {
                    continue; // the thread ended meanwhile
                }
                for (String line : status) {
                    String[] f = line.trim().split("\\s+");
                    boolean ok = switch (f[0]) {
                        case "Uid:" -> Arrays.stream(f, 1, f.length).allMatch(uid::equals);
                        case "Gid:" -> Arrays.stream(f, 1, f.length).allMatch(gid::equals);
                        case "Groups:" -> new HashSet<>(Arrays.asList(f).subList(1, f.length)).equals(groups);
                        default -> true;
                    };
                    if (!ok) {
                        throw new SecretRunException(ExitCode.SOFTWARE, "thread " + task.getFileName()
                                + " did not switch to " + user + ": " + line.trim());
                    }
                }
                checked++;
            }
        } catch (IOException e) {
            throw new SecretRunException(ExitCode.SOFTWARE, "cannot verify the user switch: " + e.getMessage());
        }
        return checked;
    }
}
