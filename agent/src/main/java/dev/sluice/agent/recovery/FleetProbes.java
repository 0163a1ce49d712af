package dev.sluice.agent.recovery;

import dev.sluice.agent.recovery.EndpointProbe.Protocol;
import dev.sluice.agent.recovery.EndpointProbe.Result;
import java.io.Closeable;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet leader's probes (SPEC section 8): while this JVM leads, every endpoint recorded under
 * {@code /{namespace}/meta/endpoints} is probed every {@code recovery.probe-interval-ms} ({@link
 * EndpointProbe}), on the agent's own {@code sluice-probe} threads, never on the application's.
 * {@code recovery.failures-to-disable} failures in a row make a detection (the endpoint is down),
 * and {@code recovery.successes-to-enable} good probes in a row after it another (it is up again).
 * A probe still running when its next round comes is not started twice; the next starts as it ends.
 * Only the leader watches the endpoints (the rest of the fleet reads none of them), and what it
 * learned is forgotten when it stops leading: the next leader starts afresh.
 */
public final class FleetProbes {

  private static final Logger log = LoggerFactory.getLogger(FleetProbes.class);

  /** Probes running at once, at most. */
  static final int THREADS = 8;

  /** One endpoint's probing state; its counters only change on the one probe running. */
  private static final class Target {
    final String name;
    final String endpoint;
    final String hostPort; // host:port of the endpoint, host in lower case
    final String host; // without an IPv6 literal's brackets
    final int port; // -1: no port, nothing to probe
    final java.util.concurrent.atomic.AtomicBoolean running =
        new java.util.concurrent.atomic.AtomicBoolean();
    volatile boolean due; // a round came while a probe ran: the next one starts as it ends
    Protocol protocol = Protocol.UNKNOWN;
    int failures;
    volatile int successes;
    volatile boolean down;

    Target(String name, String endpoint) {
      this.name = name;
      this.endpoint = endpoint;
      int slash = endpoint.indexOf('/');
      String hp = slash < 0 ? endpoint : endpoint.substring(0, slash);
      this.hostPort = hp.toLowerCase(java.util.Locale.ROOT);
      int colon = hp.lastIndexOf(':');
      String h = colon <= 0 ? hp : hp.substring(0, colon);
      this.host = h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
      int p = -1;
      if (colon > 0) {
        try {
          p = Integer.parseInt(hp.substring(colon + 1));
        } catch (NumberFormatException e) {
          p = -1;
        }
      }
      this.port = p;
    }
  }

  private final String root;
  private final int intervalMs;
  private final int timeoutMs;
  private final int failuresToDetect;
  private final int successesToRecover;
  private final Consumer<Detection> detections;
  private final Function<BiConsumer<String, String>, Closeable> watchEndpoints;
  private Closeable watching; // on the timer thread only
  private final Map<String, Target> targets = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;
  private final ExecutorService probers;
  private ScheduledFuture<?> rounds; // under this

  /**
   * @param root the endpoints' root, {@code /{namespace}/meta/endpoints}
   * @param watchEndpoints starts watching every key under {@code root}, telling the given listener
   *     each key and value ({@code null}: gone); closing the result ends the watch
   * @param detections hears each detection, on a probe thread
   * @param timer the thread the rounds are started on (shared; never shut down here)
   */
  public FleetProbes(
      String root,
      Function<BiConsumer<String, String>, Closeable> watchEndpoints,
      int intervalMs,
      int timeoutMs,
      int failuresToDetect,
      int successesToRecover,
      Consumer<Detection> detections,
      ScheduledExecutorService timer) {
    this.root = root;
    this.watchEndpoints = watchEndpoints;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.failuresToDetect = failuresToDetect;
    this.successesToRecover = successesToRecover;
    this.detections = detections;
    AtomicInteger n = new AtomicInteger();
    this.timer = timer;
    ThreadPoolExecutor p =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> daemon(r, "sluice-probe-" + n.incrementAndGet()));
    p.allowCoreThreadTimeOut(true); // no thread while this JVM does not lead
    this.probers = p;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /**
   * An endpoint key changed: {@code key} under the root holds {@code value} ({@code
   * host:port[/database]}), or is gone ({@code null}).
   */
  public void endpoint(String key, String value) {
    if (!key.startsWith(root + "/")) {
      return;
    }
    String name = key.substring(root.length() + 1); // schema/name
    if (value == null || value.isBlank()) {
      targets.remove(name);
      return;
    }
    targets.compute(
        name,
        (k, t) -> {
          if (t == null || !value.equals(t.endpoint)) {
            return new Target(name, value.strip());
          }
          return t;
        });
  }

  /** This JVM took or lost the fleet's leadership: the rounds start or stop. */
  public synchronized void leading(boolean leader) {
    if (leader && rounds == null) {
      log.info("probing the endpoints under {} every {} ms", root, intervalMs);
      timer.execute(this::startWatching);
      rounds = timer.scheduleWithFixedDelay(this::round, 0, intervalMs, TimeUnit.MILLISECONDS);
    } else if (!leader && rounds != null) {
      rounds.cancel(false);
      rounds = null;
      timer.execute(this::stopWatching);
    }
  }

  private void startWatching() {
    if (watching == null) {
      watching = watchEndpoints.apply(this::endpoint);
    }
  }

  /** What this leader learned is not the next one's. */
  private void stopWatching() {
    if (watching != null) {
      try {
        watching.close();
      } catch (IOException | RuntimeException e) {
        log.debug("closing the endpoints' watch: {}", e.toString());
      }
      watching = null;
    }
    targets.clear();
  }

  private void round() {
    for (Target t : targets.values()) {
      if (t.running.compareAndSet(false, true)) {
        probers.execute(() -> probe(t));
      } else {
        t.due = true;
      }
    }
  }

  private void probe(Target t) {
    try {
      if (t.port < 0) {
        return; // no port: nothing to probe
      }
      Result r = EndpointProbe.probe(t.host, t.port, timeoutMs, t.protocol);
      if (r.protocol != Protocol.UNKNOWN) {
        t.protocol = r.protocol;
      }
      if (r.alive) {
        t.failures = 0;
        t.successes++;
        if (t.down && t.successes >= successesToRecover) {
          t.down = false;
          detected(t, "UP again after " + t.successes + " good probes: " + r.detail);
        }
      } else {
        t.successes = 0;
        t.failures++;
        if (!t.down && t.failures >= failuresToDetect) {
          t.down = true;
          detected(t, "DOWN after " + t.failures + " failed probes: " + r.detail);
        }
      }
    } catch (RuntimeException e) {
      log.warn("probing {} failed inside the agent: {}", t.name, e.toString());
    } finally {
      if (t.due && targets.get(t.name) == t && !probers.isShutdown()) {
        // a slow probe (a hung server: the whole timeout) missed its round: the next starts now,
        // so that a hung server is detected after failures x max(interval, timeout), not more
        t.due = false;
        probers.execute(() -> probe(t));
      } else {
        t.running.set(false);
      }
    }
  }

  private void detected(Target t, String what) {
    String text = t.name + " (" + t.endpoint + ") " + what;
    if (t.down) {
      log.warn("detected: {}", text);
    } else {
      log.info("detected: {}", text);
    }
    detections.accept(new Detection(t.name, t.endpoint, t.down, text));
  }

  /** The {@code schema/name} of every endpoint this leader probes (a live view). */
  public java.util.Set<String> names() {
    return java.util.Collections.unmodifiableSet(targets.keySet());
  }

  /**
   * The {@code host:port} (host in lower case) of the endpoint {@code schemaSlashName}, or {@code
   * null} when this leader does not probe it.
   */
  public String hostPortOf(String schemaSlashName) {
    Target t = targets.get(schemaSlashName);
    return t == null ? null : t.hostPort;
  }

  /**
   * Whether {@code schemaSlashName} answered its last {@code successes-to-enable} probes or more
   * (of this leader's): it is up, whether or not this leader ever saw it down.
   */
  public boolean healthy(String schemaSlashName) {
    Target t = targets.get(schemaSlashName);
    return t != null && !t.down && t.successes >= successesToRecover;
  }

  /**
   * Whether this leader's probes hold {@code schemaSlashName} down (a detection said so and none
   * since said it is up again).
   */
  public boolean down(String schemaSlashName) {
    Target t = targets.get(schemaSlashName);
    return t != null && t.down;
  }

  /** A detection: an endpoint went down, or came up again. */
  public static final class Detection {
    /** {@code schema/name}. */
    public final String name;

    /** {@code host:port[/database]}, as recorded. */
    public final String endpoint;

    /** Down (else: up again). */
    public final boolean down;

    /** What the log line and {@code RecentDetections} say. */
    public final String text;

    Detection(String name, String endpoint, boolean down, String text) {
      this.name = name;
      this.endpoint = endpoint;
      this.down = down;
      this.text = text;
    }
  }

  /** Stops probing for good; the timer, not this one's, goes on. */
  public void close() {
    leading(false);
    probers.shutdownNow();
  }
}
