package io.secretrun.linux;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Runs in its own JVM (see SecretMemoryTest), under a resource limit the test JVM must not get: puts args[0] into a
 * SecretMemory, prints "locked" or the lock warning on stderr, then writes the content to stdout (fd 1) from the
 * mapping.
 */
public final class SecretMemoryMain {
    public static void main(String[] args) throws Exception {
        byte[] secret = args[0].getBytes(StandardCharsets.UTF_8);
        try (SecretMemory memory = SecretMemory.copyOf(secret, 0, secret.length)) {
            Arrays.fill(secret, (byte) 0);
            System.err.println(memory.lockWarning().map(w -> "WARN " + w).orElse("locked"));
            System.err.flush();
            memory.writeAll(1);
        }
    }
}
