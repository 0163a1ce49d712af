package dev.sluice.agent.governance;

import dev.sluice.agent.datasource.DatasourceName;
import dev.sluice.agent.datasource.Endpoint;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.LongAdder;

/**
 * One datasource this JVM met: its name and node, the physical connections open to it, and its
 * counters.
 */
public final class Datasource {

  private final DatasourceName name;
  private final Endpoint endpoint;
  private final String path;
  private final String refusal;
  final WeakIdentitySet<Connection> open = new WeakIdentitySet<>();
  private final java.util.concurrent.atomic.AtomicInteger tracked =
      new java.util.concurrent.atomic.AtomicInteger();
  final LongAdder refused = new LongAdder();
  final LongAdder aborted = new LongAdder();

  Datasource(DatasourceName name, Endpoint endpoint, String path, String refusalTarget) {
    this.name = name;
    this.endpoint = endpoint;
    this.path = path;
    this.refusal = "Sluice: " + name + " is DISABLED (" + refusalTarget + ")";
  }

  public DatasourceName name() {
    return name;
  }

  public Endpoint endpoint() {
    return endpoint;
  }

  /** The registry path of its node (also the key in {@link GovernanceState}). */
  public String path() {
    return path;
  }

  /** The message a refused connection to this datasource carries. */
  String refusal() {
    return refusal;
  }

  /** How many connections are tracked between two sweeps of the closed ones. */
  static final int SWEEP_EVERY = 64;

  /**
   * Tracks a physical connection a driver just opened. Closed connections are held weakly until
   * collected; every {@link #SWEEP_EVERY} connections they are dropped, so that an application that
   * opens and closes many connections does not make the next cut-off walk all of them.
   */
  void track(Connection c) {
    open.add(c);
    if (tracked.incrementAndGet() % SWEEP_EVERY == 0) {
      open.removeIf(Datasource::closed);
    }
  }

  /** The connections that are still open. */
  java.util.List<Connection> openNow() {
    java.util.List<Connection> out = new java.util.ArrayList<>();
    for (Connection c : open.snapshot()) {
      if (!closed(c)) {
        out.add(c);
      }
    }
    return out;
  }

  private static boolean closed(Connection c) {
    try {
      return c.isClosed();
    } catch (SQLException | RuntimeException e) {
      return true; // a connection that cannot answer is not counted as open
    }
  }

  /** Physical connections open now (not closed), counted on demand. */
  public int openConnections() {
    return openNow().size();
  }

  public long refusedConnections() {
    return refused.sum();
  }

  public long abortedConnections() {
    return aborted.sum();
  }
}
