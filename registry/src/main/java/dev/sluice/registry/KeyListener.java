package dev.sluice.registry;

/**
 * Hears the keys of a {@link RegistryCenter#watch watch}: a key outside Sluice's own nodes, such as
 * orchestrator's {@code /mysql/master/<alias>} or Patroni's {@code /service/<scope>/leader}.
 *
 * <p>Called on the registry's own thread ({@code sluice-registry}), one call at a time. For each
 * key the revisions only ever grow: a value read before a newer one is never reported after it,
 * also across reconnects, lost sessions and registry restarts.
 */
public interface KeyListener {

  /**
   * {@code key} holds {@code value} since {@code revision} (ZooKeeper: the node's {@code mzxid};
   * etcd: the key's {@code mod_revision}); {@code value} {@code null}: the key is gone, and {@code
   * revision} is then one at which it was seen gone (never lower than the key's last value's).
   */
  void changed(String key, String value, long revision);

  /**
   * The watched keys have been read in full: at start and again after every reconnect. Everything
   * that changed meanwhile has been reported before this call.
   */
  default void synced() {}
}
