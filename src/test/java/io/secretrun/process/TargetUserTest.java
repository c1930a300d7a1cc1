package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TargetUserTest {
    @TempDir
    Path dir;
    Path passwd;
    Path group;

    @BeforeEach
    void files() throws Exception {
        passwd = dir.resolve("passwd");
        group = dir.resolve("group");
        Files.writeString(passwd, """
                root:x:0:0:root:/root:/bin/sh
                # a comment
                hass:x:1000:1000:Home Assistant:/config:/sbin/nologin
                nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
                """);
        Files.writeString(group, """
                root:x:0:
                hass:x:1000:
                dialout:x:20:hass
                video:x:44:someone,hass,other
                audio:x:29:hassle
                staff:x:50:
                nogroup:x:65534:
                """);
    }

    private TargetUser resolve(String spec) throws SecretRunException {
        return TargetUser.resolve(spec, passwd, group);
    }

    @Test
    void aNameGetsItsPrimaryAndSupplementaryGroups() throws Exception {
        TargetUser u = resolve("hass");
        assertEquals(1000, u.uid());
        assertEquals(1000, u.gid());
        assertEquals(List.of(1000, 20, 44), u.groups()); // not audio: "hassle" is another user
    }

    @Test
    void aNumberWithAPasswdEntryIsThatUser() throws Exception {
        assertEquals(List.of(1000, 20, 44), resolve("1000").groups());
    }

    @Test
    void anExplicitGroupIsTheOnlyGroup() throws Exception {
        TargetUser u = resolve("hass:staff");
        assertEquals(1000, u.uid());
        assertEquals(50, u.gid());
        assertEquals(List.of(50), u.groups());
        assertEquals(List.of(4242), resolve("4242:4242").groups());
        assertEquals(4242, resolve("4242:4242").uid());
    }

    @Test
    void aBareUnknownNumberIsRefusedRatherThanGivenGroupZero() {
        SecretRunException e = assertThrows(SecretRunException.class, () -> resolve("4242"));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("give --user 4242:GID"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ":", "hass:", ":1000", "nosuchuser", "hass:nosuchgroup", "99999999999:1",
            "1:99999999999", "4294967295:0"})
    void badSpecsAreUsageErrors(String spec) {
        assertEquals(ExitCode.USAGE, assertThrows(SecretRunException.class, () -> resolve(spec)).exitCode());
    }

    @Test
    void controlCharactersInASpecAreEscapedSoTheErrorStaysOneLine() {
        SecretRunException e = assertThrows(SecretRunException.class, () -> resolve("ha\nss\r:x"));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("'ha\\u000ass\\u000d'"), e.getMessage());
    }

    @Test
    void canDeleteInFollowsTheModeBits() throws Exception {
        // root: the test sets a directory's group, and only root may chown to a group it is not in
        Ci.assumeOrFail("root".equals(System.getProperty("user.name")), "not root: cannot set the directory's group");
        Path d = Files.createDirectory(dir.resolve("d"));
        // the @TempDir itself is 0700 root: nobody else can even reach d
        TargetUser hass = resolve("hass");
        assertEquals(false, UserSwitch.canDeleteIn(d, hass));
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(d, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(false, UserSwitch.canDeleteIn(d, hass));
        Files.setPosixFilePermissions(d, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        assertEquals(true, UserSwitch.canDeleteIn(d, hass));
        Files.setPosixFilePermissions(d, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwx---"));
        Files.setAttribute(d, "unix:gid", 44);
        assertEquals(true, UserSwitch.canDeleteIn(d, hass)); // via supplementary group video
        Files.setAttribute(d, "unix:gid", 29);
        assertEquals(false, UserSwitch.canDeleteIn(d, hass));
        assertEquals(true, UserSwitch.canDeleteIn(d, resolve("root")));
    }
}
