package io.secretrun.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame.OutputType;
import org.testcontainers.containers.startupcheck.StartupCheckStrategy;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;

/**
 * A Kubernetes pod, as far as the tests need one, on a plain Docker engine: volumes that several containers share
 * (in memory, like {@code emptyDir: {medium: Memory}} and Secret volumes), filled and owned the way the kubelet would,
 * and containers run one after another on them (init containers to completion, then the app) with the security
 * settings of a container's {@code securityContext}.
 *
 * <p>Like the pod's "pause" container, a sandbox container holds the volumes for the pod's lifetime: a tmpfs volume
 * of the Docker engine is mounted while a container uses it and dropped after, so without the sandbox the passphrase
 * an init container leaves would vanish before the app container starts. The sandbox (root, no hardening) is also
 * the test's view into the volumes, under {@code /pod/VOLUME}.
 */
final class Pod implements AutoCloseable {
    /** A volume of the pod: always tmpfs here; its root directory's owner and mode as the kubelet would set them. */
    record VolumeSpec(String name, long uid, long gid, int mode) {
    }

    record Mount(String volume, String path, boolean readOnly) {
    }

    /**
     * What a container's securityContext asks of the runtime, in Docker's terms. {@code user} null: the image's USER.
     */
    record Hardening(String user, List<String> groupAdd, boolean readOnlyRootFilesystem, List<String> capDrop,
            List<String> capAdd, boolean noNewPrivileges, boolean seccompUnconfined, boolean privileged) {
        static final Hardening IMAGE_DEFAULTS = new Hardening(null, List.of(), false, List.of(), List.of(), false,
                false, false);
    }

    /** One container of the pod. {@code entrypoint} null: the image's (secret-run); {@code command}: its args. */
    record ContainerSpec(String name, List<String> entrypoint, List<String> command, Map<String, String> env,
            List<Mount> mounts, Hardening hardening) {
        ContainerSpec withCommand(List<String> newCommand) {
            return new ContainerSpec(name, entrypoint, newCommand, env, mounts, hardening);
        }

        ContainerSpec withEntrypoint(List<String> newEntrypoint) {
            return new ContainerSpec(name, newEntrypoint, command, env, mounts, hardening);
        }

        ContainerSpec withEnv(String name, String value) {
            Map<String, String> more = new LinkedHashMap<>(env);
            more.put(name, value);
            return new ContainerSpec(this.name, entrypoint, command, Map.copyOf(more), mounts, hardening);
        }
    }

    /** A container that ran to its end. */
    record Exited(String name, long exitCode, String stdout, String stderr) {
        String output() {
            return "--- stdout of " + name + "\n" + stdout + "--- stderr of " + name + "\n" + stderr;
        }
    }

    private static final Pattern REPORT = Pattern.compile("^test-app: ([A-Za-z_0-9]+)=(.*)$", Pattern.MULTILINE);

    private final String id = UUID.randomUUID().toString().substring(0, 8);
    private final String image;
    private final DockerClient docker = DockerClientFactory.instance().client();
    private final List<String> volumes = new ArrayList<>();
    private final List<GenericContainer<?>> containers = new ArrayList<>();
    private GenericContainer<?> sandbox;

    private Pod(String image) {
        this.image = image;
    }

    /** Creates the volumes and starts the sandbox that holds them. */
    static Pod start(String image, List<VolumeSpec> volumeSpecs) {
        Pod pod = new Pod(image);
        try {
            pod.createVolumes(volumeSpecs);
            return pod;
        } catch (RuntimeException e) {
            pod.close();
            throw e;
        }
    }

    private void createVolumes(List<VolumeSpec> specs) {
        List<Bind> binds = new ArrayList<>();
        for (VolumeSpec spec : specs) {
            String volume = volumeName(spec.name());
            docker.createVolumeCmd().withName(volume).withDriver("local")
                    .withDriverOpts(Map.of("type", "tmpfs", "device", "tmpfs", "o", "size=16m"))
                    .exec();
            volumes.add(volume);
            binds.add(new Bind(volume, new Volume("/pod/" + spec.name())));
        }
        sandbox = new GenericContainer<>(image)
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName("secret-run-test-" + id + "-sandbox")
                            .withUser("0:0")
                            .withEntrypoint("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done");
                    cmd.getHostConfig().withBinds(binds);
                });
        containers.add(sandbox);
        sandbox.start();
        for (VolumeSpec spec : specs) {
            String path = "/pod/" + spec.name();
            shell("chown " + spec.uid() + ":" + spec.gid() + " " + path + " && chmod " + Integer.toOctalString(spec.mode())
                    + " " + path);
        }
    }

    private String volumeName(String name) {
        return "secret-run-test-" + id + "-" + name;
    }

    /** Writes a file into a volume, as the kubelet (or an operator) would before the pod's containers start. */
    void write(String volume, String relativePath, byte[] content, int mode, long uid, long gid) {
        String path = "/pod/" + volume + "/" + relativePath;
        sandbox.copyFileToContainer(Transferable.of(content, mode), path);
        shell("chown " + uid + ":" + gid + " " + path + " && chmod " + Integer.toOctalString(mode) + " " + path);
    }

    /** Runs a shell command in the sandbox (root, every volume under /pod) and returns its stdout. */
    String shell(String command) {
        try {
            ExecResult result = sandbox.execInContainer("sh", "-c", command);
            if (result.getExitCode() != 0) {
                throw new IllegalStateException("sandbox: " + command + " failed (" + result.getExitCode() + "): "
                        + result.getStderr());
            }
            return result.getStdout();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Starts a long-running container and waits until the test app in it reports ready. */
    GenericContainer<?> startApp(ContainerSpec spec) {
        GenericContainer<?> container = container(spec)
                .waitingFor(Wait.forLogMessage(".*test-app: ready=yes.*\\n", 1)
                        .withStartupTimeout(Duration.ofSeconds(60)));
        container.start();
        return container;
    }

    /** Runs a container until it exits by itself (init containers, failing launches, encrypt and decrypt). */
    Exited runToExit(ContainerSpec spec) {
        GenericContainer<?> container = container(spec)
                .withStartupCheckStrategy(new HasExited().withTimeout(Duration.ofSeconds(60)));
        container.start();
        return exited(container, spec.name());
    }

    /** {@code docker stop}: SIGTERM to the container's PID 1, SIGKILL after {@code grace}; returns how it ended. */
    Exited stop(GenericContainer<?> container, String name, Duration grace) {
        docker.stopContainerCmd(container.getContainerId()).withTimeout((int) grace.toSeconds()).exec();
        return exited(container, name);
    }

    private Exited exited(GenericContainer<?> container, String name) {
        InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(container.getContainerId()).exec()
                .getState();
        if (Boolean.TRUE.equals(state.getRunning())) {
            throw new IllegalStateException(name + " is still running");
        }
        return new Exited(name, state.getExitCodeLong(), container.getLogs(OutputType.STDOUT),
                container.getLogs(OutputType.STDERR));
    }

    private GenericContainer<?> container(ContainerSpec spec) {
        List<Bind> binds = spec.mounts().stream()
                .map(m -> new Bind(volumeName(m.volume()), new Volume(m.path()), m.readOnly() ? AccessMode.ro
                        : AccessMode.rw))
                .toList();
        GenericContainer<?> container = new GenericContainer<>(image)
                .withEnv(spec.env())
                .withCreateContainerCmdModifier(cmd -> configure(cmd, spec, binds));
        if (spec.command() != null) {
            container.withCommand(spec.command().toArray(String[]::new));
        }
        containers.add(container);
        return container;
    }

    private void configure(CreateContainerCmd cmd, ContainerSpec spec, List<Bind> binds) {
        Hardening hardening = spec.hardening();
        cmd.withName("secret-run-test-" + id + "-" + spec.name() + "-" + containers.size());
        if (spec.entrypoint() != null) {
            cmd.withEntrypoint(spec.entrypoint());
        }
        if (hardening.user() != null) {
            cmd.withUser(hardening.user());
        }
        HostConfig host = cmd.getHostConfig();
        host.withBinds(binds)
                .withReadonlyRootfs(hardening.readOnlyRootFilesystem())
                .withPrivileged(hardening.privileged());
        if (!hardening.groupAdd().isEmpty()) {
            host.withGroupAdd(hardening.groupAdd());
        }
        if (!hardening.capDrop().isEmpty()) {
            host.withCapDrop(hardening.capDrop().stream().map(Capability::valueOf).toArray(Capability[]::new));
        }
        if (!hardening.capAdd().isEmpty()) {
            host.withCapAdd(hardening.capAdd().stream().map(Capability::valueOf).toArray(Capability[]::new));
        }
        List<String> securityOptions = new ArrayList<>();
        if (hardening.noNewPrivileges()) {
            securityOptions.add("no-new-privileges=true");
        }
        if (hardening.seccompUnconfined()) {
            securityOptions.add("seccomp=unconfined");
        }
        if (!securityOptions.isEmpty()) {
            host.withSecurityOpts(securityOptions);
        }
    }

    /** The test app's {@code test-app: KEY=VALUE} lines. */
    static Map<String, String> reports(String stdout) {
        Map<String, String> reports = new LinkedHashMap<>();
        Matcher matcher = REPORT.matcher(stdout);
        while (matcher.find()) {
            reports.put(matcher.group(1), matcher.group(2));
        }
        return reports;
    }

    @Override
    public void close() {
        for (GenericContainer<?> container : containers.reversed()) {
            try {
                container.stop();
            } catch (RuntimeException e) {
                System.err.println("pod " + id + ": could not remove a container: " + e);
            }
        }
        for (String volume : volumes) {
            try {
                docker.removeVolumeCmd(volume).exec();
            } catch (RuntimeException e) {
                System.err.println("pod " + id + ": could not remove volume " + volume + ": " + e);
            }
        }
    }

    /** Start succeeds once the container has exited, whatever its code: the test judges the code. */
    private static final class HasExited extends StartupCheckStrategy {
        @Override
        public StartupStatus checkStartupState(DockerClient client, String containerId) {
            InspectContainerResponse.ContainerState state = getCurrentState(client, containerId);
            if (Boolean.TRUE.equals(state.getRunning()) || state.getFinishedAt() == null
                    || state.getFinishedAt().startsWith("0001-")) {
                return StartupStatus.NOT_YET_KNOWN;
            }
            return StartupStatus.SUCCESSFUL;
        }
    }
}
