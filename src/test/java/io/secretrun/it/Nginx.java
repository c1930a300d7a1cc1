package io.secretrun.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.secretrun.testing.Ci;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's nginx, run by a test as an unprivileged user: every path it writes (pid file, error log, temp
 * directories) is in the test's directory, it listens on a free port of 127.0.0.1, and its master keeps its user
 * (no {@code user} directive: it is not root). {@code curl} is the client.
 */
final class Nginx {
    final Path dir;
    final int port;

    Nginx(Path dir) {
        this.dir = dir;
        this.port = freePort();
    }

    /** nginx and curl on the PATH; in CI their absence is a failure ({@code .ci/run} installs them). */
    static void require() {
        Ci.assumeOrFail(SecretRun.onPath("nginx") || Files.isExecutable(Path.of("/usr/sbin/nginx")),
                "nginx not installed (apt-get install nginx)");
        Ci.assumeOrFail(SecretRun.onPath("curl"), "curl not installed (apt-get install curl)");
        Ci.assumeOrFail(SecretRun.onPath("openssl"), "openssl not installed (apt-get install openssl)");
    }

    static String binary() {
        return SecretRun.onPath("nginx") ? "nginx" : "/usr/sbin/nginx";
    }

    /** {@code nginx.conf} serving {@code www/index.html} behind basic auth with {@code htpasswd} as its user file. */
    Path writeConfig(Path htpasswd) {
        try {
            Files.createDirectories(dir.resolve("www"));
            Files.writeString(dir.resolve("www/index.html"), "hello from nginx\n");
            String d = dir.toString();
            String conf = "worker_processes 1;\npid " + d + "/nginx.pid;\nerror_log " + d + "/error.log;\n"
                    + "events { worker_connections 32; }\n"
                    + "http {\n  access_log off;\n"
                    + "  client_body_temp_path " + d + "/body;\n  proxy_temp_path " + d + "/proxy;\n"
                    + "  fastcgi_temp_path " + d + "/fastcgi;\n  uwsgi_temp_path " + d + "/uwsgi;\n"
                    + "  scgi_temp_path " + d + "/scgi;\n"
                    + "  server {\n    listen 127.0.0.1:" + port + ";\n    root " + d + "/www;\n"
                    + "    location / {\n      auth_basic \"secret-run\";\n      auth_basic_user_file " + htpasswd
                    + ";\n    }\n  }\n}\n";
            return Files.writeString(dir.resolve("nginx.conf"), conf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The command line: {@code daemonOff} adds {@code -g 'daemon off;'}, what nginx needs under a supervisor. */
    List<String> command(Path config, boolean daemonOff) {
        List<String> command = new ArrayList<>(List.of(binary(), "-p", dir + "/", "-c", config.toString(), "-e",
                dir + "/error.log"));
        if (daemonOff) {
            command.addAll(List.of("-g", "daemon off;"));
        }
        return command;
    }

    /** An htpasswd line for {@code user} (apr1 hash, made by openssl). */
    static String htpasswdLine(String user, String password) throws Exception {
        Process p = new ProcessBuilder("openssl", "passwd", "-apr1", "-stdin").start();
        try (var in = p.getOutputStream()) {
            in.write((password + "\n").getBytes(StandardCharsets.UTF_8));
        }
        String hash = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "openssl passwd failed");
        return user + ":" + hash + "\n";
    }

    boolean listening() {
        try (Socket ignored = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The HTTP status of {@code GET /} with basic auth. */
    int get(String user, String password) throws Exception {
        Process p = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20",
                "-u", user + ":" + password, "http://127.0.0.1:" + port + "/").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "curl did not finish");
        return Integer.parseInt(out);
    }

    /** The error log, for failure messages. */
    String errorLog() {
        try {
            Path log = dir.resolve("error.log");
            return Files.exists(log) ? Files.readString(log) : "(no error log)";
        } catch (IOException e) {
            return "(unreadable error log: " + e + ")";
        }
    }

    /** The master's pid from its pid file, if nginx wrote one and the process still runs. */
    Optional<ProcessHandle> master() {
        try {
            Path pid = dir.resolve("nginx.pid");
            if (!Files.exists(pid)) {
                return Optional.empty();
            }
            return ProcessHandle.of(Long.parseLong(Files.readString(pid).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Kills a master left running (and so its workers, which exit with it), waiting for it, bounded. */
    void killMaster() throws InterruptedException {
        Optional<ProcessHandle> master = master();
        if (master.isPresent()) {
            List<ProcessHandle> all = new ArrayList<>(master.get().descendants().toList());
            all.add(master.get());
            all.forEach(ProcessHandle::destroyForcibly);
            for (ProcessHandle h : all) {
                h.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(e -> h).join();
            }
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
