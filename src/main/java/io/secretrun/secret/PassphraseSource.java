package io.secretrun.secret;

import io.secretrun.error.SecretRunException;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the passphrase comes from. Each source yields the first line of its content without the line end, as raw
 * bytes, exactly as {@code gpg --passphrase-fd} reads it (no charset decoding, a trailing CR is kept).
 */
public sealed interface PassphraseSource {
    Logger LOG = LoggerFactory.getLogger(PassphraseSource.class);

    /** Longest passphrase line we read; a longer one is a wrong file, not a passphrase. */
    int MAX_LENGTH = 64 * 1024;

    SecretBytes read() throws SecretRunException;

    /** What to call this source in logs and errors (never the passphrase). */
    String describe();

    /** A file, deleted right after it is read unless {@code keep}. */
    record File(Path path, boolean keep) implements PassphraseSource {
        @Override
        public SecretBytes read() throws SecretRunException {
            if (Files.isSymbolicLink(path)) {
                // a link could make us delete (or read) something the user never meant as a passphrase file
                throw SecretRunException.noInput("passphrase file " + path + " is a symbolic link; refusing it");
            }
            if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
                throw SecretRunException.noInput(Files.exists(path)
                        ? "passphrase file " + path + " is not a regular file"
                        : "passphrase file " + path + " does not exist");
            }
            SecretBytes passphrase;
            try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
                passphrase = firstLine(in, describe());
            } catch (NoSuchFileException e) {
                throw SecretRunException.noInput("passphrase file " + path + " does not exist");
            } catch (IOException e) {
                throw SecretRunException.noInput("cannot read passphrase file " + path + ": " + reason(e));
            }
            if (keep) {
                LOG.info("passphrase read from {}; kept", path);
            } else {
                try {
                    Files.deleteIfExists(path);
                    LOG.info("passphrase read from {}; deleted", path);
                } catch (IOException e) {
                    // fail closed: the user asked for a passphrase that exists once
                    passphrase.close();
                    throw SecretRunException.cantCreate("cannot delete passphrase file " + path + ": " + reason(e)
                            + " (use --keep-passphrase-file to keep it)");
                }
            }
            return passphrase;
        }

        @Override
        public String describe() {
            return "passphrase file " + path;
        }
    }

    /**
     * An environment variable, read from {@code /proc/self/environ} as raw bytes: {@link System#getenv} decodes with
     * the locale's charset, which in a container without a locale mangles non-ASCII passphrases.
     */
    record Environment(String name) implements PassphraseSource {
        @Override
        public SecretBytes read() throws SecretRunException {
            byte[] environ;
            try {
                environ = Files.readAllBytes(Path.of("/proc/self/environ"));
            } catch (IOException e) {
                throw SecretRunException.noInput("cannot read the environment: " + reason(e));
            }
            try {
                byte[] key = (name + "=").getBytes(StandardCharsets.UTF_8);
                for (int start = 0; start < environ.length; ) {
                    int end = start;
                    while (end < environ.length && environ[end] != 0) {
                        end++;
                    }
                    if (end - start >= key.length
                            && Arrays.equals(environ, start, start + key.length, key, 0, key.length)) {
                        int from = start + key.length;
                        int to = from;
                        while (to < end && environ[to] != '\n') {
                            to++;
                        }
                        SecretBytes passphrase = new SecretBytes(to - from);
                        passphrase.append(environ, from, to - from);
                        LOG.info("passphrase read from environment variable {}; hidden from the app", name);
                        return passphrase;
                    }
                    start = end + 1;
                }
            } finally {
                Arrays.fill(environ, (byte) 0);
            }
            throw SecretRunException.noInput("environment variable " + name + " is not set");
        }

        @Override
        public String describe() {
            return "environment variable " + name;
        }
    }

    /** An inherited file descriptor, e.g. a pipe the caller writes the passphrase into. */
    record Descriptor(int fd) implements PassphraseSource {
        @Override
        public SecretBytes read() throws SecretRunException {
            Path path = Path.of("/proc/self/fd/" + fd);
            if (!Files.exists(path)) {
                throw SecretRunException.noInput("file descriptor " + fd + " is not open");
            }
            try (InputStream in = Files.newInputStream(path)) {
                SecretBytes passphrase = firstLine(in, describe());
                LOG.info("passphrase read from file descriptor {}", fd);
                return passphrase;
            } catch (IOException e) {
                throw SecretRunException.noInput("cannot read file descriptor " + fd + ": " + reason(e));
            }
        }

        @Override
        public String describe() {
            return "file descriptor " + fd;
        }
    }

    /** The controlling terminal, without echo. Fails when there is none (a container started without -t). */
    record TerminalPrompt() implements PassphraseSource {
        @Override
        public SecretBytes read() throws SecretRunException {
            Console console = System.console();
            if (console == null || !console.isTerminal()) {
                throw SecretRunException.noInput("no passphrase: no passphrase file at the default path, no "
                        + "--passphrase-file, --passphrase-env or --passphrase-fd, and no terminal to ask on");
            }
            char[] typed = console.readPassword("Passphrase: ");
            if (typed == null) {
                throw SecretRunException.noInput("no passphrase: the terminal was closed");
            }
            return utf8(typed);
        }

        @Override
        public String describe() {
            return "terminal prompt";
        }
    }

    /** Encodes typed characters as UTF-8 (what gpg gets from a UTF-8 terminal), wiping every copy. */
    private static SecretBytes utf8(char[] chars) {
        CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder();
        ByteBuffer bytes = ByteBuffer.allocate((int) (chars.length * (double) encoder.maxBytesPerChar()));
        try {
            encoder.encode(CharBuffer.wrap(chars), bytes, true);
            encoder.flush(bytes);
            SecretBytes passphrase = new SecretBytes(bytes.position());
            passphrase.append(bytes.array(), 0, bytes.position());
            return passphrase;
        } finally {
            Arrays.fill(chars, '\0');
            Arrays.fill(bytes.array(), (byte) 0);
        }
    }

    /** Reads up to the first LF; what follows is neither read into memory nor kept. */
    private static SecretBytes firstLine(InputStream in, String what) throws IOException, SecretRunException {
        SecretBytes line = new SecretBytes(64);
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (line.length() >= MAX_LENGTH) {
                line.close();
                throw SecretRunException.noInput(what + " has no line end within " + MAX_LENGTH + " bytes; "
                        + "not a passphrase");
            }
            line.append(b);
        }
        return line;
    }

    private static String reason(IOException e) {
        String message = e.getMessage();
        return e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : message == null ? e.getClass().getSimpleName() : message;
    }
}
