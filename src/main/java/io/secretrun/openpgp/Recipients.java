package io.secretrun.openpgp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;

import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPMarker;
import org.bouncycastle.openpgp.PGPObjectFactory;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSecretKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPUtil;
import org.bouncycastle.openpgp.operator.bc.BcKeyFingerprintCalculator;
import org.bouncycastle.openpgp.operator.bc.BcPGPContentVerifierBuilderProvider;

import io.secretrun.error.SecretRunException;

/**
 * The public keys a message is encrypted to ({@code encrypt --recipient}): from what {@code gpg --export} writes
 * (armored or binary, a keyring of several), one encryption key per certificate, as gpg picks it: the newest
 * subkey (or the primary key) whose verified self-signature allows encryption and which is neither expired nor
 * revoked. A certificate that is expired, revoked or has no such key is refused (65), naming its fingerprint:
 * a message nobody can read, or only a former holder, is worse than no message.
 */
public final class Recipients {
    private final List<PGPPublicKey> keys;
    private final List<String> fingerprints;
    /** The key ids of every key (primary and subkeys) of the certificates given. */
    private final java.util.Set<Long> keyIds;

    private Recipients(List<PGPPublicKey> keys, List<String> fingerprints, java.util.Set<Long> keyIds) {
        this.keys = keys;
        this.fingerprints = fingerprints;
        this.keyIds = keyIds;
    }

    public static Recipients none() {
        return new Recipients(List.of(), List.of(), java.util.Set.of());
    }

    /** Whether a certificate given holds the key with this id (any of its keys: it may have a newer subkey). */
    public boolean holds(long keyId) {
        return keyIds.contains(keyId);
    }

    /** The encryption keys of every certificate in {@code data}; {@code source} names it in errors. */
    public static Recipients parse(List<byte[]> files, List<String> sources, Instant now) throws SecretRunException {
        List<PGPPublicKey> keys = new ArrayList<>();
        List<String> fingerprints = new ArrayList<>();
        java.util.Set<Long> keyIds = new java.util.HashSet<>();
        for (int i = 0; i < files.size(); i++) {
            for (PGPPublicKeyRing certificate : certificates(files.get(i), sources.get(i))) {
                certificate.getPublicKeys().forEachRemaining(k -> keyIds.add(k.getKeyID()));
                PGPPublicKey key = encryptionKey(certificate, Date.from(now));
                if (!keys.contains(key)) {
                    keys.add(key);
                    fingerprints.add(SecretKeys.fingerprint(certificate.getPublicKey().getFingerprint()));
                }
            }
        }
        return new Recipients(List.copyOf(keys), List.copyOf(fingerprints), java.util.Set.copyOf(keyIds));
    }

    List<PGPPublicKey> keys() {
        return keys;
    }

    public boolean isEmpty() {
        return keys.isEmpty();
    }

    /** The primary key fingerprints of the recipients, for logs. */
    public List<String> fingerprints() {
        return fingerprints;
    }

    private static List<PGPPublicKeyRing> certificates(byte[] data, String source) throws SecretRunException {
        List<PGPPublicKeyRing> rings = new ArrayList<>();
        boolean secret = false;
        try {
            InputStream raw = new ByteArrayInputStream(data);
            while (true) {
                raw.mark(1);
                int b = raw.read();
                if (b < 0) {
                    break;
                }
                if (Character.isWhitespace(b)) {
                    continue;
                }
                raw.reset();
                InputStream decoded = PGPUtil.getDecoderStream(raw);
                PGPObjectFactory factory = new PGPObjectFactory(decoded, new BcKeyFingerprintCalculator());
                for (Object o = factory.nextObject(); o != null; o = factory.nextObject()) {
                    if (o instanceof PGPPublicKeyRing ring) {
                        rings.add(ring);
                    } else if (o instanceof PGPSecretKeyRing ring) {
                        secret = true;
                        rings.add(ring.toCertificate()); // its public part is what encrypts
                    } else if (!(o instanceof PGPMarker)) {
                        throw SecretRunException.badMessage(source + " holds something other than OpenPGP keys");
                    }
                }
                if (decoded == raw) {
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            throw SecretRunException.badMessage(source + " is not a valid OpenPGP public key (expected what gpg "
                    + "--export writes)", e);
        }
        if (rings.isEmpty()) {
            throw SecretRunException.badMessage(source + " holds no OpenPGP public key");
        }
        if (secret) {
            org.slf4j.LoggerFactory.getLogger(Recipients.class).warn("{} holds a secret key; only its public part "
                    + "is used (give recipients the public key: gpg --export, or keygen's --public file)", source);
        }
        return rings;
    }

    /** The key to encrypt to in {@code certificate}, or 65 naming its fingerprint and why there is none. */
    static PGPPublicKey encryptionKey(PGPPublicKeyRing certificate, Date now) throws SecretRunException {
        PGPPublicKey primary = certificate.getPublicKey();
        String fingerprint = SecretKeys.fingerprint(primary.getFingerprint());
        if (revoked(primary, primary, PGPSignature.KEY_REVOCATION)) {
            throw SecretRunException.badMessage("recipient key " + fingerprint + " is revoked; refusing to encrypt "
                    + "to it");
        }
        PGPSignature selfCertification = latestSelfCertification(primary);
        if (selfCertification == null) {
            throw SecretRunException.badMessage("recipient key " + fingerprint + " has no valid self-signature");
        }
        Date expiry = expiry(primary, selfCertification);
        if (expiry != null && !expiry.after(now)) {
            throw SecretRunException.badMessage("recipient key " + fingerprint + " expired on " + expiry.toInstant()
                    + "; refusing to encrypt to it");
        }
        PGPPublicKey best = null;
        Date bestCreated = null;
        for (Iterator<PGPPublicKey> it = certificate.getPublicKeys(); it.hasNext(); ) {
            PGPPublicKey key = it.next();
            if (!SecretKeys.canDecrypt(key.getAlgorithm())) {
                continue;
            }
            PGPSignature binding = key.isMasterKey() ? selfCertification : latestBinding(primary, key);
            int flags = binding == null || binding.getHashedSubPackets() == null ? 0
                    : binding.getHashedSubPackets().getKeyFlags();
            if (binding == null || (flags != 0 && (flags & (KeyFlags.ENCRYPT_COMMS | KeyFlags.ENCRYPT_STORAGE)) == 0)) {
                continue;
            }
            if (!key.isMasterKey() && revoked(primary, key, PGPSignature.SUBKEY_REVOCATION)) {
                continue;
            }
            Date keyExpiry = key.isMasterKey() ? expiry : expiry(key, binding);
            if (keyExpiry != null && !keyExpiry.after(now)) {
                continue;
            }
            if (best == null || key.getCreationTime().after(bestCreated)) {
                best = key;
                bestCreated = key.getCreationTime();
            }
        }
        if (best == null) {
            throw SecretRunException.badMessage("recipient key " + fingerprint + " has no valid key that can encrypt "
                    + "(none flagged for encryption, or all expired or revoked)");
        }
        return best;
    }

    private static Date expiry(PGPPublicKey key, PGPSignature signature) {
        long seconds = signature.getHashedSubPackets() == null ? 0
                : signature.getHashedSubPackets().getKeyExpirationTime();
        return seconds == 0 ? null : new Date(key.getCreationTime().getTime() + seconds * 1000);
    }

    /** The newest verified user-id self-certification of the primary key (its key flags and expiry hold). */
    private static PGPSignature latestSelfCertification(PGPPublicKey primary) {
        PGPSignature latest = null;
        for (Iterator<byte[]> ids = primary.getRawUserIDs(); ids.hasNext(); ) {
            byte[] id = ids.next();
            for (Iterator<PGPSignature> sigs = primary.getSignaturesForID(id); sigs.hasNext(); ) {
                PGPSignature sig = sigs.next();
                if (isSelf(sig, primary) && sig.isCertification() && verifies(() -> {
                    sig.init(new BcPGPContentVerifierBuilderProvider(), primary);
                    return sig.verifyCertification(id, primary);
                }) && (latest == null || sig.getCreationTime().after(latest.getCreationTime()))) {
                    latest = sig;
                }
            }
        }
        // a key without user ids (RFC 9580 allows it) states its flags and expiry in a direct-key signature
        for (Iterator<PGPSignature> sigs = primary.getSignaturesOfType(PGPSignature.DIRECT_KEY); sigs.hasNext(); ) {
            PGPSignature sig = sigs.next();
            if (latest == null && isSelf(sig, primary) && verifies(() -> {
                sig.init(new BcPGPContentVerifierBuilderProvider(), primary);
                return sig.verifyCertification(primary);
            })) {
                latest = sig;
            }
        }
        return latest;
    }

    private static PGPSignature latestBinding(PGPPublicKey primary, PGPPublicKey subkey) {
        PGPSignature latest = null;
        for (Iterator<PGPSignature> sigs = subkey.getSignaturesOfType(PGPSignature.SUBKEY_BINDING); sigs.hasNext(); ) {
            PGPSignature sig = sigs.next();
            if (isSelf(sig, primary) && verifies(() -> {
                sig.init(new BcPGPContentVerifierBuilderProvider(), primary);
                return sig.verifyCertification(primary, subkey);
            }) && (latest == null || sig.getCreationTime().after(latest.getCreationTime()))) {
                latest = sig;
            }
        }
        return latest;
    }

    /** A verified revocation of {@code key} by the primary key. */
    private static boolean revoked(PGPPublicKey primary, PGPPublicKey key, int type) {
        for (Iterator<PGPSignature> sigs = key.getSignaturesOfType(type); sigs.hasNext(); ) {
            PGPSignature sig = sigs.next();
            if (isSelf(sig, primary) && verifies(() -> {
                sig.init(new BcPGPContentVerifierBuilderProvider(), primary);
                return type == PGPSignature.KEY_REVOCATION ? sig.verifyCertification(key)
                        : sig.verifyCertification(primary, key);
            })) {
                return true;
            }
        }
        return false;
    }

    private static boolean isSelf(PGPSignature sig, PGPPublicKey primary) {
        return sig.getKeyID() == primary.getKeyID();
    }

    private interface Check {
        boolean run() throws PGPException;
    }

    private static boolean verifies(Check check) {
        try {
            return check.run();
        } catch (PGPException | RuntimeException e) {
            return false;
        }
    }
}
