package dev.sluice.agent.governance;

import java.sql.Connection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.sql.PooledConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aborts open connections of a cut-off target. {@link Connection#abort} releases the socket so a
 * statement in flight fails with the driver's own exception and the server rolls back the open
 * transaction. Some drivers ignore {@code abort} (H2 2.x does): such a connection is closed
 * instead, so it is unusable all the same. A pooled (or XA) connection whose physical connection
 * the agent has not seen is aborted through the handle it lent last, and closed only if it never
 * lent one.
 */
final class CutOff implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CutOff.class);

  /** How long an abort started without a grace period is waited for, at most. */
  static final long ABORT_WAIT_MS = 500;

  /** What {@link #abortLater} returns when there is nothing to wait for. */
  static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final ScheduledExecutorService timer;
  private final ExecutorService aborters;
  private final Consumer<Object> onAborted;
  private final Function<Object, Connection> handleOf;
  private final PooledAbort pooledAbort = new PooledAbort();

  /**
   * @param onAborted told of every connection (a pooled one and its handle) this aborts, before it
   *     does
   * @param handleOf the handle a tracked pooled connection lent last, or {@code null}
   */
  CutOff(Consumer<Object> onAborted, Function<Object, Connection> handleOf) {
    this.onAborted = onAborted;
    this.handleOf = handleOf;
    AtomicInteger n = new AtomicInteger();
    timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "sluice-cutoff-timer");
              t.setDaemon(true);
              return t;
            });
    // Several threads, so that one driver blocking in close() cannot hold up the others.
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            8,
            8,
            10,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "sluice-cutoff-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    pool.allowCoreThreadTimeOut(true);
    aborters = pool;
  }

  /**
   * After {@code graceMs}, aborts each connection while {@code stillCutOff} holds, and then runs
   * {@code then}; a target re-enabled within the grace period keeps its connections. Returns what
   * completes when an abort started now (no grace) is done with every connection, or {@value
   * #ABORT_WAIT_MS} ms later if a driver takes longer; with a grace period it is complete already.
   */
  CompletableFuture<Void> abortLater(
      List<Object> connections,
      long graceMs,
      BooleanSupplier stillCutOff,
      Runnable countAborted,
      Runnable then) {
    if (graceMs > 0) {
      timer.schedule(
          () -> abortAll(connections, stillCutOff, countAborted, then, null),
          graceMs,
          TimeUnit.MILLISECONDS);
      return DONE;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    abortAll(connections, stillCutOff, countAborted, then, done);
    if (!done.isDone()) {
      timer.schedule(
          () -> {
            if (done.complete(null)) {
              log.info(
                  "connections still being aborted after {} ms; going on without them",
                  ABORT_WAIT_MS);
            }
          },
          ABORT_WAIT_MS,
          TimeUnit.MILLISECONDS);
    }
    return done;
  }

  /** Aborts each connection on the aborting threads; completes {@code done} when all are done. */
  private void abortAll(
      List<Object> connections,
      BooleanSupplier stillCutOff,
      Runnable countAborted,
      Runnable then,
      CompletableFuture<Void> done) {
    boolean still = stillCutOff.getAsBoolean();
    if (!still || connections.isEmpty()) {
      if (done != null) {
        done.complete(null); // nothing to wait for
      }
      if (still) {
        aborters.execute(then);
      }
      return;
    }
    AtomicInteger remaining = new AtomicInteger(connections.size());
    for (Object c : connections) {
      aborters.execute(
          () -> {
            try {
              abort(c, countAborted);
            } finally {
              if (remaining.decrementAndGet() == 0 && done != null) {
                done.complete(null);
              }
            }
          });
    }
    aborters.execute(then);
  }

  /** Aborts one connection (or pooled connection) now. */
  void abortNow(Object c, Runnable countAborted) {
    aborters.execute(() -> abort(c, countAborted));
  }

  /**
   * Aborts one connection (or pooled connection) now, on the calling thread. Only for one that
   * nothing of the application's runs on (a connection a pool has just lent): a driver whose {@code
   * close} waits for a statement in flight would hold the caller up.
   */
  void abortHere(Object c, Runnable countAborted) {
    abort(c, countAborted);
  }

  /** Runs {@code task} soon, on one of the threads that abort. */
  void run(Runnable task) {
    aborters.execute(task);
  }

  private void abort(Object unit, Runnable countAborted) {
    try {
      Connection c = unit instanceof Connection ? (Connection) unit : handleOf.apply(unit);
      if (c == null) {
        // a pooled connection that never lent a handle: no pool lends it yet, close it
        onAborted.accept(unit);
        countAborted.run();
        ((PooledConnection) unit).close();
        return;
      }
      if (c.isClosed() && c == unit) {
        return;
      }
      onAborted.accept(unit);
      if (c != unit) {
        onAborted.accept(c);
      }
      countAborted.run();
      if (!pooledAbort.abortIfPooled(c)) {
        try {
          c.abort(Runnable::run);
        } finally {
          if (!c.isClosed()) {
            c.close();
          }
        }
      }
    } catch (Throwable t) {
      log.debug("aborting {} failed: {}", unit.getClass().getName(), t.toString());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    aborters.shutdownNow();
  }
}
