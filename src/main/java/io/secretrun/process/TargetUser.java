package io.secretrun.process;

import io.secretrun.error.SecretRunException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The user {@code --user USER[:GROUP]} names, resolved to ids from {@code /etc/passwd} and {@code /etc/group}
 * (read directly, as in a container image; no NSS). Docker's rules:
 * <ul>
 *   <li>{@code USER}: its uid, its primary group from passwd, and every group in /etc/group listing it;</li>
 *   <li>{@code USER:GROUP}: the group given, and only that one (no supplementary groups);</li>
 *   <li>names or numbers; a number need not exist in passwd when a group is given. A bare number without a passwd
 *       entry is refused (Docker would make its group 0, root's).</li>
 * </ul>
 *
 * @param groups the supplementary groups to set (the primary group included)
 */
public record TargetUser(String spec, int uid, int gid, List<Integer> groups) {
    public TargetUser {
        groups = List.copyOf(groups);
    }

    public static TargetUser resolve(String spec) throws SecretRunException {
        return resolve(spec, Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    /** As {@link #resolve(String)}, with error lines that name {@code option} (e.g. {@code --plaintext-owner}). */
    public static TargetUser resolve(String spec, String option) throws SecretRunException {
        return resolve(spec, Path.of("/etc/passwd"), Path.of("/etc/group"), option);
    }

    static TargetUser resolve(String spec, Path passwdFile, Path groupFile) throws SecretRunException {
        return resolve(spec, passwdFile, groupFile, "--user");
    }

    static TargetUser resolve(String spec, Path passwdFile, Path groupFile, String option)
            throws SecretRunException {
        int colon = spec.indexOf(':');
        String user = colon < 0 ? spec : spec.substring(0, colon);
        String group = colon < 0 ? null : spec.substring(colon + 1);
        if (user.isEmpty() || (group != null && group.isEmpty())) {
            throw SecretRunException.usage(option + " '" + spec + "': expected USER or USER:GROUP (names or numbers)");
        }
        List<String[]> passwd = read(passwdFile, option);
        List<String[]> groups = read(groupFile, option);

        Optional<String[]> entry = isNumber(user)
                ? passwd.stream().filter(e -> e.length > 3 && e[2].equals(user)).findFirst()
                : passwd.stream().filter(e -> e.length > 3 && e[0].equals(user)).findFirst();
        if (entry.isEmpty() && !isNumber(user)) {
            throw SecretRunException.usage(option + ": no user named '" + user + "' in " + passwdFile);
        }
        int uid = isNumber(user) ? id(user, spec, option) : id(entry.get()[2], spec, option);

        if (group != null) {
            int gid;
            if (isNumber(group)) {
                gid = id(group, spec, option);
            } else {
                String[] g = groups.stream().filter(e -> e.length > 2 && e[0].equals(group)).findFirst()
                        .orElseThrow(() -> SecretRunException.usage(option + ": no group named '" + group + "' in "
                                + groupFile));
                gid = id(g[2], spec, option);
            }
            return new TargetUser(spec, uid, gid, List.of(gid));
        }
        if (entry.isEmpty()) {
            throw SecretRunException.usage(option + ": uid " + uid + " has no entry in " + passwdFile
                    + ", so it has no group; give " + option + " " + uid + ":GID");
        }
        String name = entry.get()[0];
        int gid = id(entry.get()[3], spec, option);
        Set<Integer> all = new LinkedHashSet<>();
        all.add(gid);
        for (String[] g : groups) {
            if (g.length > 3 && List.of(g[3].split(",")).contains(name)) {
                all.add(id(g[2], spec, option));
            }
        }
        return new TargetUser(spec, uid, gid, new ArrayList<>(all));
    }

    private static List<String[]> read(Path file, String option) throws SecretRunException {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                    .filter(line -> !line.isBlank() && !line.startsWith("#"))
                    .map(line -> line.split(":", -1))
                    .toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw SecretRunException.usage(option + ": cannot read " + file + ": " + e.getMessage());
        }
    }

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private static int id(String s, String spec, String option) throws SecretRunException {
        try {
            long id = Long.parseLong(s);
            if (id < 0 || id >= 0xFFFF_FFFFL) {
                throw new NumberFormatException();
            }
            return (int) id;
        } catch (NumberFormatException e) {
            throw SecretRunException.usage(option + " '" + spec + "': '" + s + "' is not a valid id");
        }
    }

    @Override
    public String toString() {
        return "uid " + Integer.toUnsignedString(uid) + ", gid " + Integer.toUnsignedString(gid) + ", groups "
                + groups;
    }
}
