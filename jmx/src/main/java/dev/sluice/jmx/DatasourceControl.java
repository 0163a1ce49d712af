package dev.sluice.jmx;

/** What a {@link DataSource} reads and drives; implemented by the agent. */
public interface DatasourceControl {

  String schema();

  String name();

  String endpoint();

  boolean disabled();

  int openConnections();

  long refusedConnections();

  long abortedConnections();

  String registryPath();

  /**
   * Sets the datasource state through the registry (or in memory in local mode) and returns once it
   * is applied, with what it did.
   *
   * @throws IllegalStateException naming the registry problem when the write did not go through
   */
  String setDisabled(boolean disabled);

  /**
   * Why connections to this endpoint are refused now ({@code datasource node}, {@code instance
   * switch}, {@code registry loss}, joined by {@code " and "}); empty when they are not.
   */
  String cutOffBy();
}
