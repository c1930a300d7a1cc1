package io.secretrun.linux;

import io.secretrun.process.FileHolders;
import java.io.FileOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * bench/reread.sh: the cost of serving a 4 KiB secret again through a FIFO, from a SecretMemory (open with
 * Libc.openOrErrno, write(2) from the mapping) next to the same from a byte[] (FileOutputStream, which copies into
 * a native buffer first). One iteration: open the write end, write, close, read the read end to EOF. The read end
 * is opened first, non-blocking, in the same thread (4 KiB fits in the pipe's buffer), so both variants share it
 * and no thread hand-off is timed. Prints the first (cold) iteration and the median, min and max of the next runs.
 */
public final class SecretMemoryBenchMain {
    public static void main(String[] args) throws Exception {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        byte[] secret = new byte[size];
        new Random(1).nextBytes(secret);
        Path dir = Files.createTempDirectory("secret-run-bench");
        Path fifo = dir.resolve("fifo");
        Libc.mkfifo(fifo, 0600);
        try (Arena arena = Arena.ofConfined(); SecretMemory memory = SecretMemory.copyOf(secret, 0, size)) {
            MemorySegment readBuf = arena.allocate(65536);
            Variant nativeRegion = () -> {
                int fd = Libc.openOrErrno(fifo, Libc.O_WRONLY | Libc.O_CLOEXEC);
                memory.writeAll(fd);
                Libc.close(fd);
            };
            Variant heapArray = () -> {
                try (FileOutputStream out = new FileOutputStream(fifo.toFile())) {
                    out.write(secret);
                }
            };
            System.out.println("secret " + size + " bytes, median of " + runs + " after " + warmup
                    + " warm-up iterations; microseconds from opening the write end to EOF on the read end;"
                    + " mlock " + (memory.locked() ? "on" : "off"));
            for (String name : new String[] {"native region (SecretMemory)", "byte[] (FileOutputStream)"}) {
                Variant v = name.startsWith("native") ? nativeRegion : heapArray;
                double cold = once(v, fifo, readBuf, size);
                for (int i = 0; i < warmup; i++) {
                    once(v, fifo, readBuf, size);
                }
                double[] t = new double[runs];
                for (int i = 0; i < runs; i++) {
                    t[i] = once(v, fifo, readBuf, size);
                }
                Arrays.sort(t);
                System.out.printf("%-30s median %7.1f us  min %7.1f  max %7.1f  first (cold) %8.1f%n",
                        name, t[runs / 2], t[0], t[runs - 1], cold);
            }
            // what serve=app adds per open: one scan of /proc for the FIFO's holders
            FileHolders.FileId id = FileHolders.FileId.of(fifo);
            double[] t = new double[runs];
            FileHolders.Scan scan = null;
            for (int i = -warmup / 10; i < runs; i++) {
                long t0 = System.nanoTime();
                scan = FileHolders.find(id, 1_000_000);
                if (i >= 0) {
                    t[i] = (System.nanoTime() - t0) / 1000.0;
                }
            }
            Arrays.sort(t);
            System.out.printf("%-30s median %7.1f us  min %7.1f  max %7.1f  (%d processes, %d descriptors)%n",
                    "FileHolders.find (/proc scan)", t[runs / 2], t[0], t[runs - 1], scan.processes(),
                    scan.descriptors());
        } finally {
            Arrays.fill(secret, (byte) 0);
            Files.deleteIfExists(fifo);
            Files.delete(dir);
        }
    }

    interface Variant {
        void write() throws Exception;
    }

    /** One iteration, in microseconds; fails unless exactly {@code size} bytes arrive. */
    private static double once(Variant v, Path fifo, MemorySegment readBuf, int size) throws Exception {
        int reader = Libc.openOrErrno(fifo, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (reader < 0) {
            throw new ErrnoException("open", fifo.toString(), -reader);
        }
        try {
            long t0 = System.nanoTime();
            v.write();
            long total = 0;
            long n;
            while ((n = Libc.readOrErrno(reader, readBuf)) > 0) {
                total += n;
            }
            long t1 = System.nanoTime();
            if (n < 0 || total != size) {
                throw new IllegalStateException("read " + total + " bytes, last result " + n);
            }
            return (t1 - t0) / 1000.0;
        } finally {
            Libc.close(reader);
        }
    }
}
