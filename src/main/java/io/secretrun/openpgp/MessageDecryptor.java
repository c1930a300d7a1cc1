package io.secretrun.openpgp;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.bouncycastle.bcpg.AEADEncDataPacket;
import org.bouncycastle.bcpg.ArmoredInputException;
import org.bouncycastle.bcpg.ArmoredInputStream;
import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.BCPGInputStream;
import org.bouncycastle.bcpg.InputStreamPacket;
import org.bouncycastle.bcpg.KeyIdentifier;
import org.bouncycastle.bcpg.PacketTags;
import org.bouncycastle.bcpg.SymmetricEncDataPacket;
import org.bouncycastle.bcpg.SymmetricEncIntegrityPacket;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.openpgp.PGPCompressedData;
import org.bouncycastle.openpgp.PGPDataValidationException;
import org.bouncycastle.openpgp.PGPEncryptedData;
import org.bouncycastle.openpgp.PGPEncryptedDataList;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPPBEEncryptedData;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKeyEncryptedData;
import org.bouncycastle.openpgp.PGPSecretKey;
import org.bouncycastle.openpgp.PGPSessionKey;
import org.bouncycastle.openpgp.operator.PGPDataDecryptor;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.operator.bc.BcPublicKeyDataDecryptorFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/**
 * Decrypts an OpenPGP message ({@code gpg --symmetric}, {@code gpg --encrypt -r}, or both; armored or binary) into
 * memory, opening it with whatever it allows and we hold: a secret key for one of its public-key packets (PKESK),
 * or the passphrase for one of its passphrase packets (SKESK). {@link #open} is the one place that decides, within
 * the {@link KdfLimits}.
 *
 * <p>Why into memory, verified before returning: Bouncy Castle hands out plaintext while it decrypts and checks
 * the MDC (or the last AEAD tag) only at the end, and gpg itself writes its output file even when that check
 * fails. Our caller writes to disk only what this method returns, so a tampered or truncated message never
 * produces a plaintext file. The literal packet's file name is ignored: the caller decides where output goes.
 *
 * <p>Accepted structure, and nothing else: optional marker packets, one or more session key packets of which at
 * least one is one we can open (SKESK v4/v5/v6, PKESK v3/v6), one integrity-protected encrypted packet (SEIPD v1 with MDC,
 * GnuPG's OCB "AEAD encrypted data" packet, or SEIPD v2), holding one literal data packet, optionally inside one
 * compressed packet. Signatures, extra packets, nested compression and unprotected (tag 9) data are refused.
 */
public final class MessageDecryptor {
    private static final Logger LOG = LoggerFactory.getLogger(MessageDecryptor.class);
    static final String INTEGRITY_FAILED =
            "integrity check failed: the encrypted file is corrupt or has been tampered with";

    private MessageDecryptor() {
    }

    /**
     * @param message           the encrypted message, armored or binary
     * @param passphrase        the passphrase as raw bytes (gpg semantics: no line end); not modified
     * @param maxPlaintextBytes the largest plaintext accepted (guards against compression bombs)
     * @return the verified plaintext; the caller closes (wipes) it
     * @throws SecretRunException 65 for anything that is not an intact, integrity-protected message of the
     *                            accepted structure or exceeds the limit, 77 for a wrong passphrase
     */
    public static SecretBytes decrypt(byte[] message, SecretBytes passphrase, long maxPlaintextBytes)
            throws SecretRunException {
        Objects.requireNonNull(passphrase, "passphrase");
        try (DecryptionKeys keys = DecryptionKeys.passphrase(passphrase)) {
            return decrypt(message, keys, maxPlaintextBytes);
        }
    }

    /**
     * @param keys what may open the message (passphrase and/or secret keys) and the bounds on key derivation
     * @return the verified plaintext; the caller closes (wipes) it
     * @throws SecretRunException 65 for anything that is not an intact, integrity-protected message of the accepted
     *                            structure, exceeds a limit or a {@link KdfLimits} bound; 66 for a message to public
     *                            keys when no secret key was given; 77 for a wrong passphrase or a message to none of
     *                            our keys
     */
    public static SecretBytes decrypt(byte[] message, DecryptionKeys keys, long maxPlaintextBytes)
            throws SecretRunException {
        Decrypted decrypted = decryptWithParameters(message, keys, maxPlaintextBytes);
        decrypted.envelope().close();
        return decrypted.plaintext();
    }

    /**
     * The verified plaintext, how the message was made (to write it again the same way), and who it is for with its
     * session key (to write new content for the same recipients).
     */
    public record Decrypted(SecretBytes plaintext, MessageParameters parameters, Envelope envelope)
            implements AutoCloseable {
        /** Wipes the plaintext and the session key. */
        @Override
        public void close() {
            plaintext.close();
            envelope.close();
        }
    }

    /** {@link #decrypt}, also returning the message's parameters ({@code edit} and {@code rekey} keep them). */
    public static Decrypted decryptWithParameters(byte[] message, SecretBytes passphrase, long maxPlaintextBytes)
            throws SecretRunException {
        Objects.requireNonNull(passphrase, "passphrase");
        try (DecryptionKeys keys = DecryptionKeys.passphrase(passphrase)) {
            return decryptWithParameters(message, keys, maxPlaintextBytes);
        }
    }

    /** {@link #decrypt(byte[], DecryptionKeys, long)}, also returning the message's parameters. */
    public static Decrypted decryptWithParameters(byte[] message, DecryptionKeys keys, long maxPlaintextBytes)
            throws SecretRunException {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(keys, "keys");
        if (maxPlaintextBytes < 0) {
            throw SecretRunException.usage("the plaintext size limit must not be negative");
        }
        if (message.length == 0) {
            throw SecretRunException.badMessage("the encrypted input is empty");
        }
        long limit = Math.min(maxPlaintextBytes, Integer.MAX_VALUE - 8L);
        SecretBytes plaintext = new SecretBytes((int) Math.min(limit, 64 * 1024));
        boolean decrypting = false;
        KdfLimits.Budget budget = keys.limits().budget();
        try (Derived derived = new Derived(); SessionKeyCapture sessionKey = new SessionKeyCapture()) {
            InputStream decoded = PGPUtil.getDecoderStream(new ByteArrayInputStream(message));
            BCPGInputStream outer = BCPGInputStream.wrap(decoded);
            PGPEncryptedDataList list = readEncryptedDataList(outer);
            requireIntegrityProtection(list.getEncryptedData());
            Opened opened = open(list, keys, budget, derived, sessionKey);
            decrypting = true;
            int compression = readSingleLiteral(opened.clear(), plaintext, limit);
            // Only now, with all plaintext read to its end, is the MDC known. AEAD streams check each chunk's
            // tag and the final tag while being read, so reaching the end above already verified them (and
            // Bouncy Castle's verify() would reject the OCB packet as "not integrity protected").
            if (!opened.data().isAEAD() && !opened.data().verify()) {
                throw SecretRunException.badMessage(INTEGRITY_FAILED);
            }
            decrypting = false;
            // Also completes the armor, whose checksum is checked at its end.
            if (outer.read() != -1) {
                throw structure("data after the encrypted packet");
            }
            MessageParameters parameters = parameters(decoded, opened, sessionKey, compression);
            return new Decrypted(plaintext, parameters, envelope(message, list, opened, sessionKey));
        } catch (SecretRunException e) {
            plaintext.close();
            throw e;
        } catch (IOException | PGPException | RuntimeException | OutOfMemoryError | StackOverflowError e) {
            // Malformed input makes Bouncy Castle throw all sorts (including unchecked exceptions and errors
            // from lying length fields); none of it may escape as anything but "bad message".
            plaintext.close();
            throw translate(e, decrypting);
        }
    }

    private static Envelope envelope(byte[] message, PGPEncryptedDataList list, Opened opened,
            SessionKeyCapture sessionKey) {
        List<KeyIdentifier> recipients = new ArrayList<>();
        List<Integer> keyVersions = new ArrayList<>();
        List<Integer> passphraseVersions = new ArrayList<>();
        for (PGPEncryptedData candidate : list) {
            if (candidate instanceof PGPPublicKeyEncryptedData pk) {
                recipients.add(pk.getKeyIdentifier());
                keyVersions.add(pk.getVersion());
            } else if (candidate instanceof PGPPBEEncryptedData pbe) {
                passphraseVersions.add(pbe.getVersion());
            }
        }
        return new Envelope(message, recipients, keyVersions, passphraseVersions,
                opened.data() instanceof PGPPublicKeyEncryptedData, sessionKey.algorithm(), sessionKey.take());
    }

    private static MessageParameters parameters(InputStream decoded, Opened opened, SessionKeyCapture sessionKey,
            int compression) {
        S2K s2k = opened.s2k();
        int type = s2k == null ? -1 : s2k.getType();
        return new MessageParameters(decoded instanceof ArmoredInputStream, sessionKey.algorithm(), type,
                s2k == null ? -1 : s2k.getHashAlgorithm(),
                type == S2K.SALTED_AND_ITERATED ? s2k.getIterationCount() : 0, compression, opened.data().isAEAD());
    }

    /** The packet that opened the message, the decrypted stream, and the S2K when a passphrase opened it. */
    private record Opened(PGPEncryptedData data, InputStream clear, S2K s2k) {
    }

    /** The factories and decryptors of one decryption, which hold derived keys: wiped together at its end. */
    private static final class Derived implements AutoCloseable {
        private final List<AutoCloseable> items = new ArrayList<>();

        <T extends AutoCloseable> T add(T item) {
            items.add(item);
            return item;
        }

        @Override
        public void close() {
            for (AutoCloseable item : items) {
                try {
                    item.close();
                } catch (Exception ignored) {
                    // our items only wipe arrays
                }
            }
        }
    }

    private static PGPEncryptedDataList readEncryptedDataList(BCPGInputStream in) throws IOException,
            SecretRunException {
        int tag = in.nextPacketTag();
        while (tag == PacketTags.MARKER) { // RFC 4880 section 5.8: must be ignored
            in.readPacket();
            tag = in.nextPacketTag();
        }
        if (tag == PacketTags.SYMMETRIC_KEY_ENC_SESSION || tag == PacketTags.PUBLIC_KEY_ENC_SESSION) {
            return new PGPEncryptedDataList(in);
        }
        if (tag == PacketTags.SYMMETRIC_KEY_ENC || tag == PacketTags.SYM_ENC_INTEGRITY_PRO
                || tag == PacketTags.AEAD_ENC_DATA) {
            throw structure("encrypted data without a session key packet");
        }
        if (tag < 0) {
            throw SecretRunException.badMessage("the input holds no OpenPGP data");
        }
        throw SecretRunException.badMessage("the input is not an encrypted OpenPGP message (packet type " + tag + ")");
    }

    private static void requireIntegrityProtection(InputStreamPacket data) throws SecretRunException {
        if (data instanceof SymmetricEncIntegrityPacket || data instanceof AEADEncDataPacket) {
            return;
        }
        if (data instanceof SymmetricEncDataPacket) {
            throw SecretRunException.badMessage(
                    "the message is not integrity-protected (no MDC); refusing it: re-encrypt it with a current gpg");
        }
        throw structure("a session key packet not followed by encrypted data");
    }

    /**
     * Opens the message with what {@code keys} holds, as gpg does: first the public-key packets addressed to a secret
     * key we hold (a packet for any other key costs nothing: it is matched by key id or fingerprint before any
     * private-key operation), then the passphrase packets. At most {@link KdfLimits#maxKeyPackets()} public-key and
     * {@link KdfLimits#maxPassphrasePackets()} passphrase packets are tried, and every key derivation is charged to
     * {@code budget}: whoever can write the file can add packets, which the integrity check does not cover.
     */
    private static Opened open(PGPEncryptedDataList list, DecryptionKeys keys, KdfLimits.Budget budget,
            Derived derived, SessionKeyCapture sessionKey) throws PGPException, SecretRunException {
        KdfLimits limits = keys.limits();
        List<PGPPublicKeyEncryptedData> keyPackets = new ArrayList<>();
        List<PGPPBEEncryptedData> passphrasePackets = new ArrayList<>();
        for (PGPEncryptedData candidate : list) {
            if (candidate instanceof PGPPublicKeyEncryptedData pk) {
                keyPackets.add(pk);
            } else if (candidate instanceof PGPPBEEncryptedData pbe) {
                passphrasePackets.add(pbe);
            }
        }

        // 1. Public-key packets for keys we hold.
        int keyTries = 0;
        int keyFailures = 0;
        SecretRunException wrongKeyPassphrase = null;
        if (keys.hasSecretKeys()) {
            for (PGPPublicKeyEncryptedData packet : keyPackets) {
                for (PGPSecretKey key : keys.secretKeys().matching(packet.getKeyIdentifier(), packet.getAlgorithm())) {
                    String fingerprint = SecretKeys.fingerprint(key.getFingerprint());
                    if (keyTries == limits.maxKeyPackets()) {
                        throw new SecretRunException(ExitCode.DATA_ERROR, "more than " + limits.maxKeyPackets()
                                + " public-key packets for our keys, none of which opened; refusing the rest "
                                + "(bound: at most " + limits.maxKeyPackets() + " public-key packets tried)");
                    }
                    keyTries++;
                    PGPPrivateKey privateKey;
                    try {
                        privateKey = unlock(keys, key, budget, derived);
                    } catch (SecretRunException e) {
                        wrongKeyPassphrase = e; // the same passphrase may still open a passphrase packet
                        keyFailures++;
                        continue;
                    }
                    try {
                        InputStream clear = packet.getDataStream(capturing(privateKey, sessionKey));
                        warnFailures(keyFailures, "public-key");
                        LOG.info("opened with key {}", fingerprint);
                        return new Opened(packet, clear, null);
                    } catch (KdfLimits.BoundExceeded e) {
                        throw e;
                    } catch (PGPException | RuntimeException e) {
                        // not a session key for this key after all (a damaged or forged packet): try the next one
                        LOG.debug("public-key packet for {} did not decrypt", fingerprint, e);
                        keyFailures++;
                    }
                }
            }
        }

        // 2. Passphrase packets.
        int passphraseTries = 0;
        UnsupportedInput unsupported = null;
        if (!passphrasePackets.isEmpty() && keys.mayHavePassphrase()) {
            RawPassphraseDecryptorFactory factory =
                    derived.add(new RawPassphraseDecryptorFactory(keys.passphrase(), budget, sessionKey,
                            keys.derivedKeys()));
            for (PGPPBEEncryptedData packet : passphrasePackets) {
                if (passphraseTries == limits.maxPassphrasePackets()) {
                    throw SecretRunException.badMessage("the message has " + passphrasePackets.size()
                            + " passphrase packets and none of the first " + limits.maxPassphrasePackets()
                            + " opened with this passphrase; refusing the rest (bound: at most "
                            + limits.maxPassphrasePackets() + " passphrase packets tried)");
                }
                passphraseTries++;
                try {
                    InputStream clear = packet.getDataStream(factory);
                    warnFailures(keyFailures, "public-key");
                    warnFailures(passphraseTries - 1, "passphrase");
                    LOG.info("opened with passphrase");
                    return new Opened(packet, clear, factory.lastS2k());
                } catch (KdfLimits.BoundExceeded e) {
                    throw e;
                } catch (PGPDataValidationException | RawPassphraseDecryptorFactory.WrongPassphrase e) {
                    // Quick check or session key check failed: not the key for this packet. Try the next one.
                } catch (UnsupportedInput e) {
                    unsupported = e; // another packet may use something we support
                }
            }
        }

        // 3. Nothing opened it: say why, most specific first.
        if (unsupported != null) {
            throw unsupported;
        }
        if (passphraseTries > 0 || wrongKeyPassphrase != null) {
            throw wrongKeyPassphrase != null && passphraseTries == 0 ? wrongKeyPassphrase
                    : SecretRunException.wrongPassphrase();
        }
        if (keyTries > 0) {
            throw SecretRunException.badMessage("the public-key packet for our key does not decrypt: the message is "
                    + "corrupt or was not made for this key");
        }
        if (keyPackets.isEmpty()) {
            if (passphrasePackets.isEmpty()) {
                throw structure("no session key packet of a kind we read");
            }
            throw SecretRunException.noInput("the message is encrypted with a passphrase, and no passphrase was given");
        }
        String recipients = recipients(keyPackets);
        if (!keys.hasSecretKeys()) {
            throw SecretRunException.noInput("the message is encrypted to public key " + recipients
                    + (passphrasePackets.isEmpty() ? "" : " (and a passphrase)")
                    + "; give its secret key with --key-file or --key-fd");
        }
        throw new SecretRunException(ExitCode.NO_PERMISSION, "the message is not encrypted to any of our keys ("
                + String.join(", ", keys.secretKeys().fingerprints()) + ") but to " + recipients);
    }

    /** Bouncy Castle's decryptor factory for {@code privateKey}, recording the session key it opens the data with. */
    private static BcPublicKeyDataDecryptorFactory capturing(PGPPrivateKey privateKey, SessionKeyCapture sessionKey) {
        return new BcPublicKeyDataDecryptorFactory(privateKey) {
            @Override
            public PGPDataDecryptor createDataDecryptor(boolean withIntegrityPacket, int encAlgorithm, byte[] key)
                    throws PGPException {
                sessionKey.record(encAlgorithm, key);
                return super.createDataDecryptor(withIntegrityPacket, encAlgorithm, key);
            }

            @Override
            public PGPDataDecryptor createDataDecryptor(AEADEncDataPacket packet, PGPSessionKey key)
                    throws PGPException {
                sessionKey.record(key);
                return super.createDataDecryptor(packet, key);
            }

            @Override
            public PGPDataDecryptor createDataDecryptor(SymmetricEncIntegrityPacket packet, PGPSessionKey key)
                    throws PGPException {
                sessionKey.record(key);
                return super.createDataDecryptor(packet, key);
            }
        };
    }

    /** The private key, unlocked with the passphrase when protected; 77 when the passphrase is wrong. */
    private static PGPPrivateKey unlock(DecryptionKeys keys, PGPSecretKey key, KdfLimits.Budget budget,
            Derived derived) throws SecretRunException, PGPException {
        SecretKeys secretKeys = keys.secretKeys();
        if (!secretKeys.isProtected(key)) {
            return secretKeys.unlock(key, null);
        }
        RawPassphraseSecretKeyDecryptor decryptor =
                derived.add(new RawPassphraseSecretKeyDecryptor(keys.passphrase(), budget));
        try {
            return secretKeys.unlock(key, decryptor);
        } catch (UnsupportedInput e) {
            throw e;
        } catch (PGPException | RuntimeException e) {
            // A wrong passphrase gives noise for key material: a failed checksum or an unparsable key.
            throw new SecretRunException(ExitCode.NO_PERMISSION, "wrong passphrase for secret key "
                    + SecretKeys.fingerprint(key.getFingerprint()), e);
        }
    }

    private static void warnFailures(int failures, String kind) {
        if (failures > 0) {
            LOG.warn("{} {} packet{} before the one that opened did not open (damaged, forged, or for another {})",
                    failures, kind, failures == 1 ? "" : "s", kind.equals("passphrase") ? "passphrase" : "key");
        }
    }

    /** The recipients of the public-key packets, for an error line (at most a few, then a count). */
    private static String recipients(List<PGPPublicKeyEncryptedData> packets) {
        List<String> names = new ArrayList<>();
        for (PGPPublicKeyEncryptedData packet : packets) {
            String name = SecretKeys.describe(packet.getKeyIdentifier());
            if (!names.contains(name)) {
                names.add(name);
            }
        }
        return names.size() <= 3 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 3)) + " and " + (names.size() - 3) + " more";
    }

    /**
     * Reads the one literal packet (optionally inside one compressed packet) into {@code plaintext}.
     *
     * @return the compression algorithm, 0 for none
     */
    private static int readSingleLiteral(InputStream clear, SecretBytes plaintext, long limit)
            throws IOException, PGPException, SecretRunException {
        BCPGInputStream in = BCPGInputStream.wrap(clear);
        int tag = in.nextPacketTag();
        if (tag == PacketTags.COMPRESSED_DATA) {
            PGPCompressedData compressed = new PGPCompressedData(in);
            BCPGInputStream inner = BCPGInputStream.wrap(compressed.getDataStream());
            int innerTag = inner.nextPacketTag();
            if (innerTag == PacketTags.COMPRESSED_DATA) {
                throw structure("nested compression");
            }
            readLiteral(inner, innerTag, plaintext, limit);
            requireEnd(inner);
            requireEnd(in);
            return compressed.getAlgorithm();
        }
        readLiteral(in, tag, plaintext, limit);
        requireEnd(in);
        return CompressionAlgorithmTags.UNCOMPRESSED;
    }

    private static void readLiteral(BCPGInputStream in, int tag, SecretBytes plaintext, long limit)
            throws IOException, SecretRunException {
        // Decide on the tag alone: parsing any other packet (a signature, padding) could mean reading a
        // large body we are going to refuse anyway.
        if (tag != PacketTags.LITERAL_DATA) {
            throw structure(switch (tag) {
                case -1 -> "no literal data";
                case PacketTags.ONE_PASS_SIGNATURE, PacketTags.SIGNATURE -> "a signed message";
                default -> "packet type " + tag + " where literal data was expected";
            });
        }
        PGPLiteralData literal = new PGPLiteralData(in);
        // readFrom stops at the first chunk past the limit: a compression bomb costs at most `limit` bytes.
        if (!plaintext.readFrom(literal.getInputStream(), limit)) {
            throw SecretRunException.badMessage(
                    "the plaintext is larger than the limit of " + limit + " bytes");
        }
    }

    private static void requireEnd(BCPGInputStream in) throws IOException, SecretRunException {
        if (in.read() != -1) {
            throw structure("more than one packet in the encrypted message (e.g. a signature or a second literal)");
        }
    }

    private static SecretRunException structure(String what) {
        return SecretRunException.badMessage("unsupported OpenPGP message structure: " + what);
    }

    /** Maps whatever Bouncy Castle threw to a one-line message naming the kind of problem, never the class. */
    private static SecretRunException translate(Throwable e, boolean decrypting) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnsupportedInput) {
                return SecretRunException.badMessage(t.getMessage(), e);
            }
            if (t instanceof ArmoredInputException) {
                return SecretRunException.badMessage("invalid ASCII armor: the input is not an intact OpenPGP message", e);
            }
            if (t instanceof InvalidCipherTextException) {
                return SecretRunException.badMessage(INTEGRITY_FAILED, e);
            }
            if (t instanceof EOFException) {
                return SecretRunException.badMessage("the encrypted input is truncated", e);
            }
            if (t instanceof OutOfMemoryError) {
                return SecretRunException.badMessage("the input declares sizes too large to process", e);
            }
        }
        if (decrypting) {
            // The passphrase was accepted, so a failure while decrypting means damaged or tampered data; the
            // MDC would have failed too had we got that far.
            return SecretRunException.badMessage(INTEGRITY_FAILED, e);
        }
        return SecretRunException.badMessage("the input is not a valid OpenPGP message or is corrupt", e);
    }
}
