package dev.sluice.jmx;

/**
 * {@code sluice:type=Group,name=<group>}: one routing group (SPEC section 7). Every attribute is a
 * point-in-time value; a change of {@code Primary} is announced with an {@code
 * AttributeChangeNotification}. The operation {@code setPrimary(String)} is added by {@link Group}:
 * declared here, it would make {@code Primary} a writable attribute instead.
 */
@Description(
    "One routing group: the address the application's URLs use, and the primary (and replicas)"
        + " connects to it are routed to, followed from the registry. setPrimary(hostPort) names a"
        + " new primary for primary=node groups.")
public interface GroupMXBean {

  /** The {@code host:port} the application's URLs use for the primary; empty when none. */
  @Description("The host:port the application's URLs use for the primary; empty when none.")
  String getAddress();

  /** The {@code host:port} the application's URLs use for the replicas; empty when none. */
  @Description("The host:port the application's URLs use for the replicas; empty when none.")
  String getReadAddress();

  /**
   * The primary connects to {@link #getAddress()} go to now, {@code host:port}; empty while
   * unknown.
   */
  @Description(
      "The host:port new connects to the address go to now; empty while no primary is known (connects then wait failover-wait-ms, then fail with 08004).")
  String getPrimary();

  /** The registry key the primary is read from. */
  @Description(
      "The registry key the primary is read from (the group's node, orchestrator's key or Patroni's leader key).")
  String getPrimarySource();

  /** The registry revision the primary (or its absence) was read at; -1 before the first read. */
  @Description(
      "The registry revision (ZooKeeper mzxid, etcd mod_revision) the primary was read at; -1 before the first read.")
  long getPrimaryRevision();

  /**
   * Each replica (configured, or from Patroni's member records) as {@code host:port STATE} ({@code
   * ENABLED} or {@code DISABLED}).
   */
  @Description(
      "Each replica as 'host:port STATE' (ENABLED or DISABLED by its datasource node), configured or from Patroni's member records.")
  String[] getReplicas();

  /** How many times the primary changed to another member since the agent started. */
  @Description("How many times the primary changed to another member, since the agent started.")
  long getFailovers();

  /** When the last such change was applied, ISO-8601; empty if none. */
  @Description(
      "When the last failover was applied, ISO-8601; empty if none since the agent started.")
  String getLastFailover();

  /** Connections routed through this group to its primary that are open now. */
  @Description("Connections routed through this group to its primary that are open now.")
  int getOpenConnections();
}
