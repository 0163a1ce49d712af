package dev.sluice.agent.control;

import dev.sluice.agent.config.AgentConfig;
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
import javax.management.MBeanServer;
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
  public FleetRecovery(AgentConfig config, RegistryPaths paths, String participantId) {
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
                this::detected);
  }

  /**
   * Registers the MXBean as {@code <domain>:type=Recovery}, follows the global switch and, for a
   * candidate, stands in the election. Call after the registry has started.
   */
  public void start(RegistryCenter registry, MBeanServer server, String domain) {
    this.registry = registry;
    Recovery b = new Recovery(this);
    bean = b;
    ControlPlane.register(server, b, domain + ":type=Recovery");
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
    Recovery b = bean;
    if (b != null) {
      b.leaderChanged(leader);
    }
  }

  /** A detection of this leader's probes: logged by them, kept, and announced. */
  private void detected(String text) {
    String entry = java.time.Instant.now() + " " + text;
    synchronized (detections) {
      detections.addFirst(entry);
      while (detections.size() > RECENT) {
        detections.removeLast();
      }
    }
    Recovery b = bean;
    if (b != null) {
      b.detected(text);
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
  public void setEnabled(boolean on) {
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
  }

  @Override
  public void acknowledge(String schemaSlashName) {
    String[] parts = schemaSlashName == null ? new String[0] : schemaSlashName.split("/", -1);
    if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
      throw new IllegalArgumentException(
          "expected schema/name, such as orders/db2_3306, not '" + schemaSlashName + "'");
    }
    // automatic actions, and with them their anti-flapping block, are not built yet
    log.info(
        "{} acknowledged by JMX; no automatic action is blocked (automatic disabling is not built"
            + " yet)",
        schemaSlashName);
  }

  /** Leaves the election. */
  public void close() {
    Leadership l = leadership;
    if (l != null) {
      l.close();
    }
    if (probes != null) {
      probes.close();
    }
  }
}
