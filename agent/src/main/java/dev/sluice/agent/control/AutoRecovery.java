package dev.sluice.agent.control;

import dev.sluice.agent.recovery.FleetProbes;
import dev.sluice.agent.recovery.FleetProbes.Detection;
import dev.sluice.registry.KeyListener;
import dev.sluice.registry.Leadership;
import dev.sluice.registry.NodeValue;
import dev.sluice.registry.NotLeaderException;
import dev.sluice.registry.RegistryCenter;
import dev.sluice.registry.RegistryException;
import dev.sluice.registry.RegistryPaths;
import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet leader's automatic actions (SPEC section 8): with {@code recovery.auto-disable} {@code
 * replicas} or {@code all}, an endpoint its probes hold down gets {@code DISABLED} in its datanode,
 * with the action record {@code {action, reason, at, leader}} at {@code
 * /{namespace}/control/actions/{schema}/{name}}, both in one write the registry applies only while
 * this JVM leads; once the probes hold it up again, the leader undoes its own action, if the node
 * still holds the value that action wrote (same registry revision as the record).
 *
 * <p>Never: while the global recovery switch is off (detections go on; acted on once it is on
 * again); the primary of a group under {@code replicas}; the last enabled member of a group; an
 * endpoint an operator wrote within {@code recovery.block-ms}; a second disabling within {@code
 * recovery.block-ms} of the last automatic action on the same endpoint, unless acknowledged since
 * (the record's {@code acknowledged}). Each reason an endpoint is left alone is logged once.
 *
 * <p>Everything runs on one thread of its own ({@code sluice-recovery}); the registry is read only
 * while this JVM leads (watches of the datanodes and the action records), and written only for an
 * action: a quiet fleet costs the registry nothing.
 */
final class AutoRecovery {

  private static final Logger log = LoggerFactory.getLogger(AutoRecovery.class);

  /** What {@code recovery.auto-disable} allows. */
  enum Mode {
    OFF,
    REPLICAS,
    ALL;

    static Mode of(String configValue) {
      return valueOf(configValue.trim().toUpperCase(java.util.Locale.ROOT));
    }
  }

  /** One routing group as the leader knows it now. */
  static final class GroupView {
    final String name;
    final String primary; // host:port, or null while unknown
    final List<String> members; // host:port, the primary among them when known

    GroupView(String name, String primary, List<String> members) {
      this.name = name;
      this.primary = primary;
      this.members = members;
    }
  }

  /** The groups the leader knows; {@code groupOf} answers with the group of a member. */
  interface Groups {
    GroupView groupOf(String hostPort);
  }

  /** A datanode as the leader's watch last heard it. */
  private static final class NodeSeen {
    String value = "";
    long revision;
    long operatorAtMs; // when an operator's write was heard (or taken as heard); 0: none
  }

  /** An action record as the leader's watch last heard it. */
  private static final class RecordSeen {
    String action = "";
    long atMs;
    long acknowledgedAtMs;
    long revision;
  }

  private final RegistryPaths paths;
  private final Mode mode;
  private final long blockMs;
  private final long intervalMs;
  private final FleetProbes probes;
  private final Groups groups;
  private final Supplier<Boolean> switchEnabled;
  private final Consumer<String> actions;
  private final String participantId;
  private final LongSupplier clock;
  private final ScheduledThreadPoolExecutor thread;

  // all below on the sluice-recovery thread only
  private Supplier<Leadership> leadership;
  private boolean leading;
  private long leadingSinceMs;
  private final List<Closeable> watches = new ArrayList<>();
  private boolean nodesSynced;
  private final Map<String, NodeSeen> nodes = new HashMap<>(); // datanode path -> seen
  private final Map<String, RecordSeen> records = new HashMap<>(); // schema/name -> seen
  private final Map<String, String> ownWrites = new HashMap<>(); // datanode path -> value
  private final Map<String, String> leftAlone = new HashMap<>(); // schema/name -> reason logged
  private final Map<String, String> lastDetection = new HashMap<>(); // schema/name -> DOWN text
  private ScheduledFuture<?> reconciling;

  AutoRecovery(
      RegistryPaths paths,
      String autoDisable,
      long blockMs,
      long intervalMs,
      FleetProbes probes,
      Groups groups,
      Supplier<Boolean> switchEnabled,
      Consumer<String> actions,
      String participantId,
      LongSupplier clock) {
    this.paths = paths;
    this.mode = Mode.of(autoDisable);
    this.blockMs = blockMs;
    this.intervalMs = intervalMs;
    this.probes = probes;
    this.groups = groups;
    this.switchEnabled = switchEnabled;
    this.actions = actions;
    this.participantId = participantId;
    this.clock = clock;
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread th = new Thread(r, "sluice-recovery");
              th.setDaemon(true);
              return th;
            });
    t.setRemoveOnCancelPolicy(true);
    this.thread = t;
  }

  /** This JVM took or lost the fleet's leadership. */
  void leading(boolean leader, RegistryCenter r, Supplier<Leadership> l) {
    if (mode == Mode.OFF) {
      return;
    }
    run(
        "leadership",
        () -> {
          if (leader && !leading) {
            start(r, l);
          } else if (!leader && leading) {
            stop();
          }
        });
  }

  /** A detection of the probes: acted on at once, as far as the rules allow. */
  void detected(Detection d) {
    if (mode == Mode.OFF) {
      return;
    }
    run(
        "the detection of " + d.name,
        () -> {
          if (d.down) {
            lastDetection.put(d.name, d.text);
          } else {
            lastDetection.remove(d.name);
          }
          consider(d.name);
        });
  }

  /** The global switch changed: once on again, pending detections act. */
  void switchChanged(boolean on) {
    if (mode == Mode.OFF || !on) {
      return;
    }
    run("the recovery switch", this::reconcile);
  }

  private void run(String what, Runnable task) {
    try {
      thread.execute(guarded(what, task));
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // closed: nothing acts any more
    }
  }

  /** {@code task}, its own faults logged: the thread goes on. */
  private static Runnable guarded(String what, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        log.warn("automatic recovery: {} failed inside the agent: {}", what, e.toString());
      }
    };
  }

  // ---------------------------------------------------------------- on sluice-recovery

  private void start(RegistryCenter r, Supplier<Leadership> l) {
    leadership = l;
    leading = true;
    leadingSinceMs = clock.getAsLong();
    nodesSynced = false;
    watches.add(
        r.watch(
            paths.datasourcesRoot(),
            true,
            new KeyListener() {
              @Override
              public void changed(String key, String value, long revision) {
                run("datanode " + key, () -> nodeChanged(key, value, revision));
              }

              @Override
              public void synced() {
                run("datanodes read", () -> nodesSynced = true);
              }
            }));
    watches.add(
        r.watch(
            paths.actionsRoot(),
            true,
            new KeyListener() {
              @Override
              public void changed(String key, String value, long revision) {
                run("action record " + key, () -> recordChanged(key, value, revision));
              }
            }));
    reconciling =
        thread.scheduleWithFixedDelay(
            guarded("a periodic look", this::reconcile),
            intervalMs,
            intervalMs,
            TimeUnit.MILLISECONDS);
    log.info(
        "automatic recovery: this leader disables {} its probes hold down (recovery.auto-disable={},"
            + " block {} ms)",
        mode == Mode.ALL ? "every endpoint" : "replicas and ungrouped endpoints",
        mode.name().toLowerCase(java.util.Locale.ROOT),
        blockMs);
  }

  private void stop() {
    leading = false;
    for (Closeable w : watches) {
      try {
        w.close();
      } catch (IOException | RuntimeException e) {
        log.debug("closing a watch: {}", e.toString());
      }
    }
    watches.clear();
    if (reconciling != null) {
      reconciling.cancel(false);
      reconciling = null;
    }
    nodes.clear();
    records.clear();
    ownWrites.clear();
    leftAlone.clear();
    lastDetection.clear();
  }

  private void nodeChanged(String path, String value, long revision) {
    if (!leading) {
      return;
    }
    if (value == null) {
      nodes.remove(path);
      return;
    }
    NodeSeen n = nodes.get(path);
    // a node that appears empty is an agent's creation; any other write is someone's decision
    boolean written = n == null ? !value.isEmpty() : !value.equals(n.value);
    if (n == null) {
      n = new NodeSeen();
      nodes.put(path, n);
    }
    n.value = value;
    n.revision = revision;
    String own = ownWrites.remove(path);
    if (own != null && own.equals(value)) {
      return;
    }
    if (written) {
      // an operator's: heard now, or (read as this leadership began) taken as that recent
      n.operatorAtMs = nodesSynced ? clock.getAsLong() : leadingSinceMs;
    }
  }

  private void recordChanged(String key, String value, long revision) {
    if (!leading) {
      return;
    }
    String root = paths.actionsRoot() + "/";
    if (!key.startsWith(root) || key.indexOf('/', root.length()) < 0) {
      return; // the root or a schema's node: no record
    }
    String name = key.substring(root.length());
    if (value == null || value.isBlank()) {
      records.remove(name);
      return;
    }
    RecordSeen r = new RecordSeen();
    r.revision = revision;
    try {
      Map<String, String> fields = Json.flat(value);
      r.action = String.valueOf(fields.getOrDefault("action", ""));
      r.atMs = millis(fields.get("at"));
      r.acknowledgedAtMs = millis(fields.get("acknowledged"));
    } catch (IllegalArgumentException e) {
      log.warn("the action record {} is not readable ({}); taken as none", key, e.getMessage());
      records.remove(name);
      return;
    }
    records.put(name, r);
    if (r.acknowledgedAtMs > 0 && r.acknowledgedAtMs >= r.atMs) {
      leftAlone.remove(name);
      consider(name);
    }
  }

  private static long millis(String iso) {
    if (iso == null || iso.isEmpty() || iso.equals("null")) {
      return 0;
    }
    try {
      return Instant.parse(iso).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not an ISO-8601 instant: " + iso);
    }
  }

  /** Every endpoint the probes hold down, and every own action whose endpoint is up again. */
  private void reconcile() {
    if (!leading) {
      return;
    }
    for (String name : new ArrayList<>(probes.names())) {
      consider(name);
    }
  }

  /** Acts on {@code name} as its probes' state and the rules say. */
  private void consider(String name) {
    if (!leading || !nodesSynced) {
      return;
    }
    if (probes.down(name)) {
      disableIfAllowed(name);
    } else if (probes.healthy(name)) {
      undoIfOwn(name);
    }
  }

  private void disableIfAllowed(String name) {
    String hostPort = probes.hostPortOf(name);
    String seen = lastDetection.get(name);
    if (hostPort == null || seen == null) {
      return; // the detection's own task, queued behind this one, acts on it
    }
    String path = nodePath(name);
    NodeSeen n = nodes.get(path);
    if (n != null && NodeValue.of(n.value).disables()) {
      leftAlone.remove(name);
      return; // disabled already, by whomever
    }
    long now = clock.getAsLong();
    if (!switchEnabled.get()) {
      leave(
          name,
          "held down, but automatic recovery is DISABLED fleet-wide ("
              + paths.recoverySwitchPath()
              + "); it is disabled once the switch is on again");
      return;
    }
    if (n != null && n.operatorAtMs > 0 && now - n.operatorAtMs < blockMs) {
      leave(
          name,
          "held down, but an operator wrote "
              + path
              + " at "
              + Instant.ofEpochMilli(n.operatorAtMs)
              + "; automatic actions wait recovery.block-ms="
              + blockMs);
      return;
    }
    RecordSeen r = records.get(name);
    if (r != null && now - r.atMs < blockMs && r.acknowledgedAtMs < r.atMs) {
      leave(
          name,
          "held down, but anti-flapping: the last automatic action on it was at "
              + Instant.ofEpochMilli(r.atMs)
              + "; none again within recovery.block-ms="
              + blockMs
              + " unless acknowledged (sluice recovery ack "
              + name
              + ")");
      return;
    }
    GroupView g = groups.groupOf(hostPort);
    if (g != null) {
      if (mode == Mode.REPLICAS && hostPort.equals(g.primary)) {
        leave(
            name,
            "held down, but it is the primary of group "
                + g.name
                + "; recovery.auto-disable=replicas leaves primaries alone");
        return;
      }
      int enabledOthers = 0;
      for (String member : g.members) {
        if (!member.equals(hostPort) && !memberDisabled(schemaOf(name), member)) {
          enabledOthers++;
        }
      }
      if (enabledOthers == 0) {
        leave(
            name,
            "held down, but it is the last enabled member of group " + g.name + "; never disabled");
        return;
      }
    }
    write(name, path, NodeValue.DISABLED_TEXT, "disable", seen);
  }

  private void undoIfOwn(String name) {
    RecordSeen r = records.get(name);
    if (r == null || !r.action.equals("disable")) {
      return;
    }
    String path = nodePath(name);
    NodeSeen n = nodes.get(path);
    if (n == null || !NodeValue.of(n.value).disables()) {
      return; // enabled by someone meanwhile
    }
    if (n.revision > r.revision) {
      // written after the action (the record may be newer: an acknowledgement rewrites it)
      leave(
          name,
          path
              + " was written DISABLED again after the automatic action; it is not undone"
              + " automatically");
      return;
    }
    if (!switchEnabled.get()) {
      leave(
          name,
          "up again, but automatic recovery is DISABLED fleet-wide; re-enabled once it is on"
              + " again");
      return;
    }
    write(
        name,
        path,
        "",
        "enable",
        "up again: the leader's probes succeeded recovery.successes-to-enable times in a row");
  }

  /** Whether an endpoint of {@code member} in {@code schema} has its datanode DISABLED. */
  private boolean memberDisabled(String schema, String member) {
    for (String name : probes.names()) {
      if (schemaOf(name).equals(schema) && member.equals(probes.hostPortOf(name))) {
        NodeSeen n = nodes.get(nodePath(name));
        if (n != null && NodeValue.of(n.value).disables()) {
          return true;
        }
      }
    }
    return false;
  }

  private void write(String name, String path, String value, String action, String reason) {
    long now = clock.getAsLong();
    String record = ActionRecord.of(action, reason, Instant.ofEpochMilli(now), participantId);
    Map<String, String> writes = new LinkedHashMap<>();
    writes.put(path, value);
    writes.put(paths.actionPath(schemaOf(name), nameOf(name)), record);
    ownWrites.put(path, value);
    NodeSeen n = nodes.computeIfAbsent(path, p -> new NodeSeen());
    String before = n.value;
    n.value = value; // at once: the next look must not act again before the watch echoes it
    try {
      Leadership l = leadership.get();
      if (l == null) {
        throw new NotLeaderException("no place in the election yet");
      }
      l.writeIfLeader(writes);
    } catch (RegistryException e) {
      ownWrites.remove(path);
      n.value = before;
      if (e instanceof NotLeaderException) {
        log.warn("automatic recovery: not written, this JVM no longer leads: {}", e.getMessage());
      } else {
        log.warn("automatic recovery: writing {} failed: {}", path, e.getMessage());
      }
      return;
    }
    leftAlone.remove(name);
    String text =
        name
            + " "
            + (value.isEmpty() ? "ENABLED" : value)
            + " automatically ("
            + reason
            + ") in "
            + path;
    if (value.isEmpty()) {
      log.info("automatic recovery: {}", text);
    } else {
      log.warn("automatic recovery: {}", text);
    }
    actions.accept(text);
  }

  /** Logs why {@code name} is left alone, once per reason. */
  private void leave(String name, String reason) {
    if (!reason.equals(leftAlone.put(name, reason))) {
      log.warn("automatic recovery leaves {} alone: {}", name, reason);
    }
  }

  private static String schemaOf(String schemaSlashName) {
    return schemaSlashName.substring(0, schemaSlashName.indexOf('/'));
  }

  private static String nameOf(String schemaSlashName) {
    return schemaSlashName.substring(schemaSlashName.indexOf('/') + 1);
  }

  /** The datanode of {@code schema/name}. */
  private String nodePath(String schemaSlashName) {
    return paths.datasourcePath(schemaOf(schemaSlashName), nameOf(schemaSlashName));
  }

  void close() {
    thread.shutdownNow();
  }
}
