package dev.sluice.agent.cli;

import dev.sluice.agent.cli.SluiceCli.Failure;
import dev.sluice.agent.cli.SluiceCli.Reply;
import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.control.ActionRecord;
import dev.sluice.agent.control.Json;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The registry commands of the CLI. The arguments are checked when the commands are made, before
 * the registry is reached, so a misuse is reported (exit 2) without waiting for a registry.
 */
final class Commands {

  private final RegistryPaths paths;
  private final List<String> args;
  private final Set<String> flags;
  private final Reply reply;
  private final String registry;

  Commands(
      AgentConfig config, RegistryPaths paths, List<String> args, Set<String> flags, Reply reply)
      throws Failure {
    this.paths = paths;
    this.args = args;
    this.flags = flags;
    this.reply = reply;
    this.registry = config.registry().orElseThrow().toString();
    check();
  }

  private void check() throws Failure {
    String command = args.get(0);
    switch (command) {
      case "status":
        arguments(0, 0, "status takes no argument");
        break;
      case "disable":
      case "enable":
        arguments(1, 1, command + " takes one instance id or one schema/name");
        if (args.get(1).contains("/")) {
          schemaSlashName(args.get(1), command);
        }
        break;
      case "primary":
        arguments(1, 2, "primary takes a group and, to set it, host:port");
        if (args.size() == 3) {
          hostPort(args.get(2));
        }
        break;
      case "recovery":
        arguments(0, 2, "recovery takes status, disable, enable or ack <schema/name>");
        String what = args.size() > 1 ? args.get(1) : "status";
        if (!Set.of("status", "disable", "enable", "ack").contains(what)) {
          throw usage("recovery takes status, disable, enable or ack, not '" + what + "'");
        }
        if (what.equals("ack")) {
          if (args.size() != 3) {
            throw usage("recovery ack takes one schema/name, such as orders/db2_3306");
          }
          schemaSlashName(args.get(2), "recovery ack");
        } else if (args.size() > 2) {
          throw usage("recovery " + what + " takes no argument");
        }
        break;
      case "export":
        arguments(0, 1, "export takes at most a file to write");
        break;
      case "import":
        arguments(1, 1, "import takes the file to read");
        break;
      default:
        throw usage("unknown command '" + command + "'");
    }
  }

  private void arguments(int min, int max, String message) throws Failure {
    int n = args.size() - 1;
    if (n < min || n > max) {
      throw usage(message);
    }
  }

  private static Failure usage(String message) {
    return new Failure(2, message);
  }

  private static String[] schemaSlashName(String arg, String command) throws Failure {
    String[] sn = arg.split("/", -1);
    if (sn.length != 2 || sn[0].isBlank() || sn[1].isBlank()) {
      throw usage(command + " takes schema/name, such as orders/db2_3306, not '" + arg + "'");
    }
    return sn;
  }

  private static String hostPort(String arg) throws Failure {
    try {
      return AgentConfig.normalisedHostPort(arg.trim());
    } catch (IllegalArgumentException bad) {
      throw usage("'" + arg + "' is no primary: " + bad.getMessage());
    }
  }

  /** Runs the command against the registry. */
  int run(OperatorAccess nodes) throws Exception {
    switch (args.get(0)) {
      case "status":
        Map<String, Object> status = FleetStatus.read(nodes, paths, registry);
        return reply.done(status, FleetStatus.table(status));
      case "disable":
      case "enable":
        return toggle(nodes, args.get(0).equals("disable"));
      case "primary":
        return primary(nodes);
      case "recovery":
        return recovery(nodes);
      case "export":
        return export(nodes);
      default:
        return importFile(nodes);
    }
  }

  private int toggle(OperatorAccess nodes, boolean disable) throws Exception {
    String target = args.get(1);
    String value = disable ? NodeValue.DISABLED_TEXT : "";
    String path;
    String kind;
    if (target.contains("/")) {
      String[] sn = schemaSlashName(target, args.get(0));
      path = paths.datasourcePath(sn[0], sn[1]);
      kind = "datasource";
    } else {
      path = paths.instancesRoot() + "/" + target;
      kind = "instance";
    }
    if (!nodes.set(path, value)) {
      throw new Failure(
          1,
          "no "
              + kind
              + " node "
              + path
              + ("instance".equals(kind)
                  ? " (status lists the instances)"
                  : " (a datasource's node appears when an instance first meets it)"));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(kind, target);
    m.put("path", path);
    m.put("value", value);
    m.put("state", disable ? "DISABLED" : "ENABLED");
    return reply.done(
        m, path + " = " + NodeValue.printable(value) + ": " + kind + " " + m.get("state"));
  }

  private int primary(OperatorAccess nodes) throws Exception {
    String group = args.get(1);
    Map<String, Object> g = null;
    for (Object o : (List<?>) FleetStatus.read(nodes, paths, registry).get("groups")) {
      Map<?, ?> each = (Map<?, ?>) o;
      if (group.equals(each.get("name"))) {
        @SuppressWarnings("unchecked")
        Map<String, Object> found = (Map<String, Object>) each;
        g = found;
      }
    }
    String node = paths.groupPrimaryPath(group);
    if (args.size() == 2) {
      if (g == null) {
        throw new Failure(
            1, "no group " + group + ": no node " + node + " and no running instance reports it");
      }
      return reply.done(
          g,
          "group "
              + group
              + ": primary "
              + (g.get("primary") == null ? "unknown" : g.get("primary"))
              + " (from "
              + g.get("primarySource")
              + ", "
              + g.get("key")
              + ")");
    }
    String primary = hostPort(args.get(2));
    if (g != null && !"node".equals(g.get("primarySource"))) {
      throw new Failure(
          2,
          "group "
              + group
              + " takes its primary from "
              + g.get("key")
              + " (primary="
              + g.get("primarySource")
              + "); only primary=node groups are set here");
    }
    String was = nodes.get(node);
    nodes.put(node, primary);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("group", group);
    m.put("path", node);
    m.put("from", was);
    m.put("primary", primary);
    m.put("reportedByInstances", g != null);
    return reply.done(
        m,
        node
            + " = "
            + primary
            + " (was "
            + (was == null ? "absent" : NodeValue.printable(was))
            + ")"
            + (g == null ? "; no running instance reports group " + group + " yet" : ""));
  }

  private int recovery(OperatorAccess nodes) throws Exception {
    String what = args.size() > 1 ? args.get(1) : "status";
    String path = paths.recoverySwitchPath();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", path);
    switch (what) {
      case "status":
        String value = nodes.get(path);
        String state = NodeValue.of(value).disables() ? "DISABLED" : "ENABLED";
        m.put("value", value);
        m.put("state", state);
        String leader = nodes.leader(paths.leaderPath());
        m.put("leader", leader.isEmpty() ? null : leader);
        return reply.done(
            m,
            path
                + " = "
                + (value == null ? "(absent)" : NodeValue.printable(value))
                + ": automatic recovery "
                + state
                + "\nleader: "
                + (leader.isEmpty() ? "none" : leader));
      case "disable":
      case "enable":
        String written = what.equals("disable") ? NodeValue.DISABLED_TEXT : "";
        nodes.put(path, written);
        m.put("value", written);
        m.put("state", what.equals("disable") ? "DISABLED" : "ENABLED");
        return reply.done(
            m,
            path
                + " = "
                + NodeValue.printable(written)
                + ": automatic recovery "
                + m.get("state")
                + " fleet-wide");
      default:
        return acknowledge(nodes);
    }
  }

  /** {@code recovery ack <schema/name>}: marks the action record acknowledged. */
  private int acknowledge(OperatorAccess nodes) throws Exception {
    String[] sn = schemaSlashName(args.get(2), "recovery ack");
    String path = paths.actionPath(sn[0], sn[1]);
    String record = nodes.get(path);
    if (record == null || record.isBlank()) {
      throw new Failure(1, "no automatic action is recorded at " + path);
    }
    String acknowledged;
    try {
      acknowledged = ActionRecord.acknowledged(record, Instant.now());
    } catch (IllegalArgumentException e) {
      throw new Failure(1, path + " holds no readable action record: " + e.getMessage());
    }
    nodes.put(path, acknowledged);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("path", path);
    m.put("record", Json.object(acknowledged));
    return reply.done(m, path + " = " + acknowledged);
  }

  private int export(OperatorAccess nodes) throws Exception {
    String document = Json.pretty(GovernanceExport.export(nodes, paths, registry));
    if (args.size() == 1) {
      reply.out.println(document);
      return 0;
    }
    Path file = Path.of(args.get(1));
    try {
      Files.writeString(file, document + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Failure(1, "cannot write " + file + ": " + e);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("file", file.toString());
    m.put("bytes", Files.size(file));
    return reply.done(m, "exported " + registry + " to " + file);
  }

  private int importFile(OperatorAccess nodes) throws Exception {
    Path file = Path.of(args.get(1));
    String document;
    try {
      document = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw usage("cannot read " + file + ": " + e);
    }
    List<GovernanceExport.Change> changes;
    try {
      changes = GovernanceExport.difference(document, nodes, paths);
    } catch (IllegalArgumentException bad) {
      throw usage(file + " is no Sluice export: " + bad.getMessage() + "; nothing was written");
    }
    boolean dryRun = flags.contains("--dry-run");
    if (!dryRun) {
      GovernanceExport.apply(changes, nodes);
    }
    List<Object> json = new ArrayList<>();
    StringBuilder text = new StringBuilder();
    for (GovernanceExport.Change c : changes) {
      json.add(c.json());
      text.append("  ").append(c).append('\n');
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("file", file.toString());
    m.put("dryRun", dryRun);
    m.put("changes", json);
    text.append(changes.size())
        .append(changes.size() == 1 ? " change" : " changes")
        .append(
            changes.isEmpty()
                ? ": " + registry + " already holds " + file + "'s state"
                : dryRun ? " (dry run: nothing written)" : " written to " + registry);
    return reply.done(m, text.toString());
  }
}
