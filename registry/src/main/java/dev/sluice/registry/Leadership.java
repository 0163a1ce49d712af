package dev.sluice.registry;

import java.io.Closeable;

/**
 * This JVM's place in one leader election (ZooKeeper: Curator's {@code LeaderLatch}; etcd: the
 * election API), under one path per namespace.
 *
 * <p>Leadership is reported truthfully as far as the registry lets this JVM know: it is lost at
 * once when the session is suspended or lost (ZooKeeper) or the lease can no longer be kept alive
 * (etcd), before another participant can have been elected; and it is only held while this
 * participant's own election node (latch node, election key) exists under this session or lease.
 */
public interface Leadership extends Closeable {

  /** Hears leadership changes of this participant; on the registry's own thread. */
  interface Listener {
    void leadership(boolean leader);
  }

  /** Point-in-time: whether this participant leads now, by the registry's own account. */
  boolean isLeader();

  /**
   * The participant id of the current leader as the registry shows it, or {@code ""} when there is
   * none (or the registry is unreachable). May read the registry; bounded by its timeouts.
   */
  String leaderId() throws RegistryException;

  /**
   * Writes {@code value} to {@code path} (creating it, with parents, when absent) in one
   * transaction with a check that this participant still holds leadership as the registry records
   * it (ZooKeeper: {@code multi} with a check of this participant's latch node; etcd: {@code txn}
   * comparing the create revision of its election key). The condition is checked by the registry,
   * not by this JVM's belief: a deposed or partitioned former leader's write is rejected even if it
   * has not yet heard that it lost.
   *
   * @throws NotLeaderException this participant does not lead (or the registry says it no longer
   *     does); nothing was written
   * @throws RegistryException the registry could not be asked; nothing may have been written
   */
  default void writeIfLeader(String path, String value) throws RegistryException {
    writeIfLeader(java.util.Map.of(path, value));
  }

  /**
   * As {@link #writeIfLeader(String, String)}, for several keys in the same one transaction: all
   * are written, at one registry revision (ZooKeeper {@code mzxid}, etcd {@code mod_revision}), or
   * none.
   */
  void writeIfLeader(java.util.Map<String, String> writes) throws RegistryException;

  /** Leaves the election (leadership, if held, passes on). Idempotent. */
  @Override
  void close();
}
