package io.secretrun.secret;

import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ControllingTerminal;
import io.secretrun.linux.ErrnoException;
import io.secretrun.linux.Libc;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.OptionalInt;
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

    /**
     * Reads a passphrase that is about to protect a file ({@code encrypt}, the new one of {@code rekey}): a typo
     * would make the file unreadable for good, so a terminal asks twice, and the other sources read once.
     *
     * @param label what the prompt asks for, e.g. "Passphrase" or "New passphrase"
     * @throws SecretRunException 64 when the two entries differ
     */
    default SecretBytes readNew(String label) throws SecretRunException {
        return read();
    }

    /** What to call this source in logs and errors (never the passphrase). */
    String describe();

    /** The file descriptor the passphrase is read from, if it is one (the app must not get a file there). */
    default OptionalInt descriptor() {
        return OptionalInt.empty();
    }

    /** A file, deleted right after it is read unless {@code keep}. */
    record File(Path path, boolean keep) implements PassphraseSource {
        @Override
        public SecretBytes read() throws SecretRunException {
            return SecretFile.read(path, keep, "passphrase", "passphrase", LOG,
                    in -> orEmpty(firstLine(in, describe())));
        }

        @Override
        public String describe() {
            return "passphrase file " + path;
        }
    }

    /**
     * An environment variable, read as raw bytes with the C library's {@code getenv} ({@link System#getenv} decodes
     * with the locale's charset, which in a container without a locale mangles non-ASCII passphrases). Not from
     * {@code /proc/self/environ}: secret-run is non-dumpable by then, and the kernel gives that file to root only.
     * The app does not inherit the variable (see {@code Spawn.environmentWithout}).
     */
    record Environment(String name) implements PassphraseSource {
        @Override
        public SecretBytes read() throws SecretRunException {
            MemorySegment value = Libc.getenv(name);
            if (value == null) {
                throw SecretRunException.noInput("environment variable " + name + " is not set");
            }
            SecretBytes passphrase = firstLineOf(value);
            if (passphrase.length() > MAX_LENGTH) {
                passphrase.close();
                throw SecretRunException.noInput(describe() + " has no line end within " + MAX_LENGTH + " bytes; "
                        + "not a passphrase");
            }
            LOG.info("passphrase read from environment variable {}; hidden from the app", name);
            return passphrase;
        }

        /** The first line of {@code value} without its LF; a CR before the LF stays, as with the other sources. */
        static SecretBytes firstLineOf(MemorySegment value) {
            long end = 0;
            while (end < value.byteSize() && value.get(ValueLayout.JAVA_BYTE, end) != '\n') {
                end++;
            }
            // copied byte by byte: no intermediate array holds the passphrase
            SecretBytes passphrase = new SecretBytes((int) Math.min(end, MAX_LENGTH + 1L));
            for (long i = 0; i < end && i <= MAX_LENGTH; i++) {
                passphrase.append(value.get(ValueLayout.JAVA_BYTE, i));
            }
            return passphrase;
        }

        @Override
        public String describe() {
            return "environment variable " + name;
        }
    }

    /**
     * An inherited file descriptor, e.g. a pipe the caller writes the passphrase into. Read with read(2) on the
     * descriptor itself, one byte at a time up to the LF as gpg does: a file is read from its inherited offset,
     * a socket works, and nothing after the first line is consumed (the caller may use the rest).
     */
    record Descriptor(int fd) implements PassphraseSource {
        @Override
        public SecretBytes read() throws SecretRunException {
            SecretBytes passphrase = DescriptorInput.read(fd, describe(), in -> orEmpty(firstLine(in, describe())));
            LOG.info("passphrase read from file descriptor {}", fd);
            return passphrase;
        }

        @Override
        public String describe() {
            return "file descriptor " + fd;
        }

        @Override
        public OptionalInt descriptor() {
            return OptionalInt.of(fd);
        }
    }

    /**
     * The controlling terminal ({@code /dev/tty}), whatever stdin and stdout are, with echo off, as gpg and ssh
     * prompt. Fails when there is none (a container started without -t, a new session).
     */
    record TerminalPrompt() implements PassphraseSource {
        @Override
        public SecretBytes read() throws SecretRunException {
            return prompt("Passphrase", false);
        }

        @Override
        public SecretBytes readNew(String label) throws SecretRunException {
            return prompt(label, true);
        }

        /** Asks for {@code label}; with {@code confirm} a second time, refusing (64) when the entries differ. */
        private SecretBytes prompt(String label, boolean confirm) throws SecretRunException {
            ControllingTerminal terminal;
            try {
                terminal = ControllingTerminal.open();
            } catch (ErrnoException e) {
                throw SecretRunException.noInput("no passphrase: cannot open the terminal: " + e.getMessage());
            }
            if (terminal == null) {
                throw SecretRunException.noInput("no passphrase: no passphrase file at the default path, no "
                        + "--passphrase-file, --passphrase-env or --passphrase-fd, and no terminal to ask on");
            }
            // SIGINT or SIGTERM end the JVM without unwinding this thread, which waits in read(2): a shutdown hook
            // gives the terminal its echo back then
            Thread restorer = new Thread(terminal::restore, "terminal-restore");
            Runtime.getRuntime().addShutdownHook(restorer);
            try (terminal; InputStream in = new DescriptorInput(terminal.fd(), describe())) {
                terminal.echoOff();
                SecretBytes passphrase = ask(terminal, in, label + ": ");
                if (confirm) {
                    try (SecretBytes again = ask(terminal, in, "Repeat " + label.toLowerCase(java.util.Locale.ROOT)
                            + ": ")) {
                        if (!passphrase.contentEquals(again)) {
                            passphrase.close();
                            throw SecretRunException.usage("the passphrases do not match; nothing written");
                        }
                    } catch (SecretRunException | IOException | RuntimeException e) {
                        passphrase.close();
                        throw e;
                    }
                }
                LOG.info("passphrase read from the terminal");
                return passphrase;
            } catch (IOException e) {
                throw SecretRunException.noInput("no passphrase: cannot read it from the terminal: " + e.getMessage());
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(restorer);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs (or ran) anyway
                }
            }
        }

        private SecretBytes ask(ControllingTerminal terminal, InputStream in, String prompt)
                throws IOException, SecretRunException {
            terminal.write(prompt.getBytes(StandardCharsets.US_ASCII));
            SecretBytes passphrase = firstLine(in, describe());
            terminal.write(new byte[] {'\n'}); // the user's Enter was not echoed
            if (passphrase == null) {
                throw SecretRunException.noInput("no passphrase: the terminal was closed");
            }
            return passphrase;
        }

        @Override
        public String describe() {
            return "terminal prompt";
        }
    }

    /**
     * Reads up to the first LF, without it; what follows is neither read into memory nor kept (the sources read a
     * byte at a time).
     *
     * @return the line, or null when the input ends before its first byte
     */
    private static SecretBytes firstLine(InputStream in, String what) throws IOException, SecretRunException {
        SecretBytes line = new SecretBytes(64);
        try {
            int b = in.read();
            if (b < 0) {
                line.close();
                return null;
            }
            for (; b >= 0 && b != '\n'; b = in.read()) {
                if (line.length() >= MAX_LENGTH) {
                    throw SecretRunException.noInput(what + " has no line end within " + MAX_LENGTH + " bytes; "
                            + "not a passphrase");
                }
                line.append(b);
            }
            return line;
        } catch (IOException | SecretRunException | RuntimeException e) {
            line.close();
            throw e;
        }
    }

    /** An input that ended at once gives an empty passphrase, as with gpg. */
    private static SecretBytes orEmpty(SecretBytes line) {
        return line != null ? line : new SecretBytes(0);
    }
}
