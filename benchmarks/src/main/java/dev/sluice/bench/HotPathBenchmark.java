package dev.sluice.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The application's hot path: a HikariCP borrow and return on H2 in memory, and a point SELECT
 * through a pooled connection. Run in forks with and without {@code -javaagent} by {@link Bench},
 * in two states: {@code fresh} (nothing ever cut off) and {@code afterAbort} (the state a fleet is
 * in after every toggle: the instance was cut off, the pool's connections aborted, and access
 * restored, while the pool still holds some of the aborted connections).
 *
 * <p>With the agent, the set-up first proves that the advice is woven: a borrow while the instance
 * is disabled must be refused with SQLState {@code 08004}, or the trial fails.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HotPathBenchmark {

  @Param({"fresh", "afterAbort"})
  public String state;

  private HikariDataSource ds;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    boolean withAgent = Boolean.getBoolean("bench.agent");
    if (withAgent) {
      proveTheAdviceIsWoven();
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl("jdbc:h2:mem:hotpath;DB_CLOSE_DELAY=-1");
    config.setMaximumPoolSize(4);
    config.setMinimumIdle(4);
    ds = new HikariDataSource(config);
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS kv (id INT PRIMARY KEY, v VARCHAR(20))");
      s.execute("MERGE INTO kv VALUES (1, 'one')");
    }
    if (withAgent && "afterAbort".equals(state)) {
      // all four connections in use once, then the instance cut off: each of them is aborted
      List<Connection> held = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        held.add(ds.getConnection());
      }
      for (Connection c : held) {
        c.close();
      }
      long aborted = (Long) server().getAttribute(INSTANCE, "AbortedConnections");
      server().invoke(INSTANCE, "disable", null, null);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while ((Long) server().getAttribute(INSTANCE, "AbortedConnections") < aborted + 4) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the pool's connections were not aborted");
        }
        Thread.sleep(1);
      }
      server().invoke(INSTANCE, "enable", null, null);
      try (Connection c = ds.getConnection()) {
        // the first borrow after the toggle replaces the aborted connection it meets
        if (c.isClosed()) {
          throw new IllegalStateException("an aborted connection was handed out");
        }
      }
    }
  }

  private static final ObjectName INSTANCE = instanceName();

  private static ObjectName instanceName() {
    try {
      return new ObjectName("sluice:type=Instance");
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static MBeanServer server() {
    return ManagementFactory.getPlatformMBeanServer();
  }

  /**
   * A borrow from a HikariCP pool while the instance is disabled must be refused with the agent's
   * 08004: otherwise the advice is not woven and the figures would measure nothing. A pool of its
   * own, which never opens a connection, so that the pool measured is not cut off here.
   */
  private static void proveTheAdviceIsWoven() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!server().isRegistered(INSTANCE)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the agent's MBean never appeared");
      }
      Thread.sleep(10); // the agent registers its beans on its start thread
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl("jdbc:h2:mem:woven");
    config.setMinimumIdle(0);
    config.setInitializationFailTimeout(-1);
    config.setConnectionTimeout(30_000);
    try (HikariDataSource probe = new HikariDataSource(config)) {
      server().invoke(INSTANCE, "disable", null, null);
      try {
        probe.getConnection().close();
        throw new IllegalStateException("the advice is not woven: a borrow passed a cut-off");
      } catch (SQLException refused) {
        if (!"08004".equals(refused.getSQLState())) {
          throw new IllegalStateException("not the agent's refusal", refused);
        }
      } finally {
        server().invoke(INSTANCE, "enable", null, null);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    ds.close();
  }

  @Benchmark
  public Connection borrowAndReturn() throws SQLException {
    try (Connection c = ds.getConnection()) {
      return c;
    }
  }

  @Benchmark
  public String pointSelect() throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT v FROM kv WHERE id = ?")) {
      ps.setInt(1, 1);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }
}
