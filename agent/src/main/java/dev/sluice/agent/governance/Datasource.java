package dev.sluice.agent.governance;

import dev.sluice.agent.datasource.DatasourceName;
import dev.sluice.agent.datasource.Endpoint;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToIntFunction;

/** One datasource this JVM met: its name and node, and its counters. */
public final class Datasource {

  private final DatasourceName name;
  private final Endpoint endpoint;
  private final String path;
  private final String refusal;
  private final ToIntFunction<Datasource> openCount;
  final LongAdder refused = new LongAdder();
  final LongAdder aborted = new LongAdder();

  Datasource(
      DatasourceName name,
      Endpoint endpoint,
      String path,
      String refusalTarget,
      ToIntFunction<Datasource> openCount) {
    this.name = name;
    this.endpoint = endpoint;
    this.path = path;
    this.refusal = "Sluice: " + name + " is DISABLED (" + refusalTarget + ")";
    this.openCount = openCount;
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

  /** Connections open to it now (not closed), counted on demand. */
  public int openConnections() {
    return openCount.applyAsInt(this);
  }

  public long refusedConnections() {
    return refused.sum();
  }

  public long abortedConnections() {
    return aborted.sum();
  }
}
