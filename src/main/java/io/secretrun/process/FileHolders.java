package io.secretrun.process;

import io.secretrun.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which processes hold a given file open: for {@code serve=app}, who has just opened a secret's FIFO. Every
 * {@code /proc/PID/fd/N} is stat'ed (the link is followed to the open file itself) and compared by device and
 * inode; the link's text is not enough (a FIFO's name can be renamed or deleted while it stays open).
 *
 * <p>The kernel shows a process's descriptors only to its own user (when it is dumpable) or to a holder of
 * {@code CAP_SYS_PTRACE}: the others are listed in {@link Scan#unreadable} (with the uid /proc still shows), not
 * guessed at. The work is bounded by
 * {@code maxDescriptors}; a scan that hit the bound says so ({@link Scan#complete} false).
 */
public final class FileHolders {
    private static final Path PROC = Path.of("/proc");

    /** A file by device and inode; {@code dev} is major in the high 32 bits, minor in the low ones, as statx gives. */
    public record FileId(long dev, long ino) {
        /** The file {@code path} names, following symbolic links (and /proc's fd links). */
        public static FileId of(Path path) throws IOException {
            Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino");
            return new FileId(statxDev((Long) a.get("dev")), (Long) a.get("ino"));
        }

        /** glibc's dev_t encoding (what the JDK reports) as major and minor, the form statx and Libc use. */
        static long statxDev(long dev) {
            long major = ((dev >>> 8) & 0xfffL) | ((dev >>> 32) & 0xfffff000L);
            long minor = (dev & 0xffL) | ((dev >>> 12) & 0xffffff00L);
            return (major << 32) | minor;
        }
    }

    /** A process holding the file open: its real uid (-1 if it ended meanwhile) and command name. */
    public record Holder(int pid, int uid, String comm) {
        @Override
        public String toString() {
            return "pid " + pid + " uid " + uid + " (" + comm + ")";
        }
    }

    /**
     * @param processes the processes looked at
     * @param descriptors the descriptors stat'ed
     * @param unreadable processes whose descriptors we may not see: any of them may hold the file too
     * @param complete false when the scan stopped at its bound
     */
    public record Scan(List<Holder> holders, int processes, int descriptors, List<Holder> unreadable,
            boolean complete) {
    }

    private FileHolders() {
    }

    /** The processes that have {@code file} open now, looking at no more than {@code maxDescriptors}. */
    public static Scan find(FileId file, int maxDescriptors) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return find(file, maxDescriptors, new Stat(arena));
        }
    }

    private static Scan find(FileId file, int maxDescriptors, Stat stat) throws IOException {
        List<Holder> holders = new ArrayList<>();
        int processes = 0;
        int descriptors = 0;
        List<Holder> unreadable = new ArrayList<>();
        for (int pid : ProcStat.pids()) {
            processes++;
            Path fds = PROC.resolve(Integer.toString(pid)).resolve("fd");
            boolean holds = false;
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
                for (Path fd : entries) {
                    if (descriptors >= maxDescriptors) {
                        return new Scan(List.copyOf(holders), processes, descriptors, List.copyOf(unreadable), false);
                    }
                    descriptors++;
                    if (stat.names(fd, file)) {
                        holds = true; // one match per process is all we report
                        break;
                    }
                }
            } catch (AccessDeniedException e) {
                unreadable.add(holder(pid));
            } catch (IOException e) {
                // the process ended while we listed it
            }
            if (holds) {
                holders.add(holder(pid));
            }
        }
        return new Scan(List.copyOf(holders), processes, descriptors, List.copyOf(unreadable), true);
    }

    private static Holder holder(int pid) {
        return new Holder(pid, realUid(pid), ProcStat.read(pid).map(ProcStat::comm).orElse("?"));
    }

    /**
     * stat(2) of one fd link through statx with buffers reused for the whole scan: the JDK's attribute views cost
     * several times more per descriptor, and a scan stats every descriptor of every process.
     */
    private static final class Stat {
        private final MemorySegment path;
        private final MemorySegment buf;
        private final boolean statx = Libc.hasStatx();

        Stat(Arena arena) {
            path = arena.allocate(64); // "/proc/<pid>/fd/<fd>" and its NUL
            buf = Libc.statxBuffer(arena);
        }

        boolean names(Path fd, FileId file) {
            if (!statx) {
                try {
                    return file.equals(FileId.of(fd));
                } catch (IOException | RuntimeException e) {
                    return false; // closed meanwhile, or not ours to see
                }
            }
            String s = fd.toString(); // ASCII digits and slashes only
            if (s.length() >= path.byteSize()) {
                return false;
            }
            for (int i = 0; i < s.length(); i++) {
                path.set(ValueLayout.JAVA_BYTE, i, (byte) s.charAt(i));
            }
            path.set(ValueLayout.JAVA_BYTE, s.length(), (byte) 0);
            return Libc.statxOrErrno(Libc.AT_FDCWD, path, 0, Libc.STATX_INO, buf) == 0
                    && Libc.statxIno(buf) == file.ino() && Libc.statxDev(buf) == file.dev();
        }
    }

    /** The first (real) uid of the Uid line of /proc/PID/status; -1 when the process is gone. */
    static int realUid(int pid) {
        try {
            for (String line : Files.readAllLines(PROC.resolve(Integer.toString(pid)).resolve("status"),
                    StandardCharsets.ISO_8859_1)) {
                if (line.startsWith("Uid:")) {
                    return Integer.parseInt(line.substring(4).strip().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return -1;
    }
}
