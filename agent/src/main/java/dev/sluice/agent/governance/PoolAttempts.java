package dev.sluice.agent.governance;

import java.security.CodeSource;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a pool's own attempt to open a connection through a cut-off, instead of refusing it.
 *
 * <p>Pools back off after a failed attempt to open a connection (c3p0 waits {@code
 * acquireRetryDelay}, 1 s by default, and lets every borrow wait for that retry; HikariCP's creator
 * doubles its pause up to 5 s). Refused at once during a cut-off, a pool would sit out its pause
 * after the re-enable, and the application's borrows with it. A pool's own attempt (made on its own
 * thread to fill or refill itself, not on behalf of a borrow) is held instead, until access is back
 * (it then goes ahead at once) or at most {@link #HOLD_MS} (then it is refused): long enough for a
 * usual toggle, short enough that no pool takes its thread for dead (c3p0 reports tasks that do not
 * move for 10 s as a deadlock).
 *
 * <p>An attempt is the pool's own when the code that made it comes from the same jar as a data
 * source the agent knows, and no borrow of a data source is in progress on the thread (the
 * application's borrow is refused at once, whatever pool it goes through). The application's own
 * attempts are always refused at once. The stack is looked at only when an attempt is refused.
 *
 * <p>Not held: the attempts of a pool that drops the connections the agent aborted with a flush of
 * its own ({@link PoolEviction#flushes}, Agroal). That flush is a task of the pool's own thread,
 * the same thread that opens its connections: held there, an attempt would hold the flush behind it
 * until the re-enable, and a borrow right then (which enlists the connection in a transaction
 * before the agent sees it) would meet an aborted connection. Refused at once, the attempt lets the
 * flush run within the cut-off; the pool opens connections again on the next borrow.
 */
final class PoolAttempts {

  private static final Logger log = LoggerFactory.getLogger(PoolAttempts.class);

  /** The longest a pool's attempt is held. */
  static final long HOLD_MS = 5000;

  private static final StackWalker WALKER =
      StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

  private static final Set<String> BORROWS =
      Set.of("getConnection", "getXAConnection", "getPooledConnection", "connect");

  private final Supplier<Set<Class<?>>> poolClasses;
  private final Predicate<Class<?>> holds;
  private final Object changed = new Object();
  private volatile boolean closed;

  /**
   * @param poolClasses the classes of the data sources the agent knows
   * @param holds whether the own attempts of the pool of a data source class are held
   */
  PoolAttempts(Supplier<Set<Class<?>>> poolClasses, Predicate<Class<?>> holds) {
    this.poolClasses = poolClasses;
    this.holds = holds;
  }

  /**
   * Waits while {@code cutOff} holds, at most {@link #HOLD_MS}, if the attempt on this thread is a
   * pool's own; returns at once otherwise. The caller checks the state again afterwards.
   */
  void holdIfPoolsOwn(BooleanSupplier cutOff) {
    if (closed || !isPoolsOwn()) {
      return;
    }
    long deadline = System.nanoTime() + HOLD_MS * 1_000_000;
    log.debug("holding a pool's own connection attempt while cut off");
    synchronized (changed) {
      try {
        for (long left = HOLD_MS; cutOff.getAsBoolean() && !closed && left > 0; ) {
          changed.wait(left);
          left = (deadline - System.nanoTime()) / 1_000_000;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the pool wants its thread back: refused now
      }
    }
  }

  /** The state changed: held attempts look again. */
  void stateChanged() {
    synchronized (changed) {
      changed.notifyAll();
    }
  }

  /** Lets every held attempt go (to be refused); holds no more. */
  void close() {
    closed = true;
    stateChanged();
  }

  /**
   * Whether the attempt on this thread is a pool's own: outside the agent and the JDK, the first
   * caller of the refused call comes from a known data source's jar, and no other borrow or connect
   * is in progress further out.
   */
  private boolean isPoolsOwn() {
    Set<Class<?>> pools = poolClasses.get();
    if (pools.isEmpty()) {
      return false;
    }
    return WALKER.walk(
        frames -> {
          boolean[] inRefusedCall = {true};
          Optional<Boolean> verdict =
              frames
                  .filter(f -> !internal(f.getDeclaringClass()))
                  .map(
                      f -> {
                        boolean borrowFrame = BORROWS.contains(f.getMethodName());
                        if (inRefusedCall[0]) {
                          if (borrowFrame) {
                            return null; // the refused call itself (and what it calls through)
                          }
                          inRefusedCall[0] = false;
                          return ofAPool(f.getDeclaringClass(), pools, holds)
                              ? null // a pool's code: look further out for a borrow
                              : Boolean.FALSE;
                        }
                        return borrowFrame ? Boolean.FALSE : null;
                      })
                  .filter(v -> v != null)
                  .findFirst();
          return verdict.orElse(!inRefusedCall[0]);
        });
  }

  /**
   * Whether {@code c} is the code of a pool whose attempts are held: from the jar of a known data
   * source's class, and in the same package family (so that an application packed into one jar with
   * its pool is not taken for the pool).
   */
  private static boolean ofAPool(Class<?> c, Set<Class<?>> pools, Predicate<Class<?>> holds) {
    CodeSource source = codeSource(c);
    if (source == null || source.getLocation() == null) {
      return false;
    }
    String family = family(c.getName());
    for (Class<?> pool : pools) {
      if (!holds.test(pool)) {
        continue;
      }
      CodeSource poolSource = codeSource(pool);
      if (poolSource != null
          && source.getLocation().equals(poolSource.getLocation())
          && family.equals(family(pool.getName()))) {
        return true;
      }
    }
    return false;
  }

  /** The first two segments of a class name's package: {@code com.zaxxer}, {@code oracle.ucp}. */
  private static String family(String className) {
    int first = className.indexOf('.');
    int second = first < 0 ? -1 : className.indexOf('.', first + 1);
    return second < 0 ? className : className.substring(0, second);
  }

  private static boolean internal(Class<?> c) {
    String name = c.getName();
    return name.startsWith("java.")
        || name.startsWith("jdk.")
        || name.startsWith("sun.")
        || name.startsWith("dev.sluice.");
  }

  private static CodeSource codeSource(Class<?> c) {
    try {
      return c.getProtectionDomain().getCodeSource();
    } catch (RuntimeException e) {
      return null;
    }
  }
}
