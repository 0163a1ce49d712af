package dev.sluice.agent.cli;

import dev.sluice.agent.Registries;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.RegistryUri;
import dev.sluice.agent.control.Json;
import dev.sluice.agent.log.AgentLog;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryPaths;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The operator CLI (SPEC section 9): {@code java -jar sluice-agent.jar <command> [--json]
 * key=value...}. It reads the same keys as the agent ({@code registry}, {@code namespace}, {@code
 * layout}, {@code app}, {@code registry.auth}...), from the same sources. Exit codes: 0 done, 1 a
 * registry problem or no such node, 2 bad usage or configuration. With {@code --json} the result,
 * or {@code {"error", "exit"}}, is one JSON document on standard output.
 */
public final class SluiceCli {

  private static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar sluice-agent.jar <command> [--json] [key=value ...]",
          "  status                   the fleet: instances, datasources, groups, the recovery"
              + " switch, the leader",
          "  disable <instance-id | schema/name>",
          "                           write DISABLED into an instance or datasource node",
          "  enable <instance-id | schema/name>",
          "                           write an empty value into it",
          "  primary <group> [host:port]",
          "                           show a group's primary, or set it (primary=node groups)",
          "  recovery [status|disable|enable]",
          "                           the global recovery switch: show it, or stop (start) every"
              + " automatic action in the fleet",
          "  recovery ack <schema/name>",
          "                           lift the anti-flapping block of the leader's last automatic"
              + " action on a datasource",
          "  export [file]            the persistent governance state as JSON (to standard output"
              + " without a file)",
          "  import <file> [--dry-run]",
          "                           make the registry hold a file's state; --dry-run only shows"
              + " the difference",
          "  attach <pid> [key=value ...]",
          "                           load the agent into a running JVM, with these settings as"
              + " its agent arguments",
          "  console                  the web console at console.bind (until stopped)",
          "  controller               stand for fleet leader, without an application, with the"
              + " web console (until stopped)",
          "options: --json (the result as JSON on standard output)",
          "keys: registry=zookeeper://host:port[,...] | zookeeper+tls://host:port[,...] |"
              + " etcd://host:port[,...] | etcd+https://host:port[,...]",
          "      namespace=sluice layout=v5|legacy app=NAME registry.tls-ca-file=PEM",
          "      registry.auth-file=FILE (holding USER:PASSWORD; or SLUICE_REGISTRY_AUTH_FILE)",
          "      console.bind=127.0.0.1:8088|off console.auth=USER:PASSWORD (or"
              + " SLUICE_CONSOLE_AUTH)",
          "      (also from -Dsluice.<key>, SLUICE_<KEY> or sluice.config, as for the agent)");

  private static final Set<String> FLAGS = Set.of("--json", "--dry-run", "--help");

  private SluiceCli() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** A command's failure: its exit code and message. */
  static final class Failure extends Exception {
    final int exit;

    Failure(int exit, String message) {
      super(message, null, false, false);
      this.exit = exit;
    }
  }

  /** Where a command's result goes: text, or with {@code --json} one JSON document. */
  static final class Reply {
    final PrintStream out;
    final PrintStream err;
    final boolean json;

    Reply(PrintStream out, PrintStream err, boolean json) {
      this.out = out;
      this.err = err;
      this.json = json;
    }

    int done(Object value, String text) {
      out.println(json ? Json.pretty(value) : text);
      return 0;
    }

    int failed(int exit, String message) {
      err.println("sluice: " + message);
      if (json) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        m.put("exit", exit);
        out.println(Json.pretty(m));
      }
      return exit;
    }
  }

  /** Runs one command; returns the process exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    AgentLog.configure("off");
    List<String> positional = new ArrayList<>();
    List<String> settings = new ArrayList<>();
    Set<String> flags = new HashSet<>();
    for (String arg : args) {
      if (arg.startsWith("--")) {
        flags.add(arg);
      } else {
        (arg.contains("=") ? settings : positional).add(arg);
      }
    }
    Reply reply = new Reply(out, err, flags.contains("--json"));
    for (String flag : flags) {
      if (!FLAGS.contains(flag)) {
        return reply.failed(2, "unknown option " + flag + "\n" + USAGE);
      }
    }
    if (positional.isEmpty() || positional.get(0).equals("help") || flags.contains("--help")) {
      out.println(USAGE);
      return positional.isEmpty() && !flags.contains("--help") ? 2 : 0;
    }
    if (flags.contains("--dry-run") && !positional.get(0).equals("import")) {
      return reply.failed(2, "--dry-run belongs to import only");
    }
    Map<String, String> props = new HashMap<>();
    for (String name : System.getProperties().stringPropertyNames()) {
      props.put(name, System.getProperty(name));
    }
    AgentConfig config = AgentConfig.load(String.join(",", settings), props, System.getenv());
    if (!config.problems().isEmpty()) {
      return reply.failed(2, String.join("\nsluice: ", config.problems()));
    }
    String command = positional.get(0);
    if (!COMMANDS.contains(command)) {
      return reply.failed(2, "unknown command '" + command + "'\n" + USAGE);
    }
    if (command.equals("attach")) {
      try {
        return Attach.run(config, positional, settings, reply);
      } catch (Failure f) {
        return reply.failed(f.exit, f.getMessage());
      }
    }
    if (!config.registry().isPresent()) {
      return reply.failed(
          2, "no registry given; add registry=zookeeper://host:port or etcd://host:port");
    }
    RegistryUri uri = config.registry().get();
    RegistryPaths paths = config.layout().paths(config.namespace(), config.app());
    if (command.equals("controller") || command.equals("console")) {
      try {
        return command.equals("controller")
            ? Controller.run(config, reply.json)
            : Controller.console(config, reply.json);
      } catch (Exception e) {
        return reply.failed(1, "the " + command + " on registry " + uri + " failed: " + e);
      }
    }
    Commands commands;
    try {
      commands = new Commands(config, paths, positional, flags, reply);
    } catch (Failure f) {
      return reply.failed(f.exit, f.getMessage());
    }
    try (OperatorAccess nodes = Registries.operator(config)) {
      return commands.run(nodes);
    } catch (Failure f) {
      return reply.failed(f.exit, f.getMessage());
    } catch (Exception e) {
      return reply.failed(1, "registry " + uri + " failed: " + describe(e));
    }
  }

  private static final Set<String> COMMANDS =
      Set.of(
          "status",
          "disable",
          "enable",
          "primary",
          "recovery",
          "export",
          "import",
          "attach",
          "console",
          "controller");

  static String describe(Throwable e) {
    StringBuilder b = new StringBuilder(e.toString());
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      b.append("; caused by ").append(c);
    }
    return b.toString();
  }
}
