package io.secretrun.it;

import static io.secretrun.it.Scenario.existsNoFollow;
import static io.secretrun.it.Scenario.read;
import static io.secretrun.it.Scenario.readString;
import static io.secretrun.it.Scenario.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's launcher {@code bin/secret-run}: it finds Java 25 (or says clearly that there is none), builds the
 * jar when a checkout has none, and execs the JVM.
 */
class LauncherIT {
    @RegisterExtension
    static final GpgFixture gpg = GpgFixture.perClass();

    @TempDir
    Path dir;
    Scenario s;
    Path launcher;

    @BeforeEach
    void scenario() {
        s = new Scenario(dir, gpg).encrypt();
        // target/secret-run.jar -> repository root
        launcher = SecretRun.jar().toAbsolutePath().getParent().getParent().resolve("bin").resolve("secret-run");
        assertTrue(Files.isExecutable(launcher), "the repository ships an executable launcher " + launcher);
    }

    @Test
    void launcherRunsALaunch() {
        Path copy = dir.resolve("copy");

        s.secretRun.with().program(launcher.toString())
                .run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);

        assertArrayEquals(s.plaintext, read(copy));
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void aSignalToTheLaunchersPidReachesSecretRunAndTheChild() {
        Path ready = dir.resolve("ready");
        Path got = dir.resolve("got");
        String script = "trap 'echo TERM > \"$1\"; exit 7' TERM; touch \"$0\"; while :; do sleep 0.05; done";
        try (SecretRun.Running running = s.secretRun.with().program(launcher.toString())
                .start(s.launch(List.of("--read-timeout", "0"), sh(script, ready, got)))) {
            running.awaitFile(ready);

            running.signal("TERM");
            SecretRun.Result result = running.await();

            result.assertExit(7);
            assertEquals("TERM", readString(got).strip());
            assertFalse(existsNoFollow(s.target));
        }
    }

    @Test
    void withoutAJava25TheLauncherExits70WithOneClearLine() throws IOException {
        // nothing to find: JAVA_HOME names a directory without a JDK, the search directories are an empty one, and
        // PATH holds only the tools the launcher itself needs (no java)
        Path empty = Files.createDirectory(dir.resolve("no-jvms"));
        Path tools = Files.createDirectory(dir.resolve("tools"));
        for (String tool : List.of("dirname", "readlink", "sed")) {
            Files.createSymbolicLink(tools.resolve(tool), which(tool));
        }
        Path marker = dir.resolve("child-started");

        SecretRun.Result result = s.secretRun.with().program(launcher.toString())
                .env("JAVA_HOME", empty.toString()).env("SECRET_RUN_JVM_DIRS", empty.toString())
                .env("PATH", tools.toString())
                .run(s.launch(sh("touch \"$0\"", marker)));

        result.assertExit(70);
        assertEquals(List.of("secret-run: no Java 25 found: set JAVA_HOME to a JDK or JRE 25 (looked in $JAVA_HOME, "
                + "/usr/lib/jvm/*25*, /opt/java/openjdk and the java on PATH)"), result.stderrLines());
        assertFalse(Files.exists(marker), "no app without a JVM");
        assertFalse(existsNoFollow(s.target));
    }

    @Test
    void inACheckoutWithoutTheJarTheLauncherBuildsItFirstThenLaunches() throws IOException {
        // a copy of the checkout's layout whose mvnw is a stub: it records how it was called and "builds" the jar by
        // copying the real one, so the launcher's build step runs for real without a Maven build
        Path repo = dir.resolve("checkout");
        Path realRepo = launcher.getParent().getParent();
        for (String file : List.of("bin/secret-run", "bin/lib/java-home.sh", "root/usr/share/secret-run/jvm.args")) {
            Files.createDirectories(repo.resolve(file).getParent());
            Files.copy(realRepo.resolve(file), repo.resolve(file), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path calls = repo.resolve("mvnw.calls");
        Path mvnw = Files.writeString(repo.resolve("mvnw"), """
                #!/bin/sh
                printf '%%s\\n' "$PWD" "$JAVA_HOME" "$@" > mvnw.calls
                echo '[INFO] Scanning for projects...'
                echo '[INFO] Downloading from central: https://repo.maven.apache.org/maven2/a/b/1/b-1.pom'
                echo '[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/a/b/1/b-1.pom (2 kB at 9 kB/s)'
                echo '[INFO] Downloading from central: https://repo.maven.apache.org/maven2/a/c/1/c-1.jar'
                echo '[INFO] --- compiler:3.14.0:compile (default-compile) @ secret-run ---'
                echo '[INFO] Compiling 61 source files with javac [debug release 25] to target/classes'
                echo '[WARNING] a warning of the build'
                echo '[INFO] --- shade:3.6.0:shade (default) @ secret-run ---'
                mkdir -p target && cp '%s' target/secret-run.jar
                echo '[INFO] BUILD SUCCESS'
                """.formatted(SecretRun.jar().toAbsolutePath()));
        Files.setPosixFilePermissions(mvnw, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path copy = dir.resolve("copy");
        Path checkoutLauncher = repo.resolve("bin/secret-run");

        SecretRun.Result built = s.secretRun.with().program(checkoutLauncher.toString())
                .run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);

        // run from the checkout's root with the Java 25 the launcher found, the goals of a jar-only build
        assertEquals(List.of(repo.toRealPath().toString(), System.getProperty("java.home"), "-B",
                "-DskipTests", "package"), Files.readAllLines(calls));
        // a build takes minutes the first time: a line per step (and one for downloads) on stderr shows it works,
        // without Maven's whole output
        List<String> lines = built.stderr().lines().toList();
        assertEquals(List.of("secret-run: building target/secret-run.jar (first run only)...",
                "secret-run: build: downloading from central...",
                "secret-run: build: compiler:3.14.0:compile (default-compile)",
                "secret-run: build: shade:3.6.0:shade (default)",
                "secret-run: build: BUILD SUCCESS"), lines.subList(0, 5), built.stderr());
        assertFalse(built.stderr().contains("Compiling 61") || built.stderr().contains("a warning"), built.stderr());
        assertArrayEquals(s.plaintext, read(copy), "then it launched with the jar it built");
        assertFalse(existsNoFollow(s.target));

        // the next run finds the jar and does not build again
        Files.delete(calls);
        SecretRun.Result again = s.secretRun.with().program(checkoutLauncher.toString())
                .run(s.launch(sh("cat \"$0\" > \"$1\"", s.target, copy))).assertExit(0);
        assertFalse(Files.exists(calls), "no second build");
        assertFalse(again.stderr().contains("building"), again.stderr());
    }

    /** A failed build ends the launch (70) and shows Maven's errors; nothing is launched. */
    @Test
    void aFailedBuildShowsMavensErrorsAndExits70() throws IOException {
        Path repo = dir.resolve("checkout");
        Path realRepo = launcher.getParent().getParent();
        for (String file : List.of("bin/secret-run", "bin/lib/java-home.sh", "root/usr/share/secret-run/jvm.args")) {
            Files.createDirectories(repo.resolve(file).getParent());
            Files.copy(realRepo.resolve(file), repo.resolve(file), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Path mvnw = Files.writeString(repo.resolve("mvnw"), """
                #!/bin/sh
                echo '[INFO] --- compiler:3.14.0:compile (default-compile) @ secret-run ---'
                echo '[ERROR] Main.java:[3,1] class, interface, enum, or record expected'
                echo '[INFO] BUILD FAILURE'
                exit 1
                """);
        Files.setPosixFilePermissions(mvnw, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path marker = dir.resolve("launched");

        SecretRun.Result failed = s.secretRun.with().program(repo.resolve("bin/secret-run").toString())
                .run(s.launch("touch", marker.toString())).assertExit(70);

        assertTrue(failed.stderr().contains("[ERROR] Main.java:[3,1] class, interface, enum, or record expected"),
                failed.stderr());
        assertEquals("secret-run: build failed", failed.stderrLines().getLast());
        assertFalse(Files.exists(marker));
    }

    private static Path which(String tool) {
        for (String d : List.of("/usr/bin", "/bin")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return Path.of(d, tool);
            }
        }
        throw new AssertionError(tool + " not found in /usr/bin or /bin");
    }
}
