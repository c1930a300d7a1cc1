package io.secretrun.container;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import io.secretrun.container.Pod.ContainerSpec;
import io.secretrun.testing.Ci;
import io.secretrun.container.Pod.Exited;
import io.secretrun.container.Pod.Hardening;
import io.secretrun.container.Pod.Mount;
import io.secretrun.container.Pod.VolumeSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame.OutputType;

/**
 * The image, run by a real Docker engine: the Containerfile built on a local Java 25 base, an app image built FROM
 * it, and the scenarios of a container start. Without an engine (or a static busybox to build the base) these tests
 * are skipped, unless CI is set (see Ci): then they fail instead.
 */
class SecretRunImageIT {
    /** What examples/secrets.yaml.enc (and the ConfigMap in deploy/kubernetes) decrypts to. */
    private static final String EXAMPLE_PLAINTEXT = """
            # Example Home Assistant secrets (demo values only).
            http_password: correct-horse-battery-staple
            mqtt_password: 7f3c0a9e-demo-only
            latitude_home: 52.3731
            longitude_home: 4.8922
            """;

    private static final long APP_UID = 1000;

    @TempDir
    static Path work;

    private static TestImages images;

    @BeforeAll
    static void buildImages() throws Exception {
        quietDockerLogs();
        boolean engine;
        try {
            engine = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | Error e) {
            engine = false;
        }
        require(engine, "no Docker engine reachable");
        try {
            images = TestImages.build(work);
        } catch (TestImages.PrerequisiteMissing e) {
            require(false, e.getMessage());
        }
    }

    @AfterAll
    static void removeImages() {
        if (images != null) {
            images.close();
        }
    }

    private static void require(boolean condition, String why) {
        Ci.assumeOrFail(condition, why + ": the container tests cannot run");
    }

    private static void quietDockerLogs() {
        for (String name : List.of("org.testcontainers", "tc", "com.github.dockerjava", "docker")) {
            ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(name)).setLevel(Level.WARN);
        }
    }

    // ---- the image on its own, with its defaults: /config/secrets.yaml.enc, /etc/init-secrets/secretfile_pw

    /** The old setup's layout: /config and /etc/init-secrets owned by the app's user, mode 0700. */
    private static List<VolumeSpec> plainVolumes() {
        return List.of(new VolumeSpec("config", APP_UID, APP_UID, 0700),
                new VolumeSpec("init-secrets", APP_UID, APP_UID, 0700));
    }

    private static ContainerSpec plainApp() {
        return new ContainerSpec("app", null, List.of("test-app"), Map.of(),
                List.of(new Mount("config", "/config", false), new Mount("init-secrets", "/etc/init-secrets", false)),
                Hardening.IMAGE_DEFAULTS);
    }

    private static Pod plainPod(byte[] encrypted, String passphrase) throws Exception {
        Pod pod = Pod.start(images.app, plainVolumes());
        pod.write("config", "secrets.yaml.enc", encrypted, 0644, APP_UID, APP_UID);
        if (passphrase != null) {
            pod.write("init-secrets", "secretfile_pw", (passphrase + "\n").getBytes(StandardCharsets.UTF_8), 0600,
                    APP_UID, APP_UID);
        }
        return pod;
    }

    private static byte[] exampleEncrypted() throws Exception {
        return Files.readAllBytes(TestImages.PROJECT.resolve("examples/secrets.yaml.enc"));
    }

    private static String examplePassphrase() throws Exception {
        return Files.readAllLines(TestImages.PROJECT.resolve("examples/passphrase")).getFirst();
    }

    private static String content(Map<String, String> reports) {
        String encoded = reports.get("content_base64");
        return encoded == null ? null : new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
    }

    @Test
    void theAppReadsTheDecryptedFileAndItIsGoneAfterTheFirstRead() throws Exception {
        try (Pod pod = plainPod(exampleEncrypted(), examplePassphrase())) {
            GenericContainer<?> app = pod.startApp(plainApp());
            String stdout = app.getLogs(OutputType.STDOUT);
            Map<String, String> reports = Pod.reports(stdout);
            String context = stdout + app.getLogs(OutputType.STDERR);
            assertAll(
                    () -> assertEquals(EXAMPLE_PLAINTEXT, content(reports), context),
                    () -> assertEquals("gone", reports.get("plaintext_after_open"), context),
                    () -> assertEquals("secrets.yaml.enc", reports.get("secrets_dir").strip(), context),
                    () -> assertEquals("secrets.yaml.enc", pod.shell("ls -A /pod/config").strip(), "seen from outside"),
                    // the launcher execs the JVM: PID 1 is secret-run itself, not a shell
                    () -> assertTrue(reports.get("pid1").startsWith("/opt/java/openjdk/bin/java ")
                            && reports.get("pid1").contains("secret-run.jar"), reports.get("pid1")),
                    () -> assertEquals("uid=1000 gid=1000 groups=1000", "uid=" + reports.get("uid"), context),
                    // the tests' base has no uid 1000, like Alpine: the Containerfile's step added it
                    () -> assertEquals("app", reports.get("user"), context));
        }
    }

    @Test
    void dockerStopReachesTheAppAndTheContainerExitsWithTheAppsCode() throws Exception {
        try (Pod pod = plainPod(exampleEncrypted(), examplePassphrase())) {
            GenericContainer<?> app = pod.startApp(plainApp().withEnv("TEST_APP_EXIT_ON_TERM", "7"));
            long start = System.nanoTime();
            Exited exited = pod.stop(app, "app", Duration.ofSeconds(20));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertAll(
                    () -> assertEquals(7, exited.exitCode(), exited.output()),
                    () -> assertEquals("TERM", Pod.reports(exited.stdout()).get("signal"), exited.output()),
                    () -> assertTrue(millis < 10_000, "docker stop took " + millis + " ms: the app did not get "
                            + "SIGTERM and was killed after the grace period"));
        }
    }

    @Test
    void thePassphraseFileIsGoneAfterStart() throws Exception {
        try (Pod pod = plainPod(exampleEncrypted(), examplePassphrase())) {
            GenericContainer<?> app = pod.startApp(plainApp());
            Map<String, String> reports = Pod.reports(app.getLogs(OutputType.STDOUT));
            assertAll(
                    () -> assertEquals("gone", reports.get("passphrase_file")),
                    () -> assertEquals("", pod.shell("ls -A /pod/init-secrets").strip(), "seen from outside"));
        }
    }

    @Test
    void aWrongPassphraseEndsTheContainerWithCode77AndNoPlaintext() throws Exception {
        try (Pod pod = plainPod(exampleEncrypted(), "not the passphrase")) {
            Exited exited = pod.runToExit(plainApp());
            assertAll(
                    () -> assertEquals(77, exited.exitCode(), exited.output()),
                    () -> assertFalse(exited.stdout().contains("test-app: started"), "the app must not start"),
                    () -> assertTrue(exited.stderr().toLowerCase().contains("passphrase"), exited.output()),
                    () -> assertFalse(exited.stderr().contains("\tat "), "no stack trace: " + exited.output()),
                    () -> assertEquals("secrets.yaml.enc", pod.shell("ls -A /pod/config").strip(),
                            "no plaintext may exist"));
        }
    }

    /**
     * The image is built with an AOT cache made by its own runtime, and its launcher starts the JVM with it (a launch
     * 540 ms instead of 935 ms, bench/image.sh; without it the image still works, as the other tests would show with a base that cannot
     * make one). The launcher turns the JVM's AOT logging off; turning it on again shows the cache being opened.
     */
    @Test
    void theImagesLauncherStartsTheJvmWithTheAotCacheTheImageWasBuiltWith() throws Exception {
        try (Pod pod = Pod.start(images.app, plainVolumes())) {
            Exited version = pod.runToExit(plainApp().withEntrypoint(List.of("secret-run"))
                    .withCommand(List.of("--version")).withEnv("SECRET_RUN_JAVA_OPTS", "-Xlog:aot=info"));
            assertEquals(0, version.exitCode(), version.output());
            assertTrue(version.stdout().contains("Opened AOT cache /usr/share/secret-run/secret-run.aot"),
                    version.output());
            assertTrue(version.stdout().contains("secret-run "), version.output());
            assertFalse(version.output().contains("[error]"), version.output());
        }
    }

    /**
     * Debug logging works in the image's small runtime (java.base, java.logging, jdk.unsupported only): the start-up
     * timings once needed java.management, and the launch failed with a stack trace after the app had started.
     */
    @Test
    void aLaunchWithDebugLoggingLogsItsStartUpTimingsInTheImage() throws Exception {
        try (Pod pod = plainPod(exampleEncrypted(), examplePassphrase())) {
            GenericContainer<?> app = pod.startApp(plainApp().withEnv("SECRET_RUN_LOG_LEVEL", "debug"));
            String stdout = app.getLogs(OutputType.STDOUT);
            String stderr = app.getLogs(OutputType.STDERR);
            Map<String, String> reports = Pod.reports(stdout);
            assertAll(
                    () -> assertEquals(EXAMPLE_PLAINTEXT, content(reports), stdout + stderr),
                    () -> assertTrue(stderr.contains("DEBUG start-up timings: start-to-jvm "), stderr),
                    () -> assertFalse(stderr.contains("\tat "), stderr),
                    () -> assertFalse(stderr.contains(" ERROR "), stderr));
        }
    }

    @Test
    void aFileMadeBySecretEncryptInTheImageIsDecryptedByALaunch() throws Exception {
        String secrets = "api_key: " + UUID.randomUUID() + "\nnote: made by secret_encrypt in the image\n";
        String passphrase = "passphrase " + UUID.randomUUID();
        try (Pod pod = Pod.start(images.app, plainVolumes())) {
            pod.write("config", "secrets.yaml", secrets.getBytes(StandardCharsets.UTF_8), 0600, APP_UID, APP_UID);
            pod.write("init-secrets", "secretfile_pw", (passphrase + "\n").getBytes(StandardCharsets.UTF_8), 0600,
                    APP_UID, APP_UID);

            // the old script's name and defaults: /config/secrets.yaml -> /config/secrets.yaml.enc, passphrase file
            // deleted afterwards
            Exited encrypt = pod.runToExit(plainApp().withEntrypoint(List.of("secret_encrypt")).withCommand(null));
            assertEquals(0, encrypt.exitCode(), encrypt.output());
            assertEquals("", pod.shell("ls -A /pod/init-secrets").strip(), "secret_encrypt deletes the passphrase");
            assertEquals("-----BEGIN PGP MESSAGE-----", pod.shell("head -n 1 /pod/config/secrets.yaml.enc").strip());
            assertEquals("600 1000", pod.shell("stat -c '%a %u' /pod/config/secrets.yaml.enc").strip());

            // secret_decrypt with DONT_DELETE_PWFILE set keeps the passphrase file, as the old scripts did
            pod.shell("rm /pod/config/secrets.yaml");
            pod.write("init-secrets", "secretfile_pw", (passphrase + "\n").getBytes(StandardCharsets.UTF_8), 0600,
                    APP_UID, APP_UID);
            Exited decrypt = pod.runToExit(plainApp().withEntrypoint(List.of("secret_decrypt"))
                    .withCommand(List.of("-o", "-")).withEnv("DONT_DELETE_PWFILE", "1"));
            assertEquals(0, decrypt.exitCode(), decrypt.output());
            assertEquals(secrets, decrypt.stdout());
            assertEquals("secretfile_pw", pod.shell("ls -A /pod/init-secrets").strip());

            // and a launch hands it to the app, read once
            GenericContainer<?> app = pod.startApp(plainApp());
            Map<String, String> reports = Pod.reports(app.getLogs(OutputType.STDOUT));
            assertAll(
                    () -> assertEquals(secrets, content(reports)),
                    () -> assertEquals("gone", reports.get("plaintext_after_open")),
                    () -> assertEquals("gone", reports.get("passphrase_file")));
        }
    }

    /**
     * {@code secret_decrypt} with no arguments, as the old setup ran it at container start: /config/secrets.yaml.enc to
     * /config/secrets.yaml (0600), the passphrase from /etc/init-secrets/secretfile_pw, which is deleted afterwards
     * unless DONT_DELETE_PWFILE is non-empty.
     */
    @Test
    void secretDecryptWithNoArgumentsWritesTheOldScriptsPlaintextPathAndDeletesThePassphraseFile() throws Exception {
        try (Pod pod = plainPod(exampleEncrypted(), examplePassphrase())) {
            ContainerSpec decrypt = plainApp().withEntrypoint(List.of("secret_decrypt")).withCommand(null);
            Exited deleting = pod.runToExit(decrypt);
            assertAll(
                    () -> assertEquals(0, deleting.exitCode(), deleting.output()),
                    () -> assertEquals("", deleting.stdout(), "nothing on stdout: the plaintext goes to the file"),
                    () -> assertEquals(EXAMPLE_PLAINTEXT, pod.shell("cat /pod/config/secrets.yaml")),
                    () -> assertEquals("600 1000", pod.shell("stat -c '%a %u' /pod/config/secrets.yaml").strip()),
                    () -> assertEquals("", pod.shell("ls -A /pod/init-secrets").strip(), "passphrase file deleted"));

            pod.shell("rm /pod/config/secrets.yaml");
            pod.write("init-secrets", "secretfile_pw", (examplePassphrase() + "\n").getBytes(StandardCharsets.UTF_8),
                    0600, APP_UID, APP_UID);
            Exited keeping = pod.runToExit(decrypt.withEnv("DONT_DELETE_PWFILE", "1"));
            assertAll(
                    () -> assertEquals(0, keeping.exitCode(), keeping.output()),
                    () -> assertEquals(EXAMPLE_PLAINTEXT, pod.shell("cat /pod/config/secrets.yaml")),
                    () -> assertEquals("600 1000", pod.shell("stat -c '%a %u' /pod/config/secrets.yaml").strip()),
                    () -> assertEquals("secretfile_pw", pod.shell("ls -A /pod/init-secrets").strip(),
                            "DONT_DELETE_PWFILE=1 keeps the passphrase file"));
        }
    }

    // ---- the pod of deploy/kubernetes: its volumes, init container and securityContext, read from the manifest

    @Test
    void allOfItWorksWithThePodsHardeningTakenFromTheManifest() throws Exception {
        KubernetesPod kubernetes = new KubernetesPod(KubernetesManifests.load());
        try (Pod pod = Pod.start(images.app, kubernetes.volumes())) {
            for (KubernetesPod.ProjectedFile file : kubernetes.projectedFiles()) {
                pod.write(file.volume(), file.path(), file.content(), file.mode(), 0, file.gid());
            }
            for (ContainerSpec init : kubernetes.initContainers()) {
                Exited exited = pod.runToExit(init);
                assertEquals(0, exited.exitCode(), exited.output());
            }
            assertEquals("400 1000 secretfile_pw",
                    pod.shell("cd /pod/init-secrets && stat -c '%a %u %n' *").strip(),
                    "the init container leaves the passphrase for the app's user only");

            // the manifest's app container, with the test app as its command (the manifest names a placeholder)
            ContainerSpec appSpec = kubernetes.container("app").withCommand(List.of("test-app"));
            GenericContainer<?> app = pod.startApp(appSpec);
            String stdout = app.getLogs(OutputType.STDOUT);
            Map<String, String> reports = Pod.reports(stdout);
            String context = stdout + app.getLogs(OutputType.STDERR);
            assertAll(
                    () -> assertEquals(EXAMPLE_PLAINTEXT, content(reports), context),
                    () -> assertEquals("gone", reports.get("plaintext_after_open"), context),
                    () -> assertEquals("gone", reports.get("passphrase_file"), context),
                    () -> assertEquals("", pod.shell("ls -A /pod/config /pod/init-secrets | grep -v '^/pod\\|^$' "
                            + "|| true").strip(), "no plaintext or passphrase left in the pod's volumes"),
                    () -> assertEquals("1000 gid=1000 groups=1000", reports.get("uid"), context),
                    () -> assertEquals("0000000000000000", reports.get("CapEff"), "capabilities dropped"),
                    () -> assertEquals("1", reports.get("NoNewPrivs"), "allowPrivilegeEscalation: false"),
                    () -> assertEquals("2", reports.get("Seccomp"), "seccompProfile RuntimeDefault: filter mode"),
                    () -> assertEquals("read-only", reports.get("rootfs"), "readOnlyRootFilesystem"));

            Exited exited = pod.stop(app, "app", Duration.ofSeconds(20));
            assertAll(
                    () -> assertEquals(42, exited.exitCode(), exited.output()),
                    () -> assertEquals("TERM", Pod.reports(exited.stdout()).get("signal"), exited.output()));
        }
    }

    @Test
    void theKeyVariantOfTheManifestLaunchesWithTheSecretKeyAndLeavesNoKeyBehind() throws Exception {
        KubernetesPod kubernetes = new KubernetesPod(KubernetesManifests.load(KubernetesManifests.KEY_VARIANT));
        try (Pod pod = Pod.start(images.app, kubernetes.volumes())) {
            for (KubernetesPod.ProjectedFile file : kubernetes.projectedFiles()) {
                pod.write(file.volume(), file.path(), file.content(), file.mode(), 0, file.gid());
            }
            for (ContainerSpec init : kubernetes.initContainers()) {
                Exited exited = pod.runToExit(init);
                assertEquals(0, exited.exitCode(), exited.output());
            }
            assertEquals("400 1000 secret_key", pod.shell("cd /pod/init-secrets && stat -c '%a %u %n' *").strip(),
                    "the init container leaves the key for the app's user only");

            ContainerSpec appSpec = kubernetes.container("app").withCommand(List.of("test-app"));
            GenericContainer<?> app = pod.startApp(appSpec);
            String stdout = app.getLogs(OutputType.STDOUT);
            Map<String, String> reports = Pod.reports(stdout);
            String stderr = app.getLogs(OutputType.STDERR);
            String context = stdout + stderr;
            assertAll(
                    () -> assertEquals(EXAMPLE_PLAINTEXT, content(reports), context),
                    () -> assertEquals("gone", reports.get("plaintext_after_open"), context),
                    () -> assertTrue(stderr.contains("opened with key "), stderr),
                    () -> assertTrue(stderr.contains("secret key read from /etc/init-secrets/secret_key; deleted"),
                            stderr),
                    () -> assertEquals("", pod.shell("ls -A /pod/config /pod/init-secrets | grep -v '^/pod\\|^$' "
                            + "|| true").strip(), "no plaintext or key left in the pod's volumes"),
                    () -> assertEquals("1000 gid=1000 groups=1000", reports.get("uid"), context));
            Exited exited = pod.stop(app, "app", Duration.ofSeconds(20));
            assertEquals(42, exited.exitCode(), exited.output());
        }
    }
}
