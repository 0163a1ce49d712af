package dev.sluice.registry;

import java.io.Closeable;

/**
 * A registry center holding this instance's node. Life cycle as a Curator recipe: {@code LATENT →
 * STARTED → CLOSED}; {@link #start()} once, {@link #close()} idempotent.
 */
public interface RegistryCenter extends Closeable {

  /**
   * Starts connecting in the background; never blocks on the registry. {@code listener} hears every
   * change from then on: values on the registry's own thread, connection changes also on the
   * registry client's threads ({@link RegistryListener} says which, per method).
   */
  void start(RegistryListener listener);

  /** Waits at most {@code timeoutMs} for the first full read of the watched nodes. */
  boolean awaitInitialSync(long timeoutMs) throws InterruptedException;

  /** Point-in-time: whether a registry session is usable now. */
  boolean isConnected();

  /** Point-in-time: the session (ZooKeeper) or lease (etcd) id, or empty when there is none. */
  String sessionId();

  /** {@code ZOOKEEPER} or {@code ETCD}. */
  String backend();

  /** The endpoints as configured, e.g. {@code h1:2181,h2:2181}. */
  String endpoints();

  /** The path of this instance's node. */
  String instancePath();

  /**
   * Writes this instance's node and returns once this agent has seen its own write come back
   * through its watch, or fails with a message naming the registry problem.
   */
  void writeInstanceValue(String value, long timeoutMs) throws RegistryException;

  /**
   * Creates the (persistent, empty) node of a datasource this JVM met, unless it exists; never
   * overwrites. Runs in the background, again after a reconnect if the registry was away, and again
   * each time the node is deleted (after the listener heard the deletion), so that an operator who
   * deleted it to re-enable the datasource can later set it to {@code DISABLED}. Never throws: once
   * the registry is closed (the agent's shutdown hook) it does nothing.
   */
  void ensureDatasourceNode(String path);

  /**
   * Creates the persistent node {@code path} holding {@code value} unless it exists; never
   * overwrites. Runs in the background and again after a reconnect if the registry was away, as
   * {@link #ensureDatasourceNode} does, but not again after a deletion. Never throws.
   */
  void ensureNode(String path, String value);

  /** Writes a datasource node, as {@link #writeInstanceValue} writes the instance node. */
  void writeDatasourceValue(String path, String value, long timeoutMs) throws RegistryException;

  /**
   * Writes {@code value} into {@code key} anywhere in the registry (ZooKeeper: a persistent node,
   * created with its parents when absent; etcd: a key without lease) and returns the revision of
   * the write (ZooKeeper {@code mzxid}, etcd {@code mod_revision}), the one a {@link #watch} of the
   * key reports with it. Does not wait for any watch; fails with a message naming the registry
   * problem.
   */
  long put(String key, String value, long timeoutMs) throws RegistryException;

  /**
   * Watches {@code key} anywhere in the registry, also outside Sluice's namespace (orchestrator's
   * and Patroni's keys), or with {@code prefix} the key and every key below it ({@code key/...}).
   * The listener first hears every watched key's current value, then each change, with its
   * revision, in order ({@link KeyListener}). After a reconnect, a lost session or a restart of the
   * registry the keys are read again and what changed meanwhile is reported, never an older
   * revision after a newer one. May be called before or after {@link #start}; closing the returned
   * handle ends the watch.
   */
  Closeable watch(String key, boolean prefix, KeyListener listener);

  /**
   * A node bound to this JVM's session or lease besides the instance node, created with {@code
   * value} ({@link EphemeralNode}). Call after {@link #start}.
   */
  EphemeralNode ephemeralNode(String path, String value);

  /**
   * Stands in the leader election under {@code path} as {@code participantId} (ZooKeeper: a Curator
   * {@code LeaderLatch}; etcd: the election API on the same key). Call after {@link #start}.
   */
  Leadership leadership(String path, String participantId, Leadership.Listener listener);

  /** Closes the session, which removes the instance node. Idempotent. */
  @Override
  void close();
}
