package io.secretrun.openpgp;

import java.util.concurrent.TimeUnit;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The S2K's first call in a fresh JVM (one shot per fork, 10 forks), with secret-run's JIT setting (C1 only): what
 * a launch pays. The JDK's SHA-512 is fast only once compiled with its intrinsic; libcrypto is fast at once.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(value = 10, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1"})
public class S2kColdBenchmark {
    @Benchmark
    public byte[] libcryptoFirstCall() throws Exception {
        return S2kDeriver.hashS2k(HashAlgorithmTags.SHA512, S2kBenchmark.SALT, 65011712, S2kBenchmark.PASS,
                S2kBenchmark.PASS.length, 32);
    }

    @Benchmark
    public byte[] jdkFirstCall() throws Exception {
        return S2kDeriver.hashS2kJdk(HashAlgorithmTags.SHA512, S2kBenchmark.SALT, 65011712, S2kBenchmark.PASS,
                S2kBenchmark.PASS.length, 32);
    }

    @Benchmark
    @Fork(value = 10, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC"})
    public byte[] jdkFirstCallWithC2() throws Exception {
        return S2kDeriver.hashS2kJdk(HashAlgorithmTags.SHA512, S2kBenchmark.SALT, 65011712, S2kBenchmark.PASS,
                S2kBenchmark.PASS.length, 32);
    }
}
