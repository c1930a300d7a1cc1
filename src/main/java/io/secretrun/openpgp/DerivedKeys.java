package io.secretrun.openpgp;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.openpgp.PGPException;

/**
 * Keys derived from one passphrase, kept while a launch decrypts several secrets: secrets encrypted with the same
 * S2K parameters (type, hash, salt, count, Argon2 parameters) and key length pay the key derivation once. Owned by
 * {@link DecryptionKeys} (one passphrase, one launch); nothing is kept across launches; {@link #close} wipes every
 * key.
 *
 * <p>The {@link KdfLimits} budget bounds work done, so only a derivation actually run is charged: a key served
 * from here costs nothing, in the decryption that derived it or any later one. The bounds stay per message (each
 * decryption has its own budget and packet counts); the cache can only lower what a message costs, never raise it,
 * and a cached key was derived within the same limits (memory bound included), as every launch uses one set.
 */
final class DerivedKeys implements AutoCloseable {
    private record Parameters(int type, int hash, String salt, long count, int passes, int parallelism, int memory,
            int keyLength) {
    }

    private final Map<Parameters, byte[]> keys = new HashMap<>();
    private int derivations;

    /**
     * A copy of the key for these parameters (the caller wipes it), derived on first use and charged to
     * {@code budget} then (before any work; over a bound, nothing is derived or kept).
     */
    synchronized byte[] derive(S2K s2k, byte[] pass, int passLength, int keyLength, KdfLimits.Budget budget)
            throws PGPException {
        byte[] salt = s2k.getIV();
        Parameters p = new Parameters(s2k.getType(), s2k.getHashAlgorithm(),
                salt == null ? "" : java.util.HexFormat.of().formatHex(salt),
                s2k.getType() == S2K.SALTED_AND_ITERATED ? s2k.getIterationCount() : 0,
                s2k.getPasses(), s2k.getParallelism(), s2k.getMemorySizeExponent(), keyLength);
        byte[] key = keys.get(p);
        if (key == null) {
            key = S2kDeriver.deriveKey(s2k, pass, passLength, keyLength, budget);
            keys.put(p, key);
            derivations++;
        }
        return key.clone();
    }

    /** How many keys were derived (not served from the cache). */
    synchronized int derivations() {
        return derivations;
    }

    @Override
    public synchronized void close() {
        for (byte[] key : keys.values()) {
            Arrays.fill(key, (byte) 0);
        }
        keys.clear();
    }
}
