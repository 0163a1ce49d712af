package dev.sluice.agent.control;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.GroupConfig;
import dev.sluice.agent.config.RegistryUri;
import dev.sluice.agent.governance.Governor;
import dev.sluice.agent.governance.GroupRouting;
import dev.sluice.agent.governance.RoutingGroup;
import dev.sluice.jmx.Group;
import dev.sluice.jmx.GroupControl;
import dev.sluice.registry.Faults;
import dev.sluice.registry.KeyListener;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryPaths;
import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.MBeanServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the registry keys that name routing groups' primaries into the governor's routing (SPEC
 * section 7): one single-key watch per group, on Sluice's own node ({@code primary=node}) or on the
 * key orchestrator writes on every failover ({@code primary=orchestrator:<alias>}; its breakdown
 * keys {@code …/hostname}, {@code …/port} and so on are not watched: orchestrator writes them one
 * by one, so they can be seen half-updated). A value is {@code host:port}; a missing or empty key
 * means no primary is known; an unparseable value is logged once per key and value and leaves the
 * route as it was.
 */
final class GroupSwitch implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(GroupSwitch.class);

  private final Governor governor;
  private final Faults faults;
  private final Set<String> unparseable = ConcurrentHashMap.newKeySet();
  private final List<Closeable> watches = new ArrayList<>();

  GroupSwitch(Governor governor, Faults faults) {
    this.governor = governor;
    this.faults = faults;
  }

  /**
   * The routing of {@code config}'s groups whose primary this version can read, or {@code null}
   * when there is none (no group, or no registry to read primaries from): then connects are never
   * routed.
   */
  static GroupRouting routing(AgentConfig config, RegistryPaths paths) {
    if (config.groups().isEmpty()) {
      return null;
    }
    if (config.registry().isEmpty()) {
      log.warn(
          "groups {} are configured but no registry: primaries are read from the registry, so"
              + " connects are not routed",
          config.groups().keySet());
      return null;
    }
    List<RoutingGroup> groups = new ArrayList<>();
    for (GroupConfig g : config.groups().values()) {
      String key = primaryKey(config, paths, g);
      if (key == null) {
        log.warn(
            "group {}: primary={}:{} is not supported by this version; connects to {} are not"
                + " routed",
            g.name(),
            "patroni",
            g.sourceName(),
            g.address());
        continue;
      }
      groups.add(
          new RoutingGroup(
              g.name(),
              g.address(),
              key,
              g.failoverWaitMs(),
              g.readAddress(),
              g.replicas(),
              g.readFallback() == GroupConfig.ReadFallback.REFUSE));
    }
    return groups.isEmpty() ? null : new GroupRouting(groups);
  }

  /** The registry key naming the primary of {@code g}, or {@code null} for a source not read. */
  static String primaryKey(AgentConfig config, RegistryPaths paths, GroupConfig g) {
    switch (g.source()) {
      case NODE:
        return paths.groupPrimaryPath(g.name());
      case ORCHESTRATOR:
        String key = config.orchestratorKvPrefix() + "/" + g.sourceName();
        boolean etcd =
            config.registry().map(r -> r.backend() == RegistryUri.Backend.ETCD).orElse(false);
        return etcd ? key : "/" + key;
      default:
        return null;
    }
  }

  /** Watches the primary key of every group of {@code routing} in {@code registry}. */
  void start(RegistryCenter registry, GroupRouting routing) {
    for (RoutingGroup g : routing.groups()) {
      String group = g.name();
      String key = g.key();
      watches.add(
          registry.watch(
              key,
              false,
              new KeyListener() {
                @Override
                public void changed(String changedKey, String value, long revision) {
                  if (key.equals(changedKey)) {
                    faults.guard(
                        "the value of " + key, () -> primaryValue(group, key, value, revision));
                  }
                }
              }));
      log.info(
          "group {}: routing {} to the primary named by {}{}",
          group,
          g.address(),
          key,
          g.readAddress() == null
              ? ""
              : " and " + g.readAddress() + " to the replicas " + g.replicas());
    }
  }

  /**
   * The primary key of {@code group} holds {@code value} ({@code null}: gone) at {@code revision}.
   */
  void primaryValue(String group, String key, String value, long revision) {
    String v = value == null ? "" : value.trim();
    if (v.isEmpty()) {
      governor.primary(group, null, revision);
      return;
    }
    String primary;
    try {
      primary = AgentConfig.normalisedHostPort(v);
    } catch (IllegalArgumentException bad) {
      if (unparseable.add(key + "\u0000" + v)) {
        log.warn(
            "group {}: {} holds '{}', which is not host:port; the route stays as it was",
            group,
            key,
            v);
      }
      return;
    }
    governor.primary(group, primary, revision);
  }

  /** Registers the {@code <domain>:type=Group,name=<group>} MXBean of every routed group. */
  void registerBeans(MBeanServer server, String domain, GroupRouting routing) {
    for (RoutingGroup g : routing.groups()) {
      ControlPlane.register(
          server, new Group(new Control(routing, g.name())), Group.objectName(domain, g.name()));
    }
  }

  /** What the MXBean of one group reads. */
  private final class Control implements GroupControl {
    private final GroupRouting routing;
    private final String name;

    Control(GroupRouting routing, String name) {
      this.routing = routing;
      this.name = name;
    }

    @Override
    public String address() {
      return routing.group(name).address();
    }

    @Override
    public String readAddress() {
      return routing.group(name).readAddress();
    }

    @Override
    public String primary() {
      return routing.group(name).primary();
    }

    @Override
    public String primarySource() {
      return routing.group(name).key();
    }

    @Override
    public long primaryRevision() {
      return routing.group(name).revision();
    }

    @Override
    public String[] replicas() {
      List<String> out = new ArrayList<>();
      for (String replica : routing.group(name).replicas()) {
        out.add(replica + (governor.endpointDisabled(replica) ? " DISABLED" : " ENABLED"));
      }
      return out.toArray(new String[0]);
    }

    @Override
    public long failovers() {
      return routing.failovers(name);
    }

    @Override
    public String lastFailover() {
      Instant last = routing.lastFailover(name);
      return last == null ? null : last.toString();
    }

    @Override
    public int openConnections() {
      return governor.openRouted(name);
    }
  }

  @Override
  public void close() {
    for (Closeable w : watches) {
      try {
        w.close();
      } catch (IOException | RuntimeException e) {
        log.debug("closing a group watch: {}", e.toString());
      }
    }
  }
}
