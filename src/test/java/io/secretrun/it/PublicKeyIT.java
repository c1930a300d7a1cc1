package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bouncycastle.bcpg.MPInteger;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyEncSessionPacket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Public-key recipients (issue 14) through the real jar: gpg's keys (RSA, Ed25519/Curve25519, NIST P-256/P-384),
 * protected and not, armored and binary, open gpg's messages for one and three recipients and with a passphrase too,
 * by a launch and by {@code decrypt}, byte-identical; and the bad inputs. Keys are made once for the class.
 */
class PublicKeyIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    static final String KEY_PASSPHRASE = "key-pass-Wombat";
    static final List<String> ALGORITHMS = List.of("rsa3072", "future-default", "nistp256", "nistp384");
    /** "algo/protected" -> fingerprint */
    static final Map<String, String> KEYS = new LinkedHashMap<>();

    @TempDir
    Path dir;
    Scenario s;

    @BeforeAll
    static void makeKeys() {
        for (String algo : ALGORITHMS) {
            KEYS.put(algo + "/plain", gpg.generateKey("plain " + algo, algo, ""));
            KEYS.put(algo + "/protected", gpg.generateKey("protected " + algo, algo, KEY_PASSPHRASE));
        }
    }

    @BeforeEach
    void scenario() {
        s = new Scenario(dir, gpg);
        s.secretRun.secret(KEY_PASSPHRASE);
    }

    static String key(String algo, boolean protectedKey) {
        return KEYS.get(algo + (protectedKey ? "/protected" : "/plain"));
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (String algo : ALGORITHMS) {
            // every algorithm both armored and binary, and protected and not
            cases.add(Arguments.of(algo, false, true));
            cases.add(Arguments.of(algo, true, false));
        }
        return cases.stream();
    }

    /** A fresh copy of the key, as the init container leaves it (secret-run deletes it after reading). */
    Path keyFile(String fingerprint, boolean armor, boolean protectedKey) {
        return gpg.exportSecretKeys(dir.resolve("secret-" + Scenario.token() + (armor ? ".asc" : ".gpg")), armor,
                protectedKey ? KEY_PASSPHRASE : "", fingerprint);
    }

    Path passphraseFile(String passphrase) {
        return s.write("pw-" + Scenario.token(), (passphrase + "\n").getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "{0} protected={1} armor={2}")
    @MethodSource("cases")
    void gpgMessagesOpenByALaunchAndByDecrypt(String algo, boolean protectedKey, boolean armor) {
        String fpr = key(algo, protectedKey);
        List<String> others = KEYS.values().stream().filter(k -> !k.equals(fpr)).limit(2).toList();
        Path one = gpg.encryptTo(s.plaintext, List.of(fpr), null, dir.resolve("one.enc"));
        Path three = gpg.encryptTo(s.plaintext, List.of(others.get(0), fpr, others.get(1)), null,
                dir.resolve("three.enc"), "--armor");
        Path both = gpg.encryptTo(s.plaintext, List.of(fpr), s.passphrase, dir.resolve("both.enc"));
        for (Path message : List.of(one, three, both)) {
            // the launch: the app copies the plaintext it reads
            Path copy = dir.resolve("copy");
            List<String> args = new ArrayList<>(List.of("-i", message.toString(), "-o", s.target.toString(),
                    "--key-file", keyFile(fpr, armor, protectedKey).toString()));
            if (protectedKey) {
                args.addAll(List.of("--passphrase-file", passphraseFile(KEY_PASSPHRASE).toString()));
            }
            args.add("--");
            args.addAll(List.of(sh("cat \"$0\" > \"$1\"", s.target, copy)));
            SecretRun.Result launched = s.secretRun.run(args.toArray(String[]::new)).assertExit(0);
            assertArrayEquals(s.plaintext, read(copy), "launch of " + message.getFileName());
            assertTrue(launched.stderr().contains("opened with key "), launched.stderr());

            // decrypt
            Path out = dir.resolve("out");
            List<String> decrypt = new ArrayList<>(List.of("decrypt", "-i", message.toString(), "-o", out.toString(),
                    "--key-file", keyFile(fpr, armor, protectedKey).toString()));
            if (protectedKey) {
                decrypt.addAll(List.of("--passphrase-file", passphraseFile(KEY_PASSPHRASE).toString()));
            }
            s.secretRun.run(decrypt.toArray(String[]::new)).assertExit(0);
            assertArrayEquals(s.plaintext, read(out), "decrypt of " + message.getFileName());
            try {
                Files.delete(out);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        // the passphrase half of the combined message, without a key
        Path out = dir.resolve("out");
        s.secretRun.run("decrypt", "-i", both.toString(), "-o", out.toString(), "--passphrase-file",
                s.passphraseFile().toString()).assertExit(0);
        assertArrayEquals(s.plaintext, read(out));
    }

    @Test
    void anUnprotectedKeyNeedsNoPassphraseAndItsFileIsDeletedUnlessKept() {
        String fpr = key("future-default", false);
        Path message = gpg.encryptTo(s.plaintext, List.of(fpr), null, dir.resolve("m.enc"));
        Path keyFile = keyFile(fpr, true, false);
        Path out = dir.resolve("out");
        // no passphrase source and no terminal (SecretRun runs without one): not asked, so no failure
        SecretRun.Result r = s.secretRun.run("decrypt", "-i", message.toString(), "-o", out.toString(),
                "--key-file", keyFile.toString()).assertExit(0);
        assertArrayEquals(s.plaintext, read(out));
        assertFalse(existsNoFollow(keyFile), "the key file is deleted after reading");
        assertTrue(r.stderr().contains("secret key read from " + keyFile + "; deleted"), r.stderr());

        Path kept = keyFile(fpr, false, false);
        s.secretRun.run("decrypt", "-i", message.toString(), "-o", dir.resolve("out2").toString(), "--key-file",
                kept.toString(), "--keep-key-file").assertExit(0);
        assertTrue(existsNoFollow(kept), "--keep-key-file");
        s.secretRun.with().env("DONT_DELETE_PWFILE", "1").env("SECRET_RUN_KEY_FILE", kept.toString())
                .run("decrypt", "-i", message.toString(), "-o", dir.resolve("out3").toString()).assertExit(0);
        assertTrue(existsNoFollow(kept), "DONT_DELETE_PWFILE, the old scripts' switch, keeps it too");
        assertArrayEquals(s.plaintext, read(dir.resolve("out3")));
    }

    /**
     * Several secrets (issue 10) with a key (issue 14): one launch reads the key file once (and deletes it), the
     * passphrase once (it unlocks the key and opens a passphrase-only secret), and logs per secret what opened it.
     */
    @Test
    void everySecretOfALaunchOpensWithTheSameKeyAndPassphrase() {
        String fpr = key("future-default", true);
        String notOurs = key("nistp256", false);
        byte[] a = "a: 1\n".getBytes(StandardCharsets.UTF_8);
        byte[] b = "b: 2\n".getBytes(StandardCharsets.UTF_8);
        byte[] c = "c: 3\n".getBytes(StandardCharsets.UTF_8);
        Path aEnc = gpg.encryptTo(a, List.of(fpr), null, dir.resolve("a.enc"));
        Path bEnc = gpg.encryptTo(b, List.of(fpr), null, dir.resolve("b.enc"));
        // to a key we do not hold, and to the passphrase: opened with the passphrase
        Path cEnc = gpg.encryptTo(c, List.of(notOurs), KEY_PASSPHRASE, dir.resolve("c.enc"));
        Path keyFile = keyFile(fpr, true, true);
        Path copy = dir.resolve("copy");
        SecretRun.Result r = s.secretRun.run("--secret", "in=" + aEnc + ",out=" + dir.resolve("a"),
                "--secret", "in=" + bEnc + ",out=" + dir.resolve("b"),
                "--secret", "in=" + cEnc + ",out=" + dir.resolve("c"),
                "--key-file", keyFile.toString(), "--passphrase-file", passphraseFile(KEY_PASSPHRASE).toString(),
                "--", "sh", "-c", "cat \"$0\" \"$1\" \"$2\" > \"$3\"", dir.resolve("a").toString(),
                dir.resolve("b").toString(), dir.resolve("c").toString(), copy.toString()).assertExit(0);
        assertEquals("a: 1\nb: 2\nc: 3\n", new String(read(copy), StandardCharsets.UTF_8));
        assertFalse(existsNoFollow(keyFile), "the key file is deleted after reading");
        String err = r.stderr();
        assertEquals(1, count(err, "secret key read from " + keyFile + "; deleted"), err);
        assertEquals(2, count(err, "opened with key "), err);
        assertEquals(1, count(err, "opened with passphrase"), err);
        for (String name : List.of("a", "b", "c")) {
            assertFalse(existsNoFollow(dir.resolve(name)), "plaintext " + name + " removed");
        }
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void theKeyComesFromADescriptor() {
        String fpr = key("nistp256", false);
        Path message = gpg.encryptTo(s.plaintext, List.of(fpr), null, dir.resolve("m.enc"));
        Path keyFile = keyFile(fpr, false, false);
        Path out = dir.resolve("out");
        s.secretRun.with().wrapper("bash", "-c", "exec 3<\"$0\"; exec \"$@\"", keyFile.toString())
                .run("decrypt", "-i", message.toString(), "-o", out.toString(), "--key-fd", "3").assertExit(0);
        assertArrayEquals(s.plaintext, read(out));
    }

    /** {@code --key-fd 0} with the key file on stdin: the app gets /dev/null there (it could seek back and read it). */
    @Test
    void aKeyFileOnStdinIsNotTheAppsStdin() {
        String fpr = key("future-default", false);
        Path message = gpg.encryptTo(s.plaintext, List.of(fpr), null, dir.resolve("m.enc"));
        Path keyFile = keyFile(fpr, true, false);
        Path stdin = dir.resolve("app-stdin");
        Path rest = dir.resolve("app-read");
        Path copy = dir.resolve("copy");
        SecretRun.Result result = s.secretRun.with().wrapper("bash", "-c", "exec 0<\"$0\"; exec \"$@\"",
                        keyFile.toString())
                .run("-i", message.toString(), "-o", s.target.toString(), "--key-fd", "0", "--",
                        "sh", "-c", "cat \"$0\" > \"$1\"; readlink /proc/self/fd/0 > \"$2\"; cat > \"$3\"",
                        s.target.toString(), copy.toString(), stdin.toString(), rest.toString())
                .assertExit(0);
        assertArrayEquals(s.plaintext, read(copy));
        assertEquals("/dev/null\n", Scenario.readString(stdin), "the app's stdin");
        assertEquals("", Scenario.readString(rest), "the app read nothing of the key file");
        assertTrue(result.stderr().contains("the secret key came from file descriptor 0"), result.stderr());
    }

    @Test
    void aMessageForAnotherKeyIs77NamingBoth() {
        Path message = gpg.encryptTo(s.plaintext, List.of(key("rsa3072", false)), null, dir.resolve("m.enc"));
        SecretRun.Result r = s.secretRun.run(command(s.launchWith(message, "--key-file",
                keyFile(key("nistp256", false), true, false).toString()))).assertExit(77);
        assertTrue(r.stderr().contains("not encrypted to any of our keys"), r.stderr());
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void aProtectedKeyWithAWrongPassphraseIs77() {
        String fpr = key("nistp384", true);
        Path message = gpg.encryptTo(s.plaintext, List.of(fpr), null, dir.resolve("m.enc"));
        SecretRun.Result r = s.secretRun.run(command(s.launchWith(message, "--key-file", keyFile(fpr, true, true).toString(),
                "--passphrase-file", passphraseFile("not the key's").toString()))).assertExit(77);
        assertTrue(r.stderr().contains("wrong passphrase for secret key"), r.stderr());
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void aPublicKeyAsKeyFileIs66WithAClearLine() {
        String fpr = key("rsa3072", false);
        Path message = gpg.encryptTo(s.plaintext, List.of(fpr), null, dir.resolve("m.enc"));
        Path publicKey = gpg.exportPublicKeys(dir.resolve("public.asc"), true, fpr);
        SecretRun.Result r = s.secretRun.run(command(s.launchWith(message, "--key-file", publicKey.toString())))
                .assertExit(66);
        assertTrue(r.stderr().contains("holds a public key, not a secret key"), r.stderr());
    }

    /** The launch arguments with the app {@code true}. */
    static String[] command(List<String> launch) {
        List<String> args = new ArrayList<>(launch);
        args.add("true");
        return args.toArray(String[]::new);
    }

    @Test
    void fiftyPublicKeyPacketsForOtherKeysBeforeTheRealOneCostNothing() throws IOException {
        String fpr = key("rsa3072", false);
        Path real = gpg.encryptTo(s.plaintext, List.of(fpr), null, dir.resolve("real.enc"));
        SecureRandom random = new SecureRandom();
        ByteArrayOutputStream hostile = new ByteArrayOutputStream();
        for (int i = 0; i < 50; i++) {
            byte[] mpi = new MPInteger(new BigInteger(3064, random)).getEncoded();
            hostile.writeBytes(PublicKeyEncSessionPacket.createV3PKESKPacket(random.nextLong(),
                    PublicKeyAlgorithmTags.RSA_GENERAL, new byte[][] {mpi}).getEncoded());
        }
        hostile.writeBytes(read(real));
        Path message = s.write("hostile.enc", hostile.toByteArray());
        Path copy = dir.resolve("copy");
        List<String> args = s.launchWith(message, "--key-file", keyFile(fpr, false, false).toString());
        args.addAll(List.of(sh("cat \"$0\" > \"$1\"", s.target, copy)));
        s.secretRun.run(args.toArray(String[]::new)).assertExit(0);
        assertArrayEquals(s.plaintext, read(copy));
    }

    @Test
    void keygenKeysAndEncryptToRecipientsRoundTripWithGpg() throws IOException {
        Path secret = dir.resolve("secret.asc");
        Path pub = dir.resolve("public.asc");
        SecretRun.Result made = s.secretRun.run("keygen", "-o", secret.toString(), "--public", pub.toString(),
                "--name", "cluster prod").assertExit(0);
        assertEquals(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"), Scenario.permissions(secret));
        assertTrue(made.stderr().contains("cluster prod"), made.stderr());
        // a second keygen never replaces the key
        s.secretRun.run("keygen", "-o", secret.toString(), "--public", dir.resolve("other.asc").toString())
                .assertExit(73);

        // encrypt on the "laptop": to our key and to a gpg key, only recipients, so no passphrase is asked
        // (SecretRun runs without a terminal and no passphrase source is given)
        String gpgKey = key("nistp256", false);
        Path gpgPublic = gpg.exportPublicKeys(dir.resolve("gpg.pub"), false, gpgKey);
        Path enc = dir.resolve("secrets.yaml.enc");
        // (the input has its own name: the launch below must not find a file it did not write at its target)
        s.secretRun.run("encrypt", "-i", s.write("laptop-secrets.yaml", s.plaintext).toString(), "-o",
                enc.toString(), "--recipient", pub + "," + gpgPublic).assertExit(0);

        // gpg opens it with its own key, byte-identically
        GpgFixture.Output byGpg = gpg.decryptWithKeys(enc, "");
        assertEquals(0, byGpg.exitCode(), byGpg.stderr());
        assertArrayEquals(s.plaintext, byGpg.stdout());

        // gpg imports our keygen key and opens it with that too
        try (GpgFixture other = GpgFixture.create(Files.createDirectories(dir.resolve("other")))) {
            other.importKeys(Files.copy(secret, dir.resolve("import.asc")), "");
            GpgFixture.Output withOurs = other.decryptWithKeys(enc, "");
            assertEquals(0, withOurs.exitCode(), withOurs.stderr());
            assertArrayEquals(s.plaintext, withOurs.stdout());
        }

        // the pod: a launch with the secret key
        Path copy = dir.resolve("copy");
        List<String> args = s.launchWith(enc, "--key-file", secret.toString());
        args.addAll(List.of(sh("cat \"$0\" > \"$1\"", s.target, copy)));
        s.secretRun.run(args.toArray(String[]::new)).assertExit(0);
        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(secret), "the key file is deleted after reading");
    }

    @Test
    void encryptRefusesAnExpiredRecipientNamingIt() {
        // made in 2020, valid for a day
        GpgFixture.Output made = gpg.gpg(List.of("--passphrase", "", "--faked-system-time", "20200101T000000",
                "--quick-generate-key", "expired <expired@secret-run.invalid>", "future-default", "default", "1d"),
                new byte[0]);
        assertEquals(0, made.exitCode(), made.stderr());
        GpgFixture.Output listed = gpg.gpg(List.of("--with-colons", "--list-keys", "expired@secret-run.invalid"),
                new byte[0]);
        String fpr = new String(listed.stdout(), StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("fpr:"))
                .findFirst().orElseThrow().split(":")[9];
        Path expired = gpg.exportPublicKeys(dir.resolve("expired.asc"), true, fpr);
        Path input = s.write("secrets.yaml", s.plaintext);
        SecretRun.Result r = s.secretRun.with().env("SECRET_RUN_RECIPIENTS", expired.toString())
                .run("encrypt", "-i", input.toString()).assertExit(65);
        assertTrue(r.stderr().contains("recipient key " + fpr + " expired"), r.stderr());
        assertFalse(existsNoFollow(dir.resolve("secrets.yaml.enc")));
    }
}
