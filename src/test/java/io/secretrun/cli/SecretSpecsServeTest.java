package io.secretrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.deliver.PlaintextMode;
import io.secretrun.deliver.SecretSpec;
import io.secretrun.deliver.Serve;
import io.secretrun.error.ExitCode;
import io.secretrun.error.SecretRunException;
import io.secretrun.watch.DeleteOn;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code serve=} key of a SPEC and the launch-wide {@code --serve} it defaults to. */
class SecretSpecsServeTest {
    private static SecretSpecs.Defaults defaults(Serve serve) {
        return new SecretSpecs.Defaults(PlaintextMode.FILE, DeleteOn.OPEN, Optional.empty(), "", 0600,
                Optional.empty(), Optional.empty(), false, serve);
    }

    private static SecretSpec parse(String spec, Serve launchWide) throws SecretRunException {
        return SecretSpecs.parse(SecretSpecs.fromOption(spec), defaults(launchWide));
    }

    @Test
    void aSecretTakesTheLaunchWideServeUnlessItsSpecSaysOtherwise() throws Exception {
        assertEquals(Serve.ONCE, parse("in=a.enc", Serve.ONCE).serve());
        assertEquals(Serve.APP, parse("in=a.enc", Serve.APP).serve());
        assertEquals(Serve.APP, parse("in=a.enc,serve=app", Serve.ONCE).serve());
        assertEquals(Serve.ONCE, parse("in=a.enc,serve=once", Serve.APP).serve());
        assertEquals(Serve.APP, parse("in=a.enc,mode=fifo,serve=APP", Serve.ONCE).serve());
    }

    @Test
    void singleSecretLaunchesHonourTheLaunchWideServe() throws Exception {
        assertEquals(Serve.APP, SecretSpecs.single(Path.of("a.enc"), Path.of("a"), defaults(Serve.APP)).serve());
        assertEquals(Serve.ONCE, SecretSpecs.single(Path.of("a.enc"), Path.of("a"), defaults(Serve.ONCE)).serve());
    }

    @Test
    void aBadServeValueIsAUsageErrorNamingTheEntry() {
        SecretRunException e = assertThrows(SecretRunException.class, () -> parse("in=a.enc,serve=twice", Serve.ONCE));
        assertEquals(ExitCode.USAGE, e.exitCode());
        assertTrue(e.getMessage().contains("--secret 'in=a.enc,serve=twice'"), e.getMessage());
        assertTrue(e.getMessage().contains("expected once or app"), e.getMessage());
        assertEquals(ExitCode.USAGE, assertThrows(SecretRunException.class,
                () -> parse("in=a.enc,serve=", Serve.ONCE)).exitCode());
    }

    @Test
    void theKeyListNamesServe() {
        SecretRunException e = assertThrows(SecretRunException.class, () -> parse("in=a.enc,colour=x", Serve.ONCE));
        assertTrue(e.getMessage().contains("serve"), e.getMessage());
    }
}
