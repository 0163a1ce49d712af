package dev.sluice.agent.cli;

import dev.sluice.agent.control.Json;
import dev.sluice.registry.NodeReader;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryPaths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The fleet as the registry holds it (SPEC section 9, {@code status}), read in one pass: instances
 * with their metadata, datasources with their state, endpoint and the fleet leader's last action,
 * routing groups, the global recovery switch and the leader. The same model feeds the CLI's table,
 * its {@code --json} and the console's {@code GET /api/status}.
 */
final class FleetStatus {

  private FleetStatus() {}

  /** Reads the fleet; {@code registry} names the registry for the reader. */
  static Map<String, Object> read(NodeReader nodes, RegistryPaths paths, String registry)
      throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("registry", registry);
    out.put("layout", paths.layout().name().toLowerCase(java.util.Locale.ROOT));

    Map<String, String> meta = nodes.children(paths.metaInstancesRoot());
    List<Map<String, Object>> instances = new ArrayList<>();
    Map<String, Long> openByDatasource = new TreeMap<>();
    Map<String, String> endpointByDatasource = new TreeMap<>();
    Map<String, Map<String, Object>> groups = new TreeMap<>();
    for (Map.Entry<String, String> e :
        new TreeMap<>(nodes.children(paths.instancesRoot())).entrySet()) {
      Map<String, Object> instance = new LinkedHashMap<>();
      instance.put("id", e.getKey());
      instance.put("state", state(e.getValue()));
      instance.put("value", e.getValue());
      Map<String, Object> m = metadata(meta.get(e.getKey()));
      long open = 0;
      for (Map<String, Object> d : list(m.get("datasources"))) {
        String key = d.get("schema") + "/" + d.get("name");
        long n = number(d.get("open"));
        open += n;
        openByDatasource.merge(key, n, Long::sum);
        if (d.get("endpoint") != null) {
          endpointByDatasource.putIfAbsent(key, String.valueOf(d.get("endpoint")));
        }
      }
      for (Map<String, Object> g : list(m.get("groups"))) {
        reported(groups, g);
      }
      for (String field :
          new String[] {"app", "host", "ip", "pid", "startedAt", "jvm", "agentVersion"}) {
        instance.put(field, m.get(field));
      }
      instance.put("open", m.isEmpty() ? null : open);
      instance.put("datasources", m.get("datasources"));
      instance.put("groups", m.get("groups"));
      instances.add(instance);
    }
    out.put("instances", instances);
    List<Object> controllers =
        new ArrayList<>(new TreeMap<>(nodes.children(paths.controllersRoot())).keySet());
    out.put("controllers", controllers);
    out.put("datasources", datasources(nodes, paths, openByDatasource, endpointByDatasource));
    out.put("groups", groups(nodes, paths, groups));

    String recoveryPath = paths.recoverySwitchPath();
    String recovery = nodes.get(recoveryPath);
    Map<String, Object> sw = new LinkedHashMap<>();
    sw.put("path", recoveryPath);
    sw.put("value", recovery);
    sw.put("state", NodeValue.of(recovery).disables() ? "DISABLED" : "ENABLED");
    out.put("recovery", sw);
    String leader = nodes.leader(paths.leaderPath());
    out.put("leader", leader.isEmpty() ? null : leader);
    return out;
  }

  private static List<Map<String, Object>> datasources(
      NodeReader nodes, RegistryPaths paths, Map<String, Long> open, Map<String, String> endpoints)
      throws Exception {
    Map<String, String> values = datanodes(nodes, paths);
    Map<String, String> recorded =
        below(nodes.subtree(paths.endpointsRoot()), paths.endpointsRoot());
    Map<String, String> actions = below(nodes.subtree(paths.actionsRoot()), paths.actionsRoot());
    TreeMap<String, Boolean> all = new TreeMap<>();
    for (Map<String, ?> m : List.of(values, recorded, open)) {
      m.keySet().forEach(k -> all.put(k, true));
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (String key : all.keySet()) {
      int slash = key.indexOf('/');
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("schema", key.substring(0, slash));
      d.put("name", key.substring(slash + 1));
      d.put("path", paths.datasourcePath(key.substring(0, slash), key.substring(slash + 1)));
      String value = values.get(key);
      d.put("state", state(value));
      d.put("value", value);
      d.put("endpoint", recorded.getOrDefault(key, endpoints.get(key)));
      d.put("open", open.getOrDefault(key, 0L));
      d.put("lastAction", action(actions.get(key)));
      out.add(d);
    }
    return out;
  }

  /** Every datanode's value by {@code schema/name}, in either layout. */
  static Map<String, String> datanodes(NodeReader nodes, RegistryPaths paths) throws Exception {
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : nodes.subtree(paths.datasourcesRoot()).entrySet()) {
      if (paths.isDatasourcePath(e.getKey())) {
        out.put(schemaSlashName(paths, e.getKey()), e.getValue());
      }
    }
    return out;
  }

  /** The value of each group's primary node ({@code primary=node} groups) by group name. */
  static Map<String, String> primaryNodes(NodeReader nodes, RegistryPaths paths) throws Exception {
    String root = paths.groupsRoot();
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : nodes.subtree(root).entrySet()) {
      String[] parts = e.getKey().substring(root.length() + 1).split("/", -1);
      if (parts.length == 2 && parts[1].equals("primary")) {
        out.put(parts[0], e.getValue());
      }
    }
    return out;
  }

  /** {@code schema/name} of a datasource node's path, in either layout. */
  static String schemaSlashName(RegistryPaths paths, String path) {
    String rest = path.substring(paths.datasourcesRoot().length() + 1);
    if (paths.datasourceDepth() == 2) {
      return rest;
    }
    int dot = rest.indexOf('.');
    return dot < 0 ? "default/" + rest : rest.substring(0, dot) + "/" + rest.substring(dot + 1);
  }

  /** The nodes two levels below {@code root} ({@code schema/name}) with their values. */
  private static Map<String, String> below(Map<String, String> subtree, String root) {
    Map<String, String> out = new TreeMap<>();
    subtree.forEach(
        (path, value) -> {
          String rest = path.substring(root.length() + 1);
          if (rest.split("/", -1).length == 2) {
            out.put(rest, value);
          }
        });
    return out;
  }

  private static Object action(String record) {
    if (record == null || record.isBlank()) {
      return null;
    }
    try {
      return Json.object(record);
    } catch (IllegalArgumentException unreadable) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("unreadable", record);
      return m;
    }
  }

  /** A group as instances report it: the first report's fields, each reported primary counted. */
  @SuppressWarnings("unchecked")
  private static void reported(Map<String, Map<String, Object>> groups, Map<String, Object> g) {
    Map<String, Object> group =
        groups.computeIfAbsent(
            String.valueOf(g.get("name")),
            name -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("name", name);
              for (String field :
                  new String[] {"primarySource", "key", "address", "readAddress", "replicas"}) {
                m.put(field, g.get(field));
              }
              m.put("reported", new TreeMap<String, Long>());
              return m;
            });
    Object primary = g.get("primary");
    ((Map<String, Long>) group.get("reported"))
        .merge(primary == null ? "" : String.valueOf(primary), 1L, Long::sum);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> groups(
      NodeReader nodes, RegistryPaths paths, Map<String, Map<String, Object>> reported)
      throws Exception {
    Map<String, String> primaryNodes = primaryNodes(nodes, paths);
    TreeMap<String, Boolean> names = new TreeMap<>();
    primaryNodes.keySet().forEach(n -> names.put(n, true));
    reported.keySet().forEach(n -> names.put(n, true));
    List<Map<String, Object>> out = new ArrayList<>();
    for (String name : names.keySet()) {
      Map<String, Object> g = reported.get(name);
      if (g == null) {
        g = new LinkedHashMap<>();
        g.put("name", name);
        g.put("primarySource", "node");
        g.put("key", paths.groupPrimaryPath(name));
        g.put("reported", Map.of());
      }
      Map<String, Long> seen = (Map<String, Long>) g.get("reported");
      String node = primaryNodes.get(name);
      String primary;
      if ("node".equals(g.get("primarySource"))) {
        primary = node == null ? "" : node.trim();
      } else {
        primary =
            seen.entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey)
                .orElse("");
      }
      g.put("primary", primary.isEmpty() ? null : primary);
      g.put("agreed", seen.size() <= 1);
      out.add(g);
    }
    return out;
  }

  private static String state(String value) {
    return NodeValue.of(value).disables() ? "DISABLED" : "ENABLED";
  }

  private static Map<String, Object> metadata(String json) {
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      return Json.object(json);
    } catch (IllegalArgumentException unreadable) {
      return Map.of();
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> list(Object v) {
    List<Map<String, Object>> out = new ArrayList<>();
    if (v instanceof List) {
      for (Object e : (List<Object>) v) {
        if (e instanceof Map) {
          out.add((Map<String, Object>) e);
        }
      }
    }
    return out;
  }

  private static long number(Object v) {
    return v instanceof Number ? ((Number) v).longValue() : 0;
  }

  // ------------------------------------------------------------------ the table

  /** The fleet as a dashboard, for a terminal. */
  @SuppressWarnings("unchecked")
  static String table(Map<String, Object> status) {
    StringBuilder b = new StringBuilder();
    b.append("Sluice fleet in ")
        .append(status.get("registry"))
        .append(" (")
        .append(status.get("layout"))
        .append(" layout)\n\n");

    List<Map<String, Object>> instances = (List<Map<String, Object>>) status.get("instances");
    long disabled = instances.stream().filter(i -> "DISABLED".equals(i.get("state"))).count();
    b.append("INSTANCES ").append(instances.size());
    b.append(disabled > 0 ? " (" + disabled + " DISABLED)" : "").append('\n');
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"ID", "STATE", "APP", "HOST", "PID", "UP SINCE", "OPEN"});
    for (Map<String, Object> i : instances) {
      rows.add(
          new String[] {
            text(i.get("id")),
            text(i.get("state")),
            text(i.get("app")),
            text(i.get("host")),
            text(i.get("pid")),
            since(i.get("startedAt")),
            text(i.get("open"))
          });
    }
    columns(b, rows);
    List<Object> controllers = (List<Object>) status.get("controllers");
    if (!controllers.isEmpty()) {
      b.append("CONTROLLERS ").append(controllers.size()).append('\n');
      controllers.forEach(c -> b.append("  ").append(c).append('\n'));
    }

    List<Map<String, Object>> datasources = (List<Map<String, Object>>) status.get("datasources");
    b.append("\nDATASOURCES ").append(datasources.size()).append('\n');
    rows = new ArrayList<>();
    rows.add(new String[] {"DATASOURCE", "STATE", "ENDPOINT", "OPEN", "LAST AUTOMATIC ACTION"});
    for (Map<String, Object> d : datasources) {
      rows.add(
          new String[] {
            d.get("schema") + "/" + d.get("name"),
            text(d.get("state")),
            text(d.get("endpoint")),
            text(d.get("open")),
            lastAction((Map<String, Object>) d.get("lastAction"))
          });
    }
    columns(b, rows);

    List<Map<String, Object>> groups = (List<Map<String, Object>>) status.get("groups");
    b.append("\nGROUPS ").append(groups.size()).append('\n');
    rows = new ArrayList<>();
    rows.add(new String[] {"GROUP", "PRIMARY", "SOURCE", "REPLICAS"});
    for (Map<String, Object> g : groups) {
      Object replicas = g.get("replicas");
      rows.add(
          new String[] {
            text(g.get("name")),
            text(g.get("primary"))
                + (Boolean.FALSE.equals(g.get("agreed"))
                    ? " (instances disagree: " + g.get("reported") + ")"
                    : ""),
            text(g.get("primarySource")) + " " + text(g.get("key")),
            replicas instanceof List && !((List<?>) replicas).isEmpty()
                ? String.join(" ", (List<String>) replicas)
                : "-"
          });
    }
    columns(b, rows);

    Map<String, Object> recovery = (Map<String, Object>) status.get("recovery");
    b.append("\nRECOVERY  automatic recovery ")
        .append(recovery.get("state"))
        .append(" (")
        .append(recovery.get("path"))
        .append(
            recovery.get("value") == null
                ? " absent"
                : " = " + NodeValue.printable((String) recovery.get("value")))
        .append(")\n");
    b.append("LEADER    ")
        .append(status.get("leader") == null ? "none" : status.get("leader"))
        .append('\n');
    return b.toString();
  }

  private static String lastAction(Map<String, Object> a) {
    if (a == null) {
      return "-";
    }
    if (a.containsKey("unreadable")) {
      return "unreadable record";
    }
    return text(a.get("action"))
        + " at "
        + since(a.get("at"))
        + " ("
        + text(a.get("reason"))
        + ")"
        + (a.get("acknowledged") != null ? ", acknowledged" : "");
  }

  private static String since(Object instant) {
    if (instant == null) {
      return "-";
    }
    String s = instant.toString();
    int dot = s.indexOf('.');
    return (dot > 0 ? s.substring(0, dot) + "Z" : s).replace('T', ' ');
  }

  private static String text(Object v) {
    return v == null || v.toString().isEmpty() ? "-" : v.toString();
  }

  private static void columns(StringBuilder b, List<String[]> rows) {
    if (rows.size() == 1) {
      b.append("  (none)\n");
      return;
    }
    int[] width = new int[rows.get(0).length];
    for (String[] r : rows) {
      for (int c = 0; c < r.length; c++) {
        width[c] = Math.max(width[c], r[c].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder("  ");
      for (int c = 0; c < r.length; c++) {
        line.append(r[c]);
        if (c < r.length - 1) {
          line.append(" ".repeat(width[c] - r[c].length() + 2));
        }
      }
      b.append(line.toString().stripTrailing()).append('\n');
    }
  }
}
