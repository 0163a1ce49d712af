package dev.sluice.jmx;

/**
 * {@code sluice:type=Group,name=<group>}: one routing group (SPEC section 7). Every attribute is a
 * point-in-time value; a change of {@code Primary} is announced with an {@code
 * AttributeChangeNotification}. The operation {@code setPrimary(String)} is added by {@link Group}:
 * declared here, it would make {@code Primary} a writable attribute instead.
 */
public interface GroupMXBean {

  /** The {@code host:port} the application's URLs use for the primary; empty when none. */
  String getAddress();

  /** The {@code host:port} the application's URLs use for the replicas; empty when none. */
  String getReadAddress();

  /**
   * The primary connects to {@link #getAddress()} go to now, {@code host:port}; empty while
   * unknown.
   */
  String getPrimary();

  /** The registry key the primary is read from. */
  String getPrimarySource();

  /** The registry revision the primary (or its absence) was read at; -1 before the first read. */
  long getPrimaryRevision();

  /**
   * Each replica (configured, or from Patroni's member records) as {@code host:port STATE} ({@code
   * ENABLED} or {@code DISABLED}).
   */
  String[] getReplicas();

  /** How many times the primary changed to another member since the agent started. */
  long getFailovers();

  /** When the last such change was applied, ISO-8601; empty if none. */
  String getLastFailover();

  /** Connections routed through this group to its primary that are open now. */
  int getOpenConnections();
}
