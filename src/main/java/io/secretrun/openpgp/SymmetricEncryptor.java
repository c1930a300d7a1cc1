package io.secretrun.openpgp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Date;
import java.util.Objects;

import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.BCPGOutputStream;
import org.bouncycastle.bcpg.ContainedPacket;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricKeyEncSessionPacket;
import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.openpgp.PGPCompressedDataGenerator;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPLiteralDataGenerator;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.operator.PGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPBEKeyEncryptionMethodGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPublicKeyKeyEncryptionMethodGenerator;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/**
 * Encrypts like {@code gpg --symmetric}, {@code gpg --encrypt -r} or both: to public-key recipients (v3 PKESKs) and/or
 * a passphrase; for a passphrase alone: v4 SKESK (iterated and salted S2K, no encrypted session key), SEIPD v1
 * with MDC (what gpg 2.2 and every later gpg read), optional compression, a binary literal packet with an empty
 * file name and time 0 (no metadata about the source file), and optionally ASCII armor without a Version header.
 */
public final class SymmetricEncryptor {
    private static final int PARTIAL_BUFFER = 1 << 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private SymmetricEncryptor() {
    }

    /** @return the encrypted message (not secret); {@code plaintext} and {@code passphrase} are not modified */
    public static byte[] encrypt(SecretBytes plaintext, SecretBytes passphrase, EncryptOptions options)
            throws SecretRunException {
        Objects.requireNonNull(passphrase, "passphrase");
        return encrypt(plaintext, passphrase, Recipients.none(), options);
    }

    /**
     * @param passphrase null for recipients only; with recipients, the message has a random session key that each
     *                   recipient's packet and the passphrase packet carry (as {@code gpg --symmetric --encrypt})
     * @return the encrypted message (not secret)
     */
    public static byte[] encrypt(SecretBytes plaintext, SecretBytes passphrase, Recipients recipients,
            EncryptOptions options) throws SecretRunException {
        Objects.requireNonNull(plaintext, "plaintext");
        Objects.requireNonNull(recipients, "recipients");
        if (passphrase == null && recipients.isEmpty()) {
            throw SecretRunException.usage("neither a passphrase nor a recipient to encrypt to");
        }
        options.validate();
        try (RawPassphraseKeyEncryptionMethod method = passphrase == null ? null
                : new RawPassphraseKeyEncryptionMethod(passphrase, options.s2kDigest(),
                        S2kDeriver.encodeCount(options.s2kCount()), RANDOM)) {
            PGPEncryptedDataGenerator encryptor = generator(options.cipherAlgorithm());
            // Bouncy Castle 1.87 defaults to a random session key wrapped in the SKESK; gpg --symmetric (and so
            // the old secret_encrypt) uses the S2K output directly, so we ask for that when there is no recipient.
            encryptor.setForceSessionKey(!recipients.isEmpty());
            for (PGPPublicKey key : recipients.keys()) {
                encryptor.addMethod(new BcPublicKeyKeyEncryptionMethodGenerator(key).setSecureRandom(RANDOM));
            }
            if (method != null) {
                encryptor.addMethod(method);
            }
            return write(plaintext, options, encryptor);
        } catch (PGPException | RuntimeException e) {
            throw new SecretRunException(ExitCode.SOFTWARE, "encryption failed unexpectedly", e);
        }
    }

    /**
     * New content for the same recipients and passphrases as a decrypted message, without their keys: the message's
     * session key packets verbatim, then the content under the same session key (SEIPD v1 with MDC, a fresh random
     * prefix). See {@link Envelope} for why this is sound. {@code options} give armor and compression; the cipher is
     * the session key's.
     *
     * @throws SecretRunException 65 when the packets cannot carry SEIPD v1 data ({@link Envelope#notReusable})
     */
    public static byte[] encryptForSameRecipients(SecretBytes plaintext, Envelope envelope, EncryptOptions options)
            throws SecretRunException {
        Objects.requireNonNull(plaintext, "plaintext");
        var reason = envelope.notReusable();
        if (reason.isPresent()) {
            throw SecretRunException.badMessage("cannot write the file again for the same recipients: "
                    + reason.get() + "; re-encrypt it with rekey --recipient");
        }
        byte[] packets = envelope.sessionPackets();
        try (KeptSessionMethod method = new KeptSessionMethod(envelope.algorithm(), envelope.sessionKey(), packets)) {
            PGPEncryptedDataGenerator encryptor = generator(envelope.algorithm());
            encryptor.setForceSessionKey(false); // one "passphrase" method: its key is the session key
            encryptor.addMethod(method);
            return write(plaintext, options, encryptor);
        } catch (PGPException | RuntimeException e) {
            throw new SecretRunException(ExitCode.SOFTWARE, "encryption failed unexpectedly", e);
        }
    }

    private static PGPEncryptedDataGenerator generator(int cipher) {
        return new PGPEncryptedDataGenerator(new BcPGPDataEncryptorBuilder(cipher)
                .setWithIntegrityPacket(true)
                .setSecureRandom(RANDOM));
    }

    /** Writes the literal (optionally compressed) through {@code encryptor}, armored if asked. */
    private static byte[] write(SecretBytes plaintext, EncryptOptions options, PGPEncryptedDataGenerator encryptor)
            throws SecretRunException {
        ByteArrayOutputStream result = new ByteArrayOutputStream(plaintext.length() / 2 + 1024);
        // The compressed packet's partial-length buffer holds compressed plaintext: ours, so we wipe it.
        byte[] compressedBuffer = new byte[PARTIAL_BUFFER];
        byte[] encryptedBuffer = new byte[PARTIAL_BUFFER];
        try {
            OutputStream target = options.armor()
                    ? ArmoredOutputStream.builder().clearHeaders().build(result)
                    : result;
            OutputStream encrypted = encryptor.open(target, encryptedBuffer);
            PGPCompressedDataGenerator compressor = null;
            OutputStream literalTarget = encrypted;
            if (options.compression() != CompressionAlgorithmTags.UNCOMPRESSED) {
                compressor = new PGPCompressedDataGenerator(options.compression());
                literalTarget = compressor.open(encrypted, compressedBuffer);
            }
            PGPLiteralDataGenerator literal = new PGPLiteralDataGenerator();
            OutputStream literalOut = literal.open(literalTarget, PGPLiteralData.BINARY, "",
                    plaintext.length(), new Date(0));
            plaintext.writeTo(literalOut);
            literal.close();
            if (compressor != null) {
                compressor.close();
            }
            encryptor.close();
            if (target != result) {
                target.close(); // writes the armor tail
            }
            return result.toByteArray();
        } catch (IOException | PGPException | RuntimeException e) {
            // Nothing here depends on the input's content, so a failure is a bug or a platform problem.
            throw new SecretRunException(ExitCode.SOFTWARE, "encryption failed unexpectedly", e);
        } finally {
            Arrays.fill(compressedBuffer, (byte) 0);
            Arrays.fill(encryptedBuffer, (byte) 0);
        }
    }

    /**
     * Bouncy Castle's "direct S2K" path (one passphrase method, no forced session key: the method's key is the
     * message key) turned to our use: the key is the kept session key, and the packet written for it is the
     * original session key packets, verbatim.
     */
    private static final class KeptSessionMethod extends BcPBEKeyEncryptionMethodGenerator implements AutoCloseable {
        private final int algorithm;
        private final SecretBytes sessionKey;
        private final byte[] packets;
        private byte[] handedOut;

        KeptSessionMethod(int algorithm, SecretBytes sessionKey, byte[] packets) throws PGPException {
            super(new char[0], new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA256), 0x60);
            this.algorithm = algorithm;
            this.sessionKey = sessionKey;
            this.packets = packets;
        }

        @Override
        public byte[] getKey(int encAlgorithm) throws PGPException {
            if (encAlgorithm != algorithm) {
                throw new PGPException("the kept session key is for cipher " + algorithm + ", not " + encAlgorithm);
            }
            if (handedOut == null) {
                handedOut = sessionKey.toByteArray();
            }
            return handedOut;
        }

        @Override
        public ContainedPacket generate(PGPDataEncryptorBuilder dataEncryptorBuilder, byte[] sessionInfo)
                throws PGPException {
            if (sessionInfo != null || dataEncryptorBuilder.getAeadAlgorithm() > 0) {
                throw new PGPException("the kept session key packets take SEIPD v1 data only");
            }
            // A packet object whose encoding is the original packets' bytes.
            return new SymmetricKeyEncSessionPacket(algorithm, new S2K(HashAlgorithmTags.SHA256), null) {
                @Override
                public void encode(BCPGOutputStream out) throws IOException {
                    out.write(packets);
                }
            };
        }

        @Override
        protected byte[] getEskAndTag(int kekAlgorithm, int aeadAlgorithm, byte[] sessionKey, byte[] key, byte[] iv,
                byte[] info) throws PGPException {
            throw new PGPException("AEAD session keys are not used");
        }

        @Override
        public void close() {
            if (handedOut != null) {
                Arrays.fill(handedOut, (byte) 0);
            }
        }
    }
}
