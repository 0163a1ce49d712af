package dev.sluice.registry;

import java.io.Closeable;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RegistryCenter#watch key watch} in ZooKeeper: one Curator {@link PersistentWatcher} on
 * the key (recursive for a prefix), whose events name a node that is then read again, and whose
 * resets (when the watch is set: at start and after every reconnect, also with a new session) read
 * the key, or the whole subtree, again. What was read goes through a {@link KeyRevisions}, so a
 * late or repeated event, or a full read racing with an event, never takes a key back to an older
 * value.
 *
 * <p>Revisions: a value is reported at its node's {@code mzxid}. A key read as absent is reported
 * gone at the {@code pzxid} of its nearest existing ancestor, read after the key was found absent
 * and confirmed by a second read of the key: a zxid no later than any value the key can have next,
 * so that value is never taken for an older one. (ZooKeeper 3.9 sends the zxid of a deletion with
 * its event, but Curator 5.9's watcher wrapper drops it, so the revision is read.) Keys that a full
 * read of a prefix no longer finds are reported gone at no less than their last value's revision
 * and no more than the lowest {@code pzxid} of the listings that read them gone (each listing and
 * its {@code pzxid} come from one atomic read).
 *
 * <p>Bounded as the datasource reader is: a value whose stat says it is longer than {@link
 * NodeValue#MAX_VALUE_BYTES} is reported as {@link NodeValue#notRead} without being read. As there,
 * a key last reported with a short value (a primary's {@code host:port}) is read again in one
 * request, value and stat together: one round trip from the event to the listener, as for any
 * client that watches and reads; a short value overwritten with a long one is then read once.
 *
 * <p>Life cycle {@code LATENT → STARTED → CLOSED}. The listener is called on the registry's worker
 * thread ({@code sluice-registry}) only, one call at a time; ZooKeeper's event thread only hands
 * work to it. After {@link #close} the listener hears nothing more (a call already under way on the
 * worker may still end).
 */
final class ZooKeeperKeyWatch implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperKeyWatch.class);

  private enum State {
    LATENT,
    STARTED,
    CLOSED
  }

  // Someone else's node whose ACL keeps us out: reported as such, unrecognised.
  static final String DENIED = "(not read: its ACL denies this agent)";

  private final CuratorFramework client;
  private final String key;
  private final boolean prefix;
  private final Executor worker;
  private final Faults faults;
  private final PersistentWatcher watcher;
  private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
  private final Runnable onClose;
  private final String where;

  // Worker thread only.
  private final KeyRevisions revisions;
  // Worker thread only: the keys last reported with a value beyond the bound or that their ACL
  // denies, read stat first again; every other key reported present is read in one request.
  private final Set<String> statFirst = new HashSet<>();

  /**
   * @param onClose run once when this watch is closed (the registry forgets it)
   */
  ZooKeeperKeyWatch(
      CuratorFramework client,
      String key,
      boolean prefix,
      KeyListener listener,
      Executor worker,
      Faults faults,
      Runnable onClose) {
    this.client = client;
    this.key = key;
    this.prefix = prefix;
    this.worker = worker;
    this.faults = faults;
    this.onClose = onClose;
    this.where = "the watch of " + key + (prefix ? "/**" : "");
    this.watcher = new PersistentWatcher(client, key, prefix);
    this.revisions =
        new KeyRevisions(
            new KeyListener() {
              @Override
              public void changed(String k, String value, long revision) {
                if (open()) {
                  listener.changed(k, value, revision);
                }
              }

              @Override
              public void synced() {
                if (open()) {
                  listener.synced();
                }
              }
            });
  }

  /** Sets the watch; the client must be started. Does nothing once closed. */
  void start() {
    if (!state.compareAndSet(State.LATENT, State.STARTED)) {
      return;
    }
    watcher.getListenable().addListener(this::event);
    watcher
        .getResetListenable()
        .addListener(() -> faults.execute(worker, "reading " + where, this::readAll));
    watcher.start();
  }

  private boolean open() {
    return state.get() == State.STARTED;
  }

  /** On ZooKeeper's event thread: hands the named node to the worker. */
  private void event(WatchedEvent event) {
    String path = event.getPath();
    if (path == null
        || event.getType() == Watcher.Event.EventType.None
        || event.getType() == Watcher.Event.EventType.NodeChildrenChanged
        || !covers(path)) {
      return;
    }
    faults.execute(worker, where, () -> refresh(path));
  }

  private boolean covers(String path) {
    if (path.equals(key)) {
      return true;
    }
    return prefix && path.startsWith(key.endsWith("/") ? key : key + "/");
  }

  /** Reads {@code path} again and reports it. Worker thread. */
  private void refresh(String path) {
    if (!open()) {
      return;
    }
    try {
      read(path, true);
    } catch (Exception e) {
      // A lost connection: the watch is set again on reconnect, and that reads everything again.
      log.debug("reading {} failed: {}; read again on reconnect", path, e.toString());
    }
  }

  /**
   * Reads {@code path} and reports its value, or that it is gone.
   *
   * @param inOne whether a key last reported with a short value is read in one request; the full
   *     read after a reconnect reads stat first, as a long value may have dropped the connection
   * @return whether it is present
   */
  private boolean read(String path, boolean inOne) throws Exception {
    if (inOne && revisions.present(path) && !statFirst.contains(path)) {
      Stat stat = new Stat();
      try {
        // One attempt, without Curator's retries: were the value now beyond the client's
        // jute.maxbuffer, a retry would only drop the connection again. After a lost connection
        // the full read on reconnect reads the key, stat first.
        byte[] data = client.getZookeeperClient().getZooKeeper().getData(path, false, stat);
        int length = data == null ? 0 : data.length;
        report(
            path,
            length > NodeValue.MAX_VALUE_BYTES ? NodeValue.notRead(length) : NodeValue.decode(data),
            stat);
        return true;
      } catch (KeeperException.NoNodeException gone) {
        // read below: its absence is confirmed and dated there
      } catch (KeeperException.NoAuthException denied) {
        // read below, stat first
      }
    }
    for (int attempt = 0; attempt < 3; attempt++) {
      Stat stat = client.checkExists().forPath(path);
      if (stat != null) {
        String value = value(path, stat);
        if (value != null) {
          report(path, value, stat);
          return true;
        }
        continue; // deleted between the two reads
      }
      long seenGone = ancestorPzxid(path);
      if (client.checkExists().forPath(path) == null) {
        statFirst.remove(path);
        revisions.gone(path, seenGone);
        return false;
      }
      // created again meanwhile: read it again
    }
    return false; // changing as we read: its next event reads it again
  }

  /** Reports {@code value}, read with {@code stat}; notes how {@code path} is to be read next. */
  private void report(String path, String value, Stat stat) {
    if (DENIED.equals(value) || stat.getDataLength() > NodeValue.MAX_VALUE_BYTES) {
      statFirst.add(path);
    } else {
      statFirst.remove(path);
    }
    revisions.value(path, value, stat.getMzxid());
  }

  /**
   * The value of the node whose stat is {@code stat} (updated to the stat the value was read with),
   * bounded; {@code null} when it is gone.
   */
  private String value(String path, Stat stat) throws Exception {
    if (stat.getDataLength() > NodeValue.MAX_VALUE_BYTES) {
      return NodeValue.notRead(stat.getDataLength());
    }
    try {
      return NodeValue.decode(client.getData().storingStatIn(stat).forPath(path));
    } catch (KeeperException.NoNodeException gone) {
      return null;
    } catch (KeeperException.NoAuthException denied) {
      return DENIED;
    }
  }

  /** The {@code pzxid} of the nearest ancestor of {@code path} that exists ("/" always does). */
  private long ancestorPzxid(String path) throws Exception {
    String p = path;
    while (!p.equals("/")) {
      p = ZKPaths.getPathAndNode(p).getPath();
      Stat stat = client.checkExists().forPath(p);
      if (stat != null) {
        return stat.getPzxid();
      }
    }
    return 0;
  }

  /** Reads the key, or the subtree, in full and reports every difference. Worker thread. */
  private void readAll() {
    if (!open()) {
      return;
    }
    Set<String> present = new HashSet<>();
    long seenGone;
    try {
      if (prefix) {
        seenGone = readTree(present);
      } else {
        if (read(key, false)) {
          present.add(key);
        }
        seenGone = -1; // a gone key was reported by read, at its own revision
      }
    } catch (Exception e) {
      log.debug("reading {} failed: {}; read again on reconnect", where, e.toString());
      return;
    }
    statFirst.retainAll(present);
    revisions.readAll(present, seenGone);
  }

  /**
   * Reads every node from the key down, each listing with its stat in one read, and reports each
   * value.
   *
   * @return the lowest {@code pzxid} of the listings: no later than the deletion of anything they
   *     found gone
   */
  private long readTree(Set<String> present) throws Exception {
    long lowest = Long.MAX_VALUE;
    if (client.checkExists().forPath(key) == null) {
      lowest = ancestorPzxid(key);
    }
    Deque<String> pending = new ArrayDeque<>();
    pending.add(key);
    while (!pending.isEmpty()) {
      String path = pending.poll();
      Stat stat = new Stat();
      List<String> children;
      try {
        children = client.getChildren().storingStatIn(stat).forPath(path);
      } catch (KeeperException.NoNodeException gone) {
        continue; // gone since its parent was listed, which bounds its deletion
      } catch (KeeperException.NoAuthException denied) {
        stat = client.checkExists().forPath(path);
        if (stat != null) {
          log.warn("{} cannot be read (its ACL denies this agent); nothing below it is", path);
          report(path, DENIED, stat);
          present.add(path);
        }
        continue;
      }
      lowest = Math.min(lowest, stat.getPzxid());
      String value = value(path, stat);
      if (value == null) {
        continue;
      }
      report(path, value, stat);
      present.add(path);
      for (String child : children) {
        pending.add(ZKPaths.makePath(path, child));
      }
    }
    return lowest == Long.MAX_VALUE ? -1 : lowest;
  }

  /** Removes the watch (in the background) and stops reporting. Idempotent. */
  @Override
  public void close() {
    State before = state.getAndSet(State.CLOSED);
    if (before == State.CLOSED) {
      return;
    }
    if (before == State.STARTED) {
      watcher.close();
    }
    onClose.run();
  }
}
