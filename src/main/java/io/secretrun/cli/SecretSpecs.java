package io.secretrun.cli;

import io.secretrun.deliver.PlaintextMode;
import io.secretrun.deliver.SecretSpec;
import io.secretrun.deliver.Serve;
import io.secretrun.error.SecretRunException;
import io.secretrun.linux.ProcessCalls;
import io.secretrun.process.TargetUser;
import io.secretrun.watch.DeleteOn;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns {@code --secret SPEC} entries (and {@code -i}/{@code -o}) into {@link SecretSpec}s: SPEC is comma-separated
 * {@code key=value}, as in {@code docker run --mount}; a key not given takes the launch-wide option's value. Every
 * mistake is a usage error (64) with one line naming the entry.
 */
final class SecretSpecs {
    static final Set<String> KEYS = Set.of("in", "out", "mode", "delete-on", "owner", "perm", "plaintext-dir",
            "serve");
    private static final Pattern OCTAL = Pattern.compile("0?[0-7]{3}");
    /** SECRET_RUN_SECRETS separates entries with ';' or newlines. */
    private static final Pattern ENTRY_SEPARATOR = Pattern.compile("[;\\r\\n]+");
    /** A FIFO is served once and then gone: it cannot stay for the app's life. */
    static final String FIFO_UNTIL_EXIT = "delete-on=exit applies to mode=file only (a FIFO serves its content "
            + "once; an app that reads it again needs mode=file)";

    private SecretSpecs() {
    }

    /** The launch-wide values, taken by every key a SPEC does not give. */
    record Defaults(PlaintextMode mode, DeleteOn deleteOn, Optional<String> owner, String ownerOption, int perm,
            Optional<Path> plaintextDir, Optional<TargetUser> user, boolean resolveOwners, Serve serve) {
        Defaults(PlaintextMode mode, DeleteOn deleteOn, Optional<String> owner, String ownerOption, int perm,
                Optional<Path> plaintextDir, Optional<TargetUser> user, boolean resolveOwners) {
            this(mode, deleteOn, owner, ownerOption, perm, plaintextDir, user, resolveOwners, Serve.ONCE);
        }

        /** For {@code check}, which looks at places only: owners are not resolved. */
        static Defaults forPlaces(Optional<Path> plaintextDir) {
            return forPlaces(plaintextDir, DeleteOn.OPEN);
        }

        /** As above, with the launch-wide {@code --delete-on}. */
        static Defaults forPlaces(Optional<Path> plaintextDir, DeleteOn deleteOn) {
            return new Defaults(PlaintextMode.FILE, deleteOn, Optional.empty(), "", 0600, plaintextDir,
                    Optional.empty(), false);
        }
    }

    /** One entry as the user wrote it, and how to name it in an error line. */
    record Entry(String text, String label) {
    }

    /** The entries of SECRET_RUN_SECRETS. */
    static List<Entry> fromEnvironment(String value) {
        List<Entry> entries = new ArrayList<>();
        for (String part : ENTRY_SEPARATOR.split(value)) {
            if (!part.isBlank()) {
                entries.add(new Entry(part.trim(), "SECRET_RUN_SECRETS entry '" + part.trim() + "'"));
            }
        }
        return entries;
    }

    static Entry fromOption(String value) {
        return new Entry(value, "--secret '" + value + "'");
    }

    /** Parses one entry. */
    static SecretSpec parse(Entry entry, Defaults defaults) throws SecretRunException {
        Map<String, String> values = new LinkedHashMap<>();
        for (String pair : entry.text().split(",", -1)) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw usage(entry, "'" + pair + "' is not key=value (keys: " + keyList() + ")");
            }
            String key = pair.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            String value = pair.substring(eq + 1).trim();
            if (!KEYS.contains(key)) {
                throw usage(entry, "unknown key '" + key + "' (keys: " + keyList() + ")");
            }
            if (values.containsKey(key)) {
                throw usage(entry, "key '" + key + "' given twice");
            }
            if (value.isEmpty()) {
                throw usage(entry, "key '" + key + "' has no value");
            }
            values.put(key, value);
        }
        if (!values.containsKey("in")) {
            throw usage(entry, "no in=FILE (the encrypted file)");
        }
        Path in = Path.of(values.get("in"));
        Path out;
        if (values.containsKey("out")) {
            out = Path.of(values.get("out"));
        } else {
            out = withoutSuffix(in).orElseThrow(() -> usage(entry, "cannot derive out from in (no .enc, .gpg, .pgp "
                    + "or .asc suffix); give out=FILE"));
        }
        PlaintextMode mode = defaults.mode();
        if (values.containsKey("mode")) {
            mode = switch (values.get("mode").toLowerCase(Locale.ROOT)) {
                case "file" -> PlaintextMode.FILE;
                case "fifo" -> PlaintextMode.FIFO;
                default -> throw usage(entry, "mode=" + values.get("mode") + ": expected file or fifo");
            };
        }
        DeleteOn deleteOn = defaults.deleteOn();
        if (values.containsKey("delete-on")) {
            try {
                deleteOn = DeleteOn.parse(values.get("delete-on"));
            } catch (IllegalArgumentException e) {
                throw usage(entry, "delete-on=" + values.get("delete-on") + ": expected open, read, close or exit");
            }
        }
        if (mode == PlaintextMode.FIFO && deleteOn.untilExit()) {
            if (values.containsKey("delete-on") || !values.containsKey("mode")) {
                throw usage(entry, FIFO_UNTIL_EXIT);
            }
            // the launch-wide --delete-on exit is for files (as --plaintext-dir): a secret that asks for a FIFO
            // is served once
            deleteOn = DeleteOn.OPEN;
        }
        Optional<SecretSpec.Owner> owner = !defaults.resolveOwners() ? Optional.empty()
                : values.containsKey("owner")
                ? Optional.of(owner(values.get("owner"), entry.label() + ": owner"))
                : defaults.owner().isPresent() ? Optional.of(owner(defaults.owner().get(), defaults.ownerOption()))
                : defaults.user().map(u -> new SecretSpec.Owner(u.spec(), u.uid(), u.gid()));
        int perm = values.containsKey("perm") ? perm(values.get("perm"), entry.label() + ": perm") : defaults.perm();
        Optional<Path> plaintextDir;
        if (values.containsKey("plaintext-dir")) {
            if (mode == PlaintextMode.FIFO) {
                throw usage(entry, "plaintext-dir applies to mode=file only (a FIFO holds no data on any file "
                        + "system)");
            }
            plaintextDir = Optional.of(Path.of(values.get("plaintext-dir")));
        } else {
            // the launch-wide --plaintext-dir is for files; a secret that asks for a FIFO is not one
            plaintextDir = mode == PlaintextMode.FIFO ? Optional.empty() : defaults.plaintextDir();
        }
        Serve serve = defaults.serve();
        if (values.containsKey("serve")) {
            serve = switch (values.get("serve").toLowerCase(Locale.ROOT)) {
                case "once" -> Serve.ONCE;
                case "app" -> Serve.APP;
                default -> throw usage(entry, "serve=" + values.get("serve") + ": expected once or app");
            };
        }
        return new SecretSpec(entry.label(), in, out, mode, deleteOn, owner, perm, plaintextDir, serve);
    }

    /** The secret of {@code -i}/{@code -o}: every other value launch-wide. */
    static SecretSpec single(Path in, Path out, Defaults defaults) throws SecretRunException {
        if (defaults.mode() == PlaintextMode.FIFO && defaults.deleteOn().untilExit()) {
            throw SecretRunException.usage("--delete-on exit: " + FIFO_UNTIL_EXIT);
        }
        Optional<SecretSpec.Owner> owner = defaults.owner().isPresent()
                ? Optional.of(owner(defaults.owner().get(), defaults.ownerOption()))
                : defaults.user().map(u -> new SecretSpec.Owner(u.spec(), u.uid(), u.gid()));
        return new SecretSpec("-i " + in, in, out, defaults.mode(), defaults.deleteOn(), owner, defaults.perm(),
                defaults.mode() == PlaintextMode.FIFO ? Optional.empty() : defaults.plaintextDir(), defaults.serve());
    }

    /** Refuses two secrets with the same plaintext path, naming the second entry. */
    static void requireDistinctOutputs(List<SecretSpec> specs) throws SecretRunException {
        Map<Path, SecretSpec> seen = new HashMap<>();
        for (SecretSpec spec : specs) {
            SecretSpec other = seen.putIfAbsent(spec.plaintext().toAbsolutePath().normalize(), spec);
            if (other != null) {
                throw SecretRunException.usage(spec.entry() + ": out=" + spec.plaintext() + " is also the plaintext "
                        + "path of " + other.entry());
            }
        }
    }

    /**
     * An owner resolved to ids; refused (64) unless secret-run runs as root or the owner is secret-run's own user:
     * only root may give a file away.
     */
    static SecretSpec.Owner owner(String spec, String option) throws SecretRunException {
        TargetUser user = TargetUser.resolve(spec, option);
        int euid = ProcessCalls.geteuid();
        if (euid != 0 && user.uid() != euid) {
            throw SecretRunException.usage(option + " " + spec + ": giving the plaintext to another user needs "
                    + "secret-run to start as root (it runs as uid " + Integer.toUnsignedString(euid) + ")");
        }
        return new SecretSpec.Owner(spec, user.uid(), user.gid());
    }

    /** OCTAL mode bits: no execute bits, nothing writable by others, no set-id or sticky bits. */
    static int perm(String value, String option) throws SecretRunException {
        if (!OCTAL.matcher(value).matches()) {
            throw SecretRunException.usage(option + " " + value + ": expected octal mode bits such as 0600, 0440 or "
                    + "0640");
        }
        int perm = Integer.parseInt(value, 8);
        if ((perm & 0111) != 0) {
            throw SecretRunException.usage(option + " " + value + ": a plaintext gets no execute bits");
        }
        if ((perm & 0002) != 0) {
            throw SecretRunException.usage(option + " " + value + ": others may not write to a plaintext");
        }
        return perm;
    }

    /** {@code FILE.enc} (or .gpg, .pgp, .asc) without its suffix. */
    static Optional<Path> withoutSuffix(Path encrypted) {
        String name = encrypted.getFileName() == null ? "" : encrypted.getFileName().toString();
        for (String suffix : Main.ENCRYPTED_SUFFIXES) {
            if (name.length() > suffix.length() && name.endsWith(suffix)) {
                return Optional.of(encrypted.resolveSibling(name.substring(0, name.length() - suffix.length())));
            }
        }
        return Optional.empty();
    }

    private static String keyList() {
        return "in, out, mode, delete-on, owner, perm, plaintext-dir, serve";
    }

    private static SecretRunException usage(Entry entry, String what) {
        return SecretRunException.usage(entry.label() + ": " + what);
    }
}
