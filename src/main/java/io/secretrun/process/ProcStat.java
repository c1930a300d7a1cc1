package io.secretrun.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The fields of {@code /proc/PID/stat} that tell a process's place among the others: parent, process group,
 * session, and start time (to see that a pid was reused). Processes come and go while we read: a process that is
 * gone is simply absent, never an error.
 *
 * @param startTime clock ticks after boot (field 22): a parent always started no later than its child
 */
public record ProcStat(int pid, String comm, char state, int ppid, int pgrp, int session, long startTime) {
    private static final Path PROC = Path.of("/proc");

    /** The process's stat, or empty when it is gone (or /proc hides it from us). */
    public static Optional<ProcStat> read(int pid) {
        try {
            return Optional.of(parse(pid, Files.readString(PROC.resolve(Integer.toString(pid)).resolve("stat"),
                    StandardCharsets.ISO_8859_1)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    static ProcStat parse(int pid, String line) {
        // comm is in parentheses and may itself contain ") " and spaces: the fields start after the last ')'
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        String comm = line.substring(open + 1, close);
        String[] f = line.substring(close + 2).split(" ");
        // f[0] is field 3 (state); field N is f[N - 3]
        return new ProcStat(pid, comm, f[0].charAt(0), Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                Integer.parseInt(f[3]), Long.parseLong(f[19]));
    }

    /** The pids /proc lists now (thread group leaders, i.e. processes). */
    public static List<Integer> pids() throws IOException {
        List<Integer> pids = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path e : entries) {
                String name = e.getFileName().toString();
                if (!name.isEmpty() && name.chars().allMatch(c -> c >= '0' && c <= '9') && name.length() < 10) {
                    pids.add(Integer.parseInt(name));
                }
            }
        }
        return pids;
    }

    /** Every process's stat, skipping those that end while we read. */
    public static List<ProcStat> all() throws IOException {
        List<ProcStat> all = new ArrayList<>();
        for (int pid : pids()) {
            read(pid).ifPresent(all::add);
        }
        return all;
    }

    public boolean zombie() {
        return state == 'Z' || state == 'X';
    }
}
