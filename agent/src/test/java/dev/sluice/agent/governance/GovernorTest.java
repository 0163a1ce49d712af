package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.datasource.Endpoint;
import dev.sluice.registry.Poll;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The governor as the woven advice drives it: {@link #connect} and {@link TestPool#getConnection}
 * call it exactly as the advice in a driver and in a pool does.
 */
class GovernorTest {

  private final DatasourceCatalog catalog =
      new DatasourceCatalog(List.of(), n -> "/ns/" + n.schema() + "/" + n.name(), n -> "/ns/" + n);
  private final Governor governor = new Governor(0, 0, catalog, (a, b) -> {});
  private final List<Connection> opened = new ArrayList<>();

  GovernorTest() {
    governor.initialSyncDone();
  }

  @AfterEach
  void close() throws SQLException {
    governor.close();
    for (Connection c : opened) {
      c.close();
    }
  }

  /** Opens a physical connection as a governed {@code Driver.connect} does. */
  Connection connect(String url) throws SQLException {
    Throwable refused = governor.checkConnect(null, url, new Properties());
    if (refused != null) {
      throw (SQLException) refused;
    }
    Connection c = DriverManager.getConnection(url);
    opened.add(c);
    governor.connected(url, c);
    return c;
  }

  /** A borrow as the advice in a data source's {@code getConnection} makes it. */
  interface Body {
    Connection call() throws SQLException;
  }

  Connection borrow(DataSource ds, Body body) throws SQLException {
    Object token = governor.enterBorrow(ds);
    if (token instanceof Throwable) {
      throw (SQLException) token;
    }
    Connection c = null;
    Throwable thrown = null;
    try {
      c = body.call();
    } catch (SQLException | RuntimeException e) {
      thrown = e;
    }
    Object result = governor.exitBorrow(token, ds, false, null, null, c, thrown);
    if (result instanceof SQLException) {
      throw (SQLException) result;
    }
    if (result instanceof RuntimeException) {
      throw (RuntimeException) result;
    }
    return (Connection) result;
  }

  /** A connection lent by a pool: a proxy whose {@code unwrap} reaches the physical connection. */
  static Connection wrapper(Connection physical, Runnable onClose) {
    return (Connection)
        Proxy.newProxyInstance(
            GovernorTest.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "isWrapperFor":
                  return ((Class<?>) args[0]).isInstance(physical);
                case "unwrap":
                  return physical;
                case "close":
                  onClose.run();
                  return null;
                default:
                  try {
                    return method.invoke(physical, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
              }
            });
  }

  /**
   * A pool as the worst of them behave: it never validates, never drops a connection after an
   * error, has no URL getter, and opens its connections outside any borrow (on "its own thread"). A
   * connection closed by the agent's eviction is dropped only when {@code dropsClosed}.
   */
  class TestPool extends NoDataSource {
    final String url;
    final Deque<Connection> idle = new ArrayDeque<>();
    final AtomicInteger borrows = new AtomicInteger();
    boolean dropsClosed = true;
    boolean usesConnectionInBorrow;

    TestPool(String url, int size) throws SQLException {
      this.url = url;
      governor.dataSourceCreated(this);
      for (int i = 0; i < size; i++) {
        idle.push(connect(url));
      }
    }

    @Override
    public Connection getConnection() throws SQLException {
      return borrow(this, this::take);
    }

    private Connection take() throws SQLException {
      borrows.incrementAndGet();
      Connection physical = idle.isEmpty() ? connect(url) : idle.pop();
      if (usesConnectionInBorrow) {
        try {
          physical.getAutoCommit(); // as a pool enlisting it in a transaction
        } catch (SQLException e) {
          // as Agroal under Narayana reports it: its own exception, no SQLState anywhere
          throw new SQLException(
              "Exception in association of connection to existing transaction",
              new IllegalStateException("jakarta.transaction.SystemException"));
        }
      }
      return wrapper(
          physical,
          () -> {
            if (!dropsClosed || !TrackedConnections.closed(physical)) {
              idle.push(physical);
            }
          });
    }
  }

  static void await(String what, BooleanSupplier condition) {
    Poll.until(what, Duration.ofSeconds(10), condition);
  }

  private static SQLException refusal(SQLException e) {
    assertTrue(e instanceof SQLTransientConnectionException, e::toString);
    assertEquals(Governor.SQLSTATE_REJECTED, e.getSQLState());
    return e;
  }

  @Test
  void aPoolIsLearnedFromItsFirstBorrowAndThenRefusedAtOnceWhenItsDatasourceIsDisabled()
      throws Exception {
    TestPool pool = new TestPool("jdbc:h2:mem:learned", 2);
    assertTrue((governor.attention() & Governor.LEARNING) != 0, "a new pool is learned about");
    pool.getConnection().close();
    assertEquals(0, governor.attention(), "learned: the borrow path is back to a glance");

    Datasource d = catalog.forUrl(pool.url);
    governor.update(s -> s.withDatasource(d.path(), true));
    SQLException refused = refusal(assertThrows(SQLException.class, pool::getConnection));
    assertEquals("Sluice: learned/h2_mem is DISABLED (/ns/learned/h2_mem)", refused.getMessage());
    assertEquals(1, d.refusedConnections());
    assertEquals(0, pool.borrows.get() - 1, "refused before the pool was asked");
  }

  /**
   * A pool configured after its first borrow (DBCP2's {@code BasicDataSource}, Tomcat JDBC's {@code
   * DataSource}: {@code setUrl} after a {@code getConnection} that failed for want of it).
   */
  class LateConfiguredPool extends NoDataSource {
    volatile String url;
    final AtomicInteger borrows = new AtomicInteger();

    LateConfiguredPool() {
      governor.dataSourceCreated(this);
    }

    public String getUrl() {
      return url;
    }

    @Override
    public Connection getConnection() throws SQLException {
      return borrow(
          this,
          () -> {
            borrows.incrementAndGet();
            if (url == null) {
              throw new SQLException(
                  "Cannot create JDBC driver of class '' for connect URL 'null'");
            }
            Connection physical = connect(url);
            return wrapper(physical, () -> {});
          });
    }
  }

  @Test
  void aConnectionOpenedThroughAWrappingDriverBelongsToTheWrappedUrlsDatasource() throws Exception {
    String wrapped = "jdbc:h2:mem:underneath";
    String url = "jdbc:unknown-wrapper:h2:mem:underneath";
    Connection physical = DriverManager.getConnection(wrapped);
    opened.add(physical);
    // the wrapping driver's connection: its close closes the one underneath
    Connection handedOut =
        wrapper(
            physical,
            () -> {
              try {
                physical.close();
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            });
    governor.connectedThrough(url, wrapped, handedOut);
    Datasource d = catalog.forUrl(wrapped);
    assertEquals(1, d.openConnections());
    assertEquals(0, catalog.forUrl(url).openConnections());

    governor.update(s -> s.withDatasource(d.path(), true));
    await("aborted by its datasource's cut-off", () -> TrackedConnections.closed(physical));
    assertEquals(1, d.abortedConnections());
  }

  @Test
  void aPoolWhoseUrlIsSetAfterItsFirstBorrowIsRefusedAtOnceByThatUrl() throws Exception {
    String url = "jdbc:h2:mem:configuredlate";
    Datasource d = catalog.forUrl(url);
    governor.update(s -> s.withDatasource(d.path(), true));
    LateConfiguredPool pool = new LateConfiguredPool();
    SQLException noUrl = assertThrows(SQLException.class, pool::getConnection);
    assertTrue(noUrl.getMessage().contains("connect URL 'null'"), noUrl::toString);

    pool.url = url;
    SQLException refused = refusal(assertThrows(SQLException.class, pool::getConnection));
    assertEquals(d.refusal(), refused.getMessage());
    assertEquals(1, pool.borrows.get(), "refused at the entrance, before the pool was asked");
    assertSame(d, governor.knownDatasource(pool));
  }

  @Test
  void aPoolNeverSeenBeforeIsRefusedAsSoonAsItsBorrowShowsWhereItGoes() throws Exception {
    String url = "jdbc:h2:mem:late";
    Connection physical = connect(url);
    NoDataSource unseen =
        new NoDataSource() {
          @Override
          public Connection getConnection() throws SQLException {
            return borrow(this, () -> wrapper(physical, () -> {}));
          }
        };
    Datasource d = catalog.forUrl(url);
    governor.update(s -> s.withDatasource(d.path(), true));
    refusal(assertThrows(SQLException.class, unseen::getConnection));
    refusal(assertThrows(SQLException.class, unseen::getConnection));
    assertEquals(2, d.refusedConnections());
  }

  @Test
  void aPoolThatNeverValidatesNeverHandsOutAConnectionTheAgentAborted() throws Exception {
    TestPool pool = new TestPool("jdbc:h2:mem:stale", 3);
    pool.getConnection().close();
    Datasource d = catalog.forUrl(pool.url);
    List<Connection> before = new ArrayList<>(pool.idle);
    assertEquals(3, d.openConnections());

    governor.update(s -> s.withDatasource(d.path(), true));
    await("all aborted", () -> before.stream().allMatch(TrackedConnections::closed));
    assertEquals(3, d.abortedConnections());
    assertEquals(0, d.openConnections());
    governor.update(s -> s.withDatasource(d.path(), false));
    assertTrue((governor.attention() & Governor.SUSPECT) != 0);

    for (int i = 0; i < 5; i++) {
      try (Connection c = pool.getConnection()) {
        assertEquals("1", CommandQuery.one(c), "borrow " + i + " is live");
      }
    }
  }

  @Test
  void theBorrowRepeatedInPlaceOfAStaleConnectionDoesNotRepeatItselfRecursively() throws Exception {
    TestPool pool = new TestPool("jdbc:h2:mem:recursive", 1);
    pool.getConnection().close();
    Datasource d = catalog.forUrl(pool.url);
    Connection physical = pool.idle.peek();
    pool.dropsClosed = false; // it puts the dead connection back, every time
    governor.update(s -> s.withInstanceRefusal("off"));
    await("aborted", () -> TrackedConnections.closed(physical));
    governor.update(s -> s.withInstanceRefusal(null));

    int before = pool.borrows.get();
    Connection c = pool.getConnection();
    assertSame(physical, c.unwrap(Connection.class), "given up after the retries");
    assertEquals(
        1 + StaleConnections.MAX_RETRIES,
        pool.borrows.get() - before,
        "the first borrow and one repeat per retry, none repeated again from inside");
    assertEquals(1, d.abortedConnections());
  }

  @Test
  void aBorrowThatFailsOnAConnectionTheAgentAbortedIsRepeated() throws Exception {
    TestPool pool = new TestPool("jdbc:h2:mem:enlisting", 2);
    pool.usesConnectionInBorrow = true;
    pool.getConnection().close();
    Datasource d = catalog.forUrl(pool.url);
    List<Connection> before = new ArrayList<>(pool.idle);
    governor.update(s -> s.withDatasource(d.path(), true));
    await("all aborted", () -> before.stream().allMatch(TrackedConnections::closed));
    governor.update(s -> s.withDatasource(d.path(), false));

    // the pool fails the borrow on each dead connection (and drops it): the agent borrows again
    try (Connection c = pool.getConnection()) {
      assertEquals("1", CommandQuery.one(c));
    }
    assertEquals(2 + 1, pool.borrows.get() - 1, "both dead connections met, then a new one");
  }

  @Test
  void aFailedBorrowIsRepeatedUnlessItSaysItIsSomethingElse() {
    assertTrue(StaleConnections.worthRepeating(new SQLException("association")));
    assertTrue(StaleConnections.worthRepeating(new SQLException("closed", "08003")));
    assertTrue(StaleConnections.worthRepeating(new NullPointerException("physicalConn")));
    assertFalse(
        StaleConnections.worthRepeating(new SQLTransientConnectionException("Sluice", "08004")));
    assertFalse(
        StaleConnections.worthRepeating(
            new SQLException(
                "pool timeout", new SQLTransientConnectionException("Sluice", "08004"))),
        "a pool's failure that carries the agent's refusal");
    assertFalse(StaleConnections.worthRepeating(new SQLException("syntax", "42000")));
    assertFalse(StaleConnections.worthRepeating(new SQLException("password", "28000")));
    assertFalse(StaleConnections.worthRepeating(new java.sql.SQLTimeoutException("pool timeout")));
    assertFalse(StaleConnections.worthRepeating(new OutOfMemoryError()));
  }

  @Test
  void failedBorrowsAreRepeatedAtMostOncePerAbortedConnectionInAll() throws Exception {
    TestPool pool = new TestPool("jdbc:h2:mem:budget", 2);
    pool.getConnection().close();
    Datasource d = catalog.forUrl(pool.url);
    List<Connection> before = new ArrayList<>(pool.idle);
    governor.update(s -> s.withDatasource(d.path(), true));
    await("all aborted", () -> before.stream().allMatch(TrackedConnections::closed));
    governor.update(s -> s.withDatasource(d.path(), false));
    AtomicInteger calls = new AtomicInteger();
    NoDataSource failing =
        new NoDataSource() {
          @Override
          public Connection getConnection() throws SQLException {
            return borrow(
                this,
                () -> {
                  calls.incrementAndGet();
                  throw new SQLException("the pool's own failure, every time");
                });
          }
        };
    assertThrows(SQLException.class, failing::getConnection);
    assertThrows(SQLException.class, failing::getConnection);
    assertEquals(
        2 + 2, calls.get(), "two aborted connections: two repeats in all, then the pool's failure");
  }

  @Test
  void aDataSourceThatOpensConnectionsItselfHasThemTrackedAndAborted() throws Exception {
    String url = "jdbc:h2:mem:factory";
    NoDataSource factory =
        new NoDataSource() {
          @Override
          public Connection getConnection() throws SQLException {
            // a driver's data source opening its connection without Driver.connect
            return borrow(
                this,
                () -> {
                  Connection c = DriverManager.getConnection(url);
                  opened.add(c);
                  return c;
                });
          }
        };
    governor.dataSourceCreated(factory);
    Connection first = factory.getConnection();
    Connection second = factory.getConnection();
    Datasource d = catalog.forUrl(url);
    assertEquals(2, d.openConnections(), "both tracked, the first one while learning");
    assertTrue((governor.attention() & Governor.FACTORIES) != 0);

    governor.update(s -> s.withInstanceRefusal("Sluice: instance off"));
    await("aborted", () -> TrackedConnections.closed(first) && TrackedConnections.closed(second));
    assertEquals(2, governor.instanceAbortedConnections());
    refusal(assertThrows(SQLException.class, factory::getConnection));
    assertEquals(1, governor.instanceRefusedConnections());
  }

  @Test
  void aDataSourceLendingWhatAnotherLentItIsAWrapperAndNotMapped() throws Exception {
    TestPool inner = new TestPool("jdbc:h2:mem:wrapped", 1);
    NoDataSource outer =
        new NoDataSource() {
          @Override
          public Connection getConnection() throws SQLException {
            return borrow(this, inner::getConnection);
          }
        };
    governor.dataSourceCreated(outer);
    outer.getConnection().close();
    outer.getConnection().close();
    assertNull(governor.knownDatasource(outer), "a wrapper may route anywhere");
    assertNotNull(governor.knownDatasource(inner));
  }

  @Test
  void aPoolThatOpensItsFirstConnectionThroughADataSourceOfItsOwnIsStillAPool() throws Exception {
    String url = "jdbc:h2:mem:ownsource";
    // like HikariCP's DriverDataSource: opens a physical connection per call
    NoDataSource own =
        new NoDataSource() {
          @Override
          public Connection getConnection() throws SQLException {
            return borrow(this, () -> connect(url));
          }
        };
    Deque<Connection> idle = new ArrayDeque<>();
    NoDataSource pool =
        new NoDataSource() {
          @Override
          public Connection getConnection() throws SQLException {
            return borrow(
                this,
                () -> {
                  Connection physical = idle.isEmpty() ? own.getConnection() : idle.pop();
                  return wrapper(physical, () -> idle.push(physical));
                });
          }
        };
    governor.dataSourceCreated(own);
    governor.dataSourceCreated(pool);
    pool.getConnection().close(); // opens its first connection through its own data source
    assertNull(governor.knownDatasource(pool), "not decided on a call that borrowed inside");
    pool.getConnection().close(); // a pool hit: no borrow inside
    Datasource d = catalog.forUrl(url);
    assertSame(d, governor.knownDatasource(pool));
    governor.update(s -> s.withDatasource(d.path(), true));
    refusal(assertThrows(SQLException.class, pool::getConnection));
  }

  /** A driver that accepts H2 URLs, or none. */
  static Driver driver(boolean acceptsH2) {
    return (Driver)
        Proxy.newProxyInstance(
            GovernorTest.class.getClassLoader(),
            new Class<?>[] {Driver.class},
            (proxy, method, args) -> {
              if (method.getName().equals("acceptsURL")) {
                return acceptsH2 && ((String) args[0]).startsWith("jdbc:h2:");
              }
              if (method.getName().equals("equals")) {
                return proxy == args[0];
              }
              if (method.getName().equals("hashCode")) {
                return System.identityHashCode(proxy);
              }
              return null;
            });
  }

  @Test
  void eachRefusedAttemptIsCountedOnceHoweverManyDriversDriverManagerAsks() {
    governor.update(s -> s.withInstanceRefusal("Sluice: instance off"));
    List<Driver> registered =
        List.of(driver(false), driver(true), driver(false), driver(true), driver(false));
    String url = "jdbc:h2:mem:counted";
    for (int attempt = 0; attempt < 3; attempt++) {
      Properties info = new Properties(); // DriverManager builds one per getConnection
      int refusals = 0;
      for (Driver d : registered) {
        if (governor.checkConnect(d, url, info) != null) {
          refusals++;
        }
      }
      assertEquals(2, refusals, "only the drivers that accept the URL are refused");
    }
    assertEquals(3, governor.instanceRefusedConnections());
    assertEquals(3, catalog.forUrl(url).refusedConnections());
  }

  @Test
  void anUnparseableUrlIsADatasourceOfItsOwnAndNeverACrash() {
    String url = "jdbc:oracle:thin:@tnsalias";
    Datasource d = catalog.forUrl(url);
    assertEquals(Endpoint.Kind.UNPARSED, d.endpoint().kind());
    assertEquals("default", d.name().schema());
    assertTrue(d.name().name().startsWith("url_"), d.name().name());
    assertSame(d, catalog.forUrl(url), "one datasource per URL");
    assertNull(governor.checkConnect(null, url, null));
    governor.update(s -> s.withDatasource(d.path(), true));
    assertNotNull(governor.checkConnect(null, url, null));
    assertNull(governor.checkConnect(null, "jdbc:h2:mem:other", null), "others are untouched");
  }

  @Test
  void nothingCutOffMeansNoRefusalAndNoUrlParsing() {
    assertNull(governor.checkConnect(null, "jdbc:mysql://db1:3306/x", null));
    assertEquals(0, catalog.all().size(), "the allow path does not even look at the URL");
  }

  @Test
  void theChecksStopOnceTheAbortedConnectionsAreGone() throws Exception {
    TestPool pool = new TestPool("jdbc:h2:mem:collected", 2);
    pool.getConnection().close();
    Datasource d = catalog.forUrl(pool.url);
    List<Connection> before = new ArrayList<>(pool.idle);
    governor.update(s -> s.withDatasource(d.path(), true));
    await("aborted", () -> before.stream().allMatch(TrackedConnections::closed));
    governor.update(s -> s.withDatasource(d.path(), false));
    assertNotSame(0, governor.attention() & Governor.SUSPECT);
    pool.idle.clear();
    before.clear();
    opened.clear();
    await(
        "aborted connections collected",
        () -> {
          System.gc();
          governor.sweep(); // the control plane's thread runs it every second
          return (governor.attention() & Governor.SUSPECT) == 0;
        });
  }

  /** A data source with nothing but what a test overrides. */
  abstract static class NoDataSource implements DataSource {
    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return getConnection();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() {
      return null;
    }

    @Override
    public <T> T unwrap(Class<T> iface) {
      return null;
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }

  /** Runs {@code SELECT 1}. */
  static final class CommandQuery {
    static String one(Connection c) throws SQLException {
      try (java.sql.Statement s = c.createStatement();
          java.sql.ResultSet rs = s.executeQuery("SELECT 1")) {
        rs.next();
        return rs.getString(1);
      }
    }
  }
}
