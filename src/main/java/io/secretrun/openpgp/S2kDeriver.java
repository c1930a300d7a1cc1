package io.secretrun.openpgp;

import io.secretrun.linux.NativeDigest;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Optional;

import io.secretrun.log.StartupTimer;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.bouncycastle.openpgp.PGPException;

/**
 * OpenPGP string-to-key (RFC 4880 section 3.7.1, RFC 9580 section 3.7.1) over the passphrase's RAW bytes.
 *
 * <p>Why our own: Bouncy Castle takes the passphrase as {@code char[]} and re-encodes it as UTF-8, so a
 * passphrase that is not valid UTF-8 would derive a different key than gpg derives from the same bytes. And its
 * iterated S2K feeds the digest a salt and a passphrase at a time; at gpg's maximum count (65011712 bytes) that
 * costs about three times more than hashing the same repeating pattern in 64 KiB {@code update} calls, as here.
 *
 * <p>Argon2 (RFC 9580) is delegated to Bouncy Castle's Argon2 primitive, which accepts raw bytes, with its cost
 * parameters bounded first: they come from the unauthenticated packet.
 */
final class S2kDeriver {
    /** Size of the precomputed salt||passphrase pattern block fed to the digest per update call. */
    private static final int PATTERN_BLOCK = 64 * 1024;
    /** The same for libcrypto: fewer, larger native calls (each costs microseconds while still interpreted). */
    private static final int NATIVE_BLOCK = 256 * 1024;
    /** Largest Argon2 memory exponent we accept: 2^21 KiB = 2 GiB, RFC 9580's first recommended setting. */
    static final int MAX_ARGON2_MEMORY_EXPONENT = 21;
    private static final int MAX_ARGON2_PASSES = 10;
    private static final int MAX_ARGON2_PARALLELISM = 16;
    /** Smallest and largest byte counts the one-octet iterated S2K encoding can express. */
    static final long MIN_COUNT = 1024;
    static final long MAX_COUNT = 65011712;

    private S2kDeriver() {
    }

    /**
     * Derives {@code keyLength} bytes from the first {@code passLength} bytes of {@code pass} as {@code s2k}
     * describes, within the default {@link KdfLimits} (for tests and our own encryption). The caller wipes the result.
     */
    static byte[] deriveKey(S2K s2k, byte[] pass, int passLength, int keyLength) throws PGPException {
        return deriveKey(s2k, pass, passLength, keyLength, KdfLimits.defaults().budget());
    }

    /** As above, charged to {@code budget} before any work: the S2K comes from an unauthenticated packet. */
    static byte[] deriveKey(S2K s2k, byte[] pass, int passLength, int keyLength, KdfLimits.Budget budget)
            throws PGPException {
        StartupTimer.mark("decrypt-setup");
        try {
            return deriveKeyTimed(s2k, pass, passLength, keyLength, budget);
        } finally {
            StartupTimer.mark("s2k");
        }
    }

    private static byte[] deriveKeyTimed(S2K s2k, byte[] pass, int passLength, int keyLength, KdfLimits.Budget budget)
            throws PGPException {
        if (s2k.getType() == S2K.ARGON_2) {
            return argon2(s2k, pass, passLength, keyLength, budget);
        }
        byte[] salt = switch (s2k.getType()) {
            case S2K.SIMPLE -> new byte[0];
            case S2K.SALTED, S2K.SALTED_AND_ITERATED -> s2k.getIV();
            default -> throw new UnsupportedInput("unsupported S2K type " + s2k.getType());
        };
        long count = s2k.getType() == S2K.SALTED_AND_ITERATED ? s2k.getIterationCount() : 0;
        budget.chargeHashed(Math.max(count, salt.length + passLength));
        return hashS2k(s2k.getHashAlgorithm(), salt, count, pass, passLength, keyLength);
    }

    /**
     * The hash-based S2K. {@code count == 0} means "hash salt||passphrase once" (simple and salted S2K);
     * otherwise {@code count} bytes of the repeating salt||passphrase are hashed (at least the pattern once).
     * When the key is longer than the digest, further hash contexts each start with one more zero byte.
     */
    static byte[] hashS2k(int hashAlgorithm, byte[] salt, long count, byte[] pass, int passLength, int keyLength)
            throws PGPException {
        Optional<NativeDigest> nativeDigest = NativeDigest.open(jdkName(hashAlgorithm));
        if (nativeDigest.isPresent()) {
            return hashS2kNative(nativeDigest.get(), salt, count, pass, passLength, keyLength);
        }
        return hashS2kJdk(digest(hashAlgorithm), salt, count, pass, passLength, keyLength);
    }

    /** The JDK's MessageDigest, even where libcrypto is there: for tests and benchmarks. */
    static byte[] hashS2kJdk(int hashAlgorithm, byte[] salt, long count, byte[] pass, int passLength, int keyLength)
            throws PGPException {
        return hashS2kJdk(digest(hashAlgorithm), salt, count, pass, passLength, keyLength);
    }

    /**
     * The byte count to hash, and a block of whole salt||passphrase patterns of at most {@code maxBlock} bytes
     * (at least one pattern), so consecutive updates of the block continue the sequence seamlessly. The caller
     * wipes the block.
     */
    private static byte[] patternBlock(byte[] salt, byte[] pass, int passLength, long total, int maxBlock) {
        int patternLength = salt.length + passLength;
        long neededRepeats = patternLength == 0 ? 1 : (total + patternLength - 1) / patternLength;
        int repeats = (int) Math.max(1, Math.min(maxBlock / Math.max(1, patternLength), neededRepeats));
        byte[] block = new byte[patternLength * repeats];
        System.arraycopy(salt, 0, block, 0, salt.length);
        System.arraycopy(pass, 0, block, salt.length, passLength);
        // doubling copies: a handful of arraycopy calls instead of one pair per pattern
        for (int filled = patternLength; filled > 0 && filled < block.length; filled *= 2) {
            System.arraycopy(block, 0, block, filled, Math.min(filled, block.length - filled));
        }
        return block;
    }

    private static byte[] hashS2kJdk(MessageDigest md, byte[] salt, long count, byte[] pass, int passLength,
            int keyLength) {
        long total = Math.max(count, salt.length + passLength);
        byte[] block = patternBlock(salt, pass, passLength, total, PATTERN_BLOCK);
        byte[] key = new byte[keyLength];
        try {
            byte[] zeros = new byte[keyLength]; // at most keyLength preload bytes are ever needed
            for (int generated = 0, context = 0; generated < keyLength; context++) {
                md.reset();
                md.update(zeros, 0, context);
                long remaining = total;
                while (remaining > 0) {
                    int n = (int) Math.min(remaining, block.length);
                    md.update(block, 0, n);
                    remaining -= n;
                }
                byte[] digest = md.digest();
                int take = Math.min(digest.length, keyLength - generated);
                System.arraycopy(digest, 0, key, generated, take);
                generated += take;
                Arrays.fill(digest, (byte) 0);
            }
            return key;
        } finally {
            Arrays.fill(block, (byte) 0);
            md.reset();
        }
    }

    /** The same through libcrypto, on native copies of the block that are wiped before the arena frees them. */
    private static byte[] hashS2kNative(NativeDigest nd, byte[] salt, long count, byte[] pass, int passLength,
            int keyLength) {
        long total = Math.max(count, salt.length + passLength);
        byte[] heapBlock = patternBlock(salt, pass, passLength, total, NATIVE_BLOCK);
        byte[] key = new byte[keyLength];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(Math.max(1, heapBlock.length));
            MemorySegment context = arena.allocate(NativeDigest.CONTEXT_BYTES);
            MemorySegment digest = arena.allocate(nd.digestLength());
            MemorySegment zeros = arena.allocate(Math.max(1, keyLength)); // allocate() zeroes
            try {
                MemorySegment.copy(heapBlock, 0, block, ValueLayout.JAVA_BYTE, 0, heapBlock.length);
                Arrays.fill(heapBlock, (byte) 0);
                for (int generated = 0, preload = 0; generated < keyLength; preload++) {
                    nd.init(context);
                    nd.update(context, zeros, preload);
                    long remaining = total;
                    while (remaining > 0) {
                        long n = Math.min(remaining, heapBlock.length);
                        nd.update(context, block, n);
                        remaining -= n;
                    }
                    nd.finish(context, digest);
                    int take = Math.min(nd.digestLength(), keyLength - generated);
                    MemorySegment.copy(digest, ValueLayout.JAVA_BYTE, 0, key, generated, take);
                    generated += take;
                }
                return key;
            } finally {
                NativeDigest.wipe(block);
                NativeDigest.wipe(context);
                NativeDigest.wipe(digest);
            }
        } finally {
            Arrays.fill(heapBlock, (byte) 0);
        }
    }

    /** The JDK's name of an OpenPGP hash algorithm, for the native lookup; null when it has none there. */
    private static String jdkName(int hashAlgorithm) {
        return switch (hashAlgorithm) {
            case HashAlgorithmTags.SHA1 -> "SHA-1";
            case HashAlgorithmTags.SHA224 -> "SHA-224";
            case HashAlgorithmTags.SHA256 -> "SHA-256";
            case HashAlgorithmTags.SHA384 -> "SHA-384";
            case HashAlgorithmTags.SHA512 -> "SHA-512";
            default -> "none";
        };
    }

    private static byte[] argon2(S2K s2k, byte[] pass, int passLength, int keyLength, KdfLimits.Budget budget)
            throws PGPException {
        int m = s2k.getMemorySizeExponent();
        int p = s2k.getParallelism();
        int t = s2k.getPasses();
        if (p < 1 || p > MAX_ARGON2_PARALLELISM || t < 1 || t > MAX_ARGON2_PASSES
                || m < 3 + (32 - Integer.numberOfLeadingZeros(p - 1)) || m > MAX_ARGON2_MEMORY_EXPONENT) {
            throw new UnsupportedInput("Argon2 S2K parameters out of the accepted range");
        }
        budget.chargeArgon2(1024L << m, t);
        // Refuse up front what this JVM cannot hold rather than failing half-way with an OutOfMemoryError.
        if ((1024L << m) > Runtime.getRuntime().maxMemory() / 2) {
            throw new UnsupportedInput("Argon2 S2K memory cost of " + (1L << m) / 1024 + " MiB is more than this JVM may use");
        }
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withSalt(s2k.getIV())
                .withIterations(t)
                .withParallelism(p)
                .withMemoryPowOfTwo(m)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .build();
        byte[] exactPass = Arrays.copyOf(pass, passLength);
        try {
            Argon2BytesGenerator generator = new Argon2BytesGenerator();
            generator.init(params);
            byte[] key = new byte[keyLength];
            generator.generateBytes(exactPass, key);
            return key;
        } finally {
            Arrays.fill(exactPass, (byte) 0);
            params.clear();
        }
    }

    /** A fresh digest for an OpenPGP hash algorithm id; RIPEMD-160 comes from Bouncy Castle (the JDK lacks it). */
    static MessageDigest digest(int hashAlgorithm) throws PGPException {
        try {
            return switch (hashAlgorithm) {
                case HashAlgorithmTags.MD5 -> MessageDigest.getInstance("MD5");
                case HashAlgorithmTags.SHA1 -> MessageDigest.getInstance("SHA-1");
                case HashAlgorithmTags.RIPEMD160 -> new org.bouncycastle.jcajce.provider.digest.RIPEMD160.Digest();
                case HashAlgorithmTags.SHA224 -> MessageDigest.getInstance("SHA-224");
                case HashAlgorithmTags.SHA256 -> MessageDigest.getInstance("SHA-256");
                case HashAlgorithmTags.SHA384 -> MessageDigest.getInstance("SHA-384");
                case HashAlgorithmTags.SHA512 -> MessageDigest.getInstance("SHA-512");
                case HashAlgorithmTags.SHA3_256 -> MessageDigest.getInstance("SHA3-256");
                case HashAlgorithmTags.SHA3_512 -> MessageDigest.getInstance("SHA3-512");
                default -> throw new UnsupportedInput("unsupported S2K hash algorithm " + hashAlgorithm);
            };
        } catch (NoSuchAlgorithmException e) {
            throw new UnsupportedInput("S2K hash algorithm " + hashAlgorithm + " is not available in this JVM");
        }
    }

    /** The one-octet coded count as gpg encodes it: the smallest encodable count at or above {@code count}. */
    static int encodeCount(long count) {
        if (count <= MIN_COUNT) {
            return 0;
        }
        if (count >= MAX_COUNT) {
            return 255;
        }
        int c = 0;
        long mantissa = count >> 6;
        while (mantissa >= 32) {
            mantissa >>= 1;
            c++;
        }
        int coded = (c << 4) | (int) (mantissa - 16);
        if (decodeCount(coded) < count) {
            coded++;
        }
        return coded;
    }

    /** RFC 4880 section 3.7.1.3: the byte count a coded count stands for. */
    static long decodeCount(int coded) {
        return (16L + (coded & 15)) << ((coded >> 4) + 6);
    }
}
