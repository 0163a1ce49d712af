package dev.sluice.registry;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The newest revision (ZooKeeper mzxid, etcd mod revision) of each node that this agent's watch has
 * reported, so that a write can return once the agent has seen it come back.
 */
public final class SeenWrites {

  private final Map<String, Long> seen = new HashMap<>();

  /** Records that the watch reported {@code path} at {@code revision}. */
  public synchronized void seen(String path, long revision) {
    seen.merge(path, revision, Math::max);
    notifyAll();
  }

  /**
   * Waits until the watch reported {@code path} at {@code revision} or later.
   *
   * @param registry names the registry in the error, e.g. {@code ZooKeeper h1:2181}
   */
  public synchronized void await(String path, long revision, long timeoutMs, String registry)
      throws RegistryException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    while (seen.getOrDefault(path, -1L) < revision) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw new RegistryException(
            "wrote "
                + path
                + " but its watch did not report the write within "
                + timeoutMs
                + " ms ("
                + registry
                + ")");
      }
      try {
        wait(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryException("interrupted while waiting for " + path, e);
      }
    }
  }
}
