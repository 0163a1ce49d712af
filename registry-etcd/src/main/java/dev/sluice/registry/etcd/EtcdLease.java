package dev.sluice.registry.etcd;

import static dev.sluice.registry.etcd.EtcdCalls.await;
import static dev.sluice.registry.etcd.EtcdCalls.describe;
import static dev.sluice.registry.etcd.EtcdCalls.notFound;

import dev.sluice.registry.NodeValue;
import dev.sluice.registry.RegistryLifecycle;
import dev.sluice.registry.ValueReporter;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's etcd lease, etcd's counterpart of a ZooKeeper session: granted, kept alive, and
 * granted anew when lost, with the connection state that follows from it.
 *
 * <p>A failed keep-alive stream while the lease may still live means "unreachable": reported to the
 * holder at once, on jetcd's thread (the worker may itself be waiting on etcd, and {@code
 * on-registry-loss=cut-off} counts its grace from that report); then etcd is asked every 500 ms
 * whether it answers and the lease lives. A lease etcd no longer knows, or whose keep-alives went
 * unanswered for its time to live, is lost: a new one is granted at once. Everything else runs on
 * the registry's worker thread; jetcd's callbacks only hand work to it.
 */
final class EtcdLease {

  private static final Logger log = LoggerFactory.getLogger(EtcdLease.class);

  /** What the lease is for. */
  interface Holder {
    /** Worker: lease {@code id} was granted and is kept alive; register under it, or throw. */
    void granted(long id) throws Exception;

    /** Worker: the lease is in force; the first time, read and watch, or throw. */
    void established() throws Exception;

    /** Worker: the first lease was established and reported connected. */
    void ready();

    /**
     * The connection came ({@code true}) or went: on the worker, or at once on jetcd's thread when
     * a keep-alive stream failed. Called under a lock, one report at a time, never twice the same.
     */
    void connection(boolean connected);

    /** Worker: after {@code connection(true)}: retry what waited for the connection. */
    void reconnected();
  }

  private final Lease leases;
  private final long ttlSeconds;
  private final String registry;
  private final long timeoutMs;
  private final String instancePath;
  private final ValueReporter values;
  private final RegistryLifecycle lifecycle;
  private final ScheduledExecutorService worker;
  private final Executor handOff;
  private final Holder holder;

  // Read anywhere; the lease is written on the worker thread only, the connection flag (and the
  // holder's connection reports) under connectionLock.
  private final Object connectionLock = new Object();
  private volatile long lease;
  private volatile boolean connected;

  // Worker thread only.
  private volatile CloseableClient keepAlive;
  private int failedAttempts;
  private boolean probing;
  // when etcd last answered for the lease in force (a keep-alive, a probe, the grant)
  private volatile long answeredNanos;

  /**
   * @param ttlSeconds the lease's time to live
   * @param registry names the registry in the log, e.g. {@code etcd://h1:2379}
   * @param instancePath and {@code values}: what the log says comes back after a lost lease
   * @param handOff hands jetcd's callbacks to the worker thread
   */
  EtcdLease(
      Lease leases,
      long ttlSeconds,
      String registry,
      long timeoutMs,
      String instancePath,
      ValueReporter values,
      RegistryLifecycle lifecycle,
      ScheduledExecutorService worker,
      Executor handOff,
      Holder holder) {
    this.leases = leases;
    this.ttlSeconds = ttlSeconds;
    this.registry = registry;
    this.timeoutMs = timeoutMs;
    this.instancePath = instancePath;
    this.values = values;
    this.lifecycle = lifecycle;
    this.worker = worker;
    this.handOff = handOff;
    this.holder = holder;
  }

  /** The lease in force, 0 for none. */
  long id() {
    return lease;
  }

  /** Whether a lease is in force and etcd answers. */
  boolean isConnected() {
    return connected && lease != 0;
  }

  /**
   * Worker: grants a lease, keeps it alive and hands it to the holder; on failure gives it back and
   * tries again, backing off from 250 ms to 5 s.
   */
  void establish() {
    if (!lifecycle.running() || lease != 0) {
      return;
    }
    long granted = 0;
    try {
      granted = await(leases.grant(ttlSeconds), timeoutMs).getID();
      long id = granted;
      keepAlive = leases.keepAlive(id, keepAliveObserver(id));
      holder.granted(id);
      lease = id;
      holder.established();
      failedAttempts = 0;
      answeredNanos = System.nanoTime();
      setConnected(true);
      holder.ready();
      watchSilence(id);
    } catch (Exception e) {
      if (keepAlive != null) {
        keepAlive.close();
        keepAlive = null;
      }
      lease = 0;
      if (granted != 0) {
        leases.revoke(granted);
      }
      long delay = Math.min(5000, 250L << Math.min(failedAttempts, 5));
      if (failedAttempts++ == 0) {
        log.warn(
            "no lease from {}: {}; retrying in the background, the application goes on with the"
                + " last known state",
            registry,
            describe(e));
      } else {
        log.debug("{} still unreachable: {}", registry, describe(e));
      }
      setConnected(false);
      worker.schedule(this::establish, delay, TimeUnit.MILLISECONDS);
    }
  }

  private StreamObserver<LeaseKeepAliveResponse> keepAliveObserver(long id) {
    return new StreamObserver<>() {
      @Override
      public void onNext(LeaseKeepAliveResponse response) {
        handOff.execute(() -> keepAliveAnswered(id));
      }

      @Override
      public void onError(Throwable t) {
        if (!notFound(t)) {
          connectionBroken(id, t); // at once: the worker may be busy
        }
        handOff.execute(() -> keepAliveFailed(id, t));
      }

      @Override
      public void onCompleted() {
        handOff.execute(
            () -> lost(id, "no keep-alive was answered within the lease's time to live"));
      }
    };
  }

  private void keepAliveAnswered(long id) {
    if (id != lease) {
      return;
    }
    answeredNanos = System.nanoTime();
    if (!connected) {
      setConnected(true);
    }
  }

  /**
   * Worker, every quarter of the time to live while lease {@code id} is in force: a keep-alive
   * stream that neither answers nor fails (its error can come before the lease is in force, and be
   * dropped, when etcd goes away while a lease is being established) is taken as etcd unreachable
   * once no answer came for the lease's time to live; the stream is opened again, and the probe
   * finds out whether etcd and the lease are back.
   */
  private void watchSilence(long id) {
    long periodMs = Math.max(250, ttlSeconds * 1000 / 4);
    worker.schedule(
        () -> {
          if (id != lease || !lifecycle.running()) {
            return;
          }
          long silentMs = (System.nanoTime() - answeredNanos) / 1_000_000;
          if (connected && silentMs > ttlSeconds * 1000) {
            connectionBroken(
                id, new TimeoutException("no keep-alive was answered for " + silentMs + " ms"));
            if (keepAlive != null) {
              keepAlive.close();
            }
            keepAlive = leases.keepAlive(id, keepAliveObserver(id));
            probe();
          }
          watchSilence(id);
        },
        periodMs,
        TimeUnit.MILLISECONDS);
  }

  private void keepAliveFailed(long id, Throwable t) {
    if (id != lease) {
      return;
    }
    if (notFound(t)) {
      lost(id, "etcd no longer knows the lease");
      return;
    }
    connectionBroken(id, t);
    probe();
  }

  /**
   * Any thread: the keep-alive stream of lease {@code id} failed while the lease may still live.
   * Reported to the listener at once rather than through the worker, which may be waiting on etcd
   * itself: {@code on-registry-loss=cut-off} counts its grace from this report.
   */
  private void connectionBroken(long id, Throwable t) {
    synchronized (connectionLock) {
      if (id != lease || !connected || !lifecycle.running()) {
        return;
      }
      log.warn("{} unreachable ({}); going on with the last known state", registry, describe(t));
      connected = false;
      holder.connection(false);
    }
  }

  /** While the connection is down, asks every 500 ms whether etcd answers and the lease lives. */
  private void probe() {
    if (probing || !lifecycle.running()) {
      return;
    }
    probing = true;
    worker.schedule(
        () -> {
          probing = false;
          long id = lease;
          if (!lifecycle.running() || id == 0 || connected) {
            return;
          }
          try {
            await(leases.keepAliveOnce(id), timeoutMs);
            answeredNanos = System.nanoTime();
            setConnected(true);
          } catch (Exception e) {
            if (notFound(e)) {
              lost(id, "etcd no longer knows the lease");
            } else {
              probe();
            }
          }
        },
        500,
        TimeUnit.MILLISECONDS);
  }

  /** Worker: lease {@code id} ended ({@code why}); a new one is established at once. */
  void lost(long id, String why) {
    if (id != lease || !lifecycle.running()) {
      return;
    }
    log.warn(
        "etcd lease 0x{} lost ({}); {} will be re-created with its last known value {}",
        Long.toHexString(id),
        why,
        instancePath,
        NodeValue.printable(values.lastKnownValue()));
    lease = 0;
    if (keepAlive != null) {
      keepAlive.close();
      keepAlive = null;
    }
    setConnected(false);
    establish();
  }

  private void setConnected(boolean now) {
    synchronized (connectionLock) {
      if (connected == now || !lifecycle.running()) {
        return;
      }
      connected = now;
      if (now) {
        log.info("{} connected (lease 0x{})", registry, Long.toHexString(lease));
      }
      holder.connection(now);
    }
    if (now) {
      holder.reconnected();
    }
  }

  /**
   * Stops keeping the lease alive and revokes it, which deletes the instance key at once, as
   * closing a ZooKeeper session does. Called once, from the registry's close, after the worker
   * stopped.
   */
  void close(long revokeTimeoutMs) {
    long id = lease;
    if (keepAlive != null) {
      keepAlive.close();
    }
    if (id != 0) {
      try {
        await(leases.revoke(id), revokeTimeoutMs);
      } catch (Exception e) {
        log.warn(
            "could not revoke lease 0x{} ({}); {} goes away when the lease expires",
            Long.toHexString(id),
            describe(e),
            instancePath);
      }
    }
  }
}
