package dev.sluice.registry;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.framework.recipes.locks.LockInternals;
import org.apache.curator.framework.recipes.locks.StandardLockInternalsDriver;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Leadership} in ZooKeeper: a Curator {@link LeaderLatch} under the election path, whose
 * word is checked before it is believed.
 *
 * <p>When the latch says this participant leads, the worker thread reads the latch's own node and
 * accepts it as the <em>leadership token</em> only if it is ephemeral to the current session and
 * the lowest of the election's nodes (Curator's latch can believe it leads on a node of a former
 * session, or while a lower node of another participant still exists). Until a check passes it is
 * repeated every {@value #RECHECK_MS} ms; and only once the latch has claimed it for {@value
 * #TAKEOVER_GRACE_MS} ms, so that a former leader has heard that it lost. Leadership ends at once,
 * on the thread that sees it, when the latch says so, the connection is suspended or lost
 * (Curator's connection-state thread), the latch is closed, or the token node is deleted (a watch
 * on it; ZooKeeper's event thread): {@link #isLeader} turns false and {@link #writeIfLeader}
 * refuses before the listener hears it. A latch whose node was deleted while its session lives
 * never notices; it is replaced by a new one, which joins the election again.
 *
 * <p>{@link #writeIfLeader} refuses at once without a token; otherwise it is a {@link
 * ZooKeeperGuardedWrite}: one ZooKeeper {@code multi}, a {@code check} of the token node with the
 * write. The server decides: if Curator retries the {@code multi} after the session was replaced,
 * the old token node is gone with the old session and the write is refused.
 *
 * <p>The listener is called on the registry's worker thread ({@code sluice-registry}), only with
 * changes, and not after {@link #close}.
 */
final class ZooKeeperLeadership implements Leadership {

  private static final Logger log = LoggerFactory.getLogger(ZooKeeperLeadership.class);

  /** How often a leadership the latch claims but the check did not confirm is checked again. */
  static final long RECHECK_MS = 1000;

  /**
   * How long the latch must have claimed leadership before this participant takes it. A former
   * leader whose session went silent suspended (and stopped leading) at two thirds of the session
   * timeout, long before the server could expire the session and let another take over; but a
   * former leader whose session the server ended while it was still connected (an operator's or a
   * test's expiry, a server's session cleanup) hears of it over its connection only at about the
   * time its latch node goes: the grace lets it stop leading first.
   */
  static final long TAKEOVER_GRACE_MS = 1000;

  private static final String LATCH_NODE_NAME = "latch-";

  private final CuratorFramework client;
  private final String path;
  private final String participantId;
  private final ScheduledExecutorService worker;
  private final Faults faults;
  private final Listener listener;
  private final String connectString;
  private final Runnable onClose;
  // Replaced (under lock) when this participant rejoins the election.
  private volatile LeaderLatch latch;
  private final ConnectionStateListener connectionListener;
  private final String where;
  private final ZooKeeperGuardedWrite guardedWrite;

  private final Object lock = new Object();
  // Guarded by lock; read without it where a stale read only errs towards "not leader".
  private volatile boolean connected;
  private volatile String token;
  private volatile boolean closed;
  private long epoch;

  // Worker thread only.
  private boolean reported;
  private boolean recheckScheduled;
  // The latch node the latch has claimed leadership on, and since when (System.nanoTime()).
  private String claimedPath;
  private long claimedSince;
  private String warnedFor;

  ZooKeeperLeadership(
      CuratorFramework client,
      String path,
      String participantId,
      Listener listener,
      ScheduledExecutorService worker,
      Faults faults,
      String connectString,
      Runnable onClose) {
    this.client = client;
    this.path = path;
    this.participantId = participantId;
    this.listener = listener;
    this.worker = worker;
    this.faults = faults;
    this.connectString = connectString;
    this.onClose = onClose;
    this.latch = newLatch();
    this.connectionListener =
        (c, s) -> faults.guard("a ZooKeeper connection change", () -> connectionChanged(s));
    this.where = "the leadership of " + participantId + " under " + path;
    this.guardedWrite = new ZooKeeperGuardedWrite(client, connectString);
  }

  /** Joins the election; the client must be started. */
  void start() {
    client.getConnectionStateListenable().addListener(connectionListener);
    synchronized (lock) {
      connected = client.getZookeeperClient().isConnected();
      epoch++;
      startLatch(latch);
    }
  }

  private LeaderLatch newLatch() {
    LeaderLatch l = new LeaderLatch(client, path, participantId);
    l.addListener(
        new LeaderLatchListener() {
          @Override
          public void isLeader() {
            reconsider();
          }

          @Override
          public void notLeader() {
            reconsider();
          }
        },
        // dropped, not thrown at Curator, once the registry's worker has shut down
        task -> faults.execute(worker, where, task));
    return l;
  }

  private void startLatch(LeaderLatch l) {
    try {
      l.start();
    } catch (Exception e) {
      throw new IllegalStateException("could not join the election under " + path, e);
    }
  }

  /**
   * The latch claims leadership on a node that is gone while the session lives (deleted by an
   * operator): a latch never notices that, so it is replaced by a new one. Worker thread.
   */
  private void rejoin() {
    LeaderLatch old;
    synchronized (lock) {
      if (closed) {
        return;
      }
      old = latch;
      LeaderLatch fresh = newLatch();
      startLatch(fresh);
      latch = fresh;
      epoch++;
      token = null;
    }
    log.warn("{}: its latch node is gone; joining the election again", where);
    closeQuietly(old);
  }

  private void closeQuietly(LeaderLatch l) {
    try {
      l.close();
    } catch (Exception e) {
      log.debug("{}: closing the latch failed: {}", where, e.toString());
    }
  }

  /** On ZooKeeper's event thread: the token node was deleted, so leadership ends at once. */
  private void tokenDeleted(String gone) {
    synchronized (lock) {
      if (!gone.equals(token)) {
        return;
      }
      token = null;
      epoch++;
    }
    faults.execute(worker, where, this::reconsider);
  }

  /** Watches the token node until it is deleted (or the watch is lost with the session). */
  private void watchToken(String t) {
    try {
      client
          .checkExists()
          .usingWatcher(
              (Watcher)
                  event -> {
                    if (event.getType() == Watcher.Event.EventType.NodeDeleted) {
                      faults.guard(where, () -> tokenDeleted(t));
                    }
                  })
          .inBackground(
              (c, event) -> {
                if (event.getResultCode() == KeeperException.Code.NONODE.intValue()) {
                  faults.guard(where, () -> tokenDeleted(t)); // gone before the watch was set
                }
              })
          .forPath(t);
    } catch (Exception e) {
      log.debug("{}: watching {} failed: {}", where, t, e.toString());
    }
  }

  /** On Curator's connection-state thread: a suspended or lost session ends leadership at once. */
  private void connectionChanged(ConnectionState state) {
    synchronized (lock) {
      epoch++;
      connected = state.isConnected();
      if (!connected) {
        token = null;
      }
    }
    faults.execute(worker, where, this::reconsider);
  }

  @Override
  public boolean isLeader() {
    String t = token;
    LeaderLatch l = latch;
    return t != null && connected && !closed && l.hasLeadership() && t.equals(l.getOurPath());
  }

  /** Brings the token and the listener in line with the latch and the connection. Worker thread. */
  private void reconsider() {
    if (closed) {
      return;
    }
    long seen;
    LeaderLatch l;
    synchronized (lock) {
      seen = epoch;
      l = latch;
    }
    String ours = l.getOurPath();
    boolean claimed = connected && l.hasLeadership() && ours != null;
    if (!claimed) {
      claimedPath = null;
    } else if (!ours.equals(claimedPath)) {
      claimedPath = ours;
      claimedSince = System.nanoTime();
    }
    boolean settled =
        claimed
            && System.nanoTime() - claimedSince >= TimeUnit.MILLISECONDS.toNanos(TAKEOVER_GRACE_MS);
    boolean confirmed = false;
    Check check = null;
    if (settled) {
      check = ours.equals(token) ? Check.CONFIRMED : check(ours);
      confirmed = check == Check.CONFIRMED;
    }
    boolean taken = false;
    synchronized (lock) {
      if (confirmed
          && epoch == seen
          && connected
          && !closed
          && l == latch
          && l.hasLeadership()
          && ours.equals(l.getOurPath())) {
        taken = !ours.equals(token);
        token = ours;
      } else {
        token = null;
      }
    }
    if (taken) {
      watchToken(ours);
    }
    if (check == Check.GONE) {
      rejoin();
      report(false);
      return;
    }
    report(isLeader());
    if (claimed && !settled) {
      recheckLater(
          Math.max(
              1,
              TAKEOVER_GRACE_MS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - claimedSince)));
    } else if (claimed && !confirmed) {
      recheckLater(RECHECK_MS);
    }
  }

  private enum Check {
    CONFIRMED,
    /** The latch's node does not exist (while the session lives). */
    GONE,
    /** Not this session's, not the lowest, or the server could not be asked. */
    NOT_NOW
  }

  /**
   * Whether {@code ours} is this session's node and the lowest in the election, as the server says
   * now.
   */
  private Check check(String ours) {
    try {
      long session = client.getZookeeperClient().getZooKeeper().getSessionId();
      Stat stat = client.checkExists().forPath(ours);
      if (stat == null) {
        return client.getZookeeperClient().getZooKeeper().getSessionId() == session
            ? Check.GONE
            : Check.NOT_NOW;
      }
      if (stat.getEphemeralOwner() != session) {
        warnOnce(ours, "the latch claims " + ours + ", which is not this session's; not leading");
        return Check.NOT_NOW;
      }
      List<String> sorted =
          LockInternals.getSortedChildren(
              LATCH_NODE_NAME,
              StandardLockInternalsDriver::standardFixForSorting,
              client.getChildren().forPath(path));
      String node = ZKPaths.getNodeFromPath(ours);
      if (closed || !sorted.contains(node)) {
        // gone between the two reads (closing, or deleted): the next check says which
        log.debug("{}: {} went while it was checked", where, ours);
        return Check.NOT_NOW;
      }
      if (!sorted.get(0).equals(node)) {
        warnOnce(
            ours,
            "the latch claims "
                + ours
                + ", but "
                + sorted.subList(0, sorted.indexOf(node))
                + " is lower; not leading yet");
        return Check.NOT_NOW;
      }
      return client.getZookeeperClient().getZooKeeper().getSessionId() == session
          ? Check.CONFIRMED
          : Check.NOT_NOW;
    } catch (Exception e) {
      log.debug("{}: checking {} failed: {}", where, ours, e.toString());
      return Check.NOT_NOW;
    }
  }

  /** Logs {@code message} as a warning once per latch node, then as debug on each recheck. */
  private void warnOnce(String ours, String message) {
    if (ours.equals(warnedFor)) {
      log.debug("{}: {}", where, message);
    } else {
      warnedFor = ours;
      log.warn("{}: {}", where, message);
    }
  }

  private void recheckLater(long delayMs) {
    if (recheckScheduled) {
      return;
    }
    recheckScheduled = true;
    try {
      worker.schedule(
          () -> {
            recheckScheduled = false;
            faults.guard(where, this::reconsider);
          },
          delayMs,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException registryClosed) {
      recheckScheduled = false;
    }
  }

  private void report(boolean leader) {
    if (leader == reported || closed) {
      return;
    }
    reported = leader;
    log.info("{}: {}", where, leader ? "leading" : "not leading");
    faults.guard(where, () -> listener.leadership(leader));
  }

  @Override
  public String leaderId() throws RegistryException {
    if (!client.getZookeeperClient().isConnected()) {
      return "";
    }
    try {
      Participant leader = latch.getLeader();
      return leader.isLeader() ? leader.getId() : "";
    } catch (KeeperException.NoNodeException | KeeperException.ConnectionLossException none) {
      return "";
    } catch (Exception e) {
      throw new RegistryException(
          "reading the leader under " + path + " from ZooKeeper " + connectString + " failed: " + e,
          e);
    }
  }

  @Override
  public void writeIfLeader(java.util.Map<String, String> writes) throws RegistryException {
    String t = token;
    String targets = String.join(", ", writes.keySet());
    if (t == null || !isLeader()) {
      throw notLeader(targets);
    }
    guardedWrite.write(t, writes, () -> notLeader(targets));
  }

  private NotLeaderException notLeader(String targets) {
    return new NotLeaderException(
        participantId + " does not lead under " + path + "; " + targets + " was not written");
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      token = null;
    }
    client.getConnectionStateListenable().removeListener(connectionListener);
    try {
      closeQuietly(latch);
    } finally {
      onClose.run();
    }
  }
}
