package dev.sluice.registry;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.zookeeper.CreateMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link EphemeralNode} in ZooKeeper: Curator's {@link PersistentNode} recipe with {@link
 * CreateMode#EPHEMERAL}, which creates the node (and its parents, as containers) in the background,
 * creates it again with its last data whenever the session comes back without it (a lost session),
 * and deletes it when closed. The registry's ACL provider applies to what it creates.
 *
 * <p>If another session holds the node when the recipe creates it, the recipe takes the node as its
 * own (writes its value there, deletes it when closed): each JVM needs its own path. {@link #close}
 * deletes in the foreground, as long as Curator's retry policy lets it wait for an absent registry;
 * the delete is guaranteed (Curator retries it in the background if it fails now).
 *
 * <p>{@link #set} hands the value to the recipe, which writes it in the background: before the
 * first creation has been processed the recipe cannot take it, so it is kept here and written as
 * soon as the recipe reports the node created (on Curator's event thread). Thread-safe.
 */
final class ZooKeeperEphemeralNode implements EphemeralNode {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperEphemeralNode.class);

  private final String path;
  private final PersistentNode node;
  private final AtomicReference<byte[]> latest;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Runnable onClose;

  /**
   * @param onClose run once when this node is closed (the registry forgets it)
   */
  ZooKeeperEphemeralNode(CuratorFramework client, String path, String value, Runnable onClose) {
    this.path = path;
    this.onClose = onClose;
    byte[] data = NodeValue.encode(value);
    this.latest = new AtomicReference<>(data);
    this.node = new PersistentNode(client, CreateMode.EPHEMERAL, false, path, data);
    node.getListenable().addListener(created -> apply());
  }

  /** Starts creating the node in the background; the client must be started. */
  void start() {
    node.start();
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public void set(String value) {
    if (closed.get()) {
      return;
    }
    latest.set(NodeValue.encode(value));
    apply();
  }

  /** Gives the recipe the latest value unless it has it; never blocks, never throws. */
  private void apply() {
    byte[] data = latest.get();
    if (closed.get() || node.getActualPath() == null || Arrays.equals(data, node.getData())) {
      return; // not created yet: the creation's listener applies it
    }
    try {
      node.setData(data);
    } catch (IllegalStateException notYetCreated) {
      // raced with the first creation: its listener applies it
    } catch (Exception e) {
      log.warn("could not set {}: {}; set again when the session is back", path, e.toString());
    }
  }

  /** How long {@link #abandon} waits for the recipe to stop. */
  static final long ABANDON_WAIT_MS = 200;

  /**
   * Stops the recipe as the registry closes the session, which deletes the node with it. The recipe
   * must stop before the client closes: one still creating its node (never connected, or
   * re-creating it after a lost session) retries the create against the closing client without end,
   * on the thread that closes it. Its close stops it at once and then deletes the node, which may
   * wait for an unreachable registry: so it runs on a thread of its own, waited for {@link
   * #ABANDON_WAIT_MS} at most.
   */
  void abandon() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Thread closing =
        new Thread(
            () -> {
              try {
                node.close();
              } catch (Exception e) {
                log.debug("closing the recipe of {} failed: {}", path, e.toString());
              }
            },
            "sluice-close");
    closing.setDaemon(true);
    closing.start();
    try {
      closing.join(ABANDON_WAIT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      node.close();
    } catch (Exception e) {
      log.warn("could not delete {}: {}", path, e.toString());
    } finally {
      onClose.run();
    }
  }
}
