package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.await;
import static dev.sluice.registry.etcd.EtcdCalls.bytes;
import static dev.sluice.registry.etcd.EtcdCalls.describe;
import static dev.sluice.registry.etcd.EtcdCalls.notFound;
import static dev.sluice.registry.etcd.EtcdCalls.value;

import dev.sluice.registry.Faults;
import dev.sluice.registry.Leadership;
import dev.sluice.registry.NotLeaderException;
import dev.sluice.registry.RegistryException;
import dev.sluice.registry.RegistryLifecycle;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.election.CampaignResponse;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.election.NoLeaderException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This JVM's place in an etcd election ({@link Leadership}), through etcd's election API: a
 * campaign under the registry's lease creates the election key {@code path/<lease in hex>} with the
 * participant id as its value, and is answered once that key is the oldest under {@code path/}.
 *
 * <p>When a campaign is answered, the election key is read to confirm that it still exists, bound
 * to the lease, with the create revision the campaign named (a campaign can be answered after the
 * key it waited with went away with its lease), and a keep-alive of the lease confirms that the
 * lease lives; then the key is watched. Leadership is taken {@value #TAKEOVER_GRACE_MS} ms later,
 * so that a former leader whose key was deleted under it (its lease revoked) has heard it through
 * its own watch first. The election key and its create revision are the leadership token: {@link
 * #writeIfLeader} writes in one transaction with a comparison of that create revision, checked by
 * etcd itself.
 *
 * <p>Leadership is held, and {@link #isLeader} is true, only while all of these hold: the token's
 * lease is the registry's lease in force; the election key was not seen deleted and its watch has
 * not ended; and the lease was last confirmed alive, by a keep-alive sent at {@code t} and answered
 * with a time to live {@code ttl}, such that now is before {@code t + ttl - margin}. etcd cannot
 * expire the lease before {@code t + ttl} (it renewed it after {@code t}), so a leader cut off from
 * etcd stops saying it leads before etcd can delete its key and answer another participant's
 * campaign. The lease is confirmed every third of the margin-reduced time to live while leading.
 * Losing leadership in any of these ways ends it for good: the participant campaigns again (under
 * the same lease, if it still lives, etcd answers at once when the key is still the oldest).
 *
 * <p>Threads: campaigns, reads, confirmations and listener reports run on the registry's worker
 * thread ({@code sluice-registry}); jetcd's callbacks only hand work to it, except that a deleted
 * election key, an ended watch or a lease etcd no longer knows clears the token at once on jetcd's
 * thread, so that {@link #isLeader} turns false without waiting for the worker. {@link #isLeader},
 * {@link #leaderId}, {@link #writeIfLeader} and {@link #close} may be called on any thread; the
 * last three call etcd, each call bounded by the connect timeout.
 */
final class EtcdLeadership implements Leadership {

  private static final Logger log = LoggerFactory.getLogger(EtcdLeadership.class);

  /** How long an elected participant waits before it takes leadership. */
  static final long TAKEOVER_GRACE_MS = 500;

  private static final long CHECK_EVERY_MS = 200;

  private final Election election;
  private final KV kv;
  private final Lease leases;
  private final Supplier<Watch> watchClient;
  private final String path;
  private final ByteSequence name;
  private final String participantId;
  private final Listener listener;
  private final LongSupplier lease;
  private final BooleanSupplier connected;
  private final long marginNanos;
  private final long confirmEveryMs;
  private final String registry;
  private final long timeoutMs;
  private final RegistryLifecycle lifecycle;
  private final ScheduledExecutorService worker;
  private final Executor handOff;
  private final Faults faults;

  /** The leadership token while leading: the election key and its create revision. */
  private final AtomicReference<LeaderKey> token = new AtomicReference<>();

  /** Until when (System.nanoTime) the lease is confirmed alive. */
  private final AtomicLong aliveUntil = new AtomicLong();

  private volatile boolean closed;

  /**
   * The election key a campaign won, confirmed, from then until leadership under it ends: set on
   * the worker thread, taken by whoever ends it (the worker, or close() on any thread), so that
   * exactly one of them resigns or campaigns again.
   */
  private final AtomicReference<LeaderKey> elected = new AtomicReference<>();

  // Written on the worker thread; read by close() on any thread.
  private volatile long campaignLease;
  private volatile Watch.Watcher keyWatcher;

  // Worker thread only.
  private int campaigns;
  private boolean confirming;
  private boolean reported;

  /**
   * @param lease the registry's lease in force, 0 while it has none
   * @param connected whether the registry is connected now
   * @param ttlSeconds the lease's time to live as granted
   * @param registry names the registry in messages, e.g. {@code etcd://h1:2379}
   * @param handOff hands work to the worker thread (drops it once the registry is closed)
   */
  EtcdLeadership(
      Election election,
      KV kv,
      Lease leases,
      Supplier<Watch> watchClient,
      String path,
      String participantId,
      Listener listener,
      LongSupplier lease,
      BooleanSupplier connected,
      long ttlSeconds,
      String registry,
      long timeoutMs,
      RegistryLifecycle lifecycle,
      ScheduledExecutorService worker,
      Executor handOff,
      Faults faults) {
    this.election = election;
    this.kv = kv;
    this.leases = leases;
    this.watchClient = watchClient;
    this.path = path;
    this.name = bytes(path);
    this.participantId = participantId;
    this.listener = listener;
    this.lease = lease;
    this.connected = connected;
    long ttlMs = ttlSeconds * 1000;
    long marginMs = Math.min(1000, ttlMs / 4);
    this.marginNanos = TimeUnit.MILLISECONDS.toNanos(marginMs);
    this.confirmEveryMs = (ttlMs - marginMs) / 3;
    this.registry = registry;
    this.timeoutMs = timeoutMs;
    this.lifecycle = lifecycle;
    this.worker = worker;
    this.handOff = handOff;
    this.faults = faults;
  }

  @Override
  public boolean isLeader() {
    LeaderKey t = token.get();
    return t != null
        && !closed
        && t.getLease() == lease.getAsLong()
        && System.nanoTime() - aliveUntil.get() < 0;
  }

  // ---------------------------------------------------------------- worker thread

  /** Worker: the registry's lease in force may be new: leadership under another one ends. */
  void leaseInForce() {
    LeaderKey won = elected.get();
    if (won != null && won.getLease() != lease.getAsLong()) {
      lost(won, "its lease ended");
    }
    campaign();
  }

  /** Worker: campaigns under the lease in force, unless elected or campaigning under it already. */
  void campaign() {
    long id = lease.getAsLong();
    if (closed || !lifecycle.running() || elected.get() != null || id == 0 || campaignLease == id) {
      return;
    }
    campaignLease = id;
    int campaign = ++campaigns;
    election
        .campaign(name, id, bytes(participantId))
        .whenComplete((r, e) -> handOff.execute(() -> campaigned(campaign, r, e)));
  }

  private void campaigned(int campaign, CampaignResponse response, Throwable error) {
    boolean current = campaign == campaigns;
    if (current) {
      campaignLease = 0;
    }
    if (error != null) {
      if (current && !closed && lifecycle.running()) {
        log.debug(
            "campaigning for {} at {} failed: {}; again in 1 s", path, registry, describe(error));
        later(this::campaign, 1000);
      }
      return;
    }
    LeaderKey won = response.getLeader();
    if (closed || !current || won.getLease() != lease.getAsLong()) {
      if (closed || won.getLease() != lease.getAsLong()) {
        resign(won); // a campaign answered too late: leave the election key of an old lease
      }
      if (current) {
        campaign();
      }
      return;
    }
    verify(won);
  }

  /**
   * Worker: a campaign was answered with {@code won}: confirms the lease and the election key, then
   * watches the key and takes leadership after the grace.
   */
  private void verify(LeaderKey won) {
    long sent = System.nanoTime();
    try {
      LeaseKeepAliveResponse alive = await(leases.keepAliveOnce(won.getLease()), timeoutMs);
      GetResponse read = await(kv.get(won.getKey()), timeoutMs);
      List<KeyValue> kvs = read.getKvs();
      if (kvs.isEmpty()
          || kvs.get(0).getCreateRevision() != won.getRevision()
          || kvs.get(0).getLease() != won.getLease()) {
        log.info("the election key of {} went away while campaigning; campaigning again", path);
        campaign();
        return;
      }
      aliveUntil.set(sent + TimeUnit.SECONDS.toNanos(alive.getTTL()) - marginNanos);
      elected.set(won);
      watchKey(won, read.getHeader().getRevision() + 1);
      later(() -> take(won), TAKEOVER_GRACE_MS);
    } catch (Exception e) {
      if (notFound(e)) {
        return; // the lease ended: campaigning again under the next one (leaseInForce)
      }
      log.debug("confirming the election of {} failed: {}; again in 1 s", path, describe(e));
      later(this::campaign, 1000);
    }
  }

  private void watchKey(LeaderKey won, long from) {
    keyWatcher =
        watchClient
            .get()
            .watch(
                won.getKey(),
                WatchOption.builder().withRevision(from).build(),
                Watch.listener(
                    response -> {
                      for (WatchEvent event : response.getEvents()) {
                        if (event.getEventType() == WatchEvent.EventType.DELETE) {
                          lostNow(won, "its election key was deleted");
                        }
                      }
                    },
                    error ->
                        lostNow(won, "the watch on its election key failed: " + describe(error)),
                    () -> lostNow(won, "the watch on its election key ended")));
    if (closed) {
      closeWatcher();
    }
  }

  private void take(LeaderKey won) {
    if (elected.get() != won) {
      return;
    }
    if (closed) {
      if (elected.compareAndSet(won, null)) {
        resign(won); // closed while the election was being confirmed
      }
      return;
    }
    token.set(won);
    if (isLeader()) {
      log.info("{} leads {} (election key {})", participantId, path, EtcdCalls.text(won.getKey()));
    }
    report();
    confirm(won);
    check(won);
  }

  /** Worker, while elected: confirms the lease alive every so often, sent from here. */
  private void confirm(LeaderKey won) {
    if (elected.get() != won || closed) {
      return;
    }
    if (!confirming) {
      confirming = true;
      long sent = System.nanoTime();
      leases
          .keepAliveOnce(won.getLease())
          .orTimeout(confirmEveryMs * 3, TimeUnit.MILLISECONDS)
          .whenComplete(
              (alive, error) -> {
                if (alive != null) {
                  long until = sent + TimeUnit.SECONDS.toNanos(alive.getTTL()) - marginNanos;
                  aliveUntil.accumulateAndGet(until, (a, b) -> b - a > 0 ? b : a);
                } else if (notFound(error)) {
                  lostNow(won, "etcd no longer knows its lease");
                }
                handOff.execute(() -> confirming = false);
              });
    }
    later(() -> confirm(won), confirmEveryMs);
  }

  /** Worker, while elected: ends leadership once the lease is no longer confirmed alive. */
  private void check(LeaderKey won) {
    if (elected.get() != won || closed) {
      return;
    }
    if (token.get() == won && System.nanoTime() - aliveUntil.get() >= 0) {
      lost(won, "its lease was not confirmed alive in time");
      return;
    }
    report();
    later(() -> check(won), CHECK_EVERY_MS);
  }

  /** Any thread: leadership under {@code won} ends now; the rest follows on the worker. */
  private void lostNow(LeaderKey won, String why) {
    token.compareAndSet(won, null);
    handOff.execute(() -> lost(won, why));
  }

  /** Worker: leadership under {@code won} ended ({@code why}); campaigns again. */
  private void lost(LeaderKey won, String why) {
    token.compareAndSet(won, null);
    if (!elected.compareAndSet(won, null)) {
      return;
    }
    closeWatcher();
    if (closed) {
      resign(won); // lost as close() began: it left the resignation to this
      return;
    }
    if (reported) {
      log.warn("{} no longer leads {}: {}", participantId, path, why);
    }
    report();
    campaign();
  }

  /** Worker: tells the listener when leadership changed since it was last told. */
  private void report() {
    boolean now = isLeader();
    if (now != reported) {
      reported = now;
      faults.guard("a leadership change of " + path, () -> listener.leadership(now));
    }
  }

  private void later(Runnable task, long delayMs) {
    try {
      worker.schedule(() -> handOff.execute(task), delayMs, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException shutDown) {
      // the registry is closed
    }
  }

  private void closeWatcher() {
    Watch.Watcher w = keyWatcher;
    keyWatcher = null;
    if (w != null) {
      try {
        w.close();
      } catch (RuntimeException e) {
        log.debug("closing the watch on the election key of {} failed", path, e);
      }
    }
  }

  /** Leaves the election under {@code won}, quietly: etcd deletes the key with the lease anyway. */
  private void resign(LeaderKey won) {
    try {
      await(election.resign(won), timeoutMs);
    } catch (Exception e) {
      log.debug("resigning from {} failed: {}", path, describe(e));
    }
  }

  // ---------------------------------------------------------------- any thread

  @Override
  public String leaderId() throws RegistryException {
    if (!connected.getAsBoolean()) {
      return "";
    }
    try {
      return value(await(election.leader(name), timeoutMs).getKv());
    } catch (Exception e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof NoLeaderException) {
          return "";
        }
      }
      throw new RegistryException(
          "asking " + registry + " for the leader of " + path + " failed: " + describe(e), e);
    }
  }

  @Override
  public void writeIfLeader(java.util.Map<String, String> writes) throws RegistryException {
    String targets = String.join(", ", writes.keySet());
    LeaderKey t = token.get();
    if (t == null || !isLeader()) {
      throw new NotLeaderException(
          participantId + " does not lead " + this.path + "; " + targets + " was not written");
    }
    Op[] puts = new Op[writes.size()];
    int i = 0;
    for (java.util.Map.Entry<String, String> w : writes.entrySet()) {
      puts[i++] = Op.put(bytes(w.getKey()), bytes(w.getValue()), PutOption.DEFAULT);
    }
    TxnResponse written;
    try {
      written =
          await(
              kv.txn()
                  .If(new Cmp(t.getKey(), Cmp.Op.EQUAL, CmpTarget.createRevision(t.getRevision())))
                  .Then(puts)
                  .commit(),
              timeoutMs);
    } catch (Exception e) {
      throw new RegistryException(
          "writing "
              + targets
              + " as the leader of "
              + this.path
              + " to "
              + registry
              + " failed: "
              + describe(e)
              + "; it may have been written",
          e);
    }
    if (!written.isSucceeded()) {
      lostNow(t, "etcd refused a write as leader");
      throw new NotLeaderException(
          participantId
              + " no longer leads "
              + this.path
              + " by "
              + registry
              + "'s account; "
              + targets
              + " was not written");
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    token.set(null);
    // taken before the watch is closed: its end would hand the key to the worker's lost()
    LeaderKey won = elected.getAndSet(null);
    long campaigning = campaignLease;
    closeWatcher();
    if (won != null) {
      resign(won);
    } else if (campaigning != 0) {
      // a campaign waiting for its turn: its key goes, and the campaign, if answered, resigns
      ByteSequence key = bytes(path + "/" + Long.toHexString(campaigning));
      try {
        await(kv.delete(key), timeoutMs);
      } catch (Exception e) {
        log.debug("leaving the election {} failed: {}", path, describe(e));
      }
    }
    handOff.execute(this::report);
  }

  boolean closed() {
    return closed;
  }

  /** The registry closes: its lease's revocation deletes the election key; nothing more is done. */
  void stop() {
    closed = true;
    token.set(null);
    closeWatcher();
  }
}
