package dev.sluice.registry;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.watch.PersistentWatcher;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The datasource nodes under one root in ZooKeeper, watched with one persistent recursive watch and
 * read only at the depth where datasource nodes live.
 *
 * <p>What it keeps is bounded whatever the registry holds: per datasource node its path and the
 * mzxid it last reported (about 100 bytes plus the path), never a value; nodes above or below the
 * datasource depth are not read and not kept. A value longer than {@link NodeValue#MAX_VALUE_BYTES}
 * is reported as {@link NodeValue#notRead}, unrecognised. A node not known to hold a short value is
 * read stat first, and its value only when the stat says it is short, so that such a value's bytes
 * never reach this JVM (ZooKeeper's client would drop its connection on a node beyond its {@code
 * jute.maxbuffer}).
 *
 * <p>Each event names a node; the node is read again and reported when its mzxid differs from the
 * one last reported, so events that arrive late or twice change nothing. A node last reported with
 * a short value, as every datanode an operator switches is, is read in one request, value and stat
 * together: one round trip between the event and the state applied, as for any client that watches
 * and reads. The price of that: a short value overwritten with a long one is read once (its bytes
 * pass, none is kept; one beyond the client's {@code jute.maxbuffer} drops the connection once, and
 * the full read after the reconnect reads the node stat first). When the watch is set (at start and
 * after every reconnect, as events may have been missed) the whole tree down to the datasource
 * depth is read again and every difference reported. Reads run on the registry's one worker thread,
 * one at a time.
 */
final class ZooKeeperDatasources implements Closeable {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperDatasources.class);

  /** Hears what changed; called on the worker thread. */
  interface Changes {
    /** {@code value} {@code null}: the node is gone. */
    void changed(String path, String value, long mzxid);

    /** A full read ended; {@code complete} is false when it failed and is retried later. */
    void read(boolean complete);
  }

  private final CuratorFramework client;
  private final RegistryPaths paths;
  private final Executor worker;
  private final Faults faults;
  private final Changes changes;
  private final PersistentWatcher watcher;

  // Worker thread only.
  private final Map<String, Long> reported = new HashMap<>();
  // Worker thread only: the nodes last reported with a value beyond the bound or that their ACL
  // denies, read stat first again; every other node reported is read in one request.
  private final Set<String> statFirst = new HashSet<>();

  ZooKeeperDatasources(
      CuratorFramework client,
      RegistryPaths paths,
      Executor worker,
      Faults faults,
      Changes changes) {
    this.client = client;
    this.paths = paths;
    this.worker = worker;
    this.faults = faults;
    this.changes = changes;
    this.watcher = new PersistentWatcher(client, paths.datasourcesRoot(), true);
  }

  void start() {
    watcher.getListenable().addListener(this::event);
    watcher
        .getResetListenable()
        .addListener(
            () ->
                faults.execute(
                    worker, "reading " + paths.datasourcesRoot(), () -> changes.read(readAll())));
    watcher.start();
  }

  private void event(WatchedEvent event) {
    String path = event.getPath();
    if (path == null
        || event.getType() == Watcher.Event.EventType.None
        || !paths.isDatasourcePath(path)) {
      return; // the root, a schema level or anything deeper: not a datasource
    }
    faults.execute(worker, "a change of " + path, () -> refresh(path));
  }

  /** Number of datasource nodes known now; for tests. */
  int size() {
    return reported.size();
  }

  /** Reads the node at {@code path} and reports it if it changed. Worker thread. */
  void refresh(String path) {
    try {
      read(path);
    } catch (Exception e) {
      // A lost connection: the watch is set again on reconnect, and that reads everything again.
      log.debug("reading {} failed: {}; read again with the rest on reconnect", path, e.toString());
    }
  }

  private void read(String path) throws Exception {
    if (reported.containsKey(path) && !statFirst.contains(path) && readInOne(path)) {
      return;
    }
    Stat stat = client.checkExists().forPath(path);
    String value = null;
    if (stat != null) {
      if (stat.getDataLength() > NodeValue.MAX_VALUE_BYTES) {
        value = NodeValue.notRead(stat.getDataLength());
      } else {
        try {
          value = NodeValue.decode(client.getData().storingStatIn(stat).forPath(path));
        } catch (KeeperException.NoNodeException gone) {
          stat = null;
        } catch (KeeperException.NoAuthException denied) {
          value = DENIED;
        }
      }
    }
    apply(path, stat, value);
  }

  /**
   * Reads the node at {@code path}, last reported with a value within the bound, in one request and
   * reports it if it changed. One attempt, without Curator's retries: were the value now beyond the
   * client's {@code jute.maxbuffer}, a retry would only drop the connection again; after a lost
   * connection the full read on reconnect reads the node, stat first.
   *
   * @return false when its ACL denies the read: then it is to be read stat first
   */
  private boolean readInOne(String path) throws Exception {
    Stat stat = new Stat();
    byte[] data;
    try {
      data = client.getZookeeperClient().getZooKeeper().getData(path, false, stat);
    } catch (KeeperException.NoNodeException gone) {
      apply(path, null, null);
      return true;
    } catch (KeeperException.NoAuthException denied) {
      return false;
    }
    int length = data == null ? 0 : data.length;
    apply(
        path,
        stat,
        length > NodeValue.MAX_VALUE_BYTES ? NodeValue.notRead(length) : NodeValue.decode(data));
    return true;
  }

  // Someone else's node whose ACL keeps us out: unrecognised, and no reason to stop reading.
  private static final String DENIED = "(not read: its ACL denies this agent)";

  /** Reports the node at {@code path} ({@code stat} {@code null}: gone) if it changed. */
  private void apply(String path, Stat stat, String value) {
    if (stat == null) {
      statFirst.remove(path);
      if (reported.remove(path) != null) {
        changes.changed(path, null, 0);
      }
      return;
    }
    if (DENIED.equals(value) || stat.getDataLength() > NodeValue.MAX_VALUE_BYTES) {
      statFirst.add(path);
    } else {
      statFirst.remove(path);
    }
    Long before = reported.put(path, stat.getMzxid());
    if (before == null || before != stat.getMzxid()) {
      changes.changed(path, value, stat.getMzxid());
    }
  }

  /**
   * How many nodes a full read asks for at once: their values (at most 1 KiB each) pass together.
   */
  private static final int BATCH = 256;

  /**
   * Reads the nodes of {@code batch} as {@link #read} does, but with the requests of the whole
   * batch in flight together: one round trip per step rather than per node, so that a subtree of
   * thousands of datasource nodes is read in a fraction of a second.
   */
  private void readBatch(List<String> batch) throws Exception {
    int n = batch.size();
    Stat[] stats = new Stat[n];
    int[] codes = new int[n];
    CountDownLatch checked = new CountDownLatch(n);
    for (int i = 0; i < n; i++) {
      int k = i;
      client
          .checkExists()
          .inBackground(
              (c, event) -> {
                codes[k] = event.getResultCode();
                stats[k] = event.getStat();
                checked.countDown();
              })
          .forPath(batch.get(k));
    }
    await(checked);
    String[] values = new String[n];
    List<Integer> small = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      throwUnlessOkOrGone(codes[i], batch.get(i));
      if (stats[i] != null) {
        if (stats[i].getDataLength() > NodeValue.MAX_VALUE_BYTES) {
          values[i] = NodeValue.notRead(stats[i].getDataLength());
        } else {
          small.add(i);
        }
      }
    }
    CountDownLatch read = new CountDownLatch(small.size());
    for (int k : small) {
      client
          .getData()
          .inBackground(
              (c, event) -> {
                codes[k] = event.getResultCode();
                if (event.getResultCode() == KeeperException.Code.OK.intValue()) {
                  stats[k] = event.getStat();
                  values[k] = NodeValue.decode(event.getData());
                } else if (event.getResultCode() == KeeperException.Code.NOAUTH.intValue()) {
                  values[k] = DENIED;
                } else {
                  stats[k] = null;
                }
                read.countDown();
              })
          .forPath(batch.get(k));
    }
    await(read);
    for (int k : small) {
      if (codes[k] != KeeperException.Code.NOAUTH.intValue()) {
        throwUnlessOkOrGone(codes[k], batch.get(k));
      }
    }
    for (int i = 0; i < n; i++) {
      apply(batch.get(i), stats[i], values[i]);
    }
  }

  private static void throwUnlessOkOrGone(int code, String path) throws KeeperException {
    if (code != KeeperException.Code.OK.intValue()
        && code != KeeperException.Code.NONODE.intValue()) {
      throw KeeperException.create(KeeperException.Code.get(code), path);
    }
  }

  private void await(CountDownLatch answers) throws Exception {
    int timeoutMs = client.getZookeeperClient().getConnectionTimeoutMs();
    if (!answers.await(Math.max(timeoutMs, 10_000), TimeUnit.MILLISECONDS)) {
      throw new TimeoutException("ZooKeeper did not answer within " + timeoutMs + " ms");
    }
  }

  /** Reads every datasource node and reports every difference. Worker thread. */
  private boolean readAll() {
    long started = System.nanoTime();
    Set<String> present = new HashSet<>();
    try {
      List<String> level = List.of(paths.datasourcesRoot());
      for (int depth = 0; depth < paths.datasourceDepth(); depth++) {
        List<String> next = new ArrayList<>();
        for (String parent : level) {
          for (String child : children(parent)) {
            next.add(parent + "/" + child);
          }
        }
        level = next;
      }
      for (int from = 0; from < level.size(); from += BATCH) {
        List<String> batch = level.subList(from, Math.min(level.size(), from + BATCH));
        readBatch(batch);
        present.addAll(batch);
      }
    } catch (Exception e) {
      log.warn(
          "reading the datasource nodes under {} failed: {}; reading them again when the session"
              + " is back",
          paths.datasourcesRoot(),
          e.toString());
      return false;
    }
    for (String gone : new ArrayList<>(reported.keySet())) {
      if (!present.contains(gone)) {
        reported.remove(gone);
        statFirst.remove(gone);
        changes.changed(gone, null, 0);
      }
    }
    log.debug(
        "read {} datasource nodes under {} in {} ms",
        present.size(),
        paths.datasourcesRoot(),
        (System.nanoTime() - started) / 1_000_000);
    return true;
  }

  private List<String> children(String parent) throws Exception {
    try {
      return client.getChildren().forPath(parent);
    } catch (KeeperException.NoNodeException absent) {
      return List.of();
    } catch (KeeperException.NoAuthException denied) {
      log.warn(
          "{} cannot be listed (its ACL denies this agent); its children are not read", parent);
      return List.of();
    }
  }

  @Override
  public void close() {
    watcher.close();
  }
}
