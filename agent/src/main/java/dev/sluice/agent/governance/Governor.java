package dev.sluice.agent.governance;

import dev.sluice.agent.governance.Frames.Frame;
import dev.sluice.agent.governance.KnownDataSources.Entry;
import dev.sluice.agent.governance.KnownDataSources.Kind;
import dev.sluice.agent.governance.TrackedConnections.Tracked;
import dev.sluice.bootstrap.ConnectionGovernor;
import dev.sluice.bootstrap.SluiceBridge;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces the current {@link GovernanceState} on every JDBC connect and borrow, for the whole JVM
 * and per datasource, at the JDBC contract's own entry points ({@link ConnectionGovernor}).
 * Refusals carry SQLState {@code 08004}.
 *
 * <p>While nothing is cut off and nothing needs its attention, the allow path is a few volatile
 * reads and allocates nothing. Its attention is needed while it learns about data sources just
 * constructed ({@link KnownDataSources}), while connections it aborted may still sit in a pool
 * ({@link StaleConnections}), for data sources that open connections themselves, and while a
 * datasource is disabled.
 *
 * <p>The first connection of the JVM waits at most {@code initialSyncMs} for the registry's first
 * full read, so that a state written before the application started is honoured from the start.
 */
public final class Governor implements ConnectionGovernor, AutoCloseable {

  /** SQLState of a refused connection: "server rejected the connection". */
  public static final String SQLSTATE_REJECTED = Refusal.SQLSTATE;

  private static final Logger log = LoggerFactory.getLogger(Governor.class);

  // Why a borrow's exit needs more than a glance (bits of `attention`).
  static final int LEARNING = 1;
  static final int SUSPECT = 2;
  static final int FACTORIES = 4;
  static final int DATASOURCE_DISABLED = 8;

  /** How often collected aborted connections and data sources are forgotten. */
  public static final long SWEEP_MS = 1000;

  private final long initialSyncMs;
  private final long cutoffGraceMs;
  private final DatasourceCatalog catalog;
  private final TrackedConnections connections;
  private final KnownDataSources sources;
  private final DataSourceLearning learning;
  private final ConnectAttempts attempts = new ConnectAttempts();
  private final PoolAttempts poolAttempts;
  private final PoolEviction eviction = new PoolEviction();
  private final StaleConnections stale;
  private final CutOff cutOff;
  private final CountDownLatch initialSync = new CountDownLatch(1);
  private final AtomicBoolean faultReported = new AtomicBoolean();
  private final BiConsumer<GovernanceState, GovernanceState> onChange;
  private final LongAdder instanceRefused = new LongAdder();
  private final LongAdder instanceAborted = new LongAdder();

  private volatile GovernanceState state = GovernanceState.OPEN;
  // what operators see: a change once the connections it aborts at once are done (see update)
  private volatile GovernanceState shown = GovernanceState.OPEN;
  // the last of the steps that show changes, in the order of the changes; guarded by this
  private CompletableFuture<Void> showing = CutOff.DONE;
  private volatile int attention;
  private volatile boolean synced;
  private volatile boolean failClosed;
  // null: no routing group is configured, and Driver.connect never asks where to go
  private volatile GroupRouting routing;
  private final FactoryRouting factories = new FactoryRouting();
  private final Object routeChange = new Object();

  /** The token of a data source's call routed by {@link FactoryRouting}, and the one under it. */
  private static final class RoutedCall {
    final FactoryRouting.Swap swap;
    final Object inner;

    RoutedCall(FactoryRouting.Swap swap, Object inner) {
      this.swap = swap;
      this.inner = inner;
    }
  }

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
    this.connections = catalog.connections();
    this.sources =
        new KnownDataSources(
            catalog::forUrl,
            url -> {
              GroupRouting r = routing;
              return r != null && r.groupOf(url) != null;
            });
    this.learning =
        new DataSourceLearning(sources, connections, this::opened, this::recomputeAttention);
    this.poolAttempts = new PoolAttempts(sources::classes, type -> !eviction.flushes(type));
    this.stale = new StaleConnections(connections, eviction, this::recomputeAttention);
    this.cutOff = new CutOff(this::aborted, this::handleOf);
    stale.abortPending(
        c -> {
          Object unit = connections.get(c) != null ? c : connections.lending(c);
          Tracked t = unit == null ? null : connections.get(unit);
          if (t != null && !t.closedByAgent && t.routedGroup != null) {
            cutOff.abortHere(unit, () -> {}); // marked when its primary changed: not in use
          }
        });
    this.onChange = onChange;
  }

  /**
   * The state as operators see it (the MXBeans' attributes; their notifications come with it). A
   * change shows once new connections are refused and, with no grace period, the open connections
   * it cuts off have been aborted, so that whoever reads {@code DISABLED} finds them unusable too;
   * a driver whose abort takes longer than {@value CutOff#ABORT_WAIT_MS} ms is not waited for.
   */
  public GovernanceState state() {
    return shown;
  }

  /** The state in force now: what new connections meet (operators see {@link #state}). */
  public GovernanceState inForce() {
    return state;
  }

  /**
   * Waits until every change made so far shows ({@link #state}), {@value CutOff#ABORT_WAIT_MS} ms
   * and a little more at most: for an operator's call that reports the state it set.
   */
  public void awaitShown() {
    CompletableFuture<Void> last;
    synchronized (this) {
      last = showing;
    }
    try {
      last.get(CutOff.ABORT_WAIT_MS + 100, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.debug("a change did not show in time: {}", e.toString());
    }
  }

  /** Connections refused by the instance switch (or for want of a registry), since start. */
  public long instanceRefusedConnections() {
    return instanceRefused.sum();
  }

  /** Connections aborted because the instance was cut off, since start. */
  public long instanceAbortedConnections() {
    return instanceAborted.sum();
  }

  /** Why a borrow's exit needs more than a glance now: bits, 0 when nothing does. */
  int attention() {
    return attention;
  }

  /** The registry's first full read is in (or there is no registry): stop holding connects. */
  public void initialSyncDone() {
    synced = true;
    initialSync.countDown();
  }

  /**
   * Puts a new state in force. New connections see it at once; connections of whatever it newly
   * cuts off are aborted after {@code cutoff.grace-ms}. It shows ({@link #state}, and the listener
   * is told) once those aborted without a grace period are done, {@value CutOff#ABORT_WAIT_MS} ms
   * later at most, and after every earlier change: this returns at once, so a driver slow to abort
   * holds up no later change.
   */
  public synchronized void update(UnaryOperator<GovernanceState> change) {
    GovernanceState previous = state;
    GovernanceState next = change.apply(previous);
    if (next == previous) {
      return;
    }
    CompletableFuture<Void> aborted = CutOff.DONE;
    try {
      aborted = apply(previous, next);
    } finally {
      showAfter(
          aborted,
          () -> {
            shown = next;
            onChange.accept(previous, next);
          });
    }
  }

  /**
   * Runs {@code step} once {@code aborted} is complete and every step before it has run: on this
   * thread if both are done already, else on the thread that completes the last of them.
   */
  private synchronized void showAfter(CompletableFuture<Void> aborted, Runnable step) {
    showing =
        showing
            .thenCombine(aborted, (a, b) -> (Void) null)
            .thenRun(
                () -> {
                  try {
                    step.run();
                  } catch (Throwable t) {
                    log.warn("showing a change failed: {}", t.toString());
                  }
                });
  }

  /** Puts {@code next} in force; returns what completes once its aborts without grace are done. */
  private CompletableFuture<Void> apply(GovernanceState previous, GovernanceState next) {
    state = next;
    recomputeAttention();
    poolAttempts.stateChanged();
    List<CompletableFuture<Void>> aborts = new ArrayList<>(2);
    if (next.cutOff() && !previous.cutOff()) {
      List<Object> open = connections.allOpen();
      aborts.add(
          cutOff.abortLater(
              open,
              cutoffGraceMs,
              () -> state.cutOff(),
              () -> instanceAborted.increment(),
              () -> purgePools(null)));
      log.warn(
          "{}; refusing new connections and aborting {} open connection(s){}",
          next.refusal(),
          open.size(),
          grace());
    } else if (previous.cutOff() && !next.cutOff()) {
      log.info("database access restored");
      cutOff.run(() -> restorePools(null));
    }
    for (String path : next.disabledDatasources()) {
      if (!previous.datasourceDisabled(path)) {
        Datasource d = catalog.byPath(path);
        if (d == null) {
          log.info("{} is DISABLED: connections to it will be refused", path);
        } else {
          // with the whole JVM cut off, its connections are being aborted already
          int aborting = next.cutOff() ? 0 : abortLater(d, aborts);
          log.warn("{}; aborting {} open connection(s){}", d.refusal(), aborting, grace());
        }
      }
    }
    for (String path : previous.disabledDatasources()) {
      if (!next.datasourceDisabled(path)) {
        log.info("{} is enabled again", path);
        Datasource d = catalog.byPath(path);
        if (d != null && !next.cutOff()) {
          cutOff.run(() -> restorePools(d));
        }
      }
    }
    return aborts.isEmpty()
        ? CutOff.DONE
        : CompletableFuture.allOf(aborts.toArray(new CompletableFuture<?>[0]));
  }

  /** Physical connections open in this JVM now, to every datasource. */
  public int openConnections() {
    return connections.allOpen().size();
  }

  /** What a cut-off does to {@code n} open connections, for an operator's message. */
  public String aborting(int n) {
    return n
        + " open connection"
        + (n == 1 ? "" : "s")
        + (cutoffGraceMs > 0 ? " to be aborted after " + cutoffGraceMs + " ms" : " aborted");
  }

  private String grace() {
    return cutoffGraceMs > 0 ? " after " + cutoffGraceMs + " ms" : "";
  }

  /**
   * Schedules the abort of the datasource's open connections, adding what completes when they are
   * aborted to {@code aborts}; returns how many.
   */
  private int abortLater(Datasource d, List<CompletableFuture<Void>> aborts) {
    List<Object> open = connections.openOf(d);
    aborts.add(
        cutOff.abortLater(
            open, cutoffGraceMs, () -> state.cutOff(d.path()), () -> {}, () -> purgePools(d)));
    return open.size();
  }

  /** A connection is being aborted: counted, and never to be handed out by a pool again. */
  private void aborted(Object unit) {
    Tracked t = connections.get(unit);
    if (t != null && !t.closedByAgent) { // counted once, however many aborts meet it
      t.closedByAgent = true;
      t.datasource.aborted.increment();
    }
    stale.aborted(unit);
  }

  /** Tells the pools whose connections go to {@code d} (any: {@code null}) access is back. */
  private void restorePools(Datasource d) {
    sources.forEach(
        (dataSource, e) -> {
          if (goesTo(e, d)) {
            eviction.restored(dataSource);
          }
        });
  }

  private Connection handleOf(Object unit) {
    Tracked t = connections.get(unit);
    return t != null && t.pooled == unit ? t.handle : null;
  }

  /**
   * Has the pools whose connections go to {@code d} (to any datasource: {@code null}) drop their
   * idle connections, where a pool needs to be told ({@link PoolEviction#purge}).
   */
  private void purgePools(Datasource d) {
    sources.forEach(
        (dataSource, e) -> {
          if (goesTo(e, d)) {
            eviction.purge(dataSource);
          }
        });
  }

  private synchronized void recomputeAttention() {
    int a = 0;
    if (learning.active()) {
      a |= LEARNING;
    }
    if (!stale.isEmpty()) {
      a |= SUSPECT;
    }
    if (sources.anyFactoryClass()) {
      a |= FACTORIES;
    }
    if (state.anyDatasourceDisabled()) {
      a |= DATASOURCE_DISABLED;
    }
    attention = a;
  }

  /**
   * Forgets the records of connections gone and looks again at what needs the advice's attention:
   * run every {@link #SWEEP_MS} on the control plane's thread.
   */
  public void sweep() {
    try {
      stale.purge();
      if ((attention & LEARNING) != 0 || !stale.isEmpty()) {
        recomputeAttention();
      }
    } catch (Throwable t) {
      log.debug("sweep failed: {}", t.toString());
    }
  }

  // ---- routing groups

  /**
   * Routes connects to the groups of {@code groupRouting} from now on ({@code null}: none). Set it
   * before the governor is installed: the bridge asks {@link #routes()} once, then.
   */
  public void routing(GroupRouting groupRouting) {
    this.routing = groupRouting;
  }

  /** The routing groups, or {@code null} when none is configured. */
  public GroupRouting routing() {
    return routing;
  }

  @Override
  public boolean routes() {
    return routing != null;
  }

  @Override
  public Object route(Object driver, String url, Object info) {
    GroupRouting r = routing;
    if (r == null) {
      return url;
    }
    // DriverManager asks every driver in turn: one that declines the URL must not wait for a
    // primary, nor be refused
    if (!ConnectAttempts.accepts(driver, url)) {
      return url;
    }
    if (!synced) {
      awaitInitialSync();
    }
    return r.route(url, this::disabledTarget);
  }

  /** As {@link #primary(String, PrimaryReading)}: {@code primary}, or {@code null}: none known. */
  public void primary(String group, String primary, long revision) {
    primary(
        group,
        primary == null
            ? PrimaryReading.none(null, revision)
            : PrimaryReading.primary(primary, revision));
  }

  /**
   * Applies {@code reading} of {@code group}'s primary source; a reading older than the one applied
   * is ignored. New connects go to the new primary at once; connections routed through the group to
   * another member are aborted after {@code cutoff.grace-ms}, unless the group's primary changes
   * again meanwhile. While no primary is known, open connections are left alone.
   */
  public void primary(String group, PrimaryReading reading) {
    primary(group, reading, (was, now) -> {});
  }

  /**
   * As {@link #primary(String, PrimaryReading)}; when the primary changes, {@code changed} is told
   * (was, now; {@code null}: none) as a change of state shows: once the connections aborted without
   * a grace period are done ({@value CutOff#ABORT_WAIT_MS} ms at most), after every earlier change.
   */
  public void primary(String group, PrimaryReading reading, BiConsumer<String, String> changed) {
    GroupRouting r = routing;
    if (r == null) {
      return;
    }
    // Before the new primary is in force, the connections routed to another member are marked:
    // from then on no borrow hands one out ({@link StaleConnections}), so no transaction that
    // starts after the change reaches an earlier primary through a pool, whatever the grace.
    RoutingGroup before;
    synchronized (routeChange) { // a routed connection arrives before or after, never between
      RoutingGroup current = r.group(group);
      if (current != null
          && reading.primary() != null
          && !reading.primary().equals(current.primary())
          && reading.revision() >= current.revision()) {
        markStale(connections.openRoutedElsewhere(group, reading.primary()));
      }
      before = r.apply(group, reading);
    }
    if (before == null) {
      return;
    }
    RoutingGroup after = r.group(group);
    String primary = after.primary();
    if (!before.replicas().equals(after.replicas())) {
      log.info("group {}: replicas {} -> {}", group, before.replicas(), after.replicas());
    }
    if (java.util.Objects.equals(before.primary(), primary)) {
      log.debug(
          "group {}: primary {} confirmed at revision {}", group, primary, reading.revision());
      return;
    }
    // The aborts are under way before anything is logged: a log line is a write to standard error,
    // which the application may hold or a slow terminal may stall.
    List<Object> open =
        primary == null ? List.of() : connections.openRoutedElsewhere(group, primary);
    CompletableFuture<Void> aborted =
        open.isEmpty()
            ? CutOff.DONE
            : cutOff.abortLater(
                open, cutoffGraceMs, () -> primary.equals(r.primaryOf(group)), () -> {}, () -> {});
    log.info(
        "group {}: primary {} -> {} (revision {} of {}){}",
        group,
        before.primary() == null ? "(none)" : before.primary(),
        primary == null ? "(none)" : primary,
        reading.revision(),
        after.key(),
        primary == null ? ": " + after.absence() : "");
    if (!open.isEmpty()) {
      log.warn(
          "group {}: aborting {} connection(s) routed to an earlier primary{}",
          group,
          open.size(),
          grace());
    }
    // announced once they are aborted, as a cut-off shows (see update)
    String was = before.primary();
    showAfter(aborted, () -> changed.accept(was, primary));
  }

  /**
   * Marks {@code unit} (tracked as {@code t}) as routed by {@code via}; if the group's primary is
   * another by now, also as one no pool is to lend, and returns {@code true}: abort it. Under the
   * lock a change of primary takes, so it is either among the connections the change marks or sees
   * the change.
   */
  private boolean markRouted(GroupRouting r, Tracked t, GroupRouting.Routed via, Object unit) {
    synchronized (routeChange) {
      t.routedGroup = via.group;
      t.routedMember = via.member;
      t.routedFrom = via.asked;
      String now = r.primaryOf(via.group);
      if (now == null || via.member.equals(now)) {
        return false;
      }
      stale.aborted(unit);
      return true;
    }
  }

  /** No pool is to hand out {@code units} again (they are aborted soon, after the grace). */
  private void markStale(List<Object> units) {
    for (Object unit : units) {
      stale.aborted(unit);
      Connection handle = handleOf(unit); // a pooled connection's, as a pool lends it
      if (handle != null) {
        stale.aborted(handle);
      }
    }
  }

  /** Connections routed through {@code group} to its primary that are open now. */
  public int openRouted(String group) {
    return connections.openRoutedCount(group);
  }

  /** Whether a datasource the agent met at {@code hostPort} is DISABLED now. */
  public boolean endpointDisabled(String hostPort) {
    GovernanceState s = state;
    if (!s.anyDatasourceDisabled()) {
      return false;
    }
    for (Datasource d : catalog.all()) {
      if (d.endpoint().hostPort().equals(hostPort) && s.datasourceDisabled(d.path())) {
        return true;
      }
    }
    return false;
  }

  /** Whether connects to {@code url} are refused now (a replica's datanode is DISABLED). */
  private boolean disabledTarget(String url) {
    GovernanceState s = state;
    return s.anyDatasourceDisabled() && s.datasourceDisabled(catalog.forUrl(url).path());
  }

  /**
   * Marks {@code c} with the group it was routed through, if its connect was: the outermost one
   * ({@code url}), or, under a wrapping driver whose URL names no group, the wrapped one ({@code
   * reached}).
   */
  private void routed(GroupRouting r, String url, String reached, Connection c) {
    GroupRouting.Routed via = r.takeRouted(url, reached);
    if (via == null) {
      return;
    }
    Tracked t = connections.get(c);
    if (t == null) {
      return;
    }
    settleRouted(r, t, via, c);
  }

  /**
   * Marks what a routed connect has just opened ({@code unit}, tracked as {@code t}) with its group
   * and member. If the primary changed between the route and now, it went to an earlier primary and
   * is aborted here, before the connect returns: it carries none of the application's work yet, and
   * no statement is to reach the earlier primary on it. (While no primary is known, open
   * connections are left alone.)
   */
  private void settleRouted(GroupRouting r, Tracked t, GroupRouting.Routed via, Object unit) {
    if (markRouted(r, t, via, unit)) {
      cutOff.abortHere(unit, () -> {});
    }
  }

  // ---- Driver.connect

  @Override
  public Throwable checkConnect(Object driver, String url, Object info) {
    if (!synced) {
      awaitInitialSync();
    }
    GovernanceState s = state;
    if (s.cutOff() || s.anyDatasourceDisabled()) {
      Datasource target = s.anyDatasourceDisabled() ? catalog.forUrl(url) : null;
      if (s.cutOff() || s.datasourceDisabled(target.path())) {
        poolAttempts.holdIfPoolsOwn(
            () -> state.cutOff() || (target != null && state.cutOff(target.path())));
        s = state;
      }
    }
    if (s.cutOff()) {
      if (!ConnectAttempts.accepts(driver, url)) {
        return null;
      }
      if (attempts.isNew(driver, url, info)) {
        instanceRefused.increment();
        catalog.forUrl(url).refused.increment();
      }
      return refuse(s.refusal());
    }
    if (s.anyDatasourceDisabled()) {
      Datasource d = catalog.forUrl(url);
      if (s.datasourceDisabled(d.path()) && ConnectAttempts.accepts(driver, url)) {
        if (attempts.isNew(driver, url, info)) {
          d.refused.increment();
        }
        return refuse(d.refusal());
      }
    }
    return null;
  }

  @Override
  public void connected(String url, Object connection) {
    connectedThrough(url, url, connection);
  }

  @Override
  public void connectedThrough(String url, String reached, Object connection) {
    if (!(connection instanceof Connection)) {
      return;
    }
    Datasource d = catalog.forUrl(reached);
    opened(d, (Connection) connection);
    GroupRouting r = routing;
    if (r != null) {
      routed(r, url, reached, (Connection) connection);
    }
  }

  /** A physical connection to {@code d} was opened: tracked, and aborted if cut off meanwhile. */
  private void opened(Datasource d, Connection c) {
    if (!connections.track(d, c)) {
      return;
    }
    learning.connectionOpened(d, (attention & LEARNING) != 0);
    // A connect that passed the check just before a cut-off must not slip through the sweep, nor
    // stay in a pool that drops aborted connections only when told (the cut-off's purge may have
    // run before this connection joined it).
    GovernanceState s = state;
    if (s.cutOff(d.path())) {
      cutOff.abortNow(c, s.cutOff() ? instanceAborted::increment : () -> {});
      Datasource purged = s.cutOff() ? null : d;
      cutOff.run(() -> purgePools(purged));
    }
  }

  // ---- DataSource.getConnection

  @Override
  public Object enterBorrow(Object dataSource) {
    Throwable refused = refusalOf(dataSource);
    if (refused != null) {
      return refused;
    }
    Object token = (attention & LEARNING) != 0 ? learning.enterBorrow() : SluiceBridge.ALLOWED;
    Object routed = routeFactory(dataSource);
    if (routed instanceof Throwable) {
      if (token instanceof Frame) {
        learning.exitBorrow((Frame) token, dataSource, null);
      }
      return routed;
    }
    return routed == null ? token : new RoutedCall((FactoryRouting.Swap) routed, token);
  }

  /**
   * Routes a call of a driver's own data source that opens connections without {@code
   * Driver.connect} ({@link FactoryRouting}): its swap, a refusal, or {@code null}. Nothing that
   * may throw comes after it on the way in: a swap holds its data source's lock until the exit.
   */
  private Object routeFactory(Object dataSource) {
    GroupRouting r = routing;
    if (r == null) {
      return null;
    }
    if (!FactoryRouting.routable(dataSource.getClass())) {
      factories.warnIfUnroutablePool(dataSource, r);
      return null;
    }
    return factories.route(dataSource, r, this::disabledTarget);
  }

  /**
   * After a routed call (its data source's URL set back): what it opened is settled as a routed
   * connect's connection is ({@link #settleRouted}).
   */
  private void endRoutedCall(RoutedCall call, Object opened) {
    GroupRouting r = routing;
    GroupRouting.Routed via = call.swap.via;
    if (r == null || via == null || opened == null) {
      return;
    }
    Object physical = connections.get(opened) != null ? opened : connections.trackedBehind(opened);
    Tracked t = physical == null ? null : connections.get(physical);
    if (t == null) {
      return;
    }
    settleRouted(r, t, via, physical);
  }

  /**
   * The refusal of a data source's call (a borrow, or the opening of a pooled connection), or
   * {@code null}: the instance's, or the datasource's once the agent knows where the data source's
   * connections go. A pool's own call is held through a short cut-off first ({@link PoolAttempts}).
   */
  private Throwable refusalOf(Object dataSource) {
    if (!synced) {
      awaitInitialSync();
    }
    GovernanceState s = state;
    if (s.cutOff() || s.anyDatasourceDisabled()) {
      s = holdIfPoolsOwn(s, dataSource);
    }
    if (s.cutOff()) {
      instanceRefused.increment();
      Datasource d = knownDatasource(dataSource);
      if (d != null) {
        d.refused.increment();
      }
      return refuse(s.refusal());
    }
    if (s.anyDatasourceDisabled()) {
      Datasource d = datasourceNow(dataSource);
      if (d != null && s.datasourceDisabled(d.path())) {
        d.refused.increment();
        return refuse(d.refusal());
      }
    }
    return null;
  }

  /**
   * A data source about to be refused, called by a pool's own code (to fill itself): held while cut
   * off ({@link PoolAttempts}). Returns the state to decide with.
   */
  private GovernanceState holdIfPoolsOwn(GovernanceState s, Object dataSource) {
    Datasource d = s.cutOff() ? null : datasourceNow(dataSource);
    if (s.cutOff() || (d != null && s.datasourceDisabled(d.path()))) {
      poolAttempts.holdIfPoolsOwn(() -> state.cutOff() || (d != null && state.cutOff(d.path())));
      return state;
    }
    return s;
  }

  /**
   * The datasource a borrow from {@code dataSource} goes to now, or {@code null} while unknown. For
   * a data source whose connections are routed through a group's address: the group's primary in
   * force now (none while no primary is known), not the member it first went to.
   */
  private Datasource datasourceNow(Object dataSource) {
    Datasource d = sources.datasourceOf(dataSource);
    Entry e = sources.peek(dataSource);
    return e == null || e.routedUrl == null ? d : primaryOf(e.routedUrl);
  }

  /** The datasource of the primary in force now of the group whose address {@code url} names. */
  private Datasource primaryOf(String url) {
    GroupRouting r = routing;
    String now = r == null ? null : r.primaryUrl(url);
    return now == null ? null : catalog.forUrl(now);
  }

  /**
   * Whether a data source's connections may go to {@code d} (to any: {@code null}): the one it was
   * mapped to, and for one routed through a group's address also the group's primary now.
   */
  private boolean goesTo(Entry e, Datasource d) {
    return d == null || e.datasource == d || (e.routedUrl != null && primaryOf(e.routedUrl) == d);
  }

  /** The datasource the agent knows {@code dataSource} goes to, or {@code null}. */
  Datasource knownDatasource(Object dataSource) {
    Entry e = sources.peek(dataSource);
    return e == null ? null : e.datasource;
  }

  @Override
  public Object exitBorrow(
      Object token,
      Object dataSource,
      boolean credentials,
      String user,
      String password,
      Object connection,
      Throwable thrown) {
    if (token instanceof RoutedCall) {
      RoutedCall call = (RoutedCall) token;
      factories.exit(call.swap);
      Object out =
          exitBorrow(call.inner, dataSource, credentials, user, password, connection, thrown);
      endRoutedCall(call, out instanceof Throwable ? null : out);
      return out;
    }
    Frame frame = token instanceof Frame ? (Frame) token : null;
    if (frame != null) {
      learning.exitBorrow(
          frame, dataSource, connection instanceof Connection ? (Connection) connection : null);
    }
    int a = attention;
    if (a == 0 && frame == null) {
      return thrown != null ? thrown : connection;
    }
    if (thrown != null) {
      return (a & SUSPECT) != 0
          ? stale.retryAfterFailure(dataSource, credentials, user, password, thrown)
          : thrown;
    }
    if (!(connection instanceof Connection)) {
      return connection;
    }
    Connection c = (Connection) connection;
    if (frame == null && (a & FACTORIES) != 0 && sources.isFactoryClass(dataSource.getClass())) {
      learning.trackOpenedBy(dataSource, c);
    }
    if ((a & DATASOURCE_DISABLED) != 0) {
      Object refused = refuseLate(dataSource, c);
      if (refused != null) {
        return refused;
      }
    }
    return (a & SUSPECT) != 0
        ? stale.replaceIfStale(dataSource, credentials, user, password, c)
        : connection;
  }

  /**
   * A borrow that was let through because its data source's datasource was unknown, and that turns
   * out to go to a disabled one: the connection goes back to the pool and the borrow is refused.
   */
  private Object refuseLate(Object dataSource, Connection c) {
    Entry e = sources.peek(dataSource);
    if (e != null && (e.datasource != null || e.kind == Kind.WRAPPER)) {
      return null; // refused at the entrance if it had to be
    }
    Object physical = connections.trackedBehind(c);
    Tracked t = physical == null ? null : connections.get(physical);
    if (t == null || !state.cutOff(t.datasource.path())) {
      return null;
    }
    if (e != null && e.kind == Kind.UNKNOWN) {
      sources.decide(dataSource, e, Kind.MAPPED, t.datasource);
    }
    try {
      c.close();
    } catch (SQLException | RuntimeException ignored) {
      // the pool takes it back or drops it; either way the application does not get it
    }
    t.datasource.refused.increment();
    return refuse(t.datasource.refusal());
  }

  // ---- XADataSource.getXAConnection, ConnectionPoolDataSource.getPooledConnection

  @Override
  public Object enterPooledSource(Object source) {
    Throwable refused = refusalOf(source);
    if (refused != null) {
      return refused;
    }
    Frame frame = learning.enterPooledSource();
    Object routed = routeFactory(source);
    if (routed instanceof Throwable) {
      learning.exitPooledSource(frame, source, null);
      return routed;
    }
    return routed == null ? frame : new RoutedCall((FactoryRouting.Swap) routed, frame);
  }

  @Override
  public void exitPooledSource(Object token, Object source, Object pooledConnection) {
    if (token instanceof RoutedCall) {
      RoutedCall call = (RoutedCall) token;
      factories.exit(call.swap);
      exitPooledSource(call.inner, source, pooledConnection);
      endRoutedCall(call, pooledConnection);
      return;
    }
    if (!(token instanceof Frame)) {
      return;
    }
    Datasource d = learning.exitPooledSource((Frame) token, source, pooledConnection);
    if (d == null) {
      return;
    }
    connections.trackPooled(d, pooledConnection);
    GovernanceState s = state;
    if (s.cutOff(d.path())) {
      cutOff.abortNow(pooledConnection, s.cutOff() ? instanceAborted::increment : () -> {});
    }
  }

  @Override
  public void handleOpened(Object pooledConnection, Object handle) {
    if (!connections.anyPooled() || !(handle instanceof Connection)) {
      return;
    }
    connections.handleOpened(pooledConnection, (Connection) handle);
    if (!stale.isEmpty() && stale.contains(pooledConnection)) {
      stale.aborted(handle); // a handle of a connection no pool is to lend (routed elsewhere)
    }
  }

  // ---- construction

  @Override
  public void dataSourceCreated(Object dataSource) {
    learning.created(dataSource);
  }

  private static SQLTransientConnectionException refuse(String message) {
    return Refusal.of(message);
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
    poolAttempts.close();
    cutOff.close();
  }
}
