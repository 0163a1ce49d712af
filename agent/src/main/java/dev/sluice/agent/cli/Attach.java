package dev.sluice.agent.cli;

import dev.sluice.agent.Registries;
import dev.sluice.agent.cli.SluiceCli.Failure;
import dev.sluice.agent.cli.SluiceCli.Reply;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryPaths;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code attach <pid> [key=value...]} (SPEC section 9): loads the agent into a running JVM through
 * the JDK's attach API, with the given keys as its agent arguments. The agent then instruments the
 * drivers and pools already loaded; connections opened before are governed from their next use by a
 * pool or a driver on. With a registry given, waits for the JVM's instance node and names it.
 */
final class Attach {

  /** How long to wait for the attached JVM's instance node. */
  static final long REGISTER_WAIT_MS = 20_000;

  private Attach() {}

  static int run(AgentConfig config, List<String> args, List<String> settings, Reply reply)
      throws Failure {
    if (args.size() != 2 || !args.get(1).matches("[0-9]+")) {
      throw new Failure(
          2, "attach takes the pid of a running JVM, then its agent's key=value settings");
    }
    long pid = Long.parseLong(args.get(1));
    if (pid == ProcessHandle.current().pid()) {
      throw new Failure(2, "attach loads the agent into another JVM, not into this tool");
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid);
    if (process.isEmpty()) {
      throw new Failure(1, "no process with pid " + pid);
    }
    String jar = System.getProperty("dev.sluice.agent.jar");
    if (jar == null) {
      throw new Failure(2, "attach runs from the agent jar: java -jar sluice-agent.jar attach ...");
    }
    String agentArgs = String.join(",", settings);
    load(pid, process.get(), jar, agentArgs);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("pid", pid);
    m.put("agent", jar);
    m.put("arguments", settings.stream().map(Attach::masked).toArray());
    String[] seen = {null, null}; // the instance id, or why the registry could not be read
    if (config.registry().isPresent()) {
      awaitInstance(config, pid, seen);
    }
    String instance = seen[0];
    m.put("instance", instance);
    return reply.done(
        m,
        "agent loaded into JVM "
            + pid
            + (instance == null
                ? config.registry().isPresent()
                    ? (seen[1] != null
                            ? "; the registry could not be read to see it register: " + seen[1]
                            : "; no instance node appeared within "
                                + REGISTER_WAIT_MS / 1000
                                + " s")
                        + ": see that JVM's log ([sluice] lines on its standard error)"
                    : " (no registry given: it runs in local mode, or from its own SLUICE_*"
                        + " settings)"
                : "; registered as instance " + instance));
  }

  private static String masked(String setting) {
    return setting.startsWith("registry.auth=") || setting.startsWith("console.auth=")
        ? setting.substring(0, setting.indexOf('=') + 1) + "****"
        : setting;
  }

  /** {@code VirtualMachine.attach(pid).loadAgent(jar, args)}, through the JDK's jdk.attach. */
  private static void load(long pid, ProcessHandle process, String jar, String agentArgs)
      throws Failure {
    Class<?> vmClass;
    try {
      // jdk.attach is defined to the application class loader, not to the agent's
      vmClass =
          Class.forName(
              "com.sun.tools.attach.VirtualMachine", true, ClassLoader.getSystemClassLoader());
    } catch (ClassNotFoundException e) {
      throw new Failure(
          2, "this java has no jdk.attach module (a JRE?): run attach with a JDK's java");
    }
    Object vm;
    try {
      vm = vmClass.getMethod("attach", String.class).invoke(null, Long.toString(pid));
    } catch (InvocationTargetException e) {
      throw new Failure(1, refused(pid, process, e.getCause()));
    } catch (ReflectiveOperationException e) {
      throw new Failure(1, "the attach API failed: " + e);
    }
    try {
      Method loadAgent = vmClass.getMethod("loadAgent", String.class, String.class);
      loadAgent.invoke(vm, jar, agentArgs);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      throw new Failure(
          1,
          "JVM "
              + pid
              + " did not load the agent: "
              + cause.getClass().getSimpleName()
              + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
              + " (see that JVM's log)");
    } catch (ReflectiveOperationException e) {
      throw new Failure(1, "the attach API failed: " + e);
    } finally {
      try {
        vmClass.getMethod("detach").invoke(vm);
      } catch (ReflectiveOperationException | RuntimeException ignored) {
        // the agent is loaded or not; the connection goes with this process
      }
    }
  }

  /** Why a JVM refused the attach, with what to do about it. */
  private static String refused(long pid, ProcessHandle process, Throwable cause) {
    String why = cause.getClass().getSimpleName() + ": " + cause.getMessage();
    String me = System.getProperty("user.name");
    Optional<String> owner = process.info().user();
    if (owner.isPresent() && !owner.get().equals(me)) {
      return "JVM "
          + pid
          + " runs as user "
          + owner.get()
          + " and accepts attach only from that user, not from "
          + me
          + ": run this as "
          + owner.get()
          + " (sudo -u "
          + owner.get()
          + " java -jar sluice-agent.jar attach ...), or start it with -javaagent ("
          + why
          + ")";
    }
    String command = process.info().commandLine().orElse("");
    if (command.contains("-XX:+DisableAttachMechanism")) {
      return "JVM "
          + pid
          + " refuses attach: it was started with -XX:+DisableAttachMechanism; add"
          + " -javaagent:sluice-agent.jar to its start line instead ("
          + why
          + ")";
    }
    return "JVM "
        + pid
        + " refuses attach ("
        + why
        + "): it is no HotSpot JVM, it was started with -XX:+DisableAttachMechanism, or it runs"
        + " as another user or in another container; start it with -javaagent instead";
  }

  private static void awaitInstance(AgentConfig config, long pid, String[] seen) {
    RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
    long deadline = System.nanoTime() + REGISTER_WAIT_MS * 1_000_000;
    try (OperatorAccess nodes = Registries.operator(config)) {
      while (System.nanoTime() < deadline) {
        for (String id : nodes.children(paths.instancesRoot()).keySet()) {
          if (id.contains("@" + pid + "@") || id.endsWith("@" + pid)) {
            seen[0] = id;
            return;
          }
        }
        Thread.sleep(200); // polling the registry for a node another process creates
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      seen[1] = SluiceCli.describe(e);
    }
  }
}
