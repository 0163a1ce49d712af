package dev.sluice.agent.governance;

import java.sql.Connection;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aborts open connections of a cut-off target. {@link Connection#abort} releases the socket so a
 * statement in flight fails with the driver's own exception and the server rolls back the open
 * transaction. Some drivers ignore {@code abort} (H2 2.x does): such a connection is closed
 * instead, so it is unusable all the same.
 */
final class CutOff implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CutOff.class);

  private final ScheduledExecutorService timer;
  private final ExecutorService aborters;
  private final Consumer<Connection> onAborted;

  /**
   * @param onAborted told of every connection this aborts
   */
  CutOff(Consumer<Connection> onAborted) {
    this.onAborted = onAborted;
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
   * After {@code graceMs}, aborts each connection while {@code stillCutOff} holds; a target
   * re-enabled within the grace period keeps its connections.
   */
  void abortLater(
      List<Connection> connections,
      long graceMs,
      BooleanSupplier stillCutOff,
      Runnable countAborted) {
    if (connections.isEmpty()) {
      return;
    }
    Runnable abortAll =
        () -> {
          if (!stillCutOff.getAsBoolean()) {
            return;
          }
          for (Connection c : connections) {
            aborters.execute(() -> abort(c, countAborted));
          }
        };
    if (graceMs <= 0) {
      abortAll.run();
    } else {
      timer.schedule(abortAll, graceMs, TimeUnit.MILLISECONDS);
    }
  }

  /** Aborts one connection now. */
  void abortNow(Connection c, Runnable countAborted) {
    aborters.execute(() -> abort(c, countAborted));
  }

  private void abort(Connection c, Runnable countAborted) {
    try {
      if (c.isClosed()) {
        return;
      }
      onAborted.accept(c);
      countAborted.run();
      c.abort(Runnable::run);
      if (!c.isClosed()) {
        c.close();
      }
    } catch (Throwable t) {
      log.debug("aborting {} failed: {}", c.getClass().getName(), t.toString());
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    aborters.shutdownNow();
  }
}
