package io.secretrun.openpgp;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

import org.bouncycastle.bcpg.AEADEncDataPacket;
import org.bouncycastle.bcpg.ArmoredInputException;
import org.bouncycastle.bcpg.ArmoredInputStream;
import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.BCPGInputStream;
import org.bouncycastle.bcpg.InputStreamPacket;
import org.bouncycastle.bcpg.PacketTags;
import org.bouncycastle.bcpg.S2K;
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
import org.bouncycastle.openpgp.PGPUtil;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/**
 * Decrypts a passphrase-encrypted OpenPGP message ({@code gpg --symmetric}, armored or binary) into memory.
 *
 * <p>Why into memory, verified before returning: Bouncy Castle hands out plaintext while it decrypts and checks
 * the MDC (or the last AEAD tag) only at the end, and gpg itself writes its output file even when that check
 * fails. Our caller writes to disk only what this method returns, so a tampered or truncated message never
 * produces a plaintext file. The literal packet's file name is ignored: the caller decides where output goes.
 *
 * <p>Accepted structure, and nothing else: optional marker packets, one or more session key packets of which at
 * least one is passphrase-based (SKESK v4/v5/v6), one integrity-protected encrypted packet (SEIPD v1 with MDC,
 * GnuPG's OCB "AEAD encrypted data" packet, or SEIPD v2), holding one literal data packet, optionally inside one
 * compressed packet. Signatures, extra packets, nested compression and unprotected (tag 9) data are refused.
 */
public final class SymmetricDecryptor {
    static final String INTEGRITY_FAILED =
            "integrity check failed: the encrypted file is corrupt or has been tampered with";

    private SymmetricDecryptor() {
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
        return decryptWithParameters(message, passphrase, maxPlaintextBytes, null).plaintext();
    }

    /**
     * {@link #decrypt(byte[], SecretBytes, long)}, taking keys from {@code keys} (and adding to it) when not null:
     * the secrets of one launch that share S2K parameters pay one key derivation.
     */
    public static SecretBytes decrypt(byte[] message, SecretBytes passphrase, long maxPlaintextBytes,
            DerivedKeys keys) throws SecretRunException {
        return decryptWithParameters(message, passphrase, maxPlaintextBytes, keys).plaintext();
    }

    /** The verified plaintext and how the message was made (to write it again the same way). */
    public record Decrypted(SecretBytes plaintext, MessageParameters parameters) implements AutoCloseable {
        /** Wipes the plaintext. */
        @Override
        public void close() {
            plaintext.close();
        }
    }

    /** {@link #decrypt}, also returning the message's parameters ({@code edit} and {@code rekey} keep them). */
    public static Decrypted decryptWithParameters(byte[] message, SecretBytes passphrase, long maxPlaintextBytes)
            throws SecretRunException {
        return decryptWithParameters(message, passphrase, maxPlaintextBytes, null);
    }

    /** {@link #decryptWithParameters(byte[], SecretBytes, long)} with a launch's shared derived keys (or null). */
    public static Decrypted decryptWithParameters(byte[] message, SecretBytes passphrase, long maxPlaintextBytes,
            DerivedKeys derivedKeys) throws SecretRunException {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(passphrase, "passphrase");
        if (maxPlaintextBytes < 0) {
            throw SecretRunException.usage("the plaintext size limit must not be negative");
        }
        if (message.length == 0) {
            throw SecretRunException.badMessage("the encrypted input is empty");
        }
        long limit = Math.min(maxPlaintextBytes, Integer.MAX_VALUE - 8L);
        SecretBytes plaintext = new SecretBytes((int) Math.min(limit, 64 * 1024));
        boolean decrypting = false;
        try (RawPassphraseDecryptorFactory keys = new RawPassphraseDecryptorFactory(passphrase, derivedKeys)) {
            InputStream decoded = PGPUtil.getDecoderStream(new ByteArrayInputStream(message));
            BCPGInputStream outer = BCPGInputStream.wrap(decoded);
            PGPEncryptedDataList list = readEncryptedDataList(outer);
            requireIntegrityProtection(list.getEncryptedData());
            Opened opened = open(list, keys);
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
            return new Decrypted(plaintext, parameters(decoded, keys, compression, opened));
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

    private static MessageParameters parameters(InputStream decoded, RawPassphraseDecryptorFactory keys,
            int compression, Opened opened) {
        S2K s2k = keys.lastS2k();
        int type = s2k == null ? -1 : s2k.getType();
        return new MessageParameters(decoded instanceof ArmoredInputStream, keys.dataAlgorithm(), type,
                s2k == null ? -1 : s2k.getHashAlgorithm(),
                type == S2K.SALTED_AND_ITERATED ? s2k.getIterationCount() : 0, compression, opened.data().isAEAD());
    }

    private record Opened(PGPPBEEncryptedData data, InputStream clear) {
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
            throw structure("encrypted data without a passphrase packet");
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

    /** Tries every passphrase packet in turn (as gpg does); none opening means the passphrase is wrong. */
    private static Opened open(PGPEncryptedDataList list, RawPassphraseDecryptorFactory keys)
            throws PGPException, SecretRunException {
        boolean sawPassphrasePacket = false;
        UnsupportedInput unsupported = null;
        for (PGPEncryptedData candidate : list) {
            if (candidate instanceof PGPPBEEncryptedData pbe) {
                sawPassphrasePacket = true;
                try {
                    return new Opened(pbe, pbe.getDataStream(keys));
                } catch (PGPDataValidationException | RawPassphraseDecryptorFactory.WrongPassphrase e) {
                    // Quick check or session key check failed: not the key for this packet. Try the next one.
                } catch (UnsupportedInput e) {
                    unsupported = e; // another packet may use something we support
                }
            }
        }
        if (!sawPassphrasePacket) {
            throw SecretRunException.badMessage(
                    "the message is encrypted to a public key, not with a passphrase");
        }
        if (unsupported != null) {
            throw unsupported;
        }
        throw SecretRunException.wrongPassphrase();
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
