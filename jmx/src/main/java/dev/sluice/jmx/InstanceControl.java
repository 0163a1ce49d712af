package dev.sluice.jmx;

/** What the {@link Instance} bean reads and drives; implemented by the agent. */
public interface InstanceControl {

  String id();

  boolean disabled();

  boolean registryMode();

  boolean registryConnected();

  String registryPath();

  /** Connections refused by the instance switch, since start. */
  long refusedConnections();

  /** Connections aborted by the instance switch, since start. */
  long abortedConnections();

  /**
   * Sets the instance state through the registry (or in memory in local mode) and returns once it
   * is applied, with what it did.
   *
   * @throws IllegalStateException naming the registry problem when the write did not go through
   */
  String setDisabled(boolean disabled);
}
