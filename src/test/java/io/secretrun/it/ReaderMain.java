package io.secretrun.it;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A tiny Java app used as secret-run's child in {@link ReadOnceIT}: reads the plaintext ({@code stream}: plain
 * read() calls, {@code mmap}: a memory-mapped FileChannel), writes a copy, then checks (bounded poll) that the
 * plaintext path is gone while it still runs. Exit 0: gone; 3: still there; 5: read failed.
 *
 * <p>Usage: {@code ReaderMain stream|mmap PLAINTEXT COPY POLLS_FILE}
 */
public final class ReaderMain {
    private ReaderMain() {
    }

    public static void main(String[] args) throws Exception {
        Path plaintext = Path.of(args[1]);
        byte[] content;
        try {
            content = args[0].equals("mmap") ? mapped(plaintext) : Files.readAllBytes(plaintext);
        } catch (IOException e) {
            System.exit(5);
            return;
        }
        Files.write(Path.of(args[2]), content);
        int polls = 0;
        while (Files.exists(plaintext)) {
            if (++polls > 500) {
                System.exit(3);
            }
            Thread.sleep(10);
        }
        Files.writeString(Path.of(args[3]), Integer.toString(polls));
        System.exit(0);
    }

    private static byte[] mapped(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            byte[] bytes = new byte[map.remaining()];
            ByteBuffer.wrap(bytes).put(map);
            return bytes;
        }
    }
}
