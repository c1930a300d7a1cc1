package io.secretrun.openpgp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Date;

import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyPacket;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.Features;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPKeyPair;
import org.bouncycastle.openpgp.PGPKeyRingGenerator;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.operator.PBESecretKeyEncryptor;
import org.bouncycastle.openpgp.operator.PGPKeyPairGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPBESecretKeyEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.bouncycastle.openpgp.operator.bc.BcPGPKeyPairGeneratorProvider;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/**
 * {@code keygen}: a key pair that gpg 2.2 and later import and use, as {@code gpg --quick-generate-key NAME
 * future-default} makes it: a v4 Ed25519 primary key (certify, sign) and a v4 Curve25519 (cv25519, ECDH) encryption
 * subkey, with AES-256/SHA-512 preferences and the MDC feature. Both parts are armored; the secret part optionally
 * protected with a passphrase (iterated and salted SHA-256 S2K, AES-256, as gpg-agent exports it).
 */
public final class KeyGenerator {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The generated key: the secret part (wipe it) and the public part, both armored, and the fingerprint. */
    public record Generated(SecretBytes secret, byte[] publicKey, String fingerprint) {
    }

    private KeyGenerator() {
    }

    /**
     * @param userId     the user id (e.g. "cluster prod")
     * @param passphrase the passphrase to protect the secret part with, or null for none; it must be UTF-8 (as gpg
     *                   passes what is typed), since Bouncy Castle takes it as characters
     */
    public static Generated generate(String userId, SecretBytes passphrase, Date created) throws SecretRunException {
        char[] chars = passphrase == null ? null : utf8Chars(passphrase);
        try {
            PGPKeyPairGenerator pairs = new BcPGPKeyPairGeneratorProvider().setSecureRandom(RANDOM)
                    .get(PublicKeyPacket.VERSION_4, created);
            PGPKeyPair primary = pairs.generateLegacyEd25519KeyPair();
            PGPKeyPair encryption = pairs.generateLegacyX25519KeyPair();

            PGPSignatureSubpacketGenerator primaryPackets = new PGPSignatureSubpacketGenerator();
            primaryPackets.setKeyFlags(true, KeyFlags.CERTIFY_OTHER | KeyFlags.SIGN_DATA);
            primaryPackets.setPreferredSymmetricAlgorithms(false, new int[] {SymmetricKeyAlgorithmTags.AES_256,
                    SymmetricKeyAlgorithmTags.AES_192, SymmetricKeyAlgorithmTags.AES_128});
            primaryPackets.setPreferredHashAlgorithms(false, new int[] {HashAlgorithmTags.SHA512,
                    HashAlgorithmTags.SHA384, HashAlgorithmTags.SHA256});
            primaryPackets.setPreferredCompressionAlgorithms(false, new int[] {CompressionAlgorithmTags.ZLIB,
                    CompressionAlgorithmTags.ZIP, CompressionAlgorithmTags.UNCOMPRESSED});
            primaryPackets.setFeature(false, Features.FEATURE_MODIFICATION_DETECTION);
            primaryPackets.setIssuerFingerprint(false, primary.getPublicKey());

            PGPSignatureSubpacketGenerator subkeyPackets = new PGPSignatureSubpacketGenerator();
            subkeyPackets.setKeyFlags(true, KeyFlags.ENCRYPT_COMMS | KeyFlags.ENCRYPT_STORAGE);
            subkeyPackets.setIssuerFingerprint(false, primary.getPublicKey());

            PBESecretKeyEncryptor protection = chars == null ? null
                    : new BcPBESecretKeyEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256,
                            new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA256), 0xEF)
                            .setSecureRandom(RANDOM).build(chars);
            PGPKeyRingGenerator rings = new PGPKeyRingGenerator(PGPSignature.POSITIVE_CERTIFICATION, primary, userId,
                    new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA1), primaryPackets.generate(), null,
                    new BcPGPContentSignerBuilder(PublicKeyAlgorithmTags.EDDSA_LEGACY, HashAlgorithmTags.SHA512),
                    protection);
            rings.addSubKey(encryption, subkeyPackets.generate(), null);
            PGPSecretKeyRing secretRing = rings.generateSecretKeyRing();
            SecretBytes secret = new SecretBytes(2048);
            try (ArmoredOutputStream armor = ArmoredOutputStream.builder().clearHeaders().build(
                    new SecretBytesOutput(secret))) {
                secretRing.encode(armor);
            }
            ByteArrayOutputStream pub = new ByteArrayOutputStream();
            try (ArmoredOutputStream armor = ArmoredOutputStream.builder().clearHeaders().build(pub)) {
                rings.generatePublicKeyRing().encode(armor);
            }
            return new Generated(secret, pub.toByteArray(),
                    SecretKeys.fingerprint(primary.getPublicKey().getFingerprint()));
        } catch (PGPException | IOException | RuntimeException e) {
            throw new SecretRunException(ExitCode.SOFTWARE, "key generation failed unexpectedly", e);
        } finally {
            if (chars != null) {
                Arrays.fill(chars, '\0');
            }
        }
    }

    private static char[] utf8Chars(SecretBytes passphrase) throws SecretRunException {
        if (passphrase.length() == 0) {
            throw SecretRunException.usage("--protect needs a non-empty passphrase");
        }
        CharBuffer chars = null;
        try {
            chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(passphrase.array(), 0, passphrase.length()));
            char[] result = new char[chars.remaining()];
            chars.get(result);
            return result;
        } catch (CharacterCodingException e) {
            throw SecretRunException.usage("the passphrase to protect the key with is not valid UTF-8");
        } finally {
            if (chars != null && chars.hasArray()) {
                Arrays.fill(chars.array(), '\0');
            }
        }
    }

    /** Appends to a {@link SecretBytes}, so the armored secret key never sits in an unwiped buffer of ours. */
    private static final class SecretBytesOutput extends OutputStream {
        private final SecretBytes target;

        SecretBytesOutput(SecretBytes target) {
            this.target = target;
        }

        @Override
        public void write(int b) {
            target.append(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            target.append(b, off, len);
        }
    }
}
