package io.secretrun.openpgp;

import io.secretrun.error.SecretRunException;

/**
 * Bounds on the work an encrypted message (or a secret key's protection) can make us do before anything is
 * authenticated: session key packets sit outside the integrity check, so whoever can write the encrypted file can
 * add packets that each cost a key derivation or a private-key operation.
 *
 * @param maxPassphrasePackets passphrase packets (SKESK) tried at most; gpg tries them in turn too, but a message we
 *                             wrote has one, and a person's has a few
 * @param maxKeyPackets        public-key packets (PKESK) for keys we hold tried at most; one for a key we do not hold
 *                             costs nothing (matched by key id or fingerprint first)
 * @param maxMemoryBytes       the largest memory one Argon2 derivation may take
 * @param maxWorkBytes         all key derivations of one decryption together: bytes hashed by iterated S2Ks plus
 *                             passes times memory of Argon2 ones
 */
public record KdfLimits(int maxPassphrasePackets, int maxKeyPackets, long maxMemoryBytes, long maxWorkBytes) {
    /** Passphrase (SKESK) and public-key (PKESK) packets tried at most. */
    public static final int MAX_PACKETS = 4;
    /**
     * The default {@code --max-kdf-memory}: 256 MiB. RFC 9580 (section 3.7.1.4) recommends Argon2 with 2 GiB (t=1,
     * p=4) or, where that much is not available, 64 MiB (t=3, p=4; Bouncy Castle's default). 256 MiB takes the second
     * with room to spare and fits a container of 512 MiB beside an app; the first needs {@code --max-kdf-memory 2GiB}
     * (and a JVM that may use more than 4 GiB).
     */
    public static final long DEFAULT_MAX_MEMORY = 256L << 20;
    /** Hard upper bound whatever the option says: Argon2's memory exponent 21 (2 GiB), the RFC's first setting. */
    static final long ABSOLUTE_MAX_MEMORY = 2L << 30;

    public KdfLimits {
        if (maxPassphrasePackets < 1 || maxKeyPackets < 1 || maxMemoryBytes < 1 || maxWorkBytes < 1) {
            throw new IllegalArgumentException("KDF limits must be positive");
        }
    }

    public static KdfLimits defaults() {
        return withMaxMemory(DEFAULT_MAX_MEMORY);
    }

    /**
     * The limits for a {@code --max-kdf-memory} of {@code maxMemoryBytes}; the total work allowed is four such
     * derivations (e.g. four passes over that memory, or four of gpg's largest iterated S2Ks and more).
     */
    public static KdfLimits withMaxMemory(long maxMemoryBytes) {
        long memory = Math.min(maxMemoryBytes, ABSOLUTE_MAX_MEMORY);
        return new KdfLimits(MAX_PACKETS, MAX_PACKETS, memory, Math.max(4 * memory, 4 * S2kDeriver.MAX_COUNT));
    }

    /** The running total of one decryption, charged before each derivation. */
    Budget budget() {
        return new Budget(this);
    }

    /** Charges each key derivation against {@link KdfLimits} before it starts. Not thread-safe: one per decryption. */
    static final class Budget {
        private final KdfLimits limits;
        private long spent;

        private Budget(KdfLimits limits) {
            this.limits = limits;
        }

        /** An Argon2 derivation of {@code memoryBytes} and {@code passes}; throws when over a bound. */
        void chargeArgon2(long memoryBytes, int passes) throws BoundExceeded {
            if (memoryBytes > limits.maxMemoryBytes) {
                throw new BoundExceeded("an Argon2 key derivation asks for " + mib(memoryBytes) + " of memory, "
                        + "more than --max-kdf-memory (" + mib(limits.maxMemoryBytes) + "); refusing it");
            }
            charge(memoryBytes * passes);
        }

        /** An iterated (or salted, or simple) S2K hashing {@code bytes}. */
        void chargeHashed(long bytes) throws BoundExceeded {
            charge(bytes);
        }

        private void charge(long work) throws BoundExceeded {
            if (work > limits.maxWorkBytes - spent) {
                throw new BoundExceeded("the key derivations of this input would exceed the total key-derivation "
                        + "budget (" + mib(limits.maxWorkBytes) + " of work, 4 x --max-kdf-memory); refusing it");
            }
            spent += work;
        }

        private static String mib(long bytes) {
            return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
        }
    }

    /** A bound of these limits was reached: the decryption ends at once (65), whatever packets remain. */
    static final class BoundExceeded extends UnsupportedInput {
        BoundExceeded(String message) {
            super(message);
        }
    }

    /** Checks a user-given memory bound. */
    public static void checkMaxMemory(long bytes) throws SecretRunException {
        if (bytes < (64L << 10)) {
            throw SecretRunException.usage("--max-kdf-memory must be at least 64KiB");
        }
    }
}
