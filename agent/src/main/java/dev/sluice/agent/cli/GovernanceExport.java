package dev.sluice.agent.cli;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.control.Json;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.OperatorAccess;
import dev.sluice.registry.RegistryPaths;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * {@code export} / {@code import} (SPEC section 9): the persistent governance state (datanode
 * values, the primary nodes of {@code primary=node} groups, the global recovery switch) as JSON,
 * and the difference between such a file and a registry. Datasources and groups are named, not
 * pathed ({@code schema/name}, group name), so a file exported from one layout, namespace or
 * backend imports into another. Nothing ephemeral (instances, metadata, the election) and no action
 * record is exported: they belong to running processes.
 */
final class GovernanceExport {

  static final String FORMAT = "sluice-governance-state";
  static final int VERSION = 1;
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");

  private GovernanceExport() {}

  /** The registry's state as an export document. */
  static Map<String, Object> export(OperatorAccess nodes, RegistryPaths paths, String registry)
      throws Exception {
    State s = State.read(nodes, paths);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("format", FORMAT);
    out.put("version", VERSION);
    out.put("exportedFrom", registry);
    out.put("layout", paths.layout().name().toLowerCase(java.util.Locale.ROOT));
    out.put("exportedAt", Instant.now().toString());
    out.put("recovery", s.recovery);
    out.put("datasources", s.datasources);
    out.put("primaries", s.primaries);
    return out;
  }

  /** One node to write: its path, its value now ({@code null}: absent) and the value to write. */
  static final class Change {
    final String path;
    final String from;
    final String to;

    Change(String path, String from, String to) {
      this.path = path;
      this.from = from;
      this.to = to;
    }

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("path", path);
      m.put("from", from);
      m.put("to", to);
      return m;
    }

    @Override
    public String toString() {
      return path
          + ": "
          + (from == null ? "(absent)" : NodeValue.printable(from))
          + " -> "
          + NodeValue.printable(to);
    }
  }

  /**
   * What importing {@code document} into the registry writes: every datanode, primary node and the
   * recovery switch whose value differs from the file's, and every datanode the file does not name
   * that holds {@code DISABLED} (written empty: enabled, as in the exported state). A primary node
   * the file does not name is left alone.
   *
   * @throws IllegalArgumentException naming what is wrong with {@code document}
   */
  static List<Change> difference(String document, OperatorAccess nodes, RegistryPaths paths)
      throws Exception {
    State want = State.parse(document);
    State have = State.read(nodes, paths);
    List<Change> out = new ArrayList<>();
    want.datasources.forEach(
        (key, value) -> {
          String now = have.datasources.get(key);
          if (!value.equals(now)) {
            out.add(new Change(datasourcePath(paths, key), now, value));
          }
        });
    have.datasources.forEach(
        (key, now) -> {
          if (!want.datasources.containsKey(key) && NodeValue.of(now).disables()) {
            out.add(new Change(datasourcePath(paths, key), now, ""));
          }
        });
    want.primaries.forEach(
        (group, value) -> {
          String now = have.primaries.get(group);
          if (!value.equals(now)) {
            out.add(new Change(paths.groupPrimaryPath(group), now, value));
          }
        });
    String recovery = want.recovery == null ? "" : want.recovery;
    boolean sameMeaning =
        want.recovery == null && !NodeValue.of(have.recovery).disables()
            || recovery.equals(have.recovery);
    if (!sameMeaning) {
      out.add(new Change(paths.recoverySwitchPath(), have.recovery, recovery));
    }
    return out;
  }

  /** Writes {@code changes}, in order. */
  static void apply(List<Change> changes, OperatorAccess nodes) throws Exception {
    for (Change c : changes) {
      nodes.put(c.path, c.to);
    }
  }

  private static String datasourcePath(RegistryPaths paths, String schemaSlashName) {
    int slash = schemaSlashName.indexOf('/');
    return paths.datasourcePath(
        schemaSlashName.substring(0, slash), schemaSlashName.substring(slash + 1));
  }

  /** The state itself, read from a registry or a file. */
  private static final class State {
    final Map<String, String> datasources = new TreeMap<>();
    final Map<String, String> primaries = new TreeMap<>();
    String recovery;

    static State read(OperatorAccess nodes, RegistryPaths paths) throws Exception {
      State s = new State();
      s.datasources.putAll(FleetStatus.datanodes(nodes, paths));
      s.primaries.putAll(FleetStatus.primaryNodes(nodes, paths));
      s.recovery = nodes.get(paths.recoverySwitchPath());
      return s;
    }

    static State parse(String document) {
      Map<String, Object> m;
      try {
        m = Json.object(document);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("not a JSON object: " + e.getMessage());
      }
      if (!FORMAT.equals(m.get("format"))) {
        throw new IllegalArgumentException(
            "\"format\" is " + Json.write(m.get("format")) + ", not \"" + FORMAT + "\"");
      }
      if (!Long.valueOf(VERSION).equals(m.get("version"))) {
        throw new IllegalArgumentException(
            "\"version\" is "
                + Json.write(m.get("version"))
                + "; this tool reads version "
                + VERSION);
      }
      State s = new State();
      Object recovery = m.get("recovery");
      if (recovery != null && !(recovery instanceof String)) {
        throw new IllegalArgumentException(
            "\"recovery\" is " + Json.kind(recovery) + ", not a string or null");
      }
      s.recovery = value("recovery", (String) recovery);
      for (Map.Entry<String, String> e : strings(m, "datasources").entrySet()) {
        String[] sn = e.getKey().split("/", -1);
        if (sn.length != 2 || !NAME.matcher(sn[0]).matches() || !NAME.matcher(sn[1]).matches()) {
          throw new IllegalArgumentException(
              "datasource \"" + e.getKey() + "\" is not schema/name (letters, digits, . _ -)");
        }
        s.datasources.put(e.getKey(), value("datasource " + e.getKey(), e.getValue()));
      }
      for (Map.Entry<String, String> e : strings(m, "primaries").entrySet()) {
        if (!NAME.matcher(e.getKey()).matches()) {
          throw new IllegalArgumentException("group \"" + e.getKey() + "\" is no group name");
        }
        String value = e.getValue().trim();
        if (!value.isEmpty()) {
          try {
            AgentConfig.normalisedHostPort(value);
          } catch (IllegalArgumentException bad) {
            throw new IllegalArgumentException(
                "primary of group " + e.getKey() + " is \"" + value + "\": " + bad.getMessage());
          }
        }
        s.primaries.put(e.getKey(), e.getValue());
      }
      return s;
    }

    private static String value(String what, String v) {
      if (v != null && v.getBytes(StandardCharsets.UTF_8).length > NodeValue.MAX_VALUE_BYTES) {
        throw new IllegalArgumentException(
            what + ": a value longer than " + NodeValue.MAX_VALUE_BYTES + " bytes");
      }
      return v;
    }

    private static Map<String, String> strings(Map<String, Object> m, String field) {
      Object v = m.get(field);
      if (v == null) {
        return Map.of();
      }
      if (!(v instanceof Map)) {
        throw new IllegalArgumentException(
            "\"" + field + "\" is " + Json.kind(v) + ", not an object");
      }
      Map<String, String> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!(e.getValue() instanceof String)) {
          throw new IllegalArgumentException(
              "\""
                  + field
                  + "\": \""
                  + e.getKey()
                  + "\" is "
                  + Json.kind(e.getValue())
                  + ", not a string");
        }
        out.put(String.valueOf(e.getKey()), (String) e.getValue());
      }
      return out;
    }
  }
}
