package io.secretrun.watch;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.secretrun.linux.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * One round of the window measurement in a fresh JVM, as in production (one watcher per JVM, first event cold):
 * writes {@code args[0]}, arms a watcher, waits {@code args[1]} ms (default 500: the child's start-up; an app
 * reads its secrets later than that), opens the file in a reader thread, spins on access(2) until the path is gone. Prints "windowNanos spins deleteNanosAfterEvent".
 */
public final class ColdWindowProbeMain {
    public static void main(String[] args) throws Throwable {
        Path file = Files.writeString(Path.of(args[0]), "password: hunter2\n");
        Linker linker = Linker.nativeLinker();
        MethodHandle open = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        MethodHandle access = linker.downcallHandle(linker.defaultLookup().find("access").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        // Compile the reader's spin call first (access("") fails at once): interpreted, one round costs ~100 µs,
        // which would be the resolution of the measurement; compiled, ~1 µs. The watcher gets no such help.
        try (Arena warm = Arena.ofConfined()) {
            MemorySegment empty = warm.allocate(1);
            for (int i = 0; i < 20_000; i++) {
                int ignored = (int) access.invokeExact(empty, 0);
            }
        }
        try (Arena arena = Arena.ofConfined();
                ReadOnceWatcher w = ReadOnceWatcher.arm(file, DeleteOn.OPEN, Duration.ZERO)) {
            MemorySegment cPath = Libc.cPath(arena, file);
            Thread.sleep(args.length > 1 ? Long.parseLong(args[1]) : 500);
            int fd = (int) open.invokeExact(cPath, 0);
            long t0 = System.nanoTime();
            int spins = 0;
            while ((int) access.invokeExact(cPath, 0) == 0) {
                spins++;
            }
            long t1 = System.nanoTime();
            Libc.close(fd);
            ReadOnceWatcher.Outcome o = w.await(Duration.ofSeconds(5));
            System.out.println((spins == 0 ? 0 : t1 - t0) + " " + spins + " " + o.deleteNanosAfterEvent());
        }
    }
}
