package dev.sluice.jmx;

/**
 * {@code sluice:type=Instance}: this JVM's kill switch. All attributes are point-in-time values.
 */
public interface InstanceMXBean {

  /** The instance id, {@code {ip}@{pid}@{uuid}} (v5) or {@code {ip}@-@{pid}} (legacy). */
  String getId();

  /** {@code ENABLED} or {@code DISABLED}, as currently enforced. */
  String getState();

  /** Whether database access of this JVM is currently cut off by its instance state. */
  boolean isDisabled();

  /** {@code REGISTRY} when a registry is configured, {@code LOCAL} otherwise. */
  String getMode();

  /** Whether a registry session is usable right now; always {@code false} in local mode. */
  boolean isRegistryConnected();

  /**
   * Connections refused because this instance was cut off (its node held {@code DISABLED}, or
   * {@code on-registry-loss=cut-off} was in force), since the JVM started: one per attempt,
   * whatever the number of drivers asked or data sources wrapping one another.
   */
  long getRefusedConnections();

  /** Open connections aborted because this instance was cut off, since the JVM started. */
  long getAbortedConnections();

  /** The path (ZooKeeper) or key (etcd) of this instance's node; empty in local mode. */
  String getRegistryPath();

  /**
   * Cuts this JVM off from every database. In registry mode writes {@code DISABLED} into the
   * instance node and returns once the agent has applied it (at most 5 s), or fails naming the
   * registry problem; in local mode changes the state in memory.
   */
  void disable();

  /** Restores database access; writes an empty value into the instance node in registry mode. */
  void enable();
}
