package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.testing.Fuzz;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzes {@code --user} resolution: the spec and the /etc/passwd and /etc/group it reads, made from real lines
 * mutated (fields dropped, doubled, emptied, made huge or negative, separators and bytes inserted, invalid UTF-8).
 * Every input ends in a consistent user or a usage error (64) whose message is one line; never another exception,
 * which Main would report as an internal error. See {@link Fuzz} for tries and seed.
 */
class TargetUserFuzzTest {
    private static final List<String> PASSWD = List.of("root:x:0:0:root:/root:/bin/sh", "# a comment", "",
            "hass:x:1000:1000:Home Assistant:/config:/sbin/nologin",
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
            "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin", "+::::::", "app:*:4294967294:100::/:");
    private static final List<String> GROUP = List.of("root:x:0:", "hass:x:1000:", "dialout:x:20:hass",
            "video:x:44:someone,hass,other", "audio:x:29:hassle", "staff:x:50:", "nogroup:x:65534:", "# c",
            "wheel:x:10:root,hass,", "users::100:app");
    private static final List<String> SPECS = List.of("hass", "root", "nobody", "app", "daemon", "1000", "0",
            "65534", "4242", "hass:staff", "hass:video", "1000:50", "4242:4242", "root:nogroup", "app:users",
            "nosuch", "hass:nosuch", "4294967295:0", "-1", "hass:-1", ":", "hass:", ":hass");
    private static final String FIELD_CHARS = ":,#\n\r\t x0123456789-+";

    @TempDir
    Path dir;

    @Test
    void anyPasswdGroupAndSpec() {
        Path passwd = dir.resolve("passwd");
        Path group = dir.resolve("group");
        Fuzz.forAll("TargetUser.anyPasswdGroupAndSpec", t -> {
            SplittableRandom r = t.random;
            byte[] passwdBytes = file(r, PASSWD);
            byte[] groupBytes = file(r, GROUP);
            String spec = spec(r);
            Files.write(passwd, passwdBytes);
            Files.write(group, groupBytes);
            t.input(passwdBytes, "spec \"" + spec + "\"; group file "
                    + new String(groupBytes, StandardCharsets.ISO_8859_1) + "; passwd file (the bytes)");
            TargetUser user;
            try {
                user = TargetUser.resolve(spec, passwd, group);
            } catch (SecretRunException e) {
                assertEquals(ExitCode.USAGE, e.exitCode(), e.getMessage());
                assertOneLine(e.getMessage());
                return;
            }
            assertFalse(user.groups().isEmpty(), user::toString);
            assertEquals(user.gid(), (int) user.groups().getFirst(), "the primary group comes first: " + user);
            assertTrue(user.uid() != -1 && user.gid() != -1, "never (uid_t) -1, which setresuid reads as 'keep': "
                    + user);
            assertEquals(user.groups().size(), user.groups().stream().distinct().count(), user::toString);
        });
    }

    @Test
    void anySpecAgainstTheRealLines() throws Exception {
        Path passwd = Files.writeString(dir.resolve("passwd"), String.join("\n", PASSWD) + "\n");
        Path group = Files.writeString(dir.resolve("group"), String.join("\n", GROUP) + "\n");
        Fuzz.forAll("TargetUser.anySpecAgainstTheRealLines", t -> {
            String spec = mutate(t.random, spec(t.random));
            t.input(spec);
            try {
                TargetUser user = TargetUser.resolve(spec, passwd, group);
                assertFalse(user.groups().isEmpty(), user::toString);
            } catch (SecretRunException e) {
                assertEquals(ExitCode.USAGE, e.exitCode(), e.getMessage());
                assertOneLine(e.getMessage());
            }
        });
    }

    private static void assertOneLine(String message) {
        assertTrue(message != null && !message.isBlank(), "a message");
        assertFalse(message.contains("\n") || message.contains("\r"), () -> "one line: " + message);
        assertFalse(message.contains("Exception") || message.contains("java."), () -> "no Java names: " + message);
    }

    private static String spec(SplittableRandom r) {
        return r.nextInt(4) == 0 ? mutate(r, Fuzz.oneOf(r, SPECS.toArray(String[]::new)))
                : Fuzz.oneOf(r, SPECS.toArray(String[]::new));
    }

    /** The lines, some mutated, shuffled a little, some left out; now and then raw bytes or invalid UTF-8. */
    private static byte[] file(SplittableRandom r, List<String> lines) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String line : lines) {
            int roll = r.nextInt(10);
            if (roll == 0) {
                continue;
            }
            String l = roll < 4 ? mutate(r, line) : line;
            out.writeBytes(l.getBytes(StandardCharsets.UTF_8));
            if (r.nextInt(30) == 0) {
                out.writeBytes(Fuzz.bytes(r, 1, 8)); // raw bytes: often invalid UTF-8
            }
            out.write('\n');
        }
        return out.toByteArray();
    }

    private static String mutate(SplittableRandom r, String s) {
        StringBuilder b = new StringBuilder(s);
        int n = Fuzz.between(r, 1, 4);
        for (int i = 0; i < n; i++) {
            int at = b.isEmpty() ? 0 : r.nextInt(b.length() + 1);
            switch (r.nextInt(8)) {
                case 0 -> b.insert(at, FIELD_CHARS.charAt(r.nextInt(FIELD_CHARS.length())));
                case 1 -> {
                    if (!b.isEmpty()) {
                        b.deleteCharAt(Math.min(at, b.length() - 1));
                    }
                }
                case 2 -> b.insert(at, Fuzz.oneOf(r, "4294967295", "4294967296", "99999999999999999999", "-1",
                        "00000000000000001000", "٣", "0x10"));
                case 3 -> b.setLength(Math.min(at, b.length()));
                case 4 -> b.insert(at, ':');
                case 5 -> {
                    // empty or double a field
                    String[] fields = b.toString().split(":", -1);
                    int f = r.nextInt(fields.length);
                    fields[f] = r.nextBoolean() ? "" : fields[f] + ":" + fields[f];
                    b.setLength(0);
                    b.append(String.join(":", fields));
                }
                case 6 -> b.insert(at, (char) r.nextInt(0x20));
                default -> b.insert(at, Character.toChars(Fuzz.between(r, 0x80, 0x10FFFF)));
            }
        }
        return b.toString();
    }
}
