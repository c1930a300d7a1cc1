package io.secretrun.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * SHA-1 and SHA-2 from the system's OpenSSL {@code libcrypto} (its {@code SHAxxx_Init/Update/Final} functions), for
 * the iterated S2K only: 65 MB hashed once per launch.
 *
 * <p>Why: the JDK's SHA-512 is fast only once the JIT has compiled it with its CPU intrinsic, which in a fresh JVM
 * takes a few hundred milliseconds of the S2K itself (and longer on a busy machine, where the compiler threads wait
 * for a CPU). libcrypto's assembly runs at full speed from the first byte, as gpg's libgcrypt does.
 *
 * <p>Optional by design: {@link #open} returns empty when no libcrypto 3 or 1.1 is installed (e.g. a slim image),
 * when a symbol is missing, or when {@code -Dsecretrun.nativeDigest=false} is set; the caller then uses the JDK's
 * {@code MessageDigest}, which gives the same bytes. The library is found through the dynamic loader's usual search
 * (ld.so.cache, {@code LD_LIBRARY_PATH}): whoever sets those controls the JVM's own libraries already.
 *
 * <p>Buffers are native and owned by the caller's arena; the caller wipes them ({@link #wipe}).
 */
public final class NativeDigest {
    /** Larger than any of OpenSSL's SHA_CTX (96 bytes), SHA256_CTX (112) and SHA512_CTX (216). */
    public static final long CONTEXT_BYTES = 256;
    private static final String[] LIBRARIES = {"libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so"};

    private final MethodHandle init;
    private final MethodHandle update;
    private final MethodHandle finish;
    private final int digestLength;

    private NativeDigest(MethodHandle init, MethodHandle update, MethodHandle finish, int digestLength) {
        this.init = init;
        this.update = update;
        this.finish = finish;
        this.digestLength = digestLength;
    }

    /** The library, looked up once; empty when there is none or native digests are switched off. */
    private static final class Library {
        static final SymbolLookup LOOKUP = find();

        private static SymbolLookup find() {
            if (!Boolean.parseBoolean(System.getProperty("secretrun.nativeDigest", "true"))) {
                return null;
            }
            for (String name : LIBRARIES) {
                try {
                    return SymbolLookup.libraryLookup(name, Arena.global());
                } catch (IllegalArgumentException | IllegalCallerException | UnsatisfiedLinkError e) {
                    // not installed under this name: try the next
                }
            }
            return null;
        }
    }

    /**
     * The native implementation of the JDK algorithm {@code jdkName} ("SHA-1", "SHA-224", "SHA-256", "SHA-384",
     * "SHA-512"), or empty (see the class comment).
     */
    public static Optional<NativeDigest> open(String jdkName) {
        String prefix;
        int length;
        switch (jdkName) {
            case "SHA-1" -> { prefix = "SHA1"; length = 20; }
            case "SHA-224" -> { prefix = "SHA224"; length = 28; }
            case "SHA-256" -> { prefix = "SHA256"; length = 32; }
            case "SHA-384" -> { prefix = "SHA384"; length = 48; }
            case "SHA-512" -> { prefix = "SHA512"; length = 64; }
            default -> { return Optional.empty(); }
        }
        try {
            SymbolLookup lib = Library.LOOKUP;
            if (lib == null) {
                return Optional.empty();
            }
            // SHA224 and SHA384 share their Update functions with SHA256 and SHA512 in OpenSSL; bind by name anyway.
            Linker linker = Linker.nativeLinker();
            MethodHandle init = linker.downcallHandle(lib.find(prefix + "_Init").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS));
            MethodHandle update = linker.downcallHandle(lib.find(prefix + "_Update").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
            MethodHandle finish = linker.downcallHandle(lib.find(prefix + "_Final").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            return Optional.of(new NativeDigest(init, update, finish, length));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty();
        }
    }

    public int digestLength() {
        return digestLength;
    }

    /** Starts a new hash in {@code context} ({@link #CONTEXT_BYTES} bytes). */
    public void init(MemorySegment context) {
        int r;
        try {
            r = (int) init.invokeExact(context);
        } catch (Throwable t) {
            throw failed(t);
        }
        check("init", r);
    }

    /** Hashes the first {@code length} bytes of {@code data}. */
    public void update(MemorySegment context, MemorySegment data, long length) {
        if (length < 0 || length > data.byteSize()) {
            throw new IndexOutOfBoundsException("length " + length + " of " + data.byteSize());
        }
        int r;
        try {
            r = (int) update.invokeExact(context, data, length);
        } catch (Throwable t) {
            throw failed(t);
        }
        check("update", r);
    }

    /** Writes the digest ({@link #digestLength} bytes) to {@code out}. */
    public void finish(MemorySegment context, MemorySegment out) {
        if (out.byteSize() < digestLength) {
            throw new IndexOutOfBoundsException("digest buffer of " + out.byteSize());
        }
        int r;
        try {
            r = (int) finish.invokeExact(out, context);
        } catch (Throwable t) {
            throw failed(t);
        }
        check("final", r);
    }

    /** Overwrites {@code segment} with zeros. */
    public static void wipe(MemorySegment segment) {
        segment.fill((byte) 0);
    }

    private static RuntimeException failed(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native digest call failed", t);
    }

    private static void check(String what, int result) {
        if (result != 1) { // OpenSSL: 1 = success
            throw new IllegalStateException("libcrypto SHA " + what + " failed");
        }
    }
}
