package io.secretrun.openpgp;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.bouncycastle.bcpg.AEADEncDataPacket;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricEncIntegrityPacket;
import org.bouncycastle.bcpg.SymmetricKeyEncSessionPacket;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPSessionKey;
import org.bouncycastle.openpgp.operator.PBEDataDecryptorFactory;
import org.bouncycastle.openpgp.operator.PGPDataDecryptor;
import org.bouncycastle.openpgp.operator.bc.BcPBEDataDecryptorFactory;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;

import io.secretrun.secret.SecretBytes;

/**
 * Bouncy Castle's PBE decryptor factory with two changes: the key is derived from the passphrase's raw bytes by
 * our {@link S2kDeriver} (byte-exact with gpg, and faster), and a recovered session key that cannot be right is
 * reported as {@link WrongPassphrase} instead of some generic failure, so the caller can tell "wrong passphrase"
 * (exit 77) from "corrupt message" (exit 65). Everything else (the ciphers, CFB, AEAD) is Bouncy Castle's, through
 * the lightweight API, which has every cipher gpg offers without registering a JCA provider.
 */
final class RawPassphraseDecryptorFactory extends PBEDataDecryptorFactory implements AutoCloseable {
    /** Signals that the passphrase does not open a session key; never carries a secret. */
    static final class WrongPassphrase extends PGPException {
        WrongPassphrase() {
            super("wrong passphrase");
        }
    }

    private final SecretBytes passphrase;
    private final KdfLimits.Budget budget;
    private final BcPBEDataDecryptorFactory delegate;
    /** Keys we derived and handed to Bouncy Castle; wiped on close. Its own copies are out of our reach. */
    private final List<byte[]> derived = new ArrayList<>();
    /** The S2K of the last passphrase packet tried; the session key of the data last opened (the message's). */
    private S2K lastS2k;
    private final SessionKeyCapture sessionKey;

    /** The launch's keys derived from this passphrase, shared by its secrets (see {@link DerivedKeys}). */
    private final DerivedKeys cache;

    /**
     * Every key derivation is charged to {@code budget} first (the packets' S2Ks are unauthenticated), unless
     * {@code cache} already holds the key: a derivation not done costs nothing.
     */
    RawPassphraseDecryptorFactory(SecretBytes passphrase, KdfLimits.Budget budget, SessionKeyCapture sessionKey,
            DerivedKeys cache) {
        // The char[] passphrase of the superclass is never used: we override the only method that reads it.
        super(new char[0], new BcPGPDigestCalculatorProvider());
        this.passphrase = passphrase;
        this.budget = budget;
        this.sessionKey = sessionKey;
        this.delegate = new BcPBEDataDecryptorFactory(new char[0], new BcPGPDigestCalculatorProvider());
        this.cache = java.util.Objects.requireNonNull(cache);
    }

    @Override
    public byte[] makeKeyFromPassPhrase(int keyAlgorithm, S2K s2k) throws PGPException {
        int keyLength = Ciphers.keyLength(keyAlgorithm);
        if (keyLength < 0) {
            throw new UnsupportedInput("unsupported cipher algorithm " + keyAlgorithm);
        }
        lastS2k = s2k;
        byte[] key = cache.derive(s2k, passphrase.array(), passphrase.length(), keyLength, budget);
        derived.add(key);
        return key;
    }

    @Override
    public byte[] recoverSessionData(int keyAlgorithm, byte[] key, byte[] secKeyData) throws PGPException {
        byte[] sessionData = delegate.recoverSessionData(keyAlgorithm, key, secKeyData);
        derived.add(sessionData);
        if (secKeyData != null && secKeyData.length > 0) {
            // An encrypted session key decrypted with the wrong key is noise: its first byte must name a cipher
            // whose key length matches the rest. (Without an encrypted session key, the quick-check bytes at the
            // start of the encrypted data tell instead; Bouncy Castle checks those.)
            int algorithm = sessionData.length == 0 ? -1 : sessionData[0] & 0xff;
            if (!Ciphers.isSupported(algorithm) || Ciphers.keyLength(algorithm) != sessionData.length - 1) {
                throw new WrongPassphrase();
            }
        }
        return sessionData;
    }

    @Override
    public byte[] recoverAEADEncryptedSessionData(SymmetricKeyEncSessionPacket keyData, byte[] ikm)
            throws PGPException {
        try {
            byte[] sessionKey = delegate.recoverAEADEncryptedSessionData(keyData, ikm);
            derived.add(sessionKey);
            return sessionKey;
        } catch (PGPException e) {
            // The encrypted session key is authenticated: a failed tag means the key derived from the
            // passphrase is wrong (or the packet is damaged, which looks the same from here, as in gpg).
            if (e.getCause() instanceof InvalidCipherTextException) {
                throw new WrongPassphrase();
            }
            throw e;
        }
    }

    @Override
    public PGPDataDecryptor createDataDecryptor(boolean withIntegrityPacket, int encAlgorithm, byte[] key)
            throws PGPException {
        sessionKey.record(encAlgorithm, key);
        return delegate.createDataDecryptor(withIntegrityPacket, encAlgorithm, key);
    }

    @Override
    public PGPDataDecryptor createDataDecryptor(AEADEncDataPacket aeadEncDataPacket, PGPSessionKey sessionKey)
            throws PGPException {
        this.sessionKey.record(sessionKey);
        return delegate.createDataDecryptor(aeadEncDataPacket, sessionKey);
    }

    @Override
    public PGPDataDecryptor createDataDecryptor(SymmetricEncIntegrityPacket seipd, PGPSessionKey sessionKey)
            throws PGPException {
        this.sessionKey.record(sessionKey);
        return delegate.createDataDecryptor(seipd, sessionKey);
    }

    /** The S2K of the passphrase packet tried last: once a packet opened, the one that did. */
    S2K lastS2k() {
        return lastS2k;
    }

    /** Wipes the keys we derived (not the passphrase: the caller owns it). */
    @Override
    public void close() {
        for (byte[] key : derived) {
            Arrays.fill(key, (byte) 0);
        }
        derived.clear();
    }
}
