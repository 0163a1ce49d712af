package dev.sluice.agent.governance;

import dev.sluice.bootstrap.ConnectionGovernor;
import java.sql.Connection;
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
 * Enforces the current {@link GovernanceState} on every JDBC connect and pool borrow, for the whole
 * JVM and per datasource. While nothing is cut off, the allow path is one volatile read and
 * allocates nothing; refusals carry SQLState {@code 08004}.
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
  private final DatasourceCatalog catalog;
  private final StaleConnections stale = new StaleConnections();
  private final CutOff cutOff = new CutOff(stale::aborted);
  private final CountDownLatch initialSync = new CountDownLatch(1);
  private final AtomicBoolean faultReported = new AtomicBoolean();
  private final BiConsumer<GovernanceState, GovernanceState> onChange;

  private volatile GovernanceState state = GovernanceState.OPEN;
  private volatile boolean synced;
  private volatile boolean failClosed;

  /**
   * @param onChange told of every applied change (old, new), on the applying thread
   */
  public Governor(
      long initialSyncMs,
      long cutoffGraceMs,
      DatasourceCatalog catalog,
      BiConsumer<GovernanceState, GovernanceState> onChange) {
    this.initialSyncMs = initialSyncMs;
    this.cutoffGraceMs = cutoffGraceMs;
    this.catalog = catalog;
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
   * Puts a new state in force. New connections see it at once; connections of whatever it newly
   * cuts off are aborted after {@code cutoff.grace-ms}.
   */
  public synchronized void update(UnaryOperator<GovernanceState> change) {
    GovernanceState previous = state;
    GovernanceState next = change.apply(previous);
    if (next == previous) {
      return;
    }
    state = next;
    if (next.cutOff() && !previous.cutOff()) {
      int aborting = 0;
      for (Datasource d : catalog.all()) {
        aborting += abortLater(d);
      }
      log.warn(
          "{}; refusing new connections and aborting {} open connection(s){}",
          next.refusal(),
          aborting,
          grace());
    } else if (previous.cutOff() && !next.cutOff()) {
      log.info("database access restored");
    }
    for (String path : next.disabledDatasources()) {
      if (!previous.datasourceDisabled(path)) {
        Datasource d = catalog.byPath(path);
        if (d == null) {
          log.info("{} is DISABLED: connections to it will be refused", path);
        } else {
          // with the whole JVM cut off, its connections are being aborted already
          int aborting = next.cutOff() ? 0 : abortLater(d);
          log.warn("{}; aborting {} open connection(s){}", d.refusal(), aborting, grace());
        }
      }
    }
    for (String path : previous.disabledDatasources()) {
      if (!next.datasourceDisabled(path)) {
        log.info("{} is enabled again", path);
      }
    }
    onChange.accept(previous, next);
  }

  private String grace() {
    return cutoffGraceMs > 0 ? " after " + cutoffGraceMs + " ms" : "";
  }

  /** Schedules the abort of the datasource's open connections; returns how many. */
  private int abortLater(Datasource d) {
    List<Connection> open = d.openNow();
    cutOff.abortLater(open, cutoffGraceMs, () -> state.cutOff(d.path()), d.aborted::increment);
    return open.size();
  }

  @Override
  public Throwable checkConnect(String url) {
    if (!synced) {
      awaitInitialSync();
    }
    GovernanceState s = state;
    if (s.cutOff()) {
      catalog.forUrl(url).refused.increment();
      return refuse(s.refusal());
    }
    if (s.anyDatasourceDisabled()) {
      Datasource d = catalog.forUrl(url);
      if (s.datasourceDisabled(d.path())) {
        d.refused.increment();
        return refuse(d.refusal());
      }
    }
    return null;
  }

  @Override
  public Throwable checkBorrow(Object dataSource) {
    if (!synced) {
      awaitInitialSync();
    }
    GovernanceState s = state;
    if (s.cutOff()) {
      Datasource d = catalog.forDataSource(dataSource);
      if (d != null) {
        d.refused.increment();
      }
      return refuse(s.refusal());
    }
    if (s.anyDatasourceDisabled()) {
      Datasource d = catalog.forDataSource(dataSource);
      if (d != null && s.datasourceDisabled(d.path())) {
        d.refused.increment();
        return refuse(d.refusal());
      }
    }
    return null;
  }

  private static SQLTransientConnectionException refuse(String message) {
    return new SQLTransientConnectionException(message, SQLSTATE_REJECTED);
  }

  @Override
  public void connected(String url, Object connection) {
    if (!(connection instanceof Connection)) {
      return;
    }
    Connection c = (Connection) connection;
    Datasource d = catalog.forUrl(url);
    d.track(c);
    // A connect that passed the check just before a cut-off must not slip through the sweep.
    if (state.cutOff(d.path())) {
      cutOff.abortNow(c, d.aborted::increment);
    }
  }

  @Override
  public Object borrowed(Object dataSource, Object connection) {
    if (state.anyDatasourceDisabled()
        && connection instanceof Connection
        && !catalog.knows(dataSource)) {
      catalog.learnFrom(dataSource, (Connection) connection);
    }
    return stale.replaceIfStale(dataSource, connection);
  }

  /**
   * Fail closed: answer the agent's own faults on a check with a refusal, as {@code
   * on-registry-loss=cut-off} asks. Otherwise they let the connection through.
   */
  public void failClosed(boolean failClosed) {
    this.failClosed = failClosed;
  }

  @Override
  public Throwable fault(String where, Throwable fault) {
    boolean refuse = failClosed;
    if (faultReported.compareAndSet(false, true)) {
      log.error(
          refuse
              ? "internal fault in {}; refusing database access while it lasts, as"
                  + " on-registry-loss=cut-off asks"
              : "internal fault in {}; the application goes on as if the agent were absent here",
          where,
          fault);
    } else {
      log.debug("internal fault in {}: {}", where, fault.toString());
    }
    return refuse
        ? refuse(
            "Sluice: the agent failed in "
                + where
                + " ("
                + fault.getClass().getSimpleName()
                + "); refusing because on-registry-loss=cut-off")
        : null;
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
