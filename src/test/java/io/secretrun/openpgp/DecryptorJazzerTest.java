package io.secretrun.openpgp;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.secretrun.openpgp.DecryptorOracle.Seed;

/**
 * Coverage-guided fuzzing of {@link MessageDecryptor#decrypt} with Jazzer (libFuzzer for the JVM), with the
 * property of {@link DecryptorFuzzTest} ({@link DecryptorOracle}): the original plaintext, or exit 65, or 77 only for
 * damage before the quick check ends; no other exception, hang, out-of-memory error or allocation over the bound.
 *
 * <p>The seed corpus is committed: {@code src/test/resources/}{@value DecryptorSeeds#CORPUS}, real gpg and Bouncy
 * Castle messages of {@link DecryptorOracle#PLAIN} with the passphrase "test password" ({@link DecryptorSeeds}
 * regenerates it), plus inner seeds ({@code inner-*.bin}) that fuzz the packets inside an intact encryption. An input
 * of unknown origin is judged against its {@link DecryptorOracle#nearest nearest} seed.
 *
 * <p>Two modes (Jazzer's): regression, the default, runs the fuzz test once per corpus file (and on the empty
 * input); fuzzing ({@code JAZZER_FUZZ=1}) runs them too, then mutates them guided by coverage of our classes and Bouncy
 * Castle's OpenPGP, armor and bzip2 code, for {@code jazzer.max_duration} (at most one fuzz test per JVM). The
 * build's "jazzer" surefire execution runs this class in its own JVM in fuzzing mode for {@code -Dfuzz.jazzer.duration}
 * (default 60s; {@code -Dfuzz.jazzer=0}: regression mode only), in {@code target/jazzer}, where libFuzzer keeps its
 * generated corpus ({@code .cifuzz-corpus}) and writes findings ({@code crash-*}, with a Java reproducer). A finding
 * kept as a regression test: copy its file into the corpus directory.
 */
@Tag("jazzer")
class DecryptorJazzerTest {
    private static List<Seed> seeds;
    private static final DecryptorOracle oracle = new DecryptorOracle();

    @BeforeAll
    static void loadSeeds() throws Exception {
        URL dir = DecryptorJazzerTest.class.getResource("/" + DecryptorSeeds.CORPUS);
        assertNotNull(dir, "the seed corpus " + DecryptorSeeds.CORPUS + " on the test class path");
        seeds = DecryptorSeeds.load(Path.of(dir.toURI()));
        assertTrue(seeds.size() >= 20, () -> "only " + seeds.size() + " seeds in " + dir);
    }

    @AfterAll
    static void report() {
        oracle.close();
        System.out.println("jazzer: MessageDecryptor: " + oracle.summary());
    }

    /** The committed seeds still behave as made (e.g. after a change to the decryptor or to Bouncy Castle). */
    @Test
    void committedSeedsBehaveAsExpected() {
        for (Seed seed : seeds) {
            DecryptorSeeds.checkUnmodified(oracle, seed);
        }
    }

    @FuzzTest(maxDuration = "60s")
    void decrypt(byte[] input) {
        DecryptorSeeds.Inner inner = DecryptorSeeds.parseInner(input);
        if (inner != null) {
            oracle.checkInner(inner.packets(), inner.format(), "inner packets in " + inner.format());
            return;
        }
        Seed nearest = DecryptorOracle.nearest(seeds, input);
        oracle.checkDamaged(nearest, input, "an input nearest to seed " + nearest);
    }
}
