package io.secretrun.watch;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A reader in its own JVM, as an app would be: {@code read PATH} reads with Files.readAllBytes; {@code map PATH}
 * maps the file, closes the channel, and only then touches the pages. Prints the content to stdout.
 */
public final class JavaReaderMain {
    public static void main(String[] args) throws IOException {
        Path path = Path.of(args[1]);
        byte[] content;
        switch (args[0]) {
            case "read" -> content = Files.readAllBytes(path);
            case "map" -> {
                MappedByteBuffer map;
                try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                    map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
                }
                content = new byte[map.remaining()];
                map.get(content);
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.write(content);
        System.out.flush();
    }
}
