package dev.sluice.agent.control;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.GroupConfig;
import dev.sluice.agent.governance.Datasource;
import dev.sluice.agent.governance.DatasourceCatalog;
import dev.sluice.agent.governance.GroupRouting;
import dev.sluice.agent.governance.RoutingGroup;
import dev.sluice.registry.EphemeralNode;
import dev.sluice.registry.Faults;
import dev.sluice.registry.RegistryCenter;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * An instance's metadata (SPEC section 9) at {@code /{namespace}/meta/instances/{id}}: who runs
 * where, for the operator tools. JSON {@code {host, ip, pid, app, startedAt, jvm, agentVersion,
 * datasources:[{schema, name, endpoint, open}], groups:[{name, address, readAddress, primarySource,
 * key, primary, replicas}]}}, ephemeral (gone with the JVM, re-created after a lost session),
 * looked at every {@link #REFRESH_MS} and written only when it changed, so a quiet fleet writes
 * nothing. Endpoints are {@code host:port[/database]}: no user, password or URL parameter is ever
 * in it.
 */
final class InstanceMetadata {

  /** How often the metadata is looked at (and written, if it changed). */
  static final long REFRESH_MS = 5000;

  private final Map<String, Object> fixed = new LinkedHashMap<>();
  private final DatasourceCatalog catalog;
  private final Supplier<GroupRouting> routing;
  private final Map<String, GroupConfig> groups;
  private EphemeralNode node; // on the control thread only
  private String written;

  InstanceMetadata(AgentConfig config, DatasourceCatalog catalog, Supplier<GroupRouting> routing) {
    this.catalog = catalog;
    this.routing = routing;
    this.groups = config.groups();
    fixed.put("host", hostName(config.instanceIp()));
    fixed.put("ip", config.instanceIp());
    fixed.put("pid", ProcessHandle.current().pid());
    fixed.put("app", config.app());
    fixed.put(
        "startedAt",
        Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime()).toString());
    fixed.put(
        "jvm",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    fixed.put("agentVersion", version());
  }

  /** The agent's version, as built into its jar. */
  static String version() {
    try (InputStream in =
        InstanceMetadata.class.getResourceAsStream("/dev/sluice/agent/version.txt")) {
      return in == null ? "unknown" : new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String hostName(String ip) {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException | RuntimeException e) {
      return ip;
    }
  }

  /** The metadata as it is now. */
  String json() {
    Map<String, Object> m = new LinkedHashMap<>(fixed);
    List<Map<String, Object>> ds = new ArrayList<>();
    List<Datasource> all = new ArrayList<>(catalog.all());
    all.sort(Comparator.comparing(Datasource::path));
    for (Datasource d : all) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("schema", d.name().schema());
      e.put("name", d.name().name());
      e.put("endpoint", d.endpoint().toString());
      e.put("open", d.openConnections());
      ds.add(e);
    }
    m.put("datasources", ds);
    List<Map<String, Object>> gs = new ArrayList<>();
    GroupRouting r = routing.get();
    for (GroupConfig gc : groups.values()) {
      RoutingGroup g = r == null ? null : r.group(gc.name());
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("name", gc.name());
      e.put("address", g == null ? null : g.address());
      e.put("readAddress", g == null ? null : g.readAddress());
      e.put("primarySource", gc.primarySetting());
      e.put("key", g == null ? null : g.key());
      e.put("primary", g == null ? null : g.primary());
      e.put("replicas", g == null ? List.of() : g.replicas());
      gs.add(e);
    }
    m.put("groups", gs);
    return Json.write(m);
  }

  /**
   * Creates the node and looks again every {@link #REFRESH_MS} on {@code executor} (the control
   * thread), each look under {@code faults}.
   */
  void start(
      RegistryCenter registry, String path, ScheduledExecutorService executor, Faults faults) {
    executor.scheduleWithFixedDelay(
        () -> faults.guard("the instance metadata", () -> refresh(registry, path)),
        0,
        REFRESH_MS,
        TimeUnit.MILLISECONDS);
  }

  private void refresh(RegistryCenter registry, String path) {
    String now = json();
    if (node == null) {
      node = registry.ephemeralNode(path, now);
    } else if (!now.equals(written)) {
      node.set(now);
    }
    written = now;
  }
}
