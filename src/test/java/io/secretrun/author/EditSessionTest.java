package io.secretrun.author;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EditSessionTest {
    private static final Path FILE = Path.of("/dev/shm/secret-run-edit-x/secrets.yaml");

    @Test
    void theEditorIsVisualElseEditorElseVi() {
        Map<String, String> env = new HashMap<>();
        assertEquals(List.of("vi", FILE.toString()), EditSession.editorCommand(env, FILE));
        env.put("EDITOR", "nano");
        assertEquals(List.of("nano", FILE.toString()), EditSession.editorCommand(env, FILE));
        env.put("VISUAL", "/usr/bin/vim");
        assertEquals(List.of("/usr/bin/vim", FILE.toString()), EditSession.editorCommand(env, FILE));
        env.put("VISUAL", "  ");
        assertEquals(List.of("nano", FILE.toString()), EditSession.editorCommand(env, FILE), "blank is unset");
    }

    @Test
    void anEditorWithArgumentsRunsThroughTheShellAsGitRunsIt() {
        assertEquals(List.of("sh", "-c", "vim -i NONE \"$@\"", "vim -i NONE", FILE.toString()),
                EditSession.editorCommand(Map.of("EDITOR", "vim -i NONE"), FILE));
    }

    @Test
    void thePlaintextKeepsTheNameWithoutTheEncryptionSuffix() {
        assertEquals("secrets.yaml", EditSession.plaintextName(Path.of("/config/secrets.yaml.enc")));
        assertEquals("env.json", EditSession.plaintextName(Path.of("env.json.gpg")));
        assertEquals("a.yaml", EditSession.plaintextName(Path.of("a.yaml.asc")));
        assertEquals("plain", EditSession.plaintextName(Path.of("plain")));
        assertEquals(".enc", EditSession.plaintextName(Path.of(".enc")));
    }
}
