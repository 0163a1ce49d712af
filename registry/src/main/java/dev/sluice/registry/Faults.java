package dev.sluice.registry;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;

/**
 * Runs the agent's own reactions to registry events so that a fault in them is logged (with its
 * stack trace the first time per place, briefly after that) and goes no further: the registry
 * client keeps running, and the state in force stays what it was.
 */
public final class Faults {

  private final Logger log;
  private final Set<String> reported = ConcurrentHashMap.newKeySet();

  public Faults(Logger log) {
    this.log = log;
  }

  /**
   * Runs {@code task}; a fault is logged under {@code where}.
   *
   * @return whether the task ran to its end, so that a caller can try again what failed
   */
  public boolean guard(String where, Runnable task) {
    try {
      task.run();
      return true;
    } catch (RuntimeException | LinkageError | AssertionError fault) {
      if (reported.add(where)) {
        log.error(
            "internal fault while handling {}; going on with the last known state", where, fault);
      } else {
        log.warn("internal fault while handling {} again: {}", where, fault.toString());
      }
      return false;
    }
  }

  /**
   * Hands {@code task} to {@code worker}, guarded as by {@link #guard}; once the worker is shut
   * down (the registry closed) the task is dropped.
   */
  public void execute(Executor worker, String where, Runnable task) {
    try {
      worker.execute(() -> guard(where, task));
    } catch (RejectedExecutionException closed) {
      log.debug("{} dropped: the registry is closed", where);
    }
  }
}
