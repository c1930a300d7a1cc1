package io.secretrun.container;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;

/**
 * The images of the container tests, built locally (no registry is reachable on our machines):
 * <ol>
 *   <li>{@code base}: a Java 25 runtime base from {@code src/test/container/build-base.sh} (static busybox, jlink'd
 *       runtime, glibc, no uid 1000 user), standing in for {@code eclipse-temurin:25-jre-alpine};</li>
 *   <li>{@code image}: the real {@code Containerfile}, built as the README says, by {@code docker build} of the
 *       repository root (so {@code .dockerignore} decides what the build sees), with {@code BASE_IMAGE} set to that
 *       base;</li>
 *   <li>{@code app}: an app image built FROM it the way users build theirs, adding {@code /usr/local/bin/test-app}.</li>
 * </ol>
 * Tags carry a random suffix, so runs sharing an engine do not collide; {@link #close} removes all three.
 */
final class TestImages implements AutoCloseable {
    static final Path PROJECT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    static final Path JAR = PROJECT.resolve("target/secret-run.jar");

    /** build-base.sh's exit code when this machine lacks a prerequisite (static busybox, jlink). */
    static final int PREREQUISITE_MISSING = 3;

    static final class PrerequisiteMissing extends Exception {
        PrerequisiteMissing(String message) {
            super(message);
        }
    }

    private final String suffix = UUID.randomUUID().toString().substring(0, 8);
    final String base = "secret-run-test-base:" + suffix;
    final String image = "secret-run-test:" + suffix;
    final String app = "secret-run-test-app:" + suffix;
    private final List<String> tags = List.of(app, image, base);

    static TestImages build(Path workDirectory) throws PrerequisiteMissing, IOException, InterruptedException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: the container tests run after `package` (mvn verify)");
        }
        TestImages images = new TestImages();
        try {
            images.buildAll(workDirectory);
            return images;
        } catch (PrerequisiteMissing | IOException | InterruptedException | RuntimeException e) {
            images.close();
            throw e;
        }
    }

    private void buildAll(Path workDirectory) throws PrerequisiteMissing, IOException, InterruptedException {
        Path context = workDirectory.resolve("base-context");
        long start = System.nanoTime();
        assembleBase(context);
        await(new ImageFromDockerfile(base, false).withDockerfile(context.resolve("Dockerfile")));
        long baseDone = System.nanoTime();

        // the docker CLI, not Testcontainers: Testcontainers sends the files it is given, or applies docker-java's
        // own reading of .dockerignore; the CLI is what users run, so a wrong .dockerignore fails here too
        run(workDirectory, "docker build", List.of("docker", "build", "-q", "-f", "Containerfile",
                "--build-arg", "BASE_IMAGE=" + base, "-t", image, "."), Map.of());

        await(new ImageFromDockerfile(app, false)
                .withFileFromTransferable("Dockerfile", Transferable.of("""
                        FROM %s
                        COPY test-app.sh /usr/local/bin/test-app
                        """.formatted(image)))
                .withFileFromPath("test-app.sh", PROJECT.resolve("src/test/container/test-app.sh")));
        System.out.printf("container tests: base image in %d ms, secret-run image and app image in %d ms%n",
                (baseDone - start) / 1_000_000, (System.nanoTime() - baseDone) / 1_000_000);
    }

    /** Runs build-base.sh with the JDK running the tests (it has jlink); its exit code 3: a prerequisite is missing. */
    private static void assembleBase(Path context) throws PrerequisiteMissing, IOException, InterruptedException {
        run(context.getParent(), "build-base.sh",
                List.of("sh", PROJECT.resolve("src/test/container/build-base.sh").toString(), context.toString()),
                Map.of("JAVA_HOME", System.getProperty("java.home")));
    }

    /**
     * Runs {@code command} in the project directory and throws with its output unless it exits 0. A program that is
     * not installed, or build-base.sh's exit code 3, is a missing prerequisite of this machine.
     */
    private static void run(Path logDirectory, String what, List<String> command, Map<String, String> environment)
            throws PrerequisiteMissing, IOException, InterruptedException {
        Path log = Files.createTempFile(logDirectory, "build", ".log");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(PROJECT.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new PrerequisiteMissing(what + ": " + e.getMessage());
        }
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException(what + " did not finish in 5 minutes");
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        if (process.exitValue() == PREREQUISITE_MISSING && what.equals("build-base.sh")) {
            throw new PrerequisiteMissing(output.strip());
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException(what + " failed (" + process.exitValue() + "):\n" + output);
        }
    }

    /** Builds the image now (an ImageFromDockerfile is lazy); a failed build throws. */
    private static void await(ImageFromDockerfile build) {
        build.get();
    }

    @Override
    public void close() {
        var docker = DockerClientFactory.instance().client();
        for (String tag : tags) {
            try {
                docker.removeImageCmd(tag).withForce(true).exec();
            } catch (RuntimeException e) {
                // not built, or already gone
            }
        }
    }
}
