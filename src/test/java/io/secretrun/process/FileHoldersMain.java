package io.secretrun.process;

import io.secretrun.process.FileHolders.FileId;
import io.secretrun.process.FileHolders.Scan;
import java.nio.file.Path;

/** Runs in its own JVM, as another user (see FileHoldersTest): prints the holders of args[0] and the unreadable. */
public final class FileHoldersMain {
    public static void main(String[] args) throws Exception {
        Scan s = FileHolders.find(FileId.of(Path.of(args[0])), 1_000_000);
        System.out.println("holders " + s.holders());
        System.out.println("unreadable " + s.unreadable());
    }
}
