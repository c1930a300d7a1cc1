package io.secretrun.openpgp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bouncycastle.bcpg.KeyIdentifier;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.SecretKeyPacket;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPMarker;
import org.bouncycastle.openpgp.PGPObjectFactory;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKey;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.secret.SecretBytes;

/**
 * The secret keys we may decrypt with: what {@code gpg --export-secret-keys} writes (armored or binary, one key or
 * several, also several armor blocks one after the other), as Bouncy Castle parses it. Only keys whose algorithm
 * can decrypt and that hold key material (not gpg's stubs for keys on a card or left out) are kept.
 *
 * <p>Key material: the bytes read from the file are the caller's (wiped by it); Bouncy Castle's parsed packets and
 * unlocked private keys are objects of its own (big integers among them) that we cannot wipe, as with its cipher
 * states; they live only for the decryption. Fingerprints are not secret and appear in logs and errors.
 */
public final class SecretKeys {
    private final List<PGPSecretKey> keys;
    private final Map<PGPSecretKey, PGPPrivateKey> unlocked = new LinkedHashMap<>();

    private SecretKeys(List<PGPSecretKey> keys) {
        this.keys = keys;
    }

    /**
     * Parses secret keys from {@code data}.
     *
     * @param source what to call the data in errors (e.g. "key file /etc/init-secrets/secret_key")
     * @throws SecretRunException 66 when it holds only public keys or no decryption key; 65 when it is not OpenPGP
     */
    public static SecretKeys parse(SecretBytes data, String source) throws SecretRunException {
        List<PGPSecretKey> found = new ArrayList<>();
        boolean publicOnly = false;
        int rings = 0;
        try {
            InputStream raw = new ByteArrayInputStream(data.array(), 0, data.length());
            while (skipWhitespace(raw)) {
                InputStream decoded = PGPUtil.getDecoderStream(raw);
                PGPObjectFactory factory = new PGPObjectFactory(decoded, new BcKeyFingerprintCalculator());
                for (Object o = factory.nextObject(); o != null; o = factory.nextObject()) {
                    if (o instanceof PGPSecretKeyRing ring) {
                        rings++;
                        for (PGPSecretKey key : ring) {
                            if (canDecrypt(key.getPublicKey().getAlgorithm()) && !key.isPrivateKeyEmpty()
                                    && key.getS2KUsage() != SecretKeyPacket.USAGE_EXTERNAL) {
                                found.add(key);
                            }
                        }
                    } else if (o instanceof PGPPublicKeyRing) {
                        publicOnly = true;
                    } else if (!(o instanceof PGPMarker)) {
                        throw SecretRunException.badMessage(source + " holds something other than OpenPGP keys");
                    }
                }
                if (decoded == raw) {
                    break; // binary: the factory read to the end
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new SecretRunException(ExitCode.DATA_ERROR, source + " is not a valid OpenPGP secret key ("
                    + "expected what gpg --export-secret-keys writes)", e);
        }
        if (found.isEmpty()) {
            if (rings == 0 && publicOnly) {
                throw SecretRunException.noInput(source + " holds a public key, not a secret key; export the secret "
                        + "key with gpg --export-secret-keys (or use the secret part secret-run keygen wrote)");
            }
            if (rings == 0) {
                throw SecretRunException.noInput(source + " holds no OpenPGP secret key");
            }
            throw SecretRunException.noInput(source + " holds no secret key that can decrypt (no encryption key, "
                    + "or only stubs of keys kept elsewhere)");
        }
        return new SecretKeys(List.copyOf(found));
    }

    /** Skips blank space between armor blocks; false at the end of the input. */
    private static boolean skipWhitespace(InputStream in) throws IOException {
        while (true) {
            in.mark(1);
            int b = in.read();
            if (b < 0) {
                return false;
            }
            if (!Character.isWhitespace(b)) {
                in.reset();
                return true;
            }
        }
    }

    static boolean canDecrypt(int algorithm) {
        return switch (algorithm) {
            case PublicKeyAlgorithmTags.RSA_GENERAL, PublicKeyAlgorithmTags.RSA_ENCRYPT,
                 PublicKeyAlgorithmTags.ELGAMAL_ENCRYPT, PublicKeyAlgorithmTags.ELGAMAL_GENERAL,
                 PublicKeyAlgorithmTags.ECDH, PublicKeyAlgorithmTags.X25519, PublicKeyAlgorithmTags.X448 -> true;
            default -> false;
        };
    }

    /** The keys a public-key packet addressed to {@code recipient} may be for: by key id or fingerprint; a
     *  wildcard (an anonymous recipient) may be any of ours. No key operation happens here. */
    List<PGPSecretKey> matching(KeyIdentifier recipient, int algorithm) {
        List<PGPSecretKey> result = new ArrayList<>();
        for (PGPSecretKey key : keys) {
            if (key.getPublicKey().getAlgorithm() != algorithm) {
                continue;
            }
            if (recipient.isWildcard() || recipient.matches(key.getKeyIdentifier())) {
                result.add(key);
            }
        }
        return result;
    }

    boolean isProtected(PGPSecretKey key) {
        return key.getS2KUsage() != SecretKeyPacket.USAGE_NONE && !unlocked.containsKey(key);
    }

    /** The private key, unlocked once: without a passphrase when unprotected, else with {@code decryptor}. */
    PGPPrivateKey unlock(PGPSecretKey key, RawPassphraseSecretKeyDecryptor decryptor) throws PGPException {
        PGPPrivateKey privateKey = unlocked.get(key);
        if (privateKey == null) {
            privateKey = key.extractPrivateKey(key.getS2KUsage() == SecretKeyPacket.USAGE_NONE ? null : decryptor);
            unlocked.put(key, privateKey);
        }
        return privateKey;
    }

    /** How many decryption keys there are. */
    public int size() {
        return keys.size();
    }

    /** The fingerprints of the decryption keys, for logs. */
    public List<String> fingerprints() {
        return keys.stream().map(k -> fingerprint(k.getFingerprint())).toList();
    }

    static String fingerprint(byte[] fingerprint) {
        return HexFormat.of().formatHex(fingerprint).toUpperCase(Locale.ROOT);
    }

    /** A packet's recipient as gpg prints it: the fingerprint when the packet has one, else the 16-digit key id. */
    static String describe(KeyIdentifier recipient) {
        if (recipient.isWildcard()) {
            return "an anonymous recipient";
        }
        return recipient.getFingerprint() != null ? fingerprint(recipient.getFingerprint())
                : String.format(Locale.ROOT, "%016X", recipient.getKeyId());
    }

    /** Forgets the unlocked keys (Bouncy Castle's objects; see the class comment). */
    void forget() {
        unlocked.clear();
    }
}
