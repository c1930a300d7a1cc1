package io.secretrun.openpgp;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.openpgp.PGPException;

/**
 * Keys derived from one passphrase, kept while a launch decrypts several secrets: secrets encrypted with the same
 * S2K parameters (type, hash, salt, count, Argon2 parameters) and key length pay the key derivation once. Nothing
 * is kept across launches; {@link #close} wipes every key.
 */
public final class DerivedKeys implements AutoCloseable {
    private record Parameters(int type, int hash, String salt, long count, int passes, int parallelism, int memory,
            int keyLength) {
    }

    private final Map<Parameters, byte[]> keys = new HashMap<>();
    private int derivations;

    /** A copy of the key for these parameters (the caller wipes it), derived on first use. */
    synchronized byte[] derive(S2K s2k, byte[] pass, int passLength, int keyLength) throws PGPException {
        byte[] salt = s2k.getIV();
        Parameters p = new Parameters(s2k.getType(), s2k.getHashAlgorithm(),
                salt == null ? "" : java.util.HexFormat.of().formatHex(salt),
                s2k.getType() == S2K.SALTED_AND_ITERATED ? s2k.getIterationCount() : 0,
                s2k.getPasses(), s2k.getParallelism(), s2k.getMemorySizeExponent(), keyLength);
        byte[] key = keys.get(p);
        if (key == null) {
            key = S2kDeriver.deriveKey(s2k, pass, passLength, keyLength);
            keys.put(p, key);
            derivations++;
        }
        return key.clone();
    }

    /** How many keys were derived (not served from the cache). */
    public synchronized int derivations() {
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
