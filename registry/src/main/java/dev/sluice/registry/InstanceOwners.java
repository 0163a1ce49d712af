package dev.sluice.registry;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whose the instance node is: the sessions (ZooKeeper) or leases (etcd) this agent has had, so that
 * a node bound to one of them is ours, and a node bound to any other live one belongs to another
 * JVM under the same id (the legacy layout's {@code {ip}@-@{pid}}, e.g. PID 1 in containers on host
 * networking). Both then share the one node: neither takes it over, which would make the other take
 * it back, in a loop that clears {@code DISABLED} each time.
 *
 * <p>Thread-safe.
 */
public final class InstanceOwners {

  private final Set<Long> own = ConcurrentHashMap.newKeySet();
  private volatile long sharedWith;

  /** Session or lease {@code id} is this agent's. */
  public void adopt(long id) {
    own.add(id);
  }

  /**
   * Whether {@code owner} (0: none) is neither {@code current} nor any earlier session or lease of
   * this agent. The caller tells whether that owner still lives, where its backend needs asking.
   */
  public boolean foreign(long owner, long current) {
    return owner != 0 && owner != current && !own.contains(owner);
  }

  /**
   * This instance now shares its node with {@code owner}.
   *
   * @return whether that is news (the caller then logs its one warning)
   */
  public boolean share(long owner) {
    if (sharedWith == owner) {
      return false;
    }
    sharedWith = owner;
    return true;
  }
}
