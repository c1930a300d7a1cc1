package io.secretrun.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With a terminal on stdin, the app's process group becomes the terminal's foreground group: Ctrl-C and Ctrl-Z
 * act on the app as if it were run directly, and secret-run behaves as a job of the shell (it stops when the app
 * stops, and gives the terminal back on SIGCONT). Driven through a real pseudo-terminal by a small Python script
 * (python3's pty module), which plays the user and the shell.
 */
class TerminalIT {
    /**
     * argv: ready-file, script, command...: runs the command as session leader on a new pty, waits for the
     * ready file, then plays the steps of the script and prints what it saw as key=value lines.
     */
    static final String DRIVER = """
            import os, pty, sys, time, signal, threading
            ready, script, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
            pid, fd = pty.fork()
            if pid == 0:
                os.execvp(argv[0], argv)
            out = []
            def drain():
                while True:
                    try:
                        data = os.read(fd, 4096)
                    except OSError:
                        return
                    if not data:
                        return
                    out.append(data)
            threading.Thread(target=drain, daemon=True).start()
            def wait_for(path):
                for _ in range(3000):
                    if os.path.exists(path) and os.path.getsize(path) > 0:
                        return
                    time.sleep(0.02)
                raise SystemExit("timeout waiting for " + path)
            wait_for(ready)
            print("secret_run_pgrp=%d" % os.getpgid(pid))
            print("foreground_at_start=%d" % os.tcgetpgrp(fd))
            for step in script.split(","):
                if step == "ctrl-c":
                    os.write(fd, b"\\x03")
                elif step == "ctrl-z":
                    os.write(fd, b"\\x1a")
                    _, status = os.waitpid(pid, os.WUNTRACED)
                    print("secret_run_stopped=%s" % os.WIFSTOPPED(status))
                    print("foreground_when_stopped=%d" % os.tcgetpgrp(fd))
                elif step == "fg":
                    os.kill(pid, signal.SIGCONT)
                elif step.startswith("await:"):
                    wait_for(step[6:])
                    print("foreground_after_fg=%d" % os.tcgetpgrp(fd))
            for _ in range(3000):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.02)
            else:
                os.kill(pid, signal.SIGKILL)
                raise SystemExit("secret-run did not exit")
            print("exit=%d" % os.waitstatus_to_exitcode(status))
            """;

    private static SecretRunHarness h;
    private static Path driver;

    @BeforeAll
    static void setUp() throws Exception {
        h = SecretRunHarness.create();
        driver = h.file("pty-driver.py");
        Files.writeString(driver, DRIVER);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private static Map<String, String> drive(String ready, String script, String appScript) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("python3", driver.toString(), h.file(ready).toString(), script));
        List<String> args = new ArrayList<>(h.launchOptions());
        args.addAll(List.of("--", "sh", "-c", appScript));
        cmd.addAll(SecretRunHarness.javaCommand(args));
        Process p = new ProcessBuilder(cmd).directory(h.dir.toFile()).start();
        if (!p.waitFor(SecretRunHarness.PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("the pty driver hung");
        }
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        assertEquals(0, p.exitValue(), out + err);
        return out.lines().filter(l -> l.contains("=")).collect(Collectors.toMap(
                l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1)));
    }

    /** The app reads its own process group and the terminal's foreground group (fields 5 and 8 of its stat). */
    static final String REPORT_GROUPS = "read -r s < /proc/$$/stat; set -- $s; echo \"$5 $8\" > app-groups; ";

    @Test
    void ctrlCGoesToTheAppWhichHasTheForeground() throws Exception {
        Map<String, String> seen = drive("tty-ready", "ctrl-c",
                REPORT_GROUPS + "echo ready > tty-ready; exec sleep 60");
        String[] groups = Files.readString(h.file("app-groups")).trim().split(" ");
        assertEquals(groups[0], groups[1], "the app's group is not the terminal's foreground group");
        assertNotEquals(seen.get("secret_run_pgrp"), groups[0], "the app shares secret-run's group");
        assertEquals("130", seen.get("exit"), seen.toString());
    }

    /**
     * An app that notes SIGCONT and never forks: a shell loop would not do, as dash vforks its commands and a
     * parent waiting for a stopped vfork child can stop neither itself nor report a stop to anyone (run directly
     * under an interactive shell, it would hang the same way).
     */
    static final String PYTHON_APP = "import signal, time\n"
            + "signal.signal(signal.SIGCONT, lambda *a: open('resumed', 'w').write('CONT'))\n"
            + "open('tty-ready2', 'w').write('ready')\n"
            + "while True: time.sleep(0.05)\n";

    @Test
    void ctrlZStopsTheAppAndSecretRunAndFgResumesBoth() throws Exception {
        Files.deleteIfExists(h.file("resumed"));
        Map<String, String> seen = drive("tty-ready2", "ctrl-z,fg,await:" + h.file("resumed") + ",ctrl-c",
                REPORT_GROUPS + "exec python3 -c \"" + PYTHON_APP + "\"");
        String appGroup = Files.readString(h.file("app-groups")).trim().split(" ")[0];
        assertEquals("True", seen.get("secret_run_stopped"), seen.toString());
        // while stopped, secret-run holds the terminal again (as the shell expects of a stopped job) ...
        assertEquals(seen.get("secret_run_pgrp"), seen.get("foreground_when_stopped"), seen.toString());
        // ... and after SIGCONT ("fg") the app has it back, and Ctrl-C ends it
        assertEquals(appGroup, seen.get("foreground_after_fg"), seen.toString());
        assertEquals("130", seen.get("exit"), seen.toString());
        assertTrue(Files.readString(h.file("resumed")).contains("CONT"));
    }
}
