package io.secretrun.openpgp;

import java.util.Arrays;

import org.bouncycastle.openpgp.PGPSessionKey;

import io.secretrun.secret.SecretBytes;

/**
 * The session key Bouncy Castle opened the encrypted data with, recorded where it hands the key to the data
 * decryptor (for a passphrase and for a public key alike): its cipher for {@link MessageParameters}, and a copy of
 * the key for {@code edit}, which writes new content under the same session key. The copy is wiped on
 * {@link #close} unless {@link #take taken}. The last record wins: a packet that fails afterwards is followed by
 * the next one's record, so once the message opened, the record is the one that opened it.
 */
final class SessionKeyCapture implements AutoCloseable {
    private int algorithm = -1;
    private byte[] key;

    void record(int algorithm, byte[] key) {
        wipe();
        this.algorithm = algorithm;
        this.key = key == null ? null : key.clone();
    }

    void record(PGPSessionKey sessionKey) {
        byte[] copy = sessionKey.getKey(); // Bouncy Castle hands out a copy: ours to wipe
        try {
            record(sessionKey.getAlgorithm(), copy);
        } finally {
            Arrays.fill(copy, (byte) 0);
        }
    }

    /** The cipher of the encrypted data; -1 before it was opened. */
    int algorithm() {
        return algorithm;
    }

    /** The session key, now the caller's to wipe; null if none was recorded. */
    SecretBytes take() {
        byte[] taken = key;
        key = null;
        return taken == null ? null : SecretBytes.wrap(taken);
    }

    private void wipe() {
        if (key != null) {
            Arrays.fill(key, (byte) 0);
            key = null;
        }
    }

    @Override
    public void close() {
        wipe();
    }
}
