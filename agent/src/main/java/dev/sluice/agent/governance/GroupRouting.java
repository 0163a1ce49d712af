package dev.sluice.agent.governance;

import dev.sluice.agent.datasource.Endpoint;
import dev.sluice.agent.datasource.JdbcUrls;
import java.time.Instant;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Where connects to a routing group's address go (SPEC section 7): an immutable table of {@link
 * RoutingGroup}s, by name and by address, swapped whole when a primary is applied. A connect reads
 * it once; one to a group whose primary is not known waits for one, at most {@code
 * failover-wait-ms}, on a monitor that every applied primary wakes.
 *
 * <p>Only a URL naming exactly one host whose {@code host:port} is a group's address is routed; its
 * host and port are replaced and nothing else ({@link JdbcUrls#withHostPort}).
 */
public final class GroupRouting {

  /** A connect this thread routed last: which URL went to which group's member. */
  static final class Routed {
    final String url;
    final String asked;
    final String group;
    final String member;

    Routed(String url, String asked, String group, String member) {
      this.url = url;
      this.asked = asked;
      this.group = group;
      this.member = member;
    }
  }

  private final Object applied = new Object();
  private final ThreadLocal<Routed> lastRouted = new ThreadLocal<>();
  private final AtomicInteger nextReplica = new AtomicInteger();
  // per group, under `applied`: the last primary known, failovers since start, the last one's time
  private final Map<String, String> lastKnownPrimary = new ConcurrentHashMap<>();
  private final Map<String, Long> failovers = new ConcurrentHashMap<>();
  private final Map<String, Instant> lastFailover = new ConcurrentHashMap<>();
  private volatile Map<String, RoutingGroup> byName;
  private volatile Map<String, RoutingGroup> byAddress;

  /** Routes to {@code groups}, whose primaries are not known yet. */
  public GroupRouting(Collection<RoutingGroup> groups) {
    Map<String, RoutingGroup> names = new LinkedHashMap<>();
    for (RoutingGroup g : groups) {
      names.put(g.name(), g);
    }
    publish(names);
  }

  private void publish(Map<String, RoutingGroup> names) {
    Map<String, RoutingGroup> addresses = new LinkedHashMap<>();
    for (RoutingGroup g : names.values()) {
      if (g.address() != null) {
        addresses.put(g.address(), g);
      }
      if (g.readAddress() != null) {
        addresses.put(g.readAddress(), g);
      }
    }
    byName = Collections.unmodifiableMap(names);
    byAddress = Collections.unmodifiableMap(addresses);
  }

  /** The group named {@code name} as it stands now, or {@code null}. */
  public RoutingGroup group(String name) {
    return byName.get(name);
  }

  /** Every group as it stands now. */
  public Collection<RoutingGroup> groups() {
    return byName.values();
  }

  /** How many times the primary of {@code group} changed to another member since start. */
  public long failovers(String group) {
    return failovers.getOrDefault(group, 0L);
  }

  /** When the last failover of {@code group} was applied, or {@code null}. */
  public Instant lastFailover(String group) {
    return lastFailover.get(group);
  }

  /**
   * Whether {@code hostPort} is a group's address or read address: a name connects are routed from,
   * not a server of its own (a member's own {@code host:port} used as the address is met again as
   * the member that routed connections land on).
   */
  public boolean isAddress(String hostPort) {
    return byAddress.containsKey(hostPort);
  }

  /**
   * The group whose address or read address {@code url} names (a single host), or {@code null};
   * never waits.
   */
  String groupOf(String url) {
    Map<String, RoutingGroup> groups = byAddress;
    String hostPort = groupAddressOf(url, groups);
    return hostPort == null ? null : groups.get(hostPort).name();
  }

  /**
   * The address or read address of one of {@code groups} that {@code url} names as its single host,
   * or {@code null} (no group's, a host list that names more than the address, not a network URL,
   * unparseable).
   */
  private static String groupAddressOf(String url, Map<String, RoutingGroup> groups) {
    Endpoint target;
    try {
      target = JdbcUrls.parse(url);
    } catch (IllegalArgumentException unparseable) {
      return null;
    }
    if (target.kind() != Endpoint.Kind.NETWORK
        || !groups.containsKey(target.hostPort())
        || JdbcUrls.withHostPort(url, target.hostPort()) == null) {
      return null;
    }
    return target.hostPort();
  }

  /**
   * {@code url}, which names a group's address, to the group's primary in force now; {@code null}
   * for any other URL (a read address among them) and while no primary is known. Never waits.
   */
  String primaryUrl(String url) {
    Map<String, RoutingGroup> groups = byAddress;
    String hostPort = groupAddressOf(url, groups);
    RoutingGroup g = hostPort == null ? null : groups.get(hostPort);
    if (g == null || !hostPort.equals(g.address()) || g.primary() == null) {
      return null;
    }
    return JdbcUrls.withHostPort(url, g.primary());
  }

  /** The primary of {@code group} in force now, or {@code null}. */
  String primaryOf(String group) {
    RoutingGroup g = byName.get(group);
    return g == null ? null : g.primary();
  }

  /** As {@link #apply(String, PrimaryReading)}: {@code primary} or, {@code null}, none known. */
  RoutingGroup apply(String group, String primary, long revision) {
    return apply(
        group,
        primary == null
            ? PrimaryReading.none(null, revision)
            : PrimaryReading.primary(primary, revision));
  }

  /**
   * Applies {@code reading} to {@code group}. Returns the group as it was before, or {@code null}
   * when nothing changed (an unknown group, an older revision, the same reading again). Wakes
   * connects waiting for a primary.
   */
  RoutingGroup apply(String group, PrimaryReading reading) {
    String primary = reading.primary();
    synchronized (applied) {
      RoutingGroup before = byName.get(group);
      if (before == null) {
        return null;
      }
      RoutingGroup after = before.with(reading);
      if (after == before) {
        return null;
      }
      Map<String, RoutingGroup> names = new LinkedHashMap<>(byName);
      names.put(group, after);
      publish(names);
      if (primary != null) {
        String known = lastKnownPrimary.put(group, primary);
        if (known != null && !known.equals(primary)) {
          failovers.merge(group, 1L, Long::sum);
          lastFailover.put(group, Instant.now());
        }
      }
      applied.notifyAll();
      return before;
    }
  }

  /**
   * The URL to connect to instead of {@code url}: {@code url} itself when it names no group's
   * address, else the URL to the group's primary, waiting for one while none is known; the refusal
   * when none is known within the group's {@code failover-wait-ms}.
   */
  Object route(String url) {
    return route(url, u -> false);
  }

  /**
   * As {@link #route(String)}; a URL naming a group's {@code read-address} goes to the next
   * replica, round robin, whose URL {@code disabled} does not reject; with none left, to the
   * primary or (read-fallback=refuse) nowhere.
   */
  Object route(String url, Predicate<String> disabled) {
    lastRouted.remove();
    Map<String, RoutingGroup> groups = byAddress;
    String hostPort = groupAddressOf(url, groups);
    if (hostPort == null) {
      return url;
    }
    RoutingGroup g = groups.get(hostPort);
    if (hostPort.equals(g.readAddress())) {
      List<String> replicas = g.replicas();
      int n = replicas.size();
      if (n > 0) {
        // floorMod: the counter may wrap around; never an index out of range
        int first = Math.floorMod(nextReplica.getAndIncrement(), n);
        for (int i = 0; i < n; i++) {
          String replica = JdbcUrls.withHostPort(url, replicas.get((first + i) % n));
          if (!disabled.test(replica)) {
            return replica;
          }
        }
      }
      if (g.refusesReadsWithoutReplica()) {
        return Refusal.of(
            "Sluice: no enabled replica in group "
                + g.name()
                + " for "
                + g.readAddress()
                + " (read-fallback=refuse); connection refused");
      }
    }
    if (g.primary() == null) {
      g = awaitPrimary(g);
      if (g.primary() == null) {
        return Refusal.of(
            "Sluice: no primary known for group "
                + g.name()
                + " ("
                + g.absence()
                + ") within groups."
                + g.name()
                + ".failover-wait-ms="
                + g.failoverWaitMs()
                + " ms; connection to "
                + g.address()
                + " refused");
      }
    }
    String routed = JdbcUrls.withHostPort(url, g.primary());
    lastRouted.set(new Routed(routed, url, g.name(), g.primary()));
    return routed;
  }

  private RoutingGroup awaitPrimary(RoutingGroup g) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(g.failoverWaitMs());
    synchronized (applied) {
      while (true) {
        RoutingGroup now = byName.get(g.name());
        long left = deadline - System.nanoTime();
        if (now.primary() != null || left <= 0) {
          return now;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(applied, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return byName.get(g.name());
        }
      }
    }
  }

  /**
   * Waits at most {@code timeoutMs} until {@code group}'s primary has been read at {@code revision}
   * or later; whether it was.
   */
  public boolean awaitRevision(String group, long revision, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    synchronized (applied) {
      while (true) {
        RoutingGroup now = byName.get(group);
        if (now == null) {
          return false;
        }
        long left = deadline - System.nanoTime();
        if (now.revision() >= revision) {
          return true;
        }
        if (left <= 0) {
          return false;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(applied, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    }
  }

  /** As {@link #takeRouted(String, String)} for a connect to {@code url} alone. */
  Routed takeRouted(String url) {
    return takeRouted(url, url);
  }

  /**
   * Which group's member this thread's last routed connect went to, if it was the connect to {@code
   * url} or to {@code reached} (the URL a wrapping driver's connect reached), or null.
   */
  Routed takeRouted(String url, String reached) {
    Routed r = lastRouted.get();
    if (r == null) {
      return null;
    }
    lastRouted.remove();
    return r.url.equals(url) || r.url.equals(reached) ? r : null;
  }
}
