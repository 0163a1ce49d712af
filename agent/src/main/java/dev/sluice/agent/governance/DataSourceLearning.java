package dev.sluice.agent.governance;

import dev.sluice.agent.governance.Frames.Frame;
import dev.sluice.agent.governance.KnownDataSources.Entry;
import dev.sluice.agent.governance.KnownDataSources.Kind;
import dev.sluice.agent.governance.TrackedConnections.Tracked;
import java.sql.Connection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Learns what each data source is ({@link KnownDataSources}) from its first calls, while nothing is
 * cut off: whether it is a pool (and of which datasource), a wrapper of another data source, or one
 * that opens connections itself. A data source that borrows from another inside its calls is a
 * wrapper when it does so twice running (a pool does it only to open a connection); until it is
 * decided, a borrow from it is refused by its URL getter, where it has one. A round of learning
 * opens when a data source is constructed (or a connection opened while some are undecided) and
 * lasts until every new one is decided or {@link #BUDGET} borrows of known ones went by; meanwhile
 * every borrow is looked at ({@link Frames}).
 */
final class DataSourceLearning {

  private static final Logger log = LoggerFactory.getLogger(DataSourceLearning.class);

  /** Borrows of data sources already known looked at per round, before the round ends. */
  static final int BUDGET = 1024;

  private final KnownDataSources sources;
  private final TrackedConnections connections;
  private final BiConsumer<Datasource, Connection> opened;
  private final Runnable changed;
  private final Frames frames = new Frames();
  private final AtomicInteger budget = new AtomicInteger();
  private final Set<String> ungoverned = ConcurrentHashMap.newKeySet();

  /**
   * @param opened tracks a connection a data source opened itself (and aborts it if cut off)
   * @param changed told when borrows may need looking at differently (a round opened or ended, a
   *     data source decided)
   */
  DataSourceLearning(
      KnownDataSources sources,
      TrackedConnections connections,
      BiConsumer<Datasource, Connection> opened,
      Runnable changed) {
    this.sources = sources;
    this.connections = connections;
    this.opened = opened;
    this.changed = changed;
  }

  /** Whether borrows are looked at now. */
  boolean active() {
    return budget.get() > 0 && sources.undecided() > 0;
  }

  /** A data source was constructed. */
  void created(Object dataSource) {
    if (sources.register(dataSource)) {
      // Borrows are looked at again even if a round is open: it may have stopped looking when
      // every data source it knew was decided (say, a second pool of one class in the same JVM,
      // whose driver's data source is made inside its first borrow).
      budget.set(BUDGET);
      changed.run();
    }
  }

  /** A connection to {@code d} was opened on this thread (inside the calls being looked at). */
  void connectionOpened(Datasource d, boolean learning) {
    frames.created(d);
    if (learning || budget.get() > 0) {
      openRound(); // a pool that opened it will lend it soon
    }
  }

  private void openRound() {
    boolean wasClosed = budget.getAndSet(BUDGET) <= 0;
    if (wasClosed) {
      changed.run();
    }
  }

  /** A borrow starts while borrows are looked at: its frame, the token of its exit. */
  Frame enterBorrow() {
    return frames.push();
  }

  /** A borrow looked at ended, lending {@code c} (or nothing: {@code null}). */
  void exitBorrow(Frame frame, Object dataSource, Connection c) {
    frames.pop(frame, true);
    if (c != null) {
      learnFrom(frame, dataSource, c);
    }
  }

  /**
   * What a data source's call shows about it: decided on its first call that lends a connection.
   */
  private void learnFrom(Frame frame, Object dataSource, Connection c) {
    Entry e = sources.entry(dataSource);
    if (e.kind == Kind.FACTORY) {
      trackOpenedBy(dataSource, c);
    }
    if (e.kind != Kind.UNKNOWN) {
      if (budget.decrementAndGet() == 0) {
        changed.run();
      }
      return;
    }
    boolean decided;
    if (frame.nestedBorrow && !e.borrowedInside) {
      // A pool may open its first connection through a data source of its own (HikariCP's
      // DriverDataSource, or a driver's one it was configured with); a wrapper borrows from the
      // one under it on every call. The next call tells them apart.
      e.borrowedInside = true;
      return;
    } else if (frame.nestedBorrow) {
      decided = sources.decide(dataSource, e, Kind.WRAPPER, null);
    } else if (frame.created != null) {
      decided = sources.decide(dataSource, e, Kind.MAPPED, frame.created);
    } else {
      Object physical = connections.trackedBehind(c);
      Tracked t = physical == null ? null : connections.get(physical);
      if (t != null) {
        decided = sources.decide(dataSource, e, Kind.MAPPED, t.datasource);
      } else if (connections.physicalBehind(c) != null && connections.physicalBehind(c) != c) {
        // lends a driver connection the agent never saw opened (opened before the agent, or by
        // code it does not see): a pool all the same, never taken for one that opens connections
        Datasource d = sources.datasourceOf(dataSource);
        if (d == null) {
          sources.triedInVain(e);
          return;
        }
        decided = sources.decide(dataSource, e, Kind.MAPPED, d);
      } else {
        Datasource d = sources.datasourceOfOpened(dataSource, c);
        if (d == null) {
          sources.triedInVain(e);
          return;
        }
        decided = sources.decide(dataSource, e, Kind.FACTORY, d);
        log.debug(
            "{} opens connections itself; each is tracked as it is handed out",
            dataSource.getClass().getName());
        trackOpenedBy(dataSource, c);
      }
    }
    Object physical = connections.trackedBehind(c);
    Tracked lent = physical == null ? null : connections.get(physical);
    if (lent != null && lent.routedFrom != null) {
      e.routedUrl = lent.routedFrom;
    }
    if (decided) {
      changed.run();
    }
  }

  /** Tracks a connection a data source opened itself, unless it is known already. */
  void trackOpenedBy(Object dataSource, Connection c) {
    if (connections.get(c) != null || connections.trackedBehind(c) != null) {
      return;
    }
    Datasource d = sources.datasourceOfOpened(dataSource, c);
    if (d != null) {
      opened.accept(d, c);
    }
  }

  /** An {@code XADataSource} or {@code ConnectionPoolDataSource} starts opening a connection. */
  Frame enterPooledSource() {
    return frames.push();
  }

  /**
   * {@code source} opened {@code pooled}: the datasource to track it under, or {@code null} when a
   * driver opened its physical connection inside (tracked already) or nothing tells where it goes.
   */
  Datasource exitPooledSource(Frame frame, Object source, Object pooled) {
    frames.pop(frame, false);
    if (pooled == null) {
      return null;
    }
    Entry e = sources.entry(source);
    if (frame.created != null) {
      if (e.kind == Kind.UNKNOWN) {
        sources.decide(source, e, Kind.MAPPED, frame.created);
      }
      return null;
    }
    Datasource d = sources.datasourceOf(source);
    if (d == null) {
      if (ungoverned.add(source.getClass().getName())) {
        log.warn(
            "cannot tell where the pooled connections of {} go (no URL getter); they are refused"
                + " with the instance but not aborted",
            source.getClass().getName());
      }
      return null;
    }
    frames.created(d);
    return d;
  }
}
