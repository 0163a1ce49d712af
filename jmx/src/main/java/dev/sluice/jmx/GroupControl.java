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
}
