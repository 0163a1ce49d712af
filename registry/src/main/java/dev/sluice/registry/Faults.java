package dev.sluice.registry;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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

  /** Runs {@code task}; a fault is logged under {@code where}. */
  public void guard(String where, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException | LinkageError | AssertionError fault) {
      if (reported.add(where)) {
        log.error(
            "internal fault while handling {}; going on with the last known state", where, fault);
      } else {
        log.warn("internal fault while handling {} again: {}", where, fault.toString());
      }
    }
  }
}
