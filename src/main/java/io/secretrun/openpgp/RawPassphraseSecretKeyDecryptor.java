package io.secretrun.openpgp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.operator.PBESecretKeyDecryptor;
import org.bouncycastle.openpgp.operator.bc.BcPBESecretKeyDecryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;

import io.secretrun.secret.SecretBytes;

/**
 * Unlocks a passphrase-protected secret key with the passphrase's RAW bytes (as gpg-agent does), through our
 * {@link S2kDeriver} and charged to the decryption's {@link KdfLimits.Budget}: the S2K of a key file is as
 * unauthenticated as a message's. Bouncy Castle's own decryptor takes a {@code char[]} and re-encodes it; only its
 * cipher part (CFB or AEAD over the key material) is used here.
 */
final class RawPassphraseSecretKeyDecryptor extends PBESecretKeyDecryptor implements AutoCloseable {
    private final SecretBytes passphrase;
    private final KdfLimits.Budget budget;
    private final PBESecretKeyDecryptor delegate;
    private final List<byte[]> derived = new ArrayList<>();

    RawPassphraseSecretKeyDecryptor(SecretBytes passphrase, KdfLimits.Budget budget) {
        super(new char[0], new BcPGPDigestCalculatorProvider());
        this.passphrase = passphrase;
        this.budget = budget;
        this.delegate = new BcPBESecretKeyDecryptorBuilder(new BcPGPDigestCalculatorProvider()).build(new char[0]);
    }

    @Override
    public byte[] makeKeyFromPassPhrase(int keyAlgorithm, S2K s2k) throws PGPException {
        int keyLength = Ciphers.keyLength(keyAlgorithm);
        if (keyLength < 0) {
            throw new UnsupportedInput("the secret key is protected with an unsupported cipher (" + keyAlgorithm + ")");
        }
        byte[] key = S2kDeriver.deriveKey(s2k, passphrase.array(), passphrase.length(), keyLength, budget);
        derived.add(key);
        return key;
    }

    @Override
    public byte[] recoverKeyData(int encAlgorithm, byte[] key, byte[] iv, byte[] keyData, int keyOff, int keyLen)
            throws PGPException {
        return delegate.recoverKeyData(encAlgorithm, key, iv, keyData, keyOff, keyLen);
    }

    @Override
    public byte[] recoverKeyData(int encAlgorithm, int aeadAlgorithm, byte[] s2kKey, byte[] iv, int packetTag,
            int keyVersion, byte[] keyData, byte[] pubkeyData) throws PGPException {
        return delegate.recoverKeyData(encAlgorithm, aeadAlgorithm, s2kKey, iv, packetTag, keyVersion, keyData,
                pubkeyData);
    }

    /** Wipes the keys we derived (Bouncy Castle's copies of the key material are out of our reach). */
    @Override
    public void close() {
        derived.forEach(k -> Arrays.fill(k, (byte) 0));
        derived.clear();
    }
}
