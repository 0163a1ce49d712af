package dev.sluice.registry;

/**
 * Receives what the registry says about this instance.
 *
 * <p>Threads: the value callbacks ({@link #instanceValue}, {@link #datasourceValue}) come on the
 * registry's own thread ({@code sluice-registry}), one at a time, in the order the registry saw the
 * changes. {@link #connection} does not wait for that thread, so that a loss is reported at once
 * even while the registry's thread is busy or blocked on the registry: it may run at the same time
 * as a value callback, and the two must not share unguarded state.
 */
public interface RegistryListener {

  /**
   * The instance node's value changed. {@code value} is the raw node data, or {@code null} when an
   * operator deleted the node. A node lost with the session is not reported as deleted: the last
   * known value stays in force and the node is re-created with it. Called on the registry's own
   * thread.
   */
  void instanceValue(String value);

  /**
   * A datasource node's value changed: {@code value} is the raw node data, or {@code null} when the
   * node is gone (enabled). Reported for every datasource node in the subtree, including those of
   * datasources this JVM has not met yet. Called on the registry's own thread.
   */
  void datasourceValue(String path, String value);

  /**
   * The registry session became usable ({@code true}) or was lost or suspended ({@code false}; with
   * ZooKeeper a suspension and then the loss of the session are two reports).
   *
   * <p>Called one report at a time, in order, but not on the registry's own thread alone: with
   * ZooKeeper every report comes on Curator's connection-state thread ({@code sluice-curator});
   * with etcd {@code true} comes on the registry's own thread, and {@code false} either there or
   * directly on the jetcd (gRPC) thread that reports the failure of the lease's keep-alive stream.
   * Return quickly and do not block: these threads deliver the next connection change.
   */
  void connection(boolean connected);
}
