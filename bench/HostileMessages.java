// Writes the messages of issue 12 item 4 for bench/memory.sh and bench/kdf-bounds.sh (run with the jar on the class
// path: java -cp target/secret-run.jar bench/HostileMessages.java DIR PASSPHRASE_FILE MESSAGE.gpg):
//   argon2.gpg       a real RFC 9580 message (SKESK v6 + SEIPD v2) whose Argon2 S2K takes 256 MiB (t=1, p=4, m=2^18):
//                    the most the default --max-kdf-memory allows
//   argon2-2g.gpg    one hostile Argon2 packet (t=10, p=16, 2 GiB) before argon2.gpg
//   fake50.gpg       50 gpg-style passphrase packets (SHA-512, count 65011712) before MESSAGE.gpg, a real binary message
//   fake3.gpg        3 of them before MESSAGE.gpg
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Date;

import org.bouncycastle.bcpg.AEADAlgorithmTags;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.SymmetricKeyEncSessionPacket;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPLiteralDataGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPBEKeyEncryptionMethodGenerator;
import org.bouncycastle.openpgp.operator.bc.BcPGPDataEncryptorBuilder;

public class HostileMessages {
    static final SecureRandom RANDOM = new SecureRandom();

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String passphrase = Files.readString(Path.of(args[1])).lines().findFirst().orElse("");
        byte[] real = Files.readAllBytes(Path.of(args[2]));
        byte[] argon2 = argon2Message("db_password: not-a-real-secret\n".getBytes(StandardCharsets.UTF_8),
                passphrase.toCharArray());
        Files.write(dir.resolve("argon2.gpg"), argon2);
        Files.write(dir.resolve("argon2-2g.gpg"), concat(fakeArgon2(), argon2));
        Files.write(dir.resolve("fake50.gpg"), fakes(50, real));
        Files.write(dir.resolve("fake3.gpg"), fakes(3, real));
    }

    static byte[] argon2Message(byte[] plaintext, char[] passphrase) throws Exception {
        BcPGPDataEncryptorBuilder builder = new BcPGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256)
                .setSecureRandom(RANDOM).setWithIntegrityPacket(true)
                .setWithAEAD(AEADAlgorithmTags.OCB, 10).setUseV6AEAD();
        PGPEncryptedDataGenerator generator = new PGPEncryptedDataGenerator(builder);
        generator.addMethod(new BcPBEKeyEncryptionMethodGenerator(passphrase,
                new S2K.Argon2Params(salt(16), 1, 4, 18)).setSecureRandom(RANDOM));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = generator.open(bytes, new byte[1 << 12]);
                OutputStream literal = new PGPLiteralDataGenerator().open(out, PGPLiteralData.BINARY, "",
                        plaintext.length, new Date(0))) {
            literal.write(plaintext);
        }
        return bytes.toByteArray();
    }

    static byte[] fakeArgon2() throws Exception {
        return SymmetricKeyEncSessionPacket.createV6Packet(SymmetricKeyAlgorithmTags.AES_256, AEADAlgorithmTags.OCB,
                salt(15), new S2K(new S2K.Argon2Params(salt(16), 10, 16, 21)), salt(32), salt(16)).getEncoded();
    }

    static byte[] fakes(int n, byte[] real) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < n; i++) {
            out.writeBytes(SymmetricKeyEncSessionPacket.createV4Packet(SymmetricKeyAlgorithmTags.AES_256,
                    new S2K(HashAlgorithmTags.SHA512, salt(8), 255), null).getEncoded());
        }
        out.writeBytes(real);
        return out.toByteArray();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    static byte[] salt(int n) {
        byte[] salt = new byte[n];
        RANDOM.nextBytes(salt);
        return salt;
    }
}
