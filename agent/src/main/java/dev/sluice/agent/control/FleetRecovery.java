package dev.sluice.agent.control;

import dev.sluice.agent.config.AgentConfig;
import dev.sluice.agent.governance.GroupRouting;
import dev.sluice.agent.governance.RoutingGroup;
import dev.sluice.agent.recovery.FleetProbes;
import dev.sluice.jmx.Recovery;
import dev.sluice.jmx.RecoveryControl;
import dev.sluice.registry.KeyListener;
import dev.sluice.registry.Leadership;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryException;
import dev.sluice.registry.RegistryPaths;
import dev.sluice.registry.SeenWrites;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This JVM's part in the fleet's recovery (SPEC section 8): its place in the fleet leader's
 * election under {@code /{namespace}/control/leader} (agents with {@code recovery.candidate=true},
 * and every {@code controller} process), the global recovery switch {@code
 * /{namespace}/control/recovery} it follows, and the {@code sluice:type=Recovery} MXBean that shows
 * both and writes the switch through.
 */
public final class FleetRecovery implements RecoveryControl {

  private static final Logger log = LoggerFactory.getLogger(FleetRecovery.class);

  /** How many detections and actions the MXBean keeps. */
  static final int RECENT = 50;

  private final RegistryPaths paths;
  private final String participantId;
  private final String autoDisable;
  private final FleetProbes probes;
  private final AutoRecovery auto;
  private final Deque<String> detections = new ArrayDeque<>();
  private final Deque<String> actions = new ArrayDeque<>();
  private final Object switchRead = new Object();
  private final SeenWrites switchSeen = new SeenWrites();

  private volatile RegistryCenter registry;
  private volatile Leadership leadership;
  private volatile Recovery bean;
  private volatile boolean enabled = true;
  private String unrecognised; // the last unrecognised value logged; under switchRead

  /**
   * @param participantId this JVM's id in the election, or {@code null}: it does not stand
   */
  public FleetRecovery(
      AgentConfig config,
      RegistryPaths paths,
      String participantId,
      GroupRouting routing,
      ScheduledExecutorService timer) {
    this.paths = paths;
    this.participantId = participantId;
    this.autoDisable = config.recoveryAutoDisable();
    this.probes =
        participantId == null
            ? null
            : new FleetProbes(
                paths.endpointsRoot(),
                listener ->
                    registry.watch(
                        paths.endpointsRoot(),
                        true,
                        new KeyListener() {
                          @Override
                          public void changed(String key, String value, long revision) {
                            listener.accept(key, value);
                          }
                        }),
                config.recoveryProbeIntervalMs(),
                config.recoveryProbeTimeoutMs(),
                config.recoveryFailuresToDisable(),
                config.recoverySuccessesToEnable(),
                this::detected,
                timer);
    this.auto =
        participantId == null
            ? null
            : new AutoRecovery(
                paths,
                config.recoveryAutoDisable(),
                config.recoveryBlockMs(),
                config.recoveryProbeIntervalMs(),
                probes,
                hostPort -> groupOf(routing, hostPort),
                () -> enabled,
                this::acted,
                participantId,
                System::currentTimeMillis);
  }

  /** The group of {@code routing} that has {@code hostPort} as primary or replica, or null. */
  private static AutoRecovery.GroupView groupOf(GroupRouting routing, String hostPort) {
    if (routing == null) {
      return null;
    }
    for (RoutingGroup g : routing.groups()) {
      String primary = g.primary();
      List<String> members = new java.util.ArrayList<>(g.replicas());
      if (primary != null && !members.contains(primary)) {
        members.add(0, primary);
      }
      if (members.contains(hostPort)) {
        return new AutoRecovery.GroupView(g.name(), primary, members);
      }
    }
    return null;
  }

  /**
   * Registers the MXBean as {@code <domain>:type=Recovery}, follows the global switch and, for a
   * candidate, stands in the election. Call after the registry has started.
   */
  public void start(RegistryCenter registry, Beans jmx, String domain) {
    this.registry = registry;
    jmx.register(
        () -> {
          Recovery b = new Recovery(this);
          bean = b;
          return b;
        },
        domain + ":type=Recovery");
    String path = paths.recoverySwitchPath();
    registry.watch(
        path,
        false,
        new KeyListener() {
          @Override
          public void changed(String key, String value, long revision) {
            switchValue(path, value, revision);
          }
        });
    if (participantId != null) {
      leadership = registry.leadership(paths.leaderPath(), participantId, this::leadershipChanged);
      log.info("standing for fleet leader as {} under {}", participantId, paths.leaderPath());
    }
  }

  private void switchValue(String path, String value, long revision) {
    NodeValue v = NodeValue.of(value);
    boolean now = !v.disables();
    boolean was;
    synchronized (switchRead) {
      if (v == NodeValue.UNRECOGNISED && !value.equals(unrecognised)) {
        unrecognised = value;
        log.warn(
            "the recovery switch {} holds unrecognised {}; taken as enabled",
            path,
            NodeValue.printable(value));
      }
      was = enabled;
      enabled = now;
    }
    if (auto != null && was != now) {
      auto.switchChanged(now);
    }
    switchSeen.seen(path, revision); // after the state: a write-through returns with it applied
    if (was != now) {
      log.info(
          "the recovery switch {} holds {}: automatic recovery is {} fleet-wide",
          path,
          NodeValue.printable(value),
          now ? "ENABLED" : "DISABLED; detections go on, no automatic action is taken");
      Recovery b = bean;
      if (b != null) {
        b.enabledChanged(now);
      }
    }
  }

  private void leadershipChanged(boolean leader) {
    log.info(
        leader
            ? "this JVM ({}) leads the fleet now ({})"
            : "this JVM ({}) no longer leads the fleet ({})",
        participantId,
        paths.leaderPath());
    probes.leading(leader);
    auto.leading(leader, registry, () -> leadership);
    Recovery b = bean;
    if (b != null) {
      b.leaderChanged(leader);
    }
  }

  /** A detection of this leader's probes: logged by them, kept, announced, and acted on. */
  private void detected(FleetProbes.Detection d) {
    keep(detections, d.text);
    Recovery b = bean;
    if (b != null) {
      b.detected(d.text);
    }
    auto.detected(d);
  }

  /** An automatic action this leader took (logged by it): kept for {@code RecentActions}. */
  private void acted(String text) {
    keep(actions, text);
  }

  private static void keep(Deque<String> recent, String text) {
    String entry = java.time.Instant.now() + " " + text;
    synchronized (recent) {
      recent.addFirst(entry);
      while (recent.size() > RECENT) {
        recent.removeLast();
      }
    }
  }

  @Override
  public boolean leader() {
    Leadership l = leadership;
    return l != null && l.isLeader();
  }

  @Override
  public String leaderId() {
    Leadership l = leadership;
    if (l == null) {
      return "";
    }
    try {
      return l.leaderId();
    } catch (RegistryException e) {
      return "";
    }
  }

  @Override
  public String participantId() {
    return participantId == null ? "" : participantId;
  }

  @Override
  public boolean enabled() {
    return enabled;
  }

  @Override
  public String autoDisable() {
    return autoDisable;
  }

  @Override
  public List<String> recentDetections() {
    synchronized (detections) {
      return List.copyOf(detections);
    }
  }

  @Override
  public List<String> recentActions() {
    synchronized (actions) {
      return List.copyOf(actions);
    }
  }

  @Override
  public String setEnabled(boolean on) {
    RegistryCenter r = registry;
    String path = paths.recoverySwitchPath();
    String what = on ? "enable()" : "disable()";
    if (r == null) {
      throw new IllegalStateException("no registry: the recovery switch lives in the registry");
    }
    long written;
    try {
      written =
          r.put(path, on ? "" : NodeValue.DISABLED_TEXT, InstanceSwitch.WRITE_THROUGH_TIMEOUT_MS);
    } catch (RegistryException e) {
      log.warn("JMX {} of the recovery switch failed: {}", what, e.getMessage());
      throw new IllegalStateException(e.getMessage());
    }
    try {
      switchSeen.await(
          path,
          written,
          InstanceSwitch.WRITE_THROUGH_TIMEOUT_MS,
          r.backend() + " " + r.endpoints());
    } catch (RegistryException e) {
      log.warn("JMX {} of the recovery switch: {}", what, e.getMessage());
      throw new IllegalStateException(e.getMessage());
    }
    log.info(
        "automatic recovery {} fleet-wide by JMX through {}", on ? "ENABLED" : "DISABLED", path);
    return "automatic recovery "
        + (on ? "ENABLED" : "DISABLED")
        + " fleet-wide: "
        + path
        + " = '"
        + (on ? "" : NodeValue.DISABLED_TEXT)
        + "', read back at revision "
        + written;
  }

  @Override
  public String acknowledge(String schemaSlashName) {
    String[] parts = schemaSlashName == null ? new String[0] : schemaSlashName.split("/", -1);
    if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
      throw new IllegalArgumentException(
          "expected schema/name, such as orders/db2_3306, not '" + schemaSlashName + "'");
    }
    RegistryCenter r = registry;
    if (r == null) {
      throw new IllegalStateException("no registry: the action records live in the registry");
    }
    String path = paths.actionPath(parts[0], parts[1]);
    String acknowledged;
    try {
      String record = readOnce(r, path, InstanceSwitch.WRITE_THROUGH_TIMEOUT_MS);
      if (record == null || record.isBlank()) {
        throw new IllegalArgumentException("no automatic action is recorded at " + path);
      }
      acknowledged = ActionRecord.acknowledged(record, java.time.Instant.now());
      r.put(path, acknowledged, InstanceSwitch.WRITE_THROUGH_TIMEOUT_MS);
    } catch (RegistryException e) {
      log.warn("JMX acknowledge({}) failed: {}", schemaSlashName, e.getMessage());
      throw new IllegalStateException(e.getMessage());
    }
    log.info(
        "{} acknowledged by JMX ({}): its anti-flapping block is lifted", schemaSlashName, path);
    return path + " = " + acknowledged;
  }

  /** The value of {@code key} as the registry holds it now ({@code null}: absent). */
  static String readOnce(RegistryCenter r, String key, long timeoutMs) throws RegistryException {
    java.util.concurrent.atomic.AtomicReference<String> value =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.CountDownLatch read = new java.util.concurrent.CountDownLatch(1);
    java.io.Closeable watch =
        r.watch(
            key,
            false,
            new KeyListener() {
              @Override
              public void changed(String k, String v, long revision) {
                value.set(v);
              }

              @Override
              public void synced() {
                read.countDown();
              }
            });
    try {
      if (!read.await(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)) {
        throw new RegistryException(
            key + " was not read from " + r.backend() + " " + r.endpoints() + " in time");
      }
      return value.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException("interrupted reading " + key, e);
    } finally {
      try {
        watch.close();
      } catch (java.io.IOException | RuntimeException e) {
        log.debug("closing the read of {}: {}", key, e.toString());
      }
    }
  }

  /** Leaves the election. */
  public void close() {
    Leadership l = leadership;
    if (l != null) {
      l.close();
    }
    if (probes != null) {
      probes.close();
      auto.close();
    }
  }
}
