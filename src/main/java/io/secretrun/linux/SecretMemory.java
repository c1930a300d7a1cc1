package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.secretrun.secret.SecretBytes;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * A secret kept outside the Java heap for as long as the app may read it again ({@code serve=app}): one anonymous
 * private mapping of its own, {@code mlock}ed so it is not swapped out (where {@code RLIMIT_MEMLOCK} allows),
 * excluded from core dumps ({@code MADV_DONTDUMP}) and from the address space of any process this one forks
 * ({@code MADV_DONTFORK}). The bytes are copied in once; they leave only through write(2) from the mapping to a
 * descriptor, never back into a Java array (the heap is moved by the GC and may be dumped; this mapping is not).
 *
 * <p>{@link #close} zeroes the mapping and unmaps it; afterwards the segment is unusable (its arena is closed).
 * Writes and close are serialised, so close never unmaps under a write: give {@link #write} a non-blocking
 * descriptor when another thread may close this meanwhile.
 */
public final class SecretMemory implements AutoCloseable {
    // mmap(2) and madvise(2) constants, the same on x86_64 and aarch64.
    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MADV_DONTFORK = 10;
    private static final int MADV_DONTDUMP = 16;
    public static final int RLIMIT_MEMLOCK = 8;

    private static final class Mmap {
        static final MethodHandle MMAP = Libc.bindWithErrno("mmap",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        static final MethodHandle MUNMAP = Libc.bindWithErrno("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle MLOCK = Libc.bindWithErrno("mlock", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        static final MethodHandle MADVISE = Libc.bindWithErrno("madvise",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    }

    private final Arena arena;
    /** The whole mapping (whole pages), for mlock, madvise, the wipe and munmap. */
    private final MemorySegment mapping;
    /** The secret's bytes: the start of the mapping. */
    private final MemorySegment content;
    private final String lockWarning;
    private boolean closed;

    private SecretMemory(Arena arena, MemorySegment mapping, long size, String lockWarning) {
        this.arena = arena;
        this.mapping = mapping;
        this.content = mapping.asSlice(0, size);
        this.lockWarning = lockWarning;
    }

    /** Copies the content of {@code secret} into a new region; the caller then wipes (closes) {@code secret}. */
    public static SecretMemory copyOf(SecretBytes secret) throws ErrnoException {
        return copyOf(secret.array(), 0, secret.length());
    }

    /** Copies {@code src[off, off+len)} into a new region; the caller then wipes the array. */
    public static SecretMemory copyOf(byte[] src, int off, int len) throws ErrnoException {
        java.util.Objects.checkFromIndexSize(off, len, src.length);
        long pages = Math.max(1, pageRound(len));
        MemorySegment state = Libc.callState();
        MemorySegment address;
        try {
            address = (MemorySegment) Mmap.MMAP.invokeExact(state, MemorySegment.NULL, pages,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            throw Libc.unexpected("mmap", t);
        }
        if (address.address() == -1L) {
            throw new ErrnoException("mmap", pages + " bytes", Libc.errno(state));
        }
        Arena arena = Arena.ofShared();
        MemorySegment mapping = address.reinterpret(pages, arena, null);
        try {
            // Before a byte of the secret is in it: a fork or a core dump from now on never sees the mapping.
            madvise(mapping, MADV_DONTDUMP, "MADV_DONTDUMP");
            madvise(mapping, MADV_DONTFORK, "MADV_DONTFORK");
            String warning = lock(mapping);
            MemorySegment.copy(src, off, mapping, JAVA_BYTE, 0, len);
            return new SecretMemory(arena, mapping, len, warning);
        } catch (ErrnoException | RuntimeException e) {
            unmap(arena, mapping);
            throw e;
        }
    }

    private static long pageRound(long n) {
        long page = 4096; // a multiple of it is all mmap needs; the kernel rounds up to its own page size
        return (n + page - 1) / page * page;
    }

    private static void madvise(MemorySegment mapping, int advice, String name) throws ErrnoException {
        MemorySegment state = Libc.callState();
        int r;
        try {
            r = (int) Mmap.MADVISE.invokeExact(state, mapping, mapping.byteSize(), advice);
        } catch (Throwable t) {
            throw Libc.unexpected("madvise", t);
        }
        if (r != 0) {
            throw new ErrnoException("madvise", name, Libc.errno(state));
        }
    }

    /** mlock(2); null when locked, else the one-line reason (the caller logs it once, as a WARN). */
    private static String lock(MemorySegment mapping) {
        MemorySegment state = Libc.callState();
        int r;
        try {
            r = (int) Mmap.MLOCK.invokeExact(state, mapping, mapping.byteSize());
        } catch (Throwable t) {
            throw Libc.unexpected("mlock", t);
        }
        if (r == 0) {
            return null;
        }
        int errno = Libc.errno(state);
        String limit;
        try {
            long soft = Libc.getrlimit(RLIMIT_MEMLOCK)[0];
            limit = soft == -1 ? "unlimited" : soft + " bytes";
        } catch (ErrnoException e) {
            limit = "unknown";
        }
        // EPERM (limit 0, no CAP_IPC_LOCK) and ENOMEM (over the limit) are RLIMIT_MEMLOCK; name it and the fix
        String why = errno == Errno.EPERM || errno == Errno.ENOMEM
                ? "RLIMIT_MEMLOCK is " + limit + ", " + mapping.byteSize() + " more needed; raise it (docker run"
                        + " --ulimit memlock=...) or grant CAP_IPC_LOCK"
                : "RLIMIT_MEMLOCK is " + limit;
        return "the secret's memory is not locked (mlock: " + Errno.describe(errno) + "; " + why
                + "): the kernel may write it to swap";
    }

    /** Whether the mapping is locked in RAM; if not, {@link #lockWarning} says why. */
    public boolean locked() {
        return lockWarning == null;
    }

    /** Why the mapping is not locked, for one WARN line; empty when it is. */
    public Optional<String> lockWarning() {
        return Optional.ofNullable(lockWarning);
    }

    /** The secret's length in bytes. */
    public long size() {
        return content.byteSize();
    }

    /**
     * One write(2) of the content from {@code offset} on, straight from the mapping.
     *
     * @return the bytes written, or {@code -errno} ({@code -EAGAIN} on a full non-blocking pipe, {@code -EPIPE}
     *     when the reader went away, {@code -EINTR})
     * @throws IllegalStateException when closed
     */
    public synchronized long write(int fd, long offset) {
        if (closed) {
            throw new IllegalStateException("secret memory closed");
        }
        return Libc.writeOrErrno(fd, content.asSlice(offset));
    }

    /**
     * Writes the whole content to a blocking descriptor (EINTR retried, partial writes continued).
     *
     * @throws ErrnoException for any other error (e.g. EPIPE: the reader closed early)
     */
    public void writeAll(int fd) throws ErrnoException {
        long offset = 0;
        while (offset < size()) {
            long n = write(fd, offset);
            if (n == -Errno.EINTR) {
                continue;
            }
            if (n < 0) {
                throw new ErrnoException("write", "fd " + fd, (int) -n);
            }
            offset += n;
        }
    }

    /** Zeroes the mapping and unmaps it. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        unmap(arena, mapping);
    }

    /** The mapping's start address, for tests that look it up in /proc/self/smaps. */
    long address() {
        return mapping.address();
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    private static void unmap(Arena arena, MemorySegment mapping) {
        // fill is a store into native memory the munmap below hands back to the kernel: it cannot be elided
        mapping.fill((byte) 0);
        long address = mapping.address();
        long size = mapping.byteSize();
        arena.close(); // every view of the mapping is unusable from here on
        MemorySegment state = Libc.callState();
        int r;
        try {
            r = (int) Mmap.MUNMAP.invokeExact(state, MemorySegment.ofAddress(address), size);
        } catch (Throwable t) {
            throw Libc.unexpected("munmap", t);
        }
        if (r != 0) {
            // only EINVAL for a bad range, which would be a bug here; the content is zeroed either way
            throw new IllegalStateException("munmap: " + Errno.describe(Libc.errno(state)));
        }
    }

    @Override
    public String toString() {
        return "SecretMemory[" + content.byteSize() + " bytes" + (locked() ? ", locked" : "") + "]";
    }
}
