package io.secretrun.openpgp;

import io.secretrun.secret.SecretBytes;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The launch's decryption, {@link MessageDecryptor#decrypt}, of a message made with secret-run's defaults (armored,
 * AES-256, SHA-512 S2K, ZIP): at count 1024 it measures the parsing, decryption, decompression and MDC check alone;
 * at 65011712 the whole thing, S2K included.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC"})
public class DecryptBenchmark {
    @Param({"1024", "65011712"})
    long count;

    private byte[] message;
    private SecretBytes passphrase;

    @Setup
    public void encrypt() throws Exception {
        passphrase = SecretBytes.wrap("correct horse battery staple".getBytes(StandardCharsets.US_ASCII));
        SecretBytes plaintext = SecretBytes.wrap(
                "db_password: not-a-real-secret\napi_key: 0123456789abcdef\n".repeat(20).getBytes(StandardCharsets.UTF_8));
        message = SymmetricEncryptor.encrypt(plaintext, passphrase, EncryptOptions.defaults().withS2kCount(count));
    }

    @Benchmark
    public int decrypt() throws Exception {
        try (SecretBytes plaintext = MessageDecryptor.decrypt(message, passphrase, 16 << 20)) {
            return plaintext.length();
        }
    }
}
