package io.secretrun.container;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.cfg.MapperConfig;
import tools.jackson.databind.introspect.Annotated;
import tools.jackson.databind.introspect.JacksonAnnotationIntrospector;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The YAML under {@code deploy/kubernetes}, parsed into the fabric8 Kubernetes model, strictly: a field the model does
 * not know (a typo such as {@code readOnlyRootFileSystem}, or a field at the wrong level) fails the parse instead of
 * being ignored. Used by the manifest test and by the container test that runs the pod's settings.
 */
final class KubernetesManifests {
    static final Path DIRECTORY = Path.of(System.getProperty("basedir", "."), "deploy", "kubernetes");
    /** The key variant: the pod holds a secret key instead of a passphrase. */
    static final Path KEY_VARIANT = DIRECTORY.resolve("public-key");

    /** The kinds the example may contain, and their model classes; anything else fails the parse. */
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "apps/v1/Deployment", Deployment.class,
            "v1/Secret", Secret.class,
            "v1/ConfigMap", ConfigMap.class);

    /**
     * fabric8's model classes collect unknown fields in an {@code additionalProperties} map through
     * {@link JsonAnySetter}: with that switched off, FAIL_ON_UNKNOWN_PROPERTIES makes every unknown field an error.
     */
    static final ObjectMapper STRICT = YAMLMapper.builder()
            .annotationIntrospector(new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnySetter(MapperConfig<?> config, Annotated annotated) {
                    return null;
                }
            })
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private static final ObjectMapper TREE = YAMLMapper.builder().build();

    record Document(Path file, HasMetadata resource) {
    }

    private final Path directory;
    private final List<Document> documents;
    private final JsonNode kustomization;

    private KubernetesManifests(Path directory, List<Document> documents, JsonNode kustomization) {
        this.directory = directory;
        this.documents = documents;
        this.kustomization = kustomization;
    }

    /** The passphrase template, {@code deploy/kubernetes}. */
    static KubernetesManifests load() {
        return load(DIRECTORY);
    }

    /**
     * Parses every YAML file of {@code directory} (not of its subdirectories, which are variants of their own);
     * {@code kustomization.yaml} as a plain tree, the rest strictly.
     */
    static KubernetesManifests load(Path directory) {
        List<Document> documents = new ArrayList<>();
        JsonNode kustomization = null;
        for (Path file : yamlFiles(directory)) {
            if (file.getFileName().toString().equals("kustomization.yaml")) {
                kustomization = TREE.readTree(file.toFile());
                continue;
            }
            for (JsonNode node : TREE.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile()).readAll()) {
                if (node == null || node.isNull() || node.isMissingNode()) {
                    continue;
                }
                String key = node.path("apiVersion").asString() + "/" + node.path("kind").asString();
                Class<? extends HasMetadata> type = KINDS.get(key);
                if (type == null) {
                    throw new IllegalStateException(file + ": unexpected resource " + key + " (expected one of "
                            + KINDS.keySet() + ")");
                }
                documents.add(new Document(file, parse(file, node, type)));
            }
        }
        if (kustomization == null) {
            throw new IllegalStateException("no kustomization.yaml in " + directory);
        }
        return new KubernetesManifests(directory, List.copyOf(documents), kustomization);
    }

    private static <T> T parse(Path file, JsonNode node, Class<T> type) {
        try {
            return STRICT.treeToValue(node, type);
        } catch (RuntimeException e) {
            throw new IllegalStateException(file + ": " + e.getMessage(), e);
        }
    }

    static List<Path> yamlFiles() {
        return yamlFiles(DIRECTORY);
    }

    static List<Path> yamlFiles(Path directory) {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    List<Document> documents() {
        return documents;
    }

    JsonNode kustomization() {
        return kustomization;
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return documents.stream().map(Document::resource).filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T only(Class<T> type) {
        List<T> found = all(type);
        if (found.size() != 1) {
            throw new IllegalStateException("expected one " + type.getSimpleName() + " in " + directory + ", found "
                    + found.size());
        }
        return found.getFirst();
    }

    Deployment deployment() {
        return only(Deployment.class);
    }

    Secret secret(String name) {
        return all(Secret.class).stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no Secret " + name + " in " + directory));
    }

    ConfigMap configMap(String name) {
        return all(ConfigMap.class).stream().filter(c -> c.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no ConfigMap " + name + " in " + directory));
    }
}
