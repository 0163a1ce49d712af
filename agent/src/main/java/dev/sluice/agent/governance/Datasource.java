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

  /** Physical connections open now (not closed), counted on demand. */
  public int openConnections() {
    int n = 0;
    for (Connection c : open.snapshot()) {
      try {
        if (!c.isClosed()) {
          n++;
        }
      } catch (SQLException | RuntimeException e) {
        // a connection that cannot answer is not counted as open
      }
    }
    return n;
  }

  public long refusedConnections() {
    return refused.sum();
  }

  public long abortedConnections() {
    return aborted.sum();
  }
}
