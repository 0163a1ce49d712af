package dev.sluice.agent.governance;

import java.sql.Connection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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
   * {@code then}; a target re-enabled within the grace period keeps its connections. Returns a
   * latch that reaches zero when an abort started now (no grace) is done with every connection;
   * with a grace period it is at zero already.
   */
  CountDownLatch abortLater(
      List<Object> connections,
      long graceMs,
      BooleanSupplier stillCutOff,
      Runnable countAborted,
      Runnable then) {
    CountDownLatch done = new CountDownLatch(graceMs <= 0 ? connections.size() : 0);
    Runnable abortAll =
        () -> {
          if (!stillCutOff.getAsBoolean()) {
            for (long n = done.getCount(); n > 0; n--) {
              done.countDown(); // nothing to wait for
            }
            return;
          }
          for (Object c : connections) {
            aborters.execute(
                () -> {
                  try {
                    abort(c, countAborted);
                  } finally {
                    done.countDown();
                  }
                });
          }
          aborters.execute(then);
        };
    if (graceMs <= 0) {
      abortAll.run();
    } else {
      timer.schedule(abortAll, graceMs, TimeUnit.MILLISECONDS);
    }
    return done;
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
