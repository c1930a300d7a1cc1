package io.secretrun.openpgp;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.bouncycastle.bcpg.KeyIdentifier;
import org.bouncycastle.bcpg.PacketTags;
import org.bouncycastle.openpgp.PGPUtil;

import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/**
 * Who a decrypted message is for, and its session key: what {@code edit} needs to write new content for the same
 * recipients without their public keys (as sops keeps its data key), and what {@code rekey} checks before it makes
 * a new session key. The session key is wiped on {@link #close}.
 *
 * <p>Why keeping the session key packets is sound: they encrypt nothing but the session key, which we do not
 * change, so every recipient and passphrase that opened the message opens the new one, and nobody else. The new
 * data gets a fresh random prefix under SEIPD v1 with MDC (CFB with a zero IV and a random first block, so two
 * messages under one key share no keystream), as gpg writes for v3 PKESKs and v4 SKESKs. Packets bound to AEAD
 * data (v6 PKESK, v5/v6 SKESK) cannot carry a v1 message: {@link #notReusable} says so.
 */
public final class Envelope implements AutoCloseable {
    private final byte[] message;
    private final List<KeyIdentifier> keyRecipients;
    private final List<Integer> keyPacketVersions;
    private final List<Integer> passphrasePacketVersions;
    private final boolean openedWithKey;
    private final int algorithm;
    private SecretBytes sessionKey;

    Envelope(byte[] message, List<KeyIdentifier> keyRecipients, List<Integer> keyPacketVersions,
            List<Integer> passphrasePacketVersions, boolean openedWithKey, int algorithm, SecretBytes sessionKey) {
        this.message = message;
        this.keyRecipients = List.copyOf(keyRecipients);
        this.keyPacketVersions = List.copyOf(keyPacketVersions);
        this.passphrasePacketVersions = List.copyOf(passphrasePacketVersions);
        this.openedWithKey = openedWithKey;
        this.algorithm = algorithm;
        this.sessionKey = sessionKey;
    }

    /** The recipients of the public-key packets, as gpg names them (16-digit key id, or fingerprint for v6). */
    public List<String> keyRecipients() {
        return keyRecipients.stream().map(SecretKeys::describe).toList();
    }

    /** The 64-bit key ids of the public-key packets (0 for an anonymous recipient). */
    public List<Long> keyRecipientIds() {
        return keyRecipients.stream().map(KeyIdentifier::getKeyId).toList();
    }

    /** How many passphrase packets the message has. */
    public int passphrasePackets() {
        return passphrasePacketVersions.size();
    }

    /** True when a secret key (not the passphrase) opened it. */
    public boolean openedWithKey() {
        return openedWithKey;
    }

    /**
     * True when new content must keep the session key packets: the message is for public keys or for several
     * passphrases, whose keys and passphrases we do not all hold. A message with one passphrase packet only is
     * written anew with that passphrase instead (a fresh S2K salt, the file's S2K parameters).
     */
    public boolean keepsSessionPackets() {
        return !keyRecipients.isEmpty() || passphrasePacketVersions.size() > 1;
    }

    /** Why the session key packets cannot carry new SEIPD v1 content; empty when they can. */
    public Optional<String> notReusable() {
        if (keyPacketVersions.stream().anyMatch(v -> v != 3)) {
            return Optional.of("its public-key packets are v6, which only AEAD (SEIPD v2) data may follow");
        }
        if (passphrasePacketVersions.stream().anyMatch(v -> v != 4)) {
            return Optional.of("its passphrase packets are v5/v6, which only AEAD data may follow");
        }
        if (sessionKey == null) {
            return Optional.of("its session key was not recovered");
        }
        return Optional.empty();
    }

    int algorithm() {
        return algorithm;
    }

    SecretBytes sessionKey() {
        return sessionKey;
    }

    /**
     * The message's public-key and passphrase packets, verbatim (binary, without markers): read from the message
     * again, which has already been parsed and verified, so this only walks their headers.
     */
    byte[] sessionPackets() throws SecretRunException {
        try (InputStream in = PGPUtil.getDecoderStream(new ByteArrayInputStream(message))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                int first = in.read();
                if (first < 0 || (first & 0x80) == 0) {
                    throw SecretRunException.badMessage("unexpected packet header before the encrypted data");
                }
                boolean newFormat = (first & 0x40) != 0;
                int tag = newFormat ? first & 0x3f : (first >> 2) & 0x0f;
                if (tag != PacketTags.PUBLIC_KEY_ENC_SESSION && tag != PacketTags.SYMMETRIC_KEY_ENC_SESSION
                        && tag != PacketTags.MARKER) {
                    return out.toByteArray(); // the encrypted data: the session packets are complete
                }
                ByteArrayOutputStream packet = new ByteArrayOutputStream();
                packet.write(first);
                long length;
                if (newFormat) {
                    int o1 = readByte(in, packet);
                    if (o1 < 192) {
                        length = o1;
                    } else if (o1 < 224) {
                        length = ((o1 - 192) << 8) + readByte(in, packet) + 192;
                    } else if (o1 == 255) {
                        length = 0;
                        for (int i = 0; i < 4; i++) {
                            length = (length << 8) | readByte(in, packet);
                        }
                    } else {
                        throw SecretRunException.badMessage("a session key packet with a partial length");
                    }
                } else {
                    int type = first & 0x03;
                    if (type == 3) {
                        throw SecretRunException.badMessage("a session key packet of indeterminate length");
                    }
                    length = 0;
                    for (int i = 0; i < (1 << type); i++) {
                        length = (length << 8) | readByte(in, packet);
                    }
                }
                if (length > message.length) {
                    throw SecretRunException.badMessage("a session key packet longer than the message");
                }
                byte[] body = in.readNBytes((int) length);
                if (body.length != length) {
                    throw SecretRunException.badMessage("the encrypted input is truncated");
                }
                if (tag != PacketTags.MARKER) {
                    out.write(packet.toByteArray());
                    out.write(body);
                }
            }
        } catch (IOException e) {
            throw SecretRunException.badMessage("the input is not a valid OpenPGP message or is corrupt", e);
        }
    }

    private static int readByte(InputStream in, ByteArrayOutputStream copy) throws IOException, SecretRunException {
        int b = in.read();
        if (b < 0) {
            throw SecretRunException.badMessage("the encrypted input is truncated");
        }
        copy.write(b);
        return b;
    }

    /** Whether {@code name} (a fingerprint or a 16-digit key id, spaces allowed) names packet recipient {@code id}. */
    public static boolean names(String name, long keyId) {
        String hex = name.replace(" ", "").toUpperCase(Locale.ROOT);
        if (hex.startsWith("0X")) {
            hex = hex.substring(2);
        }
        String id = String.format(Locale.ROOT, "%016X", keyId);
        return switch (hex.length()) {
            case 16 -> hex.equals(id);
            case 40 -> hex.endsWith(id); // v4: the key id is the fingerprint's low 64 bits
            case 64 -> hex.startsWith(id); // v6: its high 64 bits
            default -> false;
        };
    }

    /** Wipes the session key. */
    @Override
    public void close() {
        if (sessionKey != null) {
            sessionKey.close();
            sessionKey = null;
        }
    }
}
