package io.secretrun.watch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.secretrun.linux.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Measures the read-once window: from a reader's open(2) returning to the path being gone. Not a test of any
 * threshold; it prints figures.
 *
 * <p>In-JVM reader: a thread calls open(2) through FFM, takes System.nanoTime() as soon as it returns, then spins on
 * access(path, F_OK) (one syscall; the loop is JIT-compiled first, so a round takes about a microsecond) until the
 * path is gone. A window of 0 spins means the path was
 * already gone at the first check: the watcher unlinked it before open(2) had even returned to the reader
 * (the event is queued inside open). Each round writes a fresh file, arms a fresh watcher (as a launch does: one
 * watcher per JVM, first event cold), waits 5 ms (the child's start-up) and opens.
 *
 * <p>Process reader: python3 opens the file, takes perf_counter_ns, spins on os.path.lexists. Coarser (each check
 * is a Python-level stat), but the reader is another process, as in production.
 *
 * <p>Fresh JVM: each round a new JVM with one watcher, as in production (see {@link ColdWindowProbeMain}).
 *
 * <p>The launch-level measurement is {@code bench/window.sh} (real launches). This in-JVM one runs with
 * {@code java --enable-native-access=ALL-UNNAMED -cp target/test-classes:target/classes:<slf4j,logback jars>
 * io.secretrun.watch.OpenToGoneWindow [N]}.
 */
public final class OpenToGoneWindow {
    private static final int O_RDONLY = 0;
    private static final int F_OK = 0;
    private static final MethodHandle OPEN = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle ACCESS = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("access").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    /** Results of one series, in nanoseconds. */
    public record Series(String label, long[] windows, long[] deleteAfterEvent, int goneAtFirstCheck) {
        public String summary() {
            return String.format(Locale.ROOT,
                    "%s: N=%d open-to-gone median %.1f µs, p90 %.1f µs, max %.1f µs (gone at the first check: %d/%d)"
                            + "%s",
                    label, windows.length, pct(windows, 50) / 1e3, pct(windows, 90) / 1e3, max(windows) / 1e3,
                    goneAtFirstCheck, windows.length,
                    deleteAfterEvent.length == 0 ? "" : String.format(Locale.ROOT,
                            "; watcher's event-to-unlink median %.1f µs, max %.1f µs",
                            pct(deleteAfterEvent, 50) / 1e3, max(deleteAfterEvent) / 1e3));
        }
    }

    private OpenToGoneWindow() {
    }

    public static Series inJvm(Path dir, int n) throws Exception {
        long[] windows = new long[n];
        long[] deleteAfter = new long[n];
        int goneFirst = 0;
        try (Arena warm = Arena.ofConfined()) { // compile the spin call: the clock's resolution (see the probe)
            MemorySegment empty = warm.allocate(1);
            for (int i = 0; i < 20_000; i++) {
                int ignored = (int) ACCESS.invokeExact(empty, F_OK);
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        for (int i = 0; i < n; i++) {
            Path file = Files.writeString(dir.resolve("window-" + i + ".yaml"), "password: hunter2\n");
            try (Arena arena = Arena.ofConfined();
                    ReadOnceWatcher w = ReadOnceWatcher.arm(file, DeleteOn.OPEN, Duration.ZERO)) {
                MemorySegment cPath = Libc.cPath(arena, file);
                Thread.sleep(5);
                int fd = (int) OPEN.invokeExact(cPath, O_RDONLY);
                long t0 = System.nanoTime();
                int spins = 0;
                while ((int) ACCESS.invokeExact(cPath, F_OK) == 0) {
                    spins++;
                }
                long t1 = System.nanoTime();
                if (fd < 0) {
                    throw new IOException("open failed");
                }
                Libc.close(fd);
                windows[i] = spins == 0 ? 0 : t1 - t0;
                if (spins == 0) {
                    goneFirst++;
                }
                ReadOnceWatcher.Outcome o = w.await(Duration.ofSeconds(5));
                deleteAfter[i] = o.deleteNanosAfterEvent();
            } catch (Throwable t) {
                throw t instanceof Exception e ? e : new RuntimeException(t);
            }
        }
        return new Series("in-JVM reader (FFM open, spin on access)", windows, deleteAfter, goneFirst);
    }

    private static final String PY_READER = """
            import os, sys, time
            p = sys.argv[1]
            fd = os.open(p, os.O_RDONLY)
            t0 = time.perf_counter_ns()
            spins = 0
            while os.path.lexists(p):
                spins += 1
            t1 = time.perf_counter_ns()
            data = os.read(fd, 1 << 16)
            print(t1 - t0 if spins else 0, spins, len(data))
            """;

    public static Series python(Path dir, int n) throws Exception {
        long[] windows = new long[n];
        long[] deleteAfter = new long[n];
        int goneFirst = 0;
        for (int i = 0; i < n; i++) {
            Path file = Files.writeString(dir.resolve("py-window-" + i + ".yaml"), "password: hunter2\n");
            try (ReadOnceWatcher w = ReadOnceWatcher.arm(file, DeleteOn.OPEN, Duration.ZERO)) {
                Process p = new ProcessBuilder("python3", "-c", PY_READER, file.toString())
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (p.waitFor() != 0) {
                    throw new IOException("python reader failed: " + out);
                }
                String[] f = out.split(" ");
                windows[i] = Long.parseLong(f[0]);
                if (Long.parseLong(f[1]) == 0) {
                    goneFirst++;
                }
                deleteAfter[i] = w.await(Duration.ofSeconds(5)).deleteNanosAfterEvent();
            }
        }
        return new Series("python3 reader process (os.open, spin on os.path.lexists)", windows, deleteAfter,
                goneFirst);
    }

    /**
     * The production-like series: each round is a fresh JVM ({@link ColdWindowProbeMain}) with one watcher whose
     * first event is cold, as in a real launch. About a second a round.
     */
    public static Series freshJvm(Path dir, int n) throws Exception {
        long[] windows = new long[n];
        long[] deleteAfter = new long[n];
        int goneFirst = 0;
        for (int i = 0; i < n; i++) {
            Process p = io.secretrun.linux.TestJava.start(ColdWindowProbeMain.class,
                    dir.resolve("cold-" + i + ".yaml").toString());
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IOException("probe failed: " + out + err);
            }
            String[] f = out.lines().reduce((a, b) -> b).orElseThrow().split(" ");
            windows[i] = Long.parseLong(f[0]);
            if (Long.parseLong(f[1]) == 0) {
                goneFirst++;
            }
            deleteAfter[i] = Long.parseLong(f[2]);
        }
        return new Series("fresh JVM per round, in-JVM reader (production-like: first event cold)", windows,
                deleteAfter, goneFirst);
    }

    /** The 1-minute load average and CPU count: the window is mostly scheduling latency on a busy machine. */
    public static String machine() {
        try {
            String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
            return "load average " + load + " on " + Runtime.getRuntime().availableProcessors() + " CPUs";
        } catch (IOException e) {
            return Runtime.getRuntime().availableProcessors() + " CPUs";
        }
    }

    static long pct(long[] values, int p) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)];
    }

    static long max(long[] values) {
        return Arrays.stream(values).max().orElse(0);
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        Path dir = Files.createTempDirectory("secret-run-window");
        List<Series> all = new ArrayList<>();
        all.add(inJvm(dir, n));
        all.add(python(dir, n));
        all.add(freshJvm(dir, n));
        System.out.println(machine());
        for (Series s : all) {
            System.out.println(s.summary());
        }
    }
}
