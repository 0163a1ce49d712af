package dev.sluice.registry;

/**
 * The registry as an operator's tool (the CLI) sees it: read nodes ({@link NodeReader}), write a
 * node that exists, write a persistent node whether or not it exists.
 */
public interface OperatorAccess extends NodeReader, AutoCloseable {

  /** Writes an existing node; {@code false} when there is none. */
  boolean set(String path, String value) throws Exception;

  /**
   * Writes a persistent node (etcd: a key without lease), creating it and its parents when absent,
   * as {@code zkCli create}/{@code set} or {@code etcdctl put} do. Not for ephemeral nodes.
   */
  void put(String path, String value) throws Exception;

  @Override
  void close();
}
