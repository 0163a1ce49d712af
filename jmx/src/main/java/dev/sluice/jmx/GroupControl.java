package dev.sluice.jmx;

/** What a {@link Group} reads; implemented by the agent. */
public interface GroupControl {

  /** {@code null} when none. */
  String address();

  /** {@code null} when none. */
  String readAddress();

  /** {@code null} while unknown. */
  String primary();

  String primarySource();

  long primaryRevision();

  String[] replicas();

  long failovers();

  /** ISO-8601, or {@code null} if none. */
  String lastFailover();

  int openConnections();

  /**
   * Names {@code hostPort} the group's primary: writes it into the group's registry node and
   * returns once this agent applied it. For groups with {@code primary=node} only.
   *
   * @throws IllegalArgumentException when {@code hostPort} is not {@code host:port}
   * @throws IllegalStateException for another primary source, or naming the registry problem
   */
  String setPrimary(String hostPort);
}
