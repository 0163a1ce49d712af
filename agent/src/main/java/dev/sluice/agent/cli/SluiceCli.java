package dev.sluice.agent.cli;

import dev.sluice.agent.Registries;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.RegistryUri;
import dev.sluice.agent.control.ActionRecord;
import dev.sluice.agent.log.AgentLog;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryPaths;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The operator CLI: {@code java -jar sluice-agent.jar <command> key=value...}. It reads the same
 * keys as the agent ({@code registry}, {@code namespace}, {@code layout}, {@code app}, {@code
 * registry.auth}), from the same sources.
 */
public final class SluiceCli {

  private static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar sluice-agent.jar <command> [key=value ...]",
          "  status                 list the registered instances and their values",
          "  disable <instance-id>  write DISABLED into an instance node",
          "  enable <instance-id>   write an empty value into an instance node",
          "  recovery [status|disable|enable]",
          "                         the global recovery switch: show it, or stop (start) every"
              + " automatic action in the fleet",
          "  recovery ack <schema/name>",
          "                         lift the anti-flapping block of the leader's last automatic"
              + " action on a datasource",
          "  controller             stand for fleet leader, without an application (until"
              + " stopped)",
          "keys: registry=zookeeper://host:port[,...] | zookeeper+tls://host:port[,...] |"
              + " etcd://host:port[,...] | etcd+https://host:port[,...]",
          "      namespace=sluice layout=v5|legacy app=NAME registry.tls-ca-file=PEM",
          "      registry.auth-file=FILE (holding USER:PASSWORD; or SLUICE_REGISTRY_AUTH_FILE)",
          "      (also from -Dsluice.<key>, SLUICE_<KEY> or sluice.config, as for the agent)");

  private SluiceCli() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command; returns the process exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    AgentLog.configure("off");
    List<String> positional = new ArrayList<>();
    List<String> settings = new ArrayList<>();
    for (String arg : args) {
      (arg.contains("=") ? settings : positional).add(arg);
    }
    if (positional.isEmpty() || positional.get(0).equals("help")) {
      out.println(USAGE);
      return positional.isEmpty() ? 2 : 0;
    }
    Map<String, String> props = new HashMap<>();
    for (String name : System.getProperties().stringPropertyNames()) {
      props.put(name, System.getProperty(name));
    }
    AgentConfig config = AgentConfig.load(String.join(",", settings), props, System.getenv());
    if (!config.problems().isEmpty()) {
      config.problems().forEach(p -> err.println("sluice: " + p));
      return 2;
    }
    if (!config.registry().isPresent()) {
      err.println(
          "sluice: no registry given; add registry=zookeeper://host:port or etcd://host:port");
      return 2;
    }
    RegistryUri uri = config.registry().get();
    RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
    String command = positional.get(0);
    if (command.equals("controller")) {
      try {
        return Controller.run(config);
      } catch (Exception e) {
        err.println("sluice: the controller on registry " + uri + " failed: " + e);
        return 1;
      }
    }
    try (OperatorAccess nodes = Registries.operator(config)) {
      switch (command) {
        case "status":
          return status(nodes, paths, out);
        case "disable":
        case "enable":
          if (positional.size() != 2) {
            err.println("sluice: " + command + " takes one instance id\n" + USAGE);
            return 2;
          }
          String path = paths.instancesRoot() + "/" + positional.get(1);
          String value = command.equals("disable") ? NodeValue.DISABLED_TEXT : "";
          if (!nodes.set(path, value)) {
            err.println("sluice: no instance node " + path);
            return 1;
          }
          out.println(path + " = " + NodeValue.printable(value));
          return 0;
        case "recovery":
          return recovery(nodes, paths, positional, out, err);
        default:
          err.println("sluice: unknown command '" + command + "'\n" + USAGE);
          return 2;
      }
    } catch (Exception e) {
      err.println("sluice: registry " + uri + " failed: " + e);
      return 1;
    }
  }

  /** {@code recovery [status|disable|enable]}: the global recovery switch (SPEC 8). */
  private static int recovery(
      OperatorAccess nodes,
      RegistryPaths paths,
      List<String> positional,
      PrintStream out,
      PrintStream err)
      throws Exception {
    String what = positional.size() > 1 ? positional.get(1) : "status";
    String path = paths.recoverySwitchPath();
    switch (what) {
      case "status":
        String value = nodes.children(path.substring(0, path.lastIndexOf('/'))).get("recovery");
        out.println(
            path
                + " = "
                + (value == null ? "(absent)" : NodeValue.printable(value))
                + ": automatic recovery "
                + (NodeValue.of(value).disables() ? "DISABLED" : "ENABLED"));
        return 0;
      case "disable":
      case "enable":
        String written = what.equals("disable") ? NodeValue.DISABLED_TEXT : "";
        nodes.put(path, written);
        out.println(
            path
                + " = "
                + NodeValue.printable(written)
                + ": automatic recovery "
                + (what.equals("disable") ? "DISABLED" : "ENABLED")
                + " fleet-wide");
        return 0;
      case "ack":
        return acknowledge(nodes, paths, positional, out, err);
      default:
        err.println(
            "sluice: recovery takes status, disable, enable or ack, not '" + what + "'\n" + USAGE);
        return 2;
    }
  }

  /** {@code recovery ack <schema/name>}: marks the action record acknowledged. */
  private static int acknowledge(
      OperatorAccess nodes,
      RegistryPaths paths,
      List<String> positional,
      PrintStream out,
      PrintStream err)
      throws Exception {
    String[] sn = positional.size() == 3 ? positional.get(2).split("/", -1) : new String[0];
    if (sn.length != 2 || sn[0].isBlank() || sn[1].isBlank()) {
      err.println("sluice: recovery ack takes one schema/name, such as orders/db2_3306\n" + USAGE);
      return 2;
    }
    String path = paths.actionPath(sn[0], sn[1]);
    String record = nodes.children(paths.actionsRoot() + "/" + sn[0]).get(sn[1]);
    if (record == null || record.isBlank()) {
      err.println("sluice: no automatic action is recorded at " + path);
      return 1;
    }
    String acknowledged;
    try {
      acknowledged = ActionRecord.acknowledged(record, java.time.Instant.now());
    } catch (IllegalArgumentException e) {
      err.println("sluice: " + path + " holds no readable action record: " + e.getMessage());
      return 1;
    }
    nodes.put(path, acknowledged);
    out.println(path + " = " + acknowledged);
    return 0;
  }

  private static int status(OperatorAccess nodes, RegistryPaths paths, PrintStream out)
      throws Exception {
    Map<String, String> instances = new TreeMap<>(nodes.children(paths.instancesRoot()));
    out.println("instances under " + paths.instancesRoot() + ": " + instances.size());
    instances.forEach(
        (id, value) ->
            out.println(
                "  " + id + "  " + (NodeValue.of(value).disables() ? "DISABLED" : "ENABLED")));
    return 0;
  }
}
