package dev.sluice.jmx;

/**
 * {@code sluice:type=DataSource,schema=<schema>,name=<name>}: one database endpoint this JVM
 * connects to. All attributes are point-in-time values; counters count since the JVM started.
 */
public interface DataSourceMXBean {

  /** The schema part of the datasource name (the database, or {@code default}). */
  String getSchema();

  /** The name part, e.g. {@code db2_3306}. */
  String getName();

  /** Where connections go: {@code host:port[/database]}, or the in-process database. */
  String getEndpoint();

  /** {@code ENABLED} or {@code DISABLED}, by this datasource's own node. */
  String getState();

  /** Whether this datasource's node disables it. */
  boolean isDisabled();

  /** Physical connections to this endpoint currently open in this JVM. */
  int getOpenConnections();

  /** Connects and borrows refused because this endpoint or the instance was cut off. */
  long getRefusedConnections();

  /** Open connections aborted by a cut-off. */
  long getAbortedConnections();

  /** The path (ZooKeeper) of this datasource's node; empty in local mode. */
  String getRegistryPath();

  /**
   * Cuts every instance off this endpoint: writes {@code DISABLED} into its node (registry mode).
   */
  void disable();

  /** Restores the endpoint: writes an empty value into its node (registry mode). */
  void enable();
}
