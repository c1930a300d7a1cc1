package io.secretrun.openpgp;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.S2K;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.openpgp.operator.bc.BcPBEDataDecryptorFactory;
import org.bouncycastle.openpgp.operator.bc.BcPGPDigestCalculatorProvider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The iterated S2K at gpg's maximum count (65011712 bytes), SHA-512, 32-byte key: ours through libcrypto, ours
 * through the JDK's MessageDigest, and Bouncy Castle's own loop. Warm figures (average time); {@link
 * S2kColdBenchmark} measures the first call in a fresh JVM, which is what a launch pays.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC"})
public class S2kBenchmark {
    static final byte[] SALT = {1, 2, 3, 4, 5, 6, 7, 8};
    static final byte[] PASS = "correct horse battery staple".getBytes(StandardCharsets.US_ASCII);

    @Param({"65011712"})
    long count;

    @Benchmark
    public byte[] libcrypto() throws Exception {
        return S2kDeriver.hashS2k(HashAlgorithmTags.SHA512, SALT, count, PASS, PASS.length, 32);
    }

    @Benchmark
    public byte[] jdkMessageDigest() throws Exception {
        return S2kDeriver.hashS2kJdk(HashAlgorithmTags.SHA512, SALT, count, PASS, PASS.length, 32);
    }

    @Benchmark
    public byte[] bouncyCastle() throws Exception {
        BcPBEDataDecryptorFactory bc = new BcPBEDataDecryptorFactory(
                new String(PASS, StandardCharsets.US_ASCII).toCharArray(), new BcPGPDigestCalculatorProvider());
        return bc.makeKeyFromPassPhrase(SymmetricKeyAlgorithmTags.AES_256,
                new S2K(HashAlgorithmTags.SHA512, SALT, S2kDeriver.encodeCount(count)));
    }
}
