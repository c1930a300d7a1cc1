package io.secretrun.container;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * The example deployment under deploy/kubernetes, parsed with the fabric8 Kubernetes model (strictly: unknown fields
 * fail) and checked for what it must protect: the passphrase enters the pod once, through an init container, into
 * memory only the app container reads; the plaintext lives in memory; every container runs as uid 1000 with a
 * read-only root, no capabilities, no privilege escalation and the runtime's seccomp profile.
 */
class KubernetesManifestTest {
    static final String PASSPHRASE_DIRECTORY = "/etc/init-secrets";
    static final String PASSPHRASE_FILE = "secretfile_pw";

    static KubernetesManifests manifests;
    static PodSpec pod;
    static Container app;

    @BeforeAll
    static void parse() {
        manifests = KubernetesManifests.load();
        pod = manifests.deployment().getSpec().getTemplate().getSpec();
        assertEquals(1, pod.getContainers().size(), "one app container");
        app = pod.getContainers().getFirst();
    }

    @Test
    void everyYamlFileParsesStrictlyAndKustomizeListsThemAll() {
        List<String> files = KubernetesManifests.yamlFiles().stream().map(Path::getFileName).map(Path::toString)
                .filter(name -> !name.equals("kustomization.yaml")).sorted().toList();
        JsonNode kustomization = manifests.kustomization();
        List<String> resources = new ArrayList<>();
        kustomization.path("resources").forEach(node -> resources.add(node.asString()));
        assertAll(
                () -> assertEquals("kustomize.config.k8s.io/v1beta1", kustomization.path("apiVersion").asString()),
                () -> assertEquals("Kustomization", kustomization.path("kind").asString()),
                () -> assertEquals(files, resources.stream().sorted().toList(), "kustomization.yaml resources"),
                () -> assertEquals(files.size(), manifests.documents().size(), "one resource per file"));
    }

    @Test
    void theParserRejectsUnknownFields() {
        String typo = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  selector: {matchLabels: {a: b}}
                  template:
                    metadata: {labels: {a: b}}
                    spec:
                      containers:
                        - name: app
                          image: x
                          securityContext:
                            readOnlyRootFileSystem: true
                """;
        JsonNode tree = KubernetesManifests.STRICT.readTree(typo);
        UnrecognizedPropertyException e = assertThrows(UnrecognizedPropertyException.class,
                () -> KubernetesManifests.STRICT.treeToValue(tree, Deployment.class),
                "readOnlyRootFileSystem (capital S) is not a Kubernetes field and must not be ignored");
        assertAll(
                () -> assertEquals("readOnlyRootFileSystem", e.getPropertyName()),
                () -> assertEquals(SecurityContext.class, e.getReferringClass()));
    }

    @Test
    void theKustomizeImageNameIsTheOneTheContainersUse() {
        String name = manifests.kustomization().path("images").get(0).path("name").asString();
        Stream.concat(pod.getInitContainers().stream(), pod.getContainers().stream())
                .forEach(c -> assertEquals(name, c.getImage(), c.getName() + " image"));
    }

    @Test
    void everyContainerRunsAsUser1000WithReadOnlyRootNoCapabilitiesNoEscalationAndRuntimeDefaultSeccomp() {
        PodSecurityContext podSecurity = pod.getSecurityContext();
        assertNotNull(podSecurity, "pod securityContext");
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), "no API token in the pod");
        assertFalse(Boolean.TRUE.equals(pod.getShareProcessNamespace()), "containers must not see each other's /proc");
        assertFalse(Boolean.TRUE.equals(pod.getHostPID()) || Boolean.TRUE.equals(pod.getHostIPC())
                || Boolean.TRUE.equals(pod.getHostNetwork()), "no host namespaces");
        List<Container> all = Stream.concat(pod.getInitContainers().stream(), pod.getContainers().stream()).toList();
        assertFalse(all.isEmpty());
        for (Container container : all) {
            SecurityContext sc = container.getSecurityContext();
            assertNotNull(sc, container.getName() + " securityContext");
            String who = container.getName() + ": ";
            assertAll(
                    () -> assertEquals(Boolean.TRUE, first(sc.getRunAsNonRoot(), podSecurity.getRunAsNonRoot()),
                            who + "runAsNonRoot"),
                    () -> assertEquals(1000L, first(sc.getRunAsUser(), podSecurity.getRunAsUser()), who + "runAsUser"),
                    () -> assertEquals(1000L, first(sc.getRunAsGroup(), podSecurity.getRunAsGroup()),
                            who + "runAsGroup"),
                    () -> assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem(), who + "readOnlyRootFilesystem"),
                    () -> assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation(), who + "allowPrivilegeEscalation"),
                    () -> assertFalse(Boolean.TRUE.equals(sc.getPrivileged()), who + "privileged"),
                    () -> assertEquals(List.of("ALL"), sc.getCapabilities().getDrop(), who + "capabilities.drop"),
                    () -> assertTrue(sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty(),
                            who + "capabilities.add"),
                    () -> assertEquals("RuntimeDefault", first(sc.getSeccompProfile(),
                            podSecurity.getSeccompProfile()).getType(), who + "seccompProfile"));
        }
    }

    @Test
    void thePassphraseGoesFromTheSecretThroughAnInitContainerIntoMemoryOnlyTheAppMounts() {
        Volume secretVolume = onlyVolume(v -> v.getSecret() != null, "Secret volume");
        Secret secret = manifests.secret(secretVolume.getSecret().getSecretName());
        assertTrue(has(secret, PASSPHRASE_FILE), "the Secret holds " + PASSPHRASE_FILE);
        assertNotNull(secretVolume.getSecret().getDefaultMode(), "explicit defaultMode");
        assertEquals(0, secretVolume.getSecret().getDefaultMode() & 0007, "the Secret's files: not world-readable");

        // the Secret is mounted by init containers only, read-only
        assertTrue(mounts(pod.getContainers(), secretVolume.getName()).isEmpty(), "the app never mounts the Secret");
        List<VolumeMount> secretMounts = mounts(pod.getInitContainers(), secretVolume.getName());
        assertEquals(1, secretMounts.size(), "one init container mounts the Secret");
        assertTrue(secretMounts.getFirst().getReadOnly(), "read-only");

        // the copy goes to /etc/init-secrets on an in-memory emptyDir that the app container mounts
        Container copier = pod.getInitContainers().stream()
                .filter(c -> !mounts(List.of(c), secretVolume.getName()).isEmpty()).findFirst().orElseThrow();
        String command = String.join(" ", Stream.concat(Optional.ofNullable(copier.getCommand()).orElse(List.of())
                .stream(), Optional.ofNullable(copier.getArgs()).orElse(List.of()).stream()).toList());
        assertTrue(command.contains(PASSPHRASE_DIRECTORY + "/" + PASSPHRASE_FILE), "the init container writes "
                + PASSPHRASE_DIRECTORY + "/" + PASSPHRASE_FILE + ": " + command);
        VolumeMount copyTarget = copier.getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals(PASSPHRASE_DIRECTORY)).findFirst().orElseThrow();
        Volume shared = volume(copyTarget.getName());
        assertNotNull(shared.getEmptyDir(), "the passphrase copy is on an emptyDir");
        assertEquals("Memory", shared.getEmptyDir().getMedium(), "in memory, never on the node's disk");
        List<VolumeMount> appMounts = mounts(pod.getContainers(), shared.getName());
        assertEquals(1, appMounts.size(), "the app container mounts the passphrase volume");
        assertEquals(PASSPHRASE_DIRECTORY, appMounts.getFirst().getMountPath(), "where secret-run looks by default");
        assertFalse(Boolean.TRUE.equals(appMounts.getFirst().getReadOnly()), "writable: secret-run deletes the file");
        assertTrue(env(app, "SECRET_RUN_PASSPHRASE_FILE").isEmpty() && env(app, "DONT_DELETE_PWFILE").isEmpty()
                        && env(app, "SECRET_RUN_KEEP_PASSPHRASE_FILE").isEmpty(),
                "secret-run's default: the passphrase file is read from " + PASSPHRASE_DIRECTORY + " and deleted");
    }

    @Test
    void theEncryptedFileComesFromAConfigMapAndThePlaintextGoesToMemory() {
        Path encrypted = Path.of(env(app, "SECRET_RUN_ENCRYPTED").orElse("/config/secrets.yaml.enc"));
        Path plaintext = env(app, "SECRET_RUN_PLAINTEXT").map(Path::of)
                .orElse(encrypted.resolveSibling(encrypted.getFileName().toString().replaceFirst("\\.enc$", "")));

        VolumeMount encryptedMount = mountOf(app, encrypted);
        Volume encryptedVolume = volume(encryptedMount.getName());
        assertNotNull(encryptedVolume.getConfigMap(), encrypted + " comes from a ConfigMap");
        assertTrue(encryptedMount.getReadOnly(), "mounted read-only");
        ConfigMap configMap = manifests.configMap(encryptedVolume.getConfigMap().getName());
        String key = Path.of(encryptedMount.getMountPath()).relativize(encrypted).toString();
        assertNotNull(configMap.getData().get(key), "the ConfigMap has " + key);

        Volume plaintextVolume = volume(mountOf(app, plaintext).getName());
        assertNotNull(plaintextVolume.getEmptyDir(), plaintext + " is on an emptyDir");
        assertEquals("Memory", plaintextVolume.getEmptyDir().getMedium(), "the plaintext lives in memory (tmpfs)");
        assertNotNull(plaintextVolume.getEmptyDir().getSizeLimit(), "with a size limit");
    }

    @Test
    void theExampleValuesAreTheRepositorysExamples() throws Exception {
        // the template's demo values are the repository's examples, so the container test can run the pod as it is
        Path examples = TestImages.PROJECT.resolve("examples");
        Volume secretVolume = onlyVolume(v -> v.getSecret() != null, "Secret volume");
        Secret secret = manifests.secret(secretVolume.getSecret().getSecretName());
        assertEquals(Files.readAllLines(examples.resolve("passphrase")).getFirst(),
                secret.getStringData().get(PASSPHRASE_FILE));
        Volume configVolume = onlyVolume(v -> v.getConfigMap() != null, "ConfigMap volume");
        assertEquals(Files.readString(examples.resolve("secrets.yaml.enc")),
                manifests.configMap(configVolume.getConfigMap().getName()).getData().get("secrets.yaml.enc"));
    }

    @Test
    void theContainerTestCanEmulateEveryPartOfThePodSpec() {
        // fails on any field the container test would otherwise ignore
        KubernetesPod emulation = new KubernetesPod(manifests);
        assertFalse(emulation.volumes().isEmpty());
        assertFalse(emulation.projectedFiles().isEmpty());
        assertFalse(emulation.initContainers().isEmpty());
        assertNotNull(emulation.container(app.getName()));
    }

    // ---- helpers

    private static <T> T first(T container, T pod) {
        return container != null ? container : pod;
    }

    private static boolean has(Secret secret, String key) {
        return secret.getStringData() != null && secret.getStringData().containsKey(key)
                || secret.getData() != null && secret.getData().containsKey(key);
    }

    private static Volume volume(String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    private static Volume onlyVolume(java.util.function.Predicate<Volume> filter, String what) {
        List<Volume> found = pod.getVolumes().stream().filter(filter).toList();
        assertEquals(1, found.size(), "one " + what);
        return found.getFirst();
    }

    private static List<VolumeMount> mounts(List<Container> containers, String volume) {
        return containers.stream().flatMap(c -> Optional.ofNullable(c.getVolumeMounts()).orElse(List.of()).stream())
                .filter(m -> m.getName().equals(volume)).toList();
    }

    /** The mount of {@code container} that holds {@code file}: the longest mount path above it. */
    private static VolumeMount mountOf(Container container, Path file) {
        return container.getVolumeMounts().stream()
                .filter(m -> file.startsWith(Path.of(m.getMountPath())))
                .max((a, b) -> Integer.compare(a.getMountPath().length(), b.getMountPath().length()))
                .orElseThrow(() -> new AssertionError(file + " is on no volume of " + container.getName()
                        + ": it would be on the (read-only) root filesystem"));
    }

    private static Optional<String> env(Container container, String name) {
        return Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst();
    }
}
