package io.secretrun.openpgp;

import static io.secretrun.testing.Dirs.listing;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.secretrun.cli.Main;
import io.secretrun.log.LogSetup;
import io.secretrun.testing.Fuzz;
import io.secretrun.testing.Gpg;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated messages through the real file-writing path: {@code secret-run decrypt -o FILE}, in process through
 * {@link Main#execute} (the exit-code mapper; {@code main} alone applies the self-protection, so the test JVM is left
 * as it is). Each input ends in exit 0 with exactly the original plaintext in the output file, or in 65 or 77 with
 * nothing at all in the output directory (no file, no temporary file). {@link DecryptorFuzzTest} covers many more
 * inputs in memory; this one checks that no failure path leaves anything on disk, so a fifth of its tries suffice.
 */
class DecryptToFileFuzzTest {
    private static final byte[] PLAIN = ("api_key: " + "FUZZ-PLAINTEXT-0123456789\n").repeat(20)
            .getBytes(StandardCharsets.UTF_8);
    private static List<Seed> seeds;
    private static Level rootLevel;

    @TempDir
    static Path shared;

    record Seed(String name, byte[] bytes, boolean armored) {
        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    static void makeSeeds() throws Exception {
        List<Seed> all = new ArrayList<>();
        try (Gpg gpg = Gpg.start()) {
            for (String algo : new String[] {"none", "zlib"}) {
                for (boolean armor : new boolean[] {false, true}) {
                    List<String> args = new ArrayList<>(List.of("--s2k-count", "65536", "--compress-algo", algo));
                    if (armor) {
                        args.add("--armor");
                    }
                    all.add(new Seed("gpg-" + algo + (armor ? "-armor" : ""),
                            gpg.encrypt(PLAIN, Craft.PASSWORD_BYTES, args.toArray(String[]::new)), armor));
                }
            }
        }
        for (Craft.Format format : new Craft.Format[] {Craft.Format.V4_DIRECT, Craft.Format.V6_OCB}) {
            all.add(new Seed("bc-" + format, Craft.encryptPlaintext(PLAIN, format, false), false));
        }
        seeds = List.copyOf(all);
        rootLevel = ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).getLevel();
    }

    /** Main.execute set up logging for --log-level off: back to what the other tests in this JVM expect. */
    @AfterAll
    static void restoreLogging() {
        LogSetup.apply(rootLevel == null ? Level.INFO : rootLevel, LogSetup.Format.TEXT);
    }

    @Test
    void mutatedMessagesLeaveTheOriginalOrNothing() throws Exception {
        Path in = shared.resolve("secrets.yaml.enc");
        Path pw = Files.write(shared.resolve("pw"), (Craft.PASSWORD + "\n").getBytes(StandardCharsets.US_ASCII));
        Fuzz.forAll("decryptToFile", Math.max(1, Fuzz.tries() / 5), t -> {
            SplittableRandom r = t.random;
            Seed seed = seeds.get(r.nextInt(seeds.size()));
            List<Mutation> mutations = new ArrayList<>();
            byte[] input = seed.bytes();
            for (int i = Fuzz.between(r, 1, 3); i > 0; i--) {
                Mutation m = Mutation.random(r);
                mutations.add(m);
                input = m.apply(input, seed.armored());
            }
            t.input(input, seed + " " + mutations);
            Files.write(in, input);
            Path outDir = Files.createTempDirectory(shared, "out-");
            Path out = outDir.resolve("secrets.yaml");

            int code = Main.execute("decrypt", "-i", in.toString(), "-o", out.toString(), "--passphrase-file",
                    pw.toString(), "--keep-passphrase-file", "--log-level", "off");

            if (code == 0) {
                assertEquals(Set.of("secrets.yaml"), listing(outDir), "only the output file");
                assertArrayEquals(PLAIN, Files.readAllBytes(out), "exit 0 only with the original plaintext");
                Files.delete(out);
            } else {
                assertTrue(code == 65 || code == 77, "exit 0, 65 or 77, not " + code);
                assertEquals(Set.of(), listing(outDir), "a failure leaves no file at all");
            }
            Files.delete(outDir);
        });
    }
}
