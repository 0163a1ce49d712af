package dev.sluice.agent.control;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The moment the application's start-up has settled: its class loading has been quiet for {@link
 * #QUIET_MS}, or {@link #LATEST_MS} have passed, however busy it is. Start-up work of the agent's
 * that no connect waits for (the MXBeans) is done then, on the control thread, so that it does not
 * compete with the application's own start-up for the CPU.
 */
final class Quiet {

  /** How often the class count is looked at, and how long it must stay still. */
  static final long QUIET_MS = 100;

  /** The latest the moment comes after start. */
  static final long LATEST_MS = 5_000;

  private final ScheduledExecutorService timer;
  private final List<Runnable> waiting = new ArrayList<>();
  private ScheduledFuture<?> looking;
  private boolean reached;

  /**
   * Starts looking at {@code classesLoaded} on {@code timer}.
   *
   * @param classesLoaded a count that moves when a class is loaded; {@code null}: the JVM's own
   */
  Quiet(ScheduledExecutorService timer, LongSupplier classesLoaded) {
    this.timer = timer;
    LongSupplier classes =
        classesLoaded != null
            ? classesLoaded
            : ManagementFactory.getClassLoadingMXBean()::getTotalLoadedClassCount;
    long start = System.nanoTime();
    long[] last = {-1};
    synchronized (this) {
      looking =
          timer.scheduleWithFixedDelay(
              () -> {
                long now = classes.getAsLong();
                boolean still = now == last[0];
                last[0] = now;
                if (still
                    || TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) >= LATEST_MS) {
                  reach();
                }
              },
              QUIET_MS,
              QUIET_MS,
              TimeUnit.MILLISECONDS);
    }
  }

  /** Runs {@code task} on the timer once the moment has come (soon, if it has). */
  void then(Runnable task) {
    synchronized (this) {
      if (!reached) {
        waiting.add(task);
        return;
      }
    }
    timer.execute(task);
  }

  private void reach() {
    List<Runnable> tasks;
    synchronized (this) {
      if (reached) {
        return;
      }
      reached = true;
      looking.cancel(false);
      tasks = new ArrayList<>(waiting);
      waiting.clear();
    }
    for (Runnable t : tasks) {
      t.run(); // on the timer already
    }
  }
}
