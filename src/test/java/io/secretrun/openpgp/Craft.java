package io.secretrun.openpgp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Date;

import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.openpgp.PGPCompressedDataGenerator;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPLiteralDataGenerator;
import org.bouncycastle.openpgp.operator.PBEKeyEncryptionMethodGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPBEKeyEncryptionMethodGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;

/**
 * Builds OpenPGP messages with Bouncy Castle for formats gpg 2.2 cannot write (AEAD, v6, Argon2, encrypted
 * session keys) and for malformed structures. The passphrase must be ASCII here (BC's API takes char[]).
 */
final class Craft {
    static final String PASSWORD = "test password";
    static final byte[] PASSWORD_BYTES = PASSWORD.getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private Craft() {
    }

    /** How the encryption layer is built. */
    enum Format {
        /** SKESK v4 with an encrypted session key (BC's default) + SEIPD v1. */
        V4_ESK,
        /** SKESK v4 without an encrypted session key (as gpg) + SEIPD v1. */
        V4_DIRECT,
        /** No integrity protection: SKESK v4 + SED (tag 9). */
        V4_NO_MDC,
        /** GnuPG 2.4 / LibrePGP style: SKESK v5 + OCB "AEAD encrypted data" (tag 20). */
        V5_OCB,
        /** RFC 9580: SKESK v6 + SEIPD v2 (OCB), iterated and salted S2K. */
        V6_OCB,
        /** RFC 9580: SKESK v6 + SEIPD v2 (GCM) with a small-memory Argon2 S2K. */
        V6_GCM_ARGON2
    }

    /** Encrypts {@code payload} (already a packet sequence) as is. */
    static byte[] encryptPackets(byte[] payload, Format format, boolean armor) throws Exception {
        BcPGPDataEncryptorBuilder builder = new BcPGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256)
                .setSecureRandom(RANDOM)
                .setWithIntegrityPacket(format != Format.V4_NO_MDC);
        switch (format) {
            case V5_OCB -> builder.setWithAEAD(org.bouncycastle.bcpg.AEADAlgorithmTags.OCB, 10).setUseV5AEAD();
            case V6_OCB -> builder.setWithAEAD(org.bouncycastle.bcpg.AEADAlgorithmTags.OCB, 10).setUseV6AEAD();
            case V6_GCM_ARGON2 -> builder.setWithAEAD(org.bouncycastle.bcpg.AEADAlgorithmTags.GCM, 10).setUseV6AEAD();
            default -> { }
        }
        PBEKeyEncryptionMethodGenerator method = format == Format.V6_GCM_ARGON2
                ? new BcPBEKeyEncryptionMethodGenerator(PASSWORD.toCharArray(),
                        new S2K.Argon2Params(salt(), 1, 1, 10)) // 1 pass, 1 lane, 1 MiB: quick
                : new BcPBEKeyEncryptionMethodGenerator(PASSWORD.toCharArray(),
                        new BcPGPDigestCalculatorProvider().get(HashAlgorithmTags.SHA256), 0x10);
        method.setSecureRandom(RANDOM);
        PGPEncryptedDataGenerator generator = new PGPEncryptedDataGenerator(builder);
        generator.setForceSessionKey(format != Format.V4_DIRECT && format != Format.V4_NO_MDC);
        generator.addMethod(method);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        OutputStream target = armor ? ArmoredOutputStream.builder().clearHeaders().build(bytes) : bytes;
        try (OutputStream out = generator.open(target, new byte[1 << 12])) {
            out.write(payload);
        }
        if (armor) {
            target.close();
        }
        return bytes.toByteArray();
    }

    static byte[] encryptPlaintext(byte[] plaintext, Format format, boolean armor) throws Exception {
        return encryptPackets(compressed(literal(plaintext), 1), format, armor);
    }

    private static byte[] salt() {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return salt;
    }

    static byte[] literal(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new PGPLiteralDataGenerator().open(bytes, PGPLiteralData.BINARY, "x.yaml",
                content.length, new Date(0))) {
            out.write(content);
        }
        return bytes.toByteArray();
    }

    static byte[] compressed(byte[] packets, int algorithm) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PGPCompressedDataGenerator generator = new PGPCompressedDataGenerator(algorithm);
        try (OutputStream out = generator.open(bytes, new byte[1 << 12])) {
            out.write(packets);
        }
        return bytes.toByteArray();
    }

    /** A marker packet (tag 10, "PGP"), which readers must ignore before the message. */
    static byte[] marker() {
        return new byte[] {(byte) 0xca, 0x03, 'P', 'G', 'P'};
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
