package dev.sluice.registry;

import java.util.Map;

/**
 * The registry as an operator's tool (the CLI) sees it: read one level of nodes, write a node that
 * exists, write a persistent node whether or not it exists.
 */
public interface OperatorAccess extends AutoCloseable {

  /** The children of {@code parent} (direct children only): name to value. */
  Map<String, String> children(String parent) throws Exception;

  /**
   * Every node below {@code root} (not {@code root} itself), at any depth: path to value, sorted by
   * path. Empty when there is no such node.
   */
  Map<String, String> subtree(String root) throws Exception;

  /**
   * The participant id of the leader of the election under {@code electionPath} (ZooKeeper: the
   * Curator {@code LeaderLatch} node with the lowest sequence; etcd: the election key with the
   * lowest create revision), or empty when nobody stands.
   */
  String leader(String electionPath) throws Exception;

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
