package dev.sluice.registry;

/**
 * Receives what the registry says about this instance. Called on the registry's own thread, one
 * event at a time, in the order the registry saw them.
 */
public interface RegistryListener {

  /**
   * The instance node's value changed. {@code value} is the raw node data, or {@code null} when an
   * operator deleted the node. A node lost with the session is not reported as deleted: the last
   * known value stays in force and the node is re-created with it.
   */
  void instanceValue(String value);

  /**
   * A datasource node's value changed: {@code value} is the raw node data, or {@code null} when the
   * node is gone (enabled). Reported for every datasource node in the subtree, including those of
   * datasources this JVM has not met yet.
   */
  void datasourceValue(String path, String value);

  /** The registry session became usable ({@code true}) or was lost or suspended. */
  void connection(boolean connected);
}
