package io.secretrun.container;

import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SeccompProfile;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.secretrun.container.Pod.ContainerSpec;
import io.secretrun.container.Pod.Hardening;
import io.secretrun.container.Pod.Mount;
import io.secretrun.container.Pod.VolumeSpec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns the example Deployment's pod spec into {@link Pod} settings, the way the kubelet would apply them, so the
 * container test runs exactly what the manifest says. Whatever the manifest uses that this emulation does not
 * translate fails loudly ({@link NotEmulated}) rather than being dropped: test and manifest cannot drift apart
 * silently.
 */
final class KubernetesPod {
    static final class NotEmulated extends IllegalStateException {
        NotEmulated(String what) {
            super("deploy/kubernetes uses " + what + ", which the container test does not emulate; extend "
                    + KubernetesPod.class.getSimpleName());
        }
    }

    /** A file the kubelet projects into a volume (Secret and ConfigMap keys). */
    record ProjectedFile(String volume, String path, byte[] content, int mode, long gid) {
    }

    private final KubernetesManifests manifests;
    private final PodSpec pod;
    private final PodSecurityContext podSecurity;

    KubernetesPod(KubernetesManifests manifests) {
        this.manifests = manifests;
        this.pod = manifests.deployment().getSpec().getTemplate().getSpec();
        this.podSecurity = Objects.requireNonNullElseGet(pod.getSecurityContext(), PodSecurityContext::new);
        if (Boolean.TRUE.equals(pod.getShareProcessNamespace()) || Boolean.TRUE.equals(pod.getHostPID())
                || Boolean.TRUE.equals(pod.getHostIPC()) || Boolean.TRUE.equals(pod.getHostNetwork())) {
            throw new NotEmulated("shared process, IPC or network namespaces");
        }
        if (podSecurity.getSysctls() != null && !podSecurity.getSysctls().isEmpty()
                || podSecurity.getSeLinuxOptions() != null || podSecurity.getAppArmorProfile() != null
                || podSecurity.getWindowsOptions() != null) {
            throw new NotEmulated("pod securityContext sysctls, SELinux, AppArmor or Windows options");
        }
    }

    private long fsGroup() {
        return podSecurity.getFsGroup() == null ? 0 : podSecurity.getFsGroup();
    }

    /** Every volume of the pod, in memory; owners and modes as the kubelet sets them (fsGroup: group, setgid). */
    List<VolumeSpec> volumes() {
        List<VolumeSpec> volumes = new ArrayList<>();
        for (io.fabric8.kubernetes.api.model.Volume volume : pod.getVolumes()) {
            if (volume.getEmptyDir() != null) {
                // emptyDir: 0777; with fsGroup the kubelet gives it to that group and sets the setgid bit
                volumes.add(new VolumeSpec(volume.getName(), 0, fsGroup(), fsGroup() != 0 ? 02777 : 0777));
            } else if (volume.getSecret() != null || volume.getConfigMap() != null) {
                // Secret and ConfigMap volumes: the kubelet writes them; the containers only read
                volumes.add(new VolumeSpec(volume.getName(), 0, fsGroup(), 0755));
            } else {
                throw new NotEmulated("volume type of " + volume.getName());
            }
        }
        return volumes;
    }

    /** The files the kubelet projects from Secrets and ConfigMaps, with their modes (defaultMode, item mode). */
    List<ProjectedFile> projectedFiles() {
        List<ProjectedFile> files = new ArrayList<>();
        for (io.fabric8.kubernetes.api.model.Volume volume : pod.getVolumes()) {
            if (volume.getSecret() != null) {
                Secret secret = manifests.secret(volume.getSecret().getSecretName());
                Map<String, byte[]> data = new LinkedHashMap<>();
                if (secret.getData() != null) {
                    secret.getData().forEach((k, v) -> data.put(k, Base64.getDecoder().decode(v)));
                }
                if (secret.getStringData() != null) {
                    secret.getStringData().forEach((k, v) -> data.put(k, v.getBytes(StandardCharsets.UTF_8)));
                }
                project(files, volume.getName(), data, volume.getSecret().getItems(),
                        volume.getSecret().getDefaultMode());
            } else if (volume.getConfigMap() != null) {
                ConfigMap configMap = manifests.configMap(volume.getConfigMap().getName());
                Map<String, byte[]> data = new LinkedHashMap<>();
                if (configMap.getData() != null) {
                    configMap.getData().forEach((k, v) -> data.put(k, v.getBytes(StandardCharsets.UTF_8)));
                }
                if (configMap.getBinaryData() != null) {
                    configMap.getBinaryData().forEach((k, v) -> data.put(k, Base64.getDecoder().decode(v)));
                }
                project(files, volume.getName(), data, volume.getConfigMap().getItems(),
                        volume.getConfigMap().getDefaultMode());
            }
        }
        return files;
    }

    private void project(List<ProjectedFile> files, String volume, Map<String, byte[]> data, List<KeyToPath> items,
            Integer defaultMode) {
        int mode = defaultMode == null ? 0644 : defaultMode;
        if (items == null || items.isEmpty()) {
            data.forEach((key, content) -> files.add(new ProjectedFile(volume, key, content, mode, fsGroup())));
            return;
        }
        for (KeyToPath item : items) {
            byte[] content = data.get(item.getKey());
            if (content == null) {
                throw new IllegalStateException("volume " + volume + " projects key " + item.getKey()
                        + ", which its source does not have");
            }
            files.add(new ProjectedFile(volume, item.getPath(), content, item.getMode() == null ? mode
                    : item.getMode(), fsGroup()));
        }
    }

    List<ContainerSpec> initContainers() {
        return pod.getInitContainers() == null ? List.of()
                : pod.getInitContainers().stream().map(this::spec).toList();
    }

    ContainerSpec container(String name) {
        return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst().map(this::spec)
                .orElseThrow(() -> new IllegalStateException("no container " + name + " in the Deployment"));
    }

    private ContainerSpec spec(Container container) {
        String name = container.getName();
        if (container.getWorkingDir() != null || container.getEnvFrom() != null && !container.getEnvFrom().isEmpty()
                || container.getLifecycle() != null
                || container.getVolumeDevices() != null && !container.getVolumeDevices().isEmpty()) {
            throw new NotEmulated("workingDir, envFrom, lifecycle or volumeDevices in container " + name);
        }
        Map<String, String> env = new LinkedHashMap<>();
        if (container.getEnv() != null) {
            for (EnvVar variable : container.getEnv()) {
                if (variable.getValueFrom() != null) {
                    throw new NotEmulated("env valueFrom in container " + name);
                }
                env.put(variable.getName(), Objects.requireNonNullElse(variable.getValue(), ""));
            }
        }
        List<Mount> mounts = new ArrayList<>();
        if (container.getVolumeMounts() != null) {
            for (VolumeMount mount : container.getVolumeMounts()) {
                if (mount.getSubPath() != null || mount.getSubPathExpr() != null
                        || mount.getMountPropagation() != null || mount.getRecursiveReadOnly() != null) {
                    throw new NotEmulated("subPath, mountPropagation or recursiveReadOnly in container " + name);
                }
                mounts.add(new Mount(mount.getName(), mount.getMountPath(), Boolean.TRUE.equals(mount.getReadOnly())));
            }
        }
        // Kubernetes: command replaces the image's ENTRYPOINT, args its CMD.
        List<String> entrypoint = container.getCommand() == null || container.getCommand().isEmpty() ? null
                : List.copyOf(container.getCommand());
        List<String> command = container.getArgs() == null || container.getArgs().isEmpty() ? null
                : List.copyOf(container.getArgs());
        return new ContainerSpec(name, entrypoint, command, Map.copyOf(env), List.copyOf(mounts),
                hardening(name, container.getSecurityContext()));
    }

    /** A container's securityContext, over the pod's, in Docker's terms. */
    Hardening hardening(String name, SecurityContext container) {
        SecurityContext sc = Objects.requireNonNullElseGet(container, SecurityContext::new);
        if (sc.getProcMount() != null && !sc.getProcMount().equals("Default") || sc.getSeLinuxOptions() != null
                || sc.getAppArmorProfile() != null || sc.getWindowsOptions() != null) {
            throw new NotEmulated("procMount, SELinux, AppArmor or Windows options in container " + name);
        }
        Long uid = sc.getRunAsUser() != null ? sc.getRunAsUser() : podSecurity.getRunAsUser();
        Long gid = sc.getRunAsGroup() != null ? sc.getRunAsGroup() : podSecurity.getRunAsGroup();
        Boolean nonRoot = sc.getRunAsNonRoot() != null ? sc.getRunAsNonRoot() : podSecurity.getRunAsNonRoot();
        if (uid == null) {
            throw new NotEmulated("a container without runAsUser (" + name + "): the image's user");
        }
        if (Boolean.TRUE.equals(nonRoot) && uid == 0) {
            throw new IllegalStateException("container " + name + ": runAsNonRoot with runAsUser 0; the kubelet "
                    + "would refuse to start it");
        }
        String user = gid == null ? String.valueOf(uid) : uid + ":" + gid;

        List<String> groups = new ArrayList<>();
        if (podSecurity.getFsGroup() != null) {
            groups.add(String.valueOf(podSecurity.getFsGroup()));
        }
        if (podSecurity.getSupplementalGroups() != null) {
            podSecurity.getSupplementalGroups().forEach(g -> groups.add(String.valueOf(g)));
        }

        Capabilities capabilities = Objects.requireNonNullElseGet(sc.getCapabilities(), Capabilities::new);
        List<String> drop = capabilities.getDrop() == null ? List.of()
                : capabilities.getDrop().stream().map(KubernetesPod::capability).toList();
        List<String> add = capabilities.getAdd() == null ? List.of()
                : capabilities.getAdd().stream().map(KubernetesPod::capability).toList();

        SeccompProfile seccomp = sc.getSeccompProfile() != null ? sc.getSeccompProfile()
                : podSecurity.getSeccompProfile();
        // Without a profile the kubelet (without --seccomp-default) runs the container unconfined.
        boolean unconfined = seccomp == null || "Unconfined".equals(seccomp.getType());
        if (seccomp != null && !List.of("RuntimeDefault", "Unconfined").contains(seccomp.getType())) {
            throw new NotEmulated("seccompProfile type " + seccomp.getType());
        }
        // allowPrivilegeEscalation is true unless set to false: then the kubelet sets no_new_privs.
        boolean noNewPrivileges = Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation());
        return new Hardening(user, List.copyOf(groups), Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem()), drop,
                add, noNewPrivileges, unconfined, Boolean.TRUE.equals(sc.getPrivileged()));
    }

    /** Kubernetes writes capabilities without the CAP_ prefix, as Docker does: ALL, SYS_PTRACE... */
    private static String capability(String name) {
        return name.startsWith("CAP_") ? name.substring(4) : name;
    }
}
