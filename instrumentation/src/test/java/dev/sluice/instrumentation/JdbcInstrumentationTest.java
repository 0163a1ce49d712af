package dev.sluice.instrumentation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.bootstrap.ConnectionGovernor;
import dev.sluice.bootstrap.SluiceBridge;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.h2.jdbc.JdbcConnection;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JdbcInstrumentationTest {

  private static Instrumentation inst;
  private static JdbcInstrumentation.Installed transformer;
  private static final List<String> errors = new CopyOnWriteArrayList<>();

  /** A governor whose verdicts each test sets, and which records what it is told. */
  static final class TestGovernor implements ConnectionGovernor {
    volatile SQLException refusal;
    volatile RuntimeException fault;
    final AtomicInteger checks = new AtomicInteger();
    final List<Connection> connected = new CopyOnWriteArrayList<>();
    final List<Throwable> faults = new CopyOnWriteArrayList<>();
    final List<String> borrows = new CopyOnWriteArrayList<>();
    final List<Object> pooled = new CopyOnWriteArrayList<>();
    final List<Object> handles = new CopyOnWriteArrayList<>();
    final List<Object> created = new CopyOnWriteArrayList<>();
    final List<String> checkedUrls = new CopyOnWriteArrayList<>();
    final List<String> connectedUrls = new CopyOnWriteArrayList<>();
    volatile java.util.function.Function<String, Object> router;

    volatile java.util.function.Predicate<String> refusedUrls;

    @Override
    public Throwable checkConnect(Object driver, String url, Object info) {
      checkedUrls.add(url);
      if (refusedUrls != null && refusedUrls.test(url)) {
        return new SQLTransientConnectionException("Sluice: " + url + " is DISABLED", "08004");
      }
      return check();
    }

    @Override
    public void connected(String url, Object connection) {
      connectedUrls.add(url);
      connected.add((Connection) connection);
    }

    @Override
    public void connectedThrough(String url, String reached, Object connection) {
      connectedUrls.add(url + " -> " + reached);
      connected.add((Connection) connection);
    }

    @Override
    public boolean routes() {
      return router != null;
    }

    @Override
    public Object route(Object driver, String url, Object info) {
      return router.apply(url);
    }

    @Override
    public Object enterBorrow(Object dataSource) {
      SQLException refused = check();
      return refused != null ? refused : SluiceBridge.ALLOWED;
    }

    private SQLException check() {
      checks.incrementAndGet();
      if (fault != null) {
        throw fault;
      }
      return refusal;
    }

    volatile Object replacement;

    @Override
    public Object exitBorrow(
        Object token,
        Object dataSource,
        boolean credentials,
        String user,
        String password,
        Object connection,
        Throwable thrown) {
      borrows.add(
          dataSource.getClass().getSimpleName()
              + (credentials ? "(" + user + "," + password + ")" : "()")
              + (thrown != null ? " threw " + thrown.getMessage() : ""));
      if (replacement != null) {
        return replacement;
      }
      return thrown != null ? thrown : connection;
    }

    @Override
    public Object enterPooledSource(Object source) {
      SQLException refused = check();
      return refused != null ? refused : SluiceBridge.ALLOWED;
    }

    @Override
    public void exitPooledSource(Object token, Object source, Object pooledConnection) {
      pooled.add(pooledConnection);
    }

    @Override
    public void handleOpened(Object pooledConnection, Object handle) {
      handles.add(handle);
    }

    @Override
    public void dataSourceCreated(Object dataSource) {
      created.add(dataSource);
    }

    @Override
    public Throwable fault(String where, Throwable fault) {
      faults.add(fault);
      return null;
    }
  }

  private final TestGovernor governor = new TestGovernor();

  @BeforeAll
  static void install() throws Exception {
    // Loaded before the agent: instrumenting it needs a retransformation, which the JVM refuses
    // if the advice changed the class shape.
    Class.forName("org.h2.Driver");
    inst = ByteBuddyAgent.install();
    transformer =
        JdbcInstrumentation.install(
            inst, null, (type, e) -> errors.add(type + ": " + e), (type, loader) -> {});
    transformer.ready().get();
  }

  @AfterAll
  static void uninstall() {
    transformer.uninstall();
  }

  @AfterEach
  void clear() {
    SluiceBridge.install(null);
  }

  @Test
  void refusedConnectThrowsTheGovernorsExceptionWithoutReachingTheDriver() {
    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    SluiceBridge.install(governor);

    SQLException e =
        assertThrows(
            SQLException.class,
            () -> new org.h2.Driver().connect("jdbc:h2:mem:refused", new Properties()));
    assertSame(governor.refusal, e);
    assertTrue(governor.connected.isEmpty());
    assertTrue(errors.isEmpty(), errors::toString);
  }

  @Test
  void refusalSurfacesThroughDriverManager() {
    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    SluiceBridge.install(governor);

    SQLException e =
        assertThrows(SQLException.class, () -> DriverManager.getConnection("jdbc:h2:mem:dm"));
    assertEquals("08004", e.getSQLState());
  }

  @Test
  void allowedConnectIsTrackedOnce() throws Exception {
    SluiceBridge.install(governor);
    try (Connection c = DriverManager.getConnection("jdbc:h2:mem:allowed")) {
      assertNotNull(c);
      assertEquals(List.of(c), governor.connected);
    }
  }

  /**
   * A driver that wraps H2's, as P6Spy and its like do: its URL is H2's with a prefix no parser
   * knows, and it hands out a wrapper of H2's connection.
   */
  public static final class WrappingDriver implements java.sql.Driver {
    static final String PREFIX = "jdbc:wrapping-test:";

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
      if (!acceptsURL(url)) {
        return null;
      }
      Connection inner =
          new org.h2.Driver().connect("jdbc:" + url.substring(PREFIX.length()), info);
      return (Connection)
          java.lang.reflect.Proxy.newProxyInstance(
              WrappingDriver.class.getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> method.invoke(inner, args));
    }

    @Override
    public boolean acceptsURL(String url) {
      return url != null && url.startsWith(PREFIX);
    }

    @Override
    public java.sql.DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
      return new java.sql.DriverPropertyInfo[0];
    }

    @Override
    public int getMajorVersion() {
      return 1;
    }

    @Override
    public int getMinorVersion() {
      return 0;
    }

    @Override
    public boolean jdbcCompliant() {
      return false;
    }

    @Override
    public java.util.logging.Logger getParentLogger() {
      return java.util.logging.Logger.getGlobal();
    }
  }

  @Test
  void aDriverWrappingAnotherIsCheckedAtBothUrlsAndTrackedOnceAtTheWrappedOne() throws Exception {
    SluiceBridge.install(governor);
    String url = WrappingDriver.PREFIX + "h2:mem:wrapped";
    try (Connection c = new WrappingDriver().connect(url, new Properties())) {
      assertEquals(List.of(url, "jdbc:h2:mem:wrapped"), governor.checkedUrls);
      assertEquals(List.of(c), governor.connected, "the wrapper's connection, once");
      assertEquals(List.of(url + " -> jdbc:h2:mem:wrapped"), governor.connectedUrls);
    }
    // the next connect on this thread starts afresh
    try (Connection c = DriverManager.getConnection("jdbc:h2:mem:plain")) {
      assertEquals("jdbc:h2:mem:plain", governor.connectedUrls.get(1));
    }
  }

  @Test
  void aDriverWrappingAnotherIsRoutedAtTheWrappedUrlWhenItsOwnCannotBe() throws Exception {
    // as the agent's router: only URLs it can rewrite, never the unknown wrapper's
    governor.router = u -> u.startsWith("jdbc:h2:") ? u.replace("mem:asked", "mem:routed") : u;
    SluiceBridge.install(governor);
    String url = WrappingDriver.PREFIX + "h2:mem:asked";
    try (Connection c = new WrappingDriver().connect(url, new Properties())) {
      assertEquals("jdbc:h2:mem:routed", c.getMetaData().getURL());
      assertEquals(List.of(url, "jdbc:h2:mem:routed"), governor.checkedUrls);
      assertEquals(List.of(url + " -> jdbc:h2:mem:routed"), governor.connectedUrls);
    }
    // a wrapper whose own URL was routed: the connect inside it is not routed again
    governor.router = u -> u.replace("mem:asked", "mem:routed").replace("mem:routed", "mem:twice");
    try (Connection c = new WrappingDriver().connect(url, new Properties())) {
      assertEquals("jdbc:h2:mem:twice", c.getMetaData().getURL());
    }
  }

  @Test
  void aDriverWrappingAnotherIsRefusedWhenTheWrappedUrlIs() throws Exception {
    governor.refusedUrls = u -> u.startsWith("jdbc:h2:");
    SluiceBridge.install(governor);
    SQLException e =
        assertThrows(
            SQLException.class,
            () ->
                new WrappingDriver()
                    .connect(WrappingDriver.PREFIX + "h2:mem:refusedinside", new Properties()));
    assertEquals("Sluice: jdbc:h2:mem:refusedinside is DISABLED", e.getMessage());
    assertTrue(governor.connected.isEmpty());
    // nothing is left over on this thread: the next connect is checked and tracked as outermost
    governor.refusedUrls = null;
    try (Connection c = new org.h2.Driver().connect("jdbc:h2:mem:after", new Properties())) {
      assertEquals(List.of("jdbc:h2:mem:after"), governor.connectedUrls);
    }
  }

  @Test
  void aRoutedConnectOpensTheUrlTheGovernorNamesAndIsCheckedAndTrackedUnderIt() throws Exception {
    governor.router = url -> url.replace("mem:asked", "mem:routed");
    SluiceBridge.install(governor);
    try (Connection c = DriverManager.getConnection("jdbc:h2:mem:asked")) {
      assertEquals("jdbc:h2:mem:routed", c.getMetaData().getURL());
      assertEquals(List.of("jdbc:h2:mem:routed"), governor.checkedUrls);
      assertEquals(List.of("jdbc:h2:mem:routed"), governor.connectedUrls);
    }
  }

  @Test
  void aRouteThatRefusesThrowsWithoutReachingTheDriver() {
    SQLTransientConnectionException refusal =
        new SQLTransientConnectionException("Sluice: no primary", "08004");
    governor.router = url -> refusal;
    SluiceBridge.install(governor);
    assertSame(
        refusal,
        assertThrows(
            SQLException.class,
            () -> new org.h2.Driver().connect("jdbc:h2:mem:noprimary", new Properties())));
    assertTrue(governor.checkedUrls.isEmpty());
    assertTrue(governor.connected.isEmpty());
  }

  @Test
  void withoutRoutingTheGovernorIsNeverAskedWhereToGo() throws Exception {
    SluiceBridge.install(governor); // routes() is false: route() would fail with no router
    try (Connection c = DriverManager.getConnection("jdbc:h2:mem:unrouted")) {
      assertEquals("jdbc:h2:mem:unrouted", c.getMetaData().getURL());
    }
    assertTrue(governor.faults.isEmpty(), governor.faults::toString);
  }

  @Test
  void aFaultyGovernorLetsTheApplicationConnect() throws Exception {
    governor.fault = new IllegalStateException("agent bug");
    SluiceBridge.install(governor);
    try (Connection c = DriverManager.getConnection("jdbc:h2:mem:faulty")) {
      assertNotNull(c);
    }
    assertEquals(1, governor.faults.size());
  }

  @Test
  void dataSourceBorrowIsGoverned() throws Exception {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:ds");
    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    SluiceBridge.install(governor);
    assertSame(governor.refusal, assertThrows(SQLException.class, ds::getConnection));

    governor.refusal = null;
    try (Connection c = ds.getConnection()) {
      assertNotNull(c);
    }
  }

  /** Like Tomcat JDBC's DataSourceProxy: getConnection() in a base class that is no DataSource. */
  public static class PoolDataSourceBase {
    public Connection getConnection() throws SQLException {
      return DriverManager.getConnection("jdbc:h2:mem:poolbase");
    }
  }

  public static class PoolDataSource extends PoolDataSourceBase implements javax.sql.DataSource {
    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      return getConnection();
    }

    @Override
    public java.io.PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(java.io.PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public java.util.logging.Logger getParentLogger() {
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

  @Test
  void aPoolWhoseGetConnectionLivesInANonDataSourceBaseClassIsGoverned() throws Exception {
    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    SluiceBridge.install(governor);
    assertSame(
        governor.refusal, assertThrows(SQLException.class, new PoolDataSource()::getConnection));
    // the same method on an object that is no DataSource is not a borrow
    governor.refusal = null;
    int checks = governor.checks.get();
    try (Connection c = new PoolDataSourceBase().getConnection()) {
      assertNotNull(c);
    }
    assertEquals(checks + 1, governor.checks.get(), "only the driver's connect was checked");
  }

  /** Like Alibaba Druid: getConnection() declared with the pool's own connection type. */
  public static class CovariantPool extends PoolDataSource {
    @Override
    public JdbcConnection getConnection() throws SQLException {
      return (JdbcConnection) DriverManager.getConnection("jdbc:h2:mem:covariant");
    }
  }

  /** Names getConnection and connect, but declares neither in a shape the advice goes into. */
  public abstract static class NotAConnectionSource {
    public static Connection getConnection() throws SQLException {
      return DriverManager.getConnection("jdbc:h2:mem:static");
    }

    public Connection connect(String url) throws SQLException {
      return DriverManager.getConnection(url);
    }

    public abstract Connection getConnection(String user, String password);
  }

  /** Overrides only the covariant method: its class file declares no bridge of its own. */
  public static class CovariantPoolSubclass extends CovariantPool {
    @Override
    public JdbcConnection getConnection() throws SQLException {
      return super.getConnection();
    }
  }

  @Test
  void aCovariantGetConnectionIsGovernedOnceWhicheverTypeTheCallerHolds() throws Exception {
    SluiceBridge.install(governor);
    CovariantPool own = new CovariantPool();
    javax.sql.DataSource asDataSource = own;
    try (Connection viaInterface = asDataSource.getConnection();
        JdbcConnection viaOwnType = own.getConnection()) {
      assertNotNull(viaInterface);
      assertNotNull(viaOwnType);
    }
    assertEquals(List.of("CovariantPool()", "CovariantPool()"), governor.borrows);

    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    assertSame(governor.refusal, assertThrows(SQLException.class, asDataSource::getConnection));
    assertSame(governor.refusal, assertThrows(SQLException.class, own::getConnection));
    CovariantPoolSubclass sub = new CovariantPoolSubclass();
    assertSame(governor.refusal, assertThrows(SQLException.class, sub::getConnection));
    assertTrue(errors.isEmpty(), errors::toString);
  }

  @Test
  void aBorrowWithCredentialsHandsThemToTheExit() throws Exception {
    SluiceBridge.install(governor);
    try (Connection c = new PoolDataSource().getConnection("app", "secret")) {
      assertNotNull(c);
    }
    assertTrue(governor.borrows.contains("PoolDataSource(app,secret)"), governor.borrows::toString);
  }

  /** A pool whose borrow fails on a dead connection, as one that enlists it in a transaction. */
  public static class FailingPool extends PoolDataSource {
    @Override
    public Connection getConnection() throws SQLException {
      throw new SQLException("This connection has been closed.", "08003");
    }
  }

  @Test
  void theGovernorCanReplaceAFailedBorrowWithAConnection() throws Exception {
    SluiceBridge.install(governor);
    try (Connection fresh = DriverManager.getConnection("jdbc:h2:mem:afterfailure")) {
      governor.replacement = fresh;
      assertSame(fresh, new FailingPool().getConnection());
    }
    assertEquals(List.of("FailingPool() threw This connection has been closed."), governor.borrows);
  }

  /**
   * A borrow with the shapes pools' code has: a lock, a retry loop with its own handler, wide
   * locals (long, double), several returns, and a throw from inside a finally.
   */
  public static class RetryingPool extends PoolDataSource {
    private final Object lock = new Object();
    int attempts;
    int failFirst;
    boolean fail;

    @Override
    public Connection getConnection() throws SQLException {
      long deadline = System.nanoTime() + 1_000_000_000L;
      double backoff = 0.5;
      SQLException last = null;
      synchronized (lock) {
        while (System.nanoTime() < deadline) {
          try {
            attempts++;
            if (attempts <= failFirst) {
              throw new SQLException("attempt " + attempts + " failed", "08001");
            }
            if (fail) {
              return null;
            }
            return DriverManager.getConnection("jdbc:h2:mem:retrying");
          } catch (SQLException e) {
            last = e;
            backoff *= 2;
          } finally {
            if (backoff > 1_000) {
              throw new IllegalStateException("never");
            }
          }
        }
      }
      throw last;
    }
  }

  @Test
  void aBorrowWithLocksLoopsAndItsOwnHandlersBehavesAsBefore() throws Exception {
    SluiceBridge.install(governor);
    RetryingPool pool = new RetryingPool();
    pool.failFirst = 2;
    try (Connection c = pool.getConnection()) {
      assertNotNull(c);
    }
    assertEquals(3, pool.attempts, "the method's own handler caught the first two failures");
    assertEquals(List.of("RetryingPool()"), governor.borrows, "one borrow, governed once");
    pool.fail = true;
    assertNull(pool.getConnection());
    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    int attempts = pool.attempts;
    assertSame(governor.refusal, assertThrows(SQLException.class, pool::getConnection));
    assertEquals(attempts, pool.attempts, "a refused borrow does not run the pool's code");
    assertTrue(errors.isEmpty(), errors::toString);
  }

  @Test
  void aClassWhoseSuperTypesCannotBeReadIsLeftAloneQuietly() throws Exception {
    // read through a loader that sees the JDK only: the pool's base classes and its covariant
    // return type are missing, as an optional dependency's are
    ClassLoader jdkOnly = new ClassLoader(null) {};
    assertNull(
        new Weaver()
            .weave(
                jdkOnly,
                CovariantPool.class.getName().replace('.', '/'),
                classBytes(CovariantPool.class)));
  }

  @Test
  void superTypesAreReadOncePerLoaderAndAMissingOneIsLookedForAgain() throws Exception {
    // a loader that serves the application's class files and counts what it is asked for; the
    // pool's parent class is hidden until `hide` is cleared (an optional dependency added later)
    Map<String, Integer> asked = new java.util.concurrent.ConcurrentHashMap<>();
    String parent = PoolDataSource.class.getName().replace('.', '/') + ".class";
    AtomicBoolean hide = new AtomicBoolean(true);
    ClassLoader app = JdbcInstrumentationTest.class.getClassLoader();
    ClassLoader counting =
        new ClassLoader(null) {
          @Override
          public java.io.InputStream getResourceAsStream(String name) {
            asked.merge(name, 1, Integer::sum);
            return hide.get() && name.equals(parent) ? null : app.getResourceAsStream(name);
          }
        };
    String pool = CovariantPool.class.getName().replace('.', '/');
    assertNull(new Weaver().weave(counting, pool, classBytes(CovariantPool.class)));
    hide.set(false);
    assertNotNull(new Weaver().weave(counting, pool, classBytes(CovariantPool.class)));
    assertNotNull(new Weaver().weave(counting, pool, classBytes(CovariantPool.class)));
    String base = PoolDataSourceBase.class.getName().replace('.', '/') + ".class";
    assertEquals(2, asked.get(parent), "asked again after it was missing, then kept: " + asked);
    assertEquals(1, asked.get(base), "read once for this loader: " + asked);
    assertNull(asked.get("java/sql/Connection.class"), "the JDK's types are not asked of it");
  }

  @Test
  void pooledAndXaConnectionsAndTheirHandlesAreSeen() throws Exception {
    SluiceBridge.install(governor);
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:xa");
    assertTrue(governor.created.contains(ds), "the constructor tells of a new data source");
    javax.sql.XAConnection xa = ds.getXAConnection();
    javax.sql.PooledConnection pooled = ds.getPooledConnection();
    try {
      // H2's getPooledConnection() calls its getXAConnection(): the governor hears both
      assertEquals(java.util.Set.of(xa, pooled), java.util.Set.copyOf(governor.pooled));
      try (Connection handle = xa.getConnection()) {
        assertEquals(List.of(handle), governor.handles);
      }
    } finally {
      xa.close();
      pooled.close();
    }
    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    assertSame(governor.refusal, assertThrows(SQLException.class, ds::getXAConnection));
    assertSame(governor.refusal, assertThrows(SQLException.class, ds::getPooledConnection));
  }

  @Test
  void onlyClassesDeclaringConnectOrGetConnectionReachTheWeaver() throws Exception {
    for (Class<?> declaring :
        List.of(
            org.h2.Driver.class,
            JdbcDataSource.class,
            PoolDataSourceBase.class,
            PoolDataSource.class,
            CovariantPool.class,
            CovariantPoolSubclass.class)) {
      assertTrue(
          ClassFileScan.declaresConnectionMethod(classBytes(declaring)), declaring.getName());
    }
    // calls getConnection() and DriverManager.getConnection(...), declares neither
    assertFalse(ClassFileScan.declaresConnectionMethod(classBytes(JdbcInstrumentationTest.class)));
    // names none of them
    assertFalse(
        ClassFileScan.declaresConnectionMethod(classBytes(org.objectweb.asm.ClassReader.class)));
    assertFalse(ClassFileScan.declaresConnectionMethod(classBytes(org.h2.util.StringUtils.class)));
    // declares getConnection() but statically, and connect(String) of another shape
    assertFalse(ClassFileScan.declaresConnectionMethod(classBytes(NotAConnectionSource.class)));
  }

  private static byte[] classBytes(Class<?> type) throws Exception {
    try (java.io.InputStream in =
        type.getClassLoader().getResourceAsStream(type.getName().replace('.', '/') + ".class")) {
      return in.readAllBytes();
    }
  }

  @Test
  void theGovernorCanReplaceABorrowedConnectionOrFailTheBorrow() throws Exception {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:replace");
    SluiceBridge.install(governor);
    try (Connection fresh = DriverManager.getConnection("jdbc:h2:mem:replace")) {
      governor.replacement = fresh;
      assertSame(fresh, ds.getConnection());
      SQLException gone = new SQLException("pool exhausted", "08001");
      governor.replacement = gone;
      assertSame(gone, assertThrows(SQLException.class, ds::getConnection));
    }
  }

  @Test
  void instrumentedClassesCanBeRetransformedByAnotherAgent() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    ClassFileTransformer other =
        new ClassFileTransformer() {
          @Override
          public byte[] transform(
              ClassLoader loader,
              String name,
              Class<?> redefined,
              ProtectionDomain domain,
              byte[] bytes) {
            if ("org/h2/Driver".equals(name)) {
              seen.incrementAndGet();
            }
            return null;
          }
        };
    inst.addTransformer(other, true);
    try {
      inst.retransformClasses(org.h2.Driver.class, JdbcDataSource.class);
    } finally {
      inst.removeTransformer(other);
    }
    assertEquals(1, seen.get());
    // and the advice is still in force afterwards
    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    SluiceBridge.install(governor);
    assertThrows(SQLException.class, () -> DriverManager.getConnection("jdbc:h2:mem:again"));
  }

  @Test
  void theWarmUpSamplesAreReadAsClassFilesAndWoven() throws Exception {
    assertEquals(
        List.of(WarmUp.SampleDataSource.class.getName(), WarmUp.SampleDriver.class.getName()),
        WarmUp.SAMPLES);
    Weaver weaver = new Weaver();
    weaver.warmUp(); // throws when a sample is missing or matches no instrumentation
    assertNull(
        weaver.weave(
            getClass().getClassLoader(),
            "org/h2/util/StringUtils",
            classBytes(org.h2.util.StringUtils.class)),
        "a class that is no driver or data source is left alone");
    assertNotNull(
        weaver.weave(
            getClass().getClassLoader(), "org/h2/Driver", classBytes(org.h2.Driver.class)));
  }

  @Test
  void aConnectWhileTheAgentStartsWaitsForItsGovernorAndIsGovernedByIt() throws Exception {
    SluiceBridge.hold();
    governor.refusal = new SQLTransientConnectionException("Sluice: refused", "08004");
    CompletableFuture<Throwable> attempt =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                new org.h2.Driver().connect("jdbc:h2:mem:held", new Properties());
                return null;
              } catch (Throwable t) {
                return t;
              }
            });
    assertThrows(
        TimeoutException.class,
        () -> attempt.get(300, TimeUnit.MILLISECONDS),
        "held until the governor is installed");
    assertEquals(0, governor.checks.get());
    SluiceBridge.install(governor);
    assertSame(governor.refusal, attempt.get(10, TimeUnit.SECONDS));
    assertEquals(1, governor.checks.get());
  }
}
