package dev.sluice.registry;

import java.util.Map;

/**
 * The registry as an operator's tool (the CLI) sees it: read one level of nodes, write a node that
 * exists, write a persistent node whether or not it exists.
 */
public interface OperatorAccess extends AutoCloseable {

  /** The children of {@code parent} (direct children only): name to value. */
  Map<String, String> children(String parent) throws Exception;

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
