package io.secretrun.launch;

import io.secretrun.error.SecretRunException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads an OpenPGP message from disk, bounded so a wrong or hostile file cannot exhaust memory. */
public final class EncryptedFile {
    private EncryptedFile() {
    }

    /**
     * The largest message that can hold {@code maxPlaintextBytes}: stored uncompressed and armored (4/3), plus
     * room for packet headers.
     */
    static long maxMessageBytes(long maxPlaintextBytes) {
        return Math.min(Integer.MAX_VALUE - 8L, maxPlaintextBytes / 3 * 4 + maxPlaintextBytes / 8 + 64 * 1024);
    }

    public static byte[] read(Path path, long maxPlaintextBytes) throws SecretRunException {
        try {
            if (Files.isDirectory(path)) {
                throw SecretRunException.noInput("encrypted file " + path + " is a directory");
            }
            long size = Files.size(path);
            if (size > maxMessageBytes(maxPlaintextBytes)) {
                throw SecretRunException.badMessage("encrypted file " + path + " (" + size + " bytes) is larger "
                        + "than any message holding at most --max-size bytes");
            }
            return Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw SecretRunException.noInput("encrypted file " + path + " does not exist");
        } catch (AccessDeniedException e) {
            throw SecretRunException.noInput("cannot read encrypted file " + path + ": permission denied");
        } catch (IOException e) {
            throw SecretRunException.noInput("cannot read encrypted file " + path + ": " + e.getMessage());
        }
    }
}
