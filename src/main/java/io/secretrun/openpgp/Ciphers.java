package io.secretrun.openpgp;

import java.util.Locale;
import java.util.Map;

import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;

/** The symmetric ciphers gpg offers, by OpenPGP id, with gpg's names and key sizes. */
final class Ciphers {
    /** gpg's names (as {@code --cipher-algo} accepts them, upper case) to OpenPGP ids; "AES" means AES-128. */
    private static final Map<String, Integer> BY_NAME = Map.ofEntries(
            Map.entry("IDEA", SymmetricKeyAlgorithmTags.IDEA),
            Map.entry("3DES", SymmetricKeyAlgorithmTags.TRIPLE_DES),
            Map.entry("CAST5", SymmetricKeyAlgorithmTags.CAST5),
            Map.entry("BLOWFISH", SymmetricKeyAlgorithmTags.BLOWFISH),
            Map.entry("AES", SymmetricKeyAlgorithmTags.AES_128),
            Map.entry("AES128", SymmetricKeyAlgorithmTags.AES_128),
            Map.entry("AES192", SymmetricKeyAlgorithmTags.AES_192),
            Map.entry("AES256", SymmetricKeyAlgorithmTags.AES_256),
            Map.entry("TWOFISH", SymmetricKeyAlgorithmTags.TWOFISH),
            Map.entry("CAMELLIA128", SymmetricKeyAlgorithmTags.CAMELLIA_128),
            Map.entry("CAMELLIA192", SymmetricKeyAlgorithmTags.CAMELLIA_192),
            Map.entry("CAMELLIA256", SymmetricKeyAlgorithmTags.CAMELLIA_256));

    private Ciphers() {
    }

    /** The OpenPGP id for a gpg cipher name (case-insensitive, also gpg's "S9" form), or -1. */
    static int byName(String name) {
        String upper = name.strip().toUpperCase(Locale.ROOT);
        Integer id = BY_NAME.get(upper);
        if (id != null) {
            return id;
        }
        if (upper.matches("S[0-9]{1,2}")) {
            int n = Integer.parseInt(upper.substring(1));
            return isSupported(n) ? n : -1;
        }
        return -1;
    }

    /** The names accepted by {@link #byName}, for error messages. */
    static String names() {
        return "AES, AES128, AES192, AES256, CAMELLIA128, CAMELLIA192, CAMELLIA256, TWOFISH, BLOWFISH, CAST5, 3DES, IDEA";
    }

    static boolean isSupported(int id) {
        return keyLength(id) > 0;
    }

    /** Key length in bytes, or -1 for an id we do not accept (e.g. plaintext 0, DES 6, SAFER 5). */
    static int keyLength(int id) {
        return switch (id) {
            case SymmetricKeyAlgorithmTags.IDEA, SymmetricKeyAlgorithmTags.CAST5, SymmetricKeyAlgorithmTags.BLOWFISH,
                 SymmetricKeyAlgorithmTags.AES_128, SymmetricKeyAlgorithmTags.CAMELLIA_128 -> 16;
            case SymmetricKeyAlgorithmTags.TRIPLE_DES, SymmetricKeyAlgorithmTags.AES_192,
                 SymmetricKeyAlgorithmTags.CAMELLIA_192 -> 24;
            case SymmetricKeyAlgorithmTags.AES_256, SymmetricKeyAlgorithmTags.TWOFISH,
                 SymmetricKeyAlgorithmTags.CAMELLIA_256 -> 32;
            default -> -1;
        };
    }
}
