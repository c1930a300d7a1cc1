package io.secretrun.openpgp;

import java.security.SecureRandom;
import java.util.Arrays;

import org.bouncycastle.bcpg.ContainedPacket;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricKeyEncSessionPacket;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.operator.PBEKeyEncryptionMethodGenerator;
import org.bouncycastle.openpgp.operator.PGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPBEKeyEncryptionMethodGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;

import io.secretrun.secret.SecretBytes;

/**
 * Writes what {@code gpg --symmetric} writes: a v4 SKESK with no encrypted session key, so the S2K output is the
 * message key, derived from the passphrase's raw bytes by our {@link S2kDeriver}. Bouncy Castle takes that path
 * ("direct S2K") for a single {@link PBEKeyEncryptionMethodGenerator}; we override the two methods that derive
 * the key and write the packet, because its own versions re-encode a {@code char[]} passphrase as UTF-8. Beside
 * public-key recipients (as {@code gpg --symmetric --encrypt}) the message has a random session key, which the
 * SKESK then carries encrypted with the S2K output (Bouncy Castle's CFB session key encryption).
 */
final class RawPassphraseKeyEncryptionMethod extends BcPBEKeyEncryptionMethodGenerator implements AutoCloseable {
    private final SecretBytes passphrase;
    private final int s2kDigest;
    private final int codedCount;
    private final SecureRandom random;
    private S2K s2k;
    private int keyAlgorithm = -1;
    private byte[] key;

    RawPassphraseKeyEncryptionMethod(SecretBytes passphrase, int s2kDigest, int codedCount, SecureRandom random)
            throws PGPException {
        // The superclass's passphrase and digest are never used: getKey and generate below replace their users.
        super(new char[0], new BcPGPDigestCalculatorProvider().get(s2kDigest), codedCount);
        this.passphrase = passphrase;
        this.s2kDigest = s2kDigest;
        this.codedCount = codedCount;
        this.random = random;
    }

    @Override
    public byte[] getKey(int encAlgorithm) throws PGPException {
        if (key != null) {
            if (encAlgorithm != keyAlgorithm) {
                throw new PGPException("key requested for a second cipher");
            }
            return key;
        }
        byte[] salt = new byte[8];
        random.nextBytes(salt);
        s2k = S2K.saltedAndIteratedS2K(s2kDigest, salt, codedCount);
        keyAlgorithm = encAlgorithm;
        key = S2kDeriver.deriveKey(s2k, passphrase.array(), passphrase.length(), Ciphers.keyLength(encAlgorithm));
        return key;
    }

    @Override
    public ContainedPacket generate(PGPDataEncryptorBuilder dataEncryptorBuilder, byte[] sessionKey)
            throws PGPException {
        int algorithm = dataEncryptorBuilder.getAlgorithm();
        if (dataEncryptorBuilder.getAeadAlgorithm() > 0) {
            throw new PGPException("only v4 passphrase packets are written");
        }
        if (sessionKey == null) {
            if (s2k == null || algorithm != keyAlgorithm) {
                throw new PGPException("direct S2K without the key derived for the message's cipher");
            }
            return SymmetricKeyEncSessionPacket.createV4Packet(keyAlgorithm, s2k, null);
        }
        byte[] kek = getKey(algorithm);
        byte[] sessionInfo = org.bouncycastle.util.Arrays.prepend(sessionKey, (byte) algorithm);
        try {
            return SymmetricKeyEncSessionPacket.createV4Packet(algorithm, s2k,
                    encryptSessionInfo(algorithm, kek, sessionInfo));
        } finally {
            Arrays.fill(sessionInfo, (byte) 0);
        }
    }

    @Override
    protected byte[] getEskAndTag(int kekAlgorithm, int aeadAlgorithm, byte[] sessionKey, byte[] key, byte[] iv,
            byte[] info) throws PGPException {
        throw new PGPException("AEAD session keys are not used");
    }

    /** Wipes the derived key (Bouncy Castle's cipher holds its own copy, out of our reach). */
    @Override
    public void close() {
        if (key != null) {
            Arrays.fill(key, (byte) 0);
        }
    }
}
