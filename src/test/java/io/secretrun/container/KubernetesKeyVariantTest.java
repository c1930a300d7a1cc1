package io.secretrun.container;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The key variant of the template (deploy/kubernetes/public-key): strictly parsed, the same pod hardening as the
 * passphrase template, and the secret key going from its Secret through the init container to
 * {@code /etc/init-secrets/secret_key} (secret-run's default key file) in memory only the app container mounts.
 */
class KubernetesKeyVariantTest {
    static KubernetesManifests variant;
    static KubernetesManifests base;
    static PodSpec pod;

    @BeforeAll
    static void parse() {
        variant = KubernetesManifests.load(KubernetesManifests.KEY_VARIANT);
        base = KubernetesManifests.load();
        pod = variant.deployment().getSpec().getTemplate().getSpec();
    }

    @Test
    void everyFileParsesStrictlyAndKustomizeListsThemAll() {
        List<String> files = KubernetesManifests.yamlFiles(KubernetesManifests.KEY_VARIANT).stream()
                .map(p -> p.getFileName().toString()).filter(n -> !n.equals("kustomization.yaml")).sorted().toList();
        List<String> resources = new ArrayList<>();
        variant.kustomization().path("resources").forEach(node -> resources.add(node.asString()));
        assertEquals(files, resources.stream().sorted().toList());
        assertEquals(files.size(), variant.documents().size());
    }

    @Test
    void thePodIsHardenedExactlyAsThePassphraseTemplate() {
        PodSpec basePod = base.deployment().getSpec().getTemplate().getSpec();
        assertAll(
                () -> assertEquals(basePod.getSecurityContext(), pod.getSecurityContext()),
                () -> assertEquals(basePod.getAutomountServiceAccountToken(), pod.getAutomountServiceAccountToken()),
                () -> assertEquals(basePod.getShareProcessNamespace(), pod.getShareProcessNamespace()),
                () -> assertEquals(basePod.getContainers().getFirst().getSecurityContext(),
                        pod.getContainers().getFirst().getSecurityContext()),
                () -> assertEquals(basePod.getContainers().getFirst().getEnv(), pod.getContainers().getFirst().getEnv()),
                () -> assertEquals(basePod.getInitContainers().getFirst().getSecurityContext(),
                        pod.getInitContainers().getFirst().getSecurityContext()));
    }

    @Test
    void theSecretKeyGoesFromTheSecretThroughTheInitContainerIntoMemoryAtSecretRunsDefaultPath() {
        Volume secretVolume = pod.getVolumes().stream().filter(v -> v.getSecret() != null).findFirst().orElseThrow();
        assertEquals(0, secretVolume.getSecret().getDefaultMode() & 0007, "not world-readable");
        Container app = pod.getContainers().getFirst();
        assertTrue(mounts(app, secretVolume.getName()).isEmpty(), "the app never mounts the Secret");
        Container copier = pod.getInitContainers().getFirst();
        String command = String.join(" ", copier.getCommand());
        assertTrue(command.contains("/etc/init-secrets/secret_key"), command);
        VolumeMount target = copier.getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals("/etc/init-secrets")).findFirst().orElseThrow();
        Volume shared = pod.getVolumes().stream().filter(v -> v.getName().equals(target.getName())).findFirst()
                .orElseThrow();
        assertEquals("Memory", shared.getEmptyDir().getMedium(), "in memory, never on the node's disk");
        List<VolumeMount> appMounts = mounts(app, shared.getName());
        assertEquals("/etc/init-secrets", appMounts.getFirst().getMountPath(), "secret-run's default key file's place");
        assertFalse(Boolean.TRUE.equals(appMounts.getFirst().getReadOnly()), "writable: secret-run deletes the key");
    }

    @Test
    void theExampleValuesAreTheRepositorysExamples() throws Exception {
        Path examples = TestImages.PROJECT.resolve("examples");
        Volume secretVolume = pod.getVolumes().stream().filter(v -> v.getSecret() != null).findFirst().orElseThrow();
        assertEquals(Files.readString(examples.resolve("secret_key.asc")),
                variant.secret(secretVolume.getSecret().getSecretName()).getStringData().get("secret_key"));
        Volume configVolume = pod.getVolumes().stream().filter(v -> v.getConfigMap() != null).findFirst().orElseThrow();
        assertEquals(Files.readString(examples.resolve("secrets.yaml.key.enc")),
                variant.configMap(configVolume.getConfigMap().getName()).getData().get("secrets.yaml.enc"));
        // and the container test can run it as it is
        KubernetesPod emulation = new KubernetesPod(variant);
        assertFalse(emulation.projectedFiles().isEmpty());
    }

    private static List<VolumeMount> mounts(Container container, String volume) {
        return Optional.ofNullable(container.getVolumeMounts()).orElse(List.of()).stream()
                .filter(m -> m.getName().equals(volume)).toList();
    }
}
