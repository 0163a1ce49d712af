package dev.sluice.registry;

import java.util.Map;

/**
 * Reads Sluice's nodes as the operator tools need them: straight from the registry ({@link
 * OperatorAccess}) or from a copy kept up to date by a watch (the console).
 */
public interface NodeReader {

  /** A node's value, {@code null} when there is no such node. */
  String get(String path) throws Exception;

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
}
