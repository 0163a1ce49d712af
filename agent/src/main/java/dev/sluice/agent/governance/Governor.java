package dev.sluice.agent.governance;

import dev.sluice.bootstrap.ConnectionGovernor;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces the current {@link GovernanceState} on every JDBC connect and pool borrow. The allow
 * path is one volatile read and allocates nothing; refusals carry SQLState {@code 08004}.
 *
 * <p>The first connection of the JVM waits at most {@code initialSyncMs} for the registry's first
 * full read, so that a state written before the application started is honoured from the start.
 */
public final class Governor implements ConnectionGovernor, AutoCloseable {

  /** SQLState of a refused connection: "server rejected the connection". */
  public static final String SQLSTATE_REJECTED = "08004";

  private static final Logger log = LoggerFactory.getLogger(Governor.class);

  private final long initialSyncMs;
  private final long cutoffGraceMs;
  private final WeakIdentitySet<Connection> open = new WeakIdentitySet<>();
  private final StaleConnections stale = new StaleConnections();
  private final CutOff cutOff = new CutOff(stale::aborted);
  private final CountDownLatch initialSync = new CountDownLatch(1);
  private final AtomicBoolean faultReported = new AtomicBoolean();
  private final BiConsumer<GovernanceState, GovernanceState> onChange;

  private volatile GovernanceState state = GovernanceState.OPEN;
  private volatile boolean synced;

  /**
   * @param onChange told of every applied change (old, new), on the applying thread
   */
  public Governor(
      long initialSyncMs,
      long cutoffGraceMs,
      BiConsumer<GovernanceState, GovernanceState> onChange) {
    this.initialSyncMs = initialSyncMs;
    this.cutoffGraceMs = cutoffGraceMs;
    this.onChange = onChange;
  }

  /** The state in force now. */
  public GovernanceState state() {
    return state;
  }

  /** The registry's first full read is in (or there is no registry): stop holding connects. */
  public void initialSyncDone() {
    synced = true;
    initialSync.countDown();
  }

  /**
   * Puts a new state in force. New connections see it at once; when it cuts off more than the old
   * one, open connections are aborted after {@code cutoff.grace-ms}.
   */
  public synchronized void update(UnaryOperator<GovernanceState> change) {
    GovernanceState previous = state;
    GovernanceState next = change.apply(previous);
    state = next;
    if (next.cutOff() && !previous.cutOff()) {
      List<Connection> connections = open.snapshot();
      log.warn(
          "{}; refusing new connections and aborting {} open connection(s){}",
          next.refusal(),
          connections.size(),
          cutoffGraceMs > 0 ? " after " + cutoffGraceMs + " ms" : "");
      cutOff.abortLater(connections, cutoffGraceMs, () -> state.cutOff());
    } else if (previous.cutOff() && !next.cutOff()) {
      log.info("database access restored");
    }
    if (previous.cutOff() != next.cutOff()
        || previous.instanceDisabled() != next.instanceDisabled()) {
      onChange.accept(previous, next);
    }
  }

  @Override
  public Throwable checkConnect(String url) {
    return check();
  }

  @Override
  public Throwable checkBorrow(Object dataSource) {
    return check();
  }

  private SQLException check() {
    if (!synced) {
      awaitInitialSync();
    }
    GovernanceState s = state;
    return s.cutOff() ? new SQLTransientConnectionException(s.refusal(), SQLSTATE_REJECTED) : null;
  }

  @Override
  public void connected(String url, Object connection) {
    if (!(connection instanceof Connection)) {
      return;
    }
    Connection c = (Connection) connection;
    open.add(c);
    // A connect that passed the check just before a cut-off must not slip through the sweep.
    if (state.cutOff()) {
      cutOff.abortNow(c);
    }
  }

  @Override
  public Object borrowed(Object dataSource, Object connection) {
    return stale.replaceIfStale(dataSource, connection);
  }

  @Override
  public void fault(String where, Throwable fault) {
    if (faultReported.compareAndSet(false, true)) {
      log.error(
          "internal fault in {}; the application goes on as if the agent were absent here",
          where,
          fault);
    } else {
      log.debug("internal fault in {}: {}", where, fault.toString());
    }
  }

  private void awaitInitialSync() {
    try {
      if (!initialSync.await(initialSyncMs, TimeUnit.MILLISECONDS) && !synced) {
        synced = true;
        log.warn(
            "the registry's state was not read within registry.initial-sync-ms={} ms; connecting"
                + " with the state known so far and applying the registry's when it arrives",
            initialSyncMs);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    cutOff.close();
  }
}
