package dev.sluice.registry;

import java.io.Closeable;

/**
 * A node bound to this JVM's registry session (ZooKeeper) or lease (etcd), besides the instance
 * node: instance metadata, say. Created with its value at once or, while the registry is away, as
 * soon as it is back; created again with its last value after a lost session or lease, as the
 * instance node is. Closing it deletes it; closing the registry deletes it with the session.
 */
public interface EphemeralNode extends Closeable {

  /** The node's path (ZooKeeper) or key (etcd). */
  String path();

  /**
   * Sets the value: written now if the registry is there, otherwise kept and written when it is
   * back. Never blocks on the registry, never throws; a failure is logged and retried on reconnect.
   */
  void set(String value);

  /** Deletes the node (if this session's) and stops re-creating it. Idempotent. */
  @Override
  void close();
}
