package dev.sluice.agent.control;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.config.GroupConfig;
import dev.sluice.agent.config.RegistryUri;
import dev.sluice.agent.governance.Governor;
import dev.sluice.agent.governance.GroupRouting;
import dev.sluice.agent.governance.PrimaryReading;
import dev.sluice.agent.governance.RoutingGroup;
import dev.sluice.jmx.Group;
import dev.sluice.jmx.GroupControl;
import dev.sluice.registry.Faults;
import dev.sluice.registry.KeyListener;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryException;
import dev.sluice.registry.RegistryPaths;
import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the registry keys that name routing groups' primaries into the governor's routing (SPEC
 * section 7): one watch per group, on Sluice's own node ({@code primary=node}), on the key
 * orchestrator writes on every failover ({@code primary=orchestrator:<alias>}; its breakdown keys
 * {@code …/hostname}, {@code …/port} and so on are not watched: orchestrator writes them one by
 * one, so they can be seen half-updated), or on a Patroni cluster's keys ({@code
 * primary=patroni:<scope>}, {@link PatroniKeys}). A value is {@code host:port}; a missing or empty
 * key, or an unparseable value, means no primary is known; an unparseable value is logged once per
 * key and value. Each group's MXBean announces its primary's changes, and sets a {@code
 * primary=node} group's primary through the registry.
 */
final class GroupSwitch implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(GroupSwitch.class);

  private final Governor governor;
  private final Faults faults;
  private final Map<String, GroupConfig> configs;
  private final Set<String> unparseable = ConcurrentHashMap.newKeySet();
  private final List<Closeable> watches = new ArrayList<>();
  private final Map<String, Group> beans = new ConcurrentHashMap<>();
  private volatile RegistryCenter registry;
  private volatile GroupRouting routing;

  GroupSwitch(Governor governor, Faults faults, AgentConfig config) {
    this.governor = governor;
    this.faults = faults;
    this.configs = config.groups();
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
      if (g.source() == GroupConfig.PrimarySource.PATRONI && !g.replicas().isEmpty()) {
        log.warn(
            "group {}: groups.{}.replicas={} is ignored: Patroni's member records name the"
                + " replicas",
            g.name(),
            g.name(),
            String.join(",", g.replicas()));
      }
      groups.add(
          new RoutingGroup(
              g.name(),
              g.address(),
              primaryKey(config, paths, g),
              g.failoverWaitMs(),
              g.readAddress(),
              g.source() == GroupConfig.PrimarySource.PATRONI ? List.of() : g.replicas(),
              g.readFallback() == GroupConfig.ReadFallback.REFUSE));
    }
    return new GroupRouting(groups);
  }

  /**
   * The registry key naming the primary of {@code g}: Sluice's node, orchestrator's key, or
   * Patroni's leader key ({@code /<namespace>/<scope>/leader}, with a leading {@code /} on both
   * backends, as Patroni writes it).
   */
  static String primaryKey(AgentConfig config, RegistryPaths paths, GroupConfig g) {
    switch (g.source()) {
      case ORCHESTRATOR:
        String key = config.orchestratorKvPrefix() + "/" + g.sourceName();
        boolean etcd =
            config.registry().map(r -> r.backend() == RegistryUri.Backend.ETCD).orElse(false);
        return etcd ? key : "/" + key;
      case PATRONI:
        return patroniPrefix(config, g) + "/leader";
      default:
        return paths.groupPrimaryPath(g.name());
    }
  }

  /** {@code /<patroni.namespace>/<scope>}: where Patroni keeps a cluster's keys. */
  static String patroniPrefix(AgentConfig config, GroupConfig g) {
    String ns = config.patroniNamespace();
    return (ns.isEmpty() ? "" : "/" + ns) + "/" + g.sourceName();
  }

  /** Watches the primary key of every group of {@code routing} in {@code registry}. */
  void start(RegistryCenter registry, GroupRouting routing, AgentConfig config) {
    this.registry = registry;
    this.routing = routing;
    for (RoutingGroup g : routing.groups()) {
      String group = g.name();
      GroupConfig gc = configs.get(group);
      if (gc != null && gc.source() == GroupConfig.PrimarySource.PATRONI) {
        watchPatroni(registry, group, patroniPrefix(config, gc));
      } else {
        watchKey(registry, group, g.key());
      }
      log.info(
          "group {}: routing {} to the primary named by {}{}",
          group,
          g.address(),
          g.key(),
          g.readAddress() == null
              ? ""
              : " and "
                  + g.readAddress()
                  + " to the replicas "
                  + (gc != null && gc.source() == GroupConfig.PrimarySource.PATRONI
                      ? "Patroni's member records name"
                      : g.replicas()));
    }
  }

  private void watchKey(RegistryCenter registry, String group, String key) {
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

              @Override
              public void synced() {
                faults.guard("the first read of " + key, () -> readOnce(group, null));
              }
            }));
  }

  private void watchPatroni(RegistryCenter registry, String group, String prefix) {
    PatroniKeys keys = new PatroniKeys(group, prefix);
    watches.add(
        registry.watch(
            prefix,
            true,
            new KeyListener() {
              @Override
              public void changed(String key, String value, long revision) {
                faults.guard(
                    "Patroni's key " + key,
                    () -> {
                      PrimaryReading reading = keys.changed(key, value, revision);
                      if (reading != null) {
                        apply(group, reading);
                      }
                    });
              }

              @Override
              public void synced() {
                faults.guard(
                    "the first read of " + prefix,
                    () ->
                        readOnce(
                            group,
                            "Patroni's leader key " + keys.leaderKey() + " is missing or empty"));
              }
            }));
  }

  /**
   * After a full read: a group whose key was never reported (absent from the start) has no primary
   * known, for the reason {@code absence} ({@code null}: its key is missing or empty).
   */
  private void readOnce(String group, String absence) {
    RoutingGroup g = routing.group(group);
    if (g != null && g.revision() == RoutingGroup.UNREAD) {
      apply(group, PrimaryReading.none(absence, 0));
    }
  }

  /**
   * Applies {@code reading} and announces a change of the group's primary once the connections to
   * the old one are aborted.
   */
  private void apply(String group, PrimaryReading reading) {
    governor.primary(
        group,
        reading,
        (before, after) -> {
          Group bean = beans.get(group);
          if (bean != null) {
            bean.primaryChanged(before, after);
          }
        });
  }

  /**
   * The primary key of {@code group} holds {@code value} ({@code null}: gone) at {@code revision}.
   */
  void primaryValue(String group, String key, String value, long revision) {
    String v = value == null ? "" : value.trim();
    if (v.isEmpty()) {
      apply(group, PrimaryReading.none(null, revision));
      return;
    }
    String primary;
    try {
      primary = AgentConfig.normalisedHostPort(v);
    } catch (IllegalArgumentException bad) {
      if (unparseable.add(key + "\u0000" + v)) {
        log.warn(
            "group {}: {} holds '{}', which is not host:port; no primary is known until it"
                + " does",
            group,
            key,
            v);
      }
      apply(group, PrimaryReading.none(key + " holds '" + v + "', not host:port", revision));
      return;
    }
    apply(group, PrimaryReading.primary(primary, revision));
  }

  /** Registers the {@code <domain>:type=Group,name=<group>} MXBean of every routed group. */
  void registerBeans(Beans jmx, String domain, GroupRouting routing) {
    this.routing = routing;
    for (RoutingGroup g : routing.groups()) {
      String name = g.name();
      jmx.register(
          () -> {
            Group bean = new Group(new Control(name));
            beans.put(name, bean);
            return bean;
          },
          Group.objectName(domain, name));
    }
  }

  /** What the MXBean of one group reads. */
  private final class Control implements GroupControl {
    private final String name;

    Control(String name) {
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

    @Override
    public String setPrimary(String hostPort) {
      return setPrimaryOf(name, hostPort);
    }
  }

  /**
   * Writes {@code hostPort} into the node of {@code group} ({@code primary=node} only) and returns
   * once the agent applied it.
   */
  String setPrimaryOf(String group, String hostPort) {
    GroupConfig gc = configs.get(group);
    RoutingGroup g = routing.group(group);
    if (gc == null || g == null) {
      throw new IllegalArgumentException("no group " + group);
    }
    if (gc.source() != GroupConfig.PrimarySource.NODE) {
      throw new IllegalStateException(
          "group "
              + group
              + " takes its primary from "
              + g.key()
              + " (groups."
              + group
              + ".primary="
              + gc.primarySetting()
              + "); setPrimary writes only groups with primary=node");
    }
    String primary;
    try {
      primary = AgentConfig.normalisedHostPort(hostPort == null ? "" : hostPort.trim());
    } catch (IllegalArgumentException bad) {
      throw new IllegalArgumentException(
          "setPrimary(" + hostPort + ") of group " + group + ": " + bad.getMessage());
    }
    RegistryCenter r = registry;
    if (r == null) {
      throw new IllegalStateException("no registry: group " + group + " is not routed");
    }
    long revision;
    try {
      revision = r.put(g.key(), primary, InstanceSwitch.WRITE_THROUGH_TIMEOUT_MS);
    } catch (RegistryException e) {
      log.warn("JMX setPrimary({}) of group {} failed: {}", primary, group, e.getMessage());
      throw new IllegalStateException(e.getMessage());
    }
    if (!routing.awaitRevision(group, revision, InstanceSwitch.WRITE_THROUGH_TIMEOUT_MS)) {
      throw new IllegalStateException(
          g.key()
              + " was written at revision "
              + revision
              + " but this agent did not apply it within "
              + InstanceSwitch.WRITE_THROUGH_TIMEOUT_MS
              + " ms");
    }
    log.info("group {}: primary set to {} by JMX through {}", group, primary, g.key());
    return "primary of group "
        + group
        + " is "
        + primary
        + " (was "
        + (g.primary() == null ? "unknown" : g.primary())
        + "): written to "
        + g.key()
        + " at revision "
        + revision
        + " and applied";
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
