package dev.sluice.registry;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A registry's life: {@code LATENT → STARTED → CLOSED}, each step once, as in Curator's recipes.
 * Thread-safe.
 */
public final class RegistryLifecycle {

  private enum State {
    LATENT,
    STARTED,
    CLOSED
  }

  private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);

  /**
   * Moves from latent to started.
   *
   * @throws IllegalStateException when started or closed before
   */
  public void start() {
    if (!state.compareAndSet(State.LATENT, State.STARTED)) {
      throw new IllegalStateException("already started or closed");
    }
  }

  /** Whether started and not closed: events that arrive otherwise are dropped. */
  public boolean running() {
    return state.get() == State.STARTED;
  }

  /**
   * Moves to closed; idempotent.
   *
   * @return whether this call ended a started registry, so that the caller releases what start
   *     acquired exactly once
   */
  public boolean close() {
    return state.getAndSet(State.CLOSED) == State.STARTED;
  }

  /**
   * The one daemon thread {@code sluice-registry} on which a registry does all its work, so that
   * nothing it does blocks the application or runs on the client library's threads.
   */
  public static ScheduledExecutorService newWorker() {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "sluice-registry");
          t.setDaemon(true);
          return t;
        });
  }
}
