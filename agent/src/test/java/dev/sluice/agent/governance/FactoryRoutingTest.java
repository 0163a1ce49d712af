package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.logging.Logger;
import javax.sql.DataSource;
import javax.sql.XAConnection;
import javax.sql.XADataSource;
import org.junit.jupiter.api.Test;

class FactoryRoutingTest {

  /** A driver's own data source, as MariaDB's and H2's: its configuration is its URL. */
  public static class DriverDataSource implements DataSource, XADataSource {
    private String url;
    final java.util.List<String> urlsSeen = new java.util.ArrayList<>();

    public String getUrl() {
      return url;
    }

    public void setUrl(String url) {
      this.url = url;
    }

    @Override
    public Connection getConnection() {
      urlsSeen.add(url);
      return null;
    }

    @Override
    public Connection getConnection(String u, String p) {
      return getConnection();
    }

    @Override
    public XAConnection getXAConnection() {
      return null;
    }

    @Override
    public XAConnection getXAConnection(String u, String p) {
      return null;
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
    public <T> T unwrap(Class<T> iface) throws SQLException {
      throw new SQLException("no");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }

  /** A driver's own pool: closeable. */
  public static class DriverPool extends DriverDataSource implements AutoCloseable {
    @Override
    public void close() {}
  }

  /** A pool over any driver: a plain DataSource. */
  public abstract static class AnyPool implements DataSource {
    public String getJdbcUrl() {
      return null;
    }

    public void setJdbcUrl(String url) {}
  }

  @Test
  void onlyDriversOwnDataSourcesThatAreNoPoolsAreRoutedHere() {
    assertTrue(FactoryRouting.routable(DriverDataSource.class));
    assertFalse(FactoryRouting.routable(DriverPool.class), "a pool bakes its URL in");
    assertFalse(FactoryRouting.routable(AnyPool.class), "goes through Driver.connect");
    assertFalse(FactoryRouting.routable(Object.class));
  }

  @Test
  void aCallIsRoutedWithTheUrlSetForItsLengthOnly() throws Exception {
    GroupRouting routing =
        new GroupRouting(List.of(new RoutingGroup("g", "g.invalid:3306", "/k", 0)));
    routing.apply("g", "10.0.0.2:3307", 1);
    FactoryRouting f = new FactoryRouting();
    DriverDataSource ds = new DriverDataSource();
    ds.setUrl("jdbc:mariadb://g.invalid:3306/shop?useSsl=false");

    Object routed = f.route(ds, routing, u -> false);
    assertTrue(routed instanceof FactoryRouting.Swap, String.valueOf(routed));
    FactoryRouting.Swap swap = (FactoryRouting.Swap) routed;
    assertEquals("jdbc:mariadb://10.0.0.2:3307/shop?useSsl=false", ds.getUrl());
    assertTrue(swap.lock.isHeldByCurrentThread(), "calls of the data source wait meanwhile");
    assertEquals("g", swap.via.group);
    assertEquals("10.0.0.2:3307", swap.via.member);
    assertNull(f.route(ds, routing, u -> false), "a nested call of the same data source");
    java.util.concurrent.atomic.AtomicReference<Object> other =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              Object r = f.route(ds, routing, u -> false);
              other.set(r);
              if (r instanceof FactoryRouting.Swap) {
                f.exit((FactoryRouting.Swap) r);
              }
            });
    t.start();
    t.join(200);
    assertTrue(t.isAlive(), "another thread's call waits, rather than read the URL set for this");
    ds.getConnection();
    f.exit(swap);
    t.join(5000);
    FactoryRouting.Swap second = (FactoryRouting.Swap) other.get();
    assertEquals("jdbc:mariadb://g.invalid:3306/shop?useSsl=false", second.original);
    assertEquals("jdbc:mariadb://10.0.0.2:3307/shop?useSsl=false", second.routed);
    assertEquals(List.of("jdbc:mariadb://10.0.0.2:3307/shop?useSsl=false"), ds.urlsSeen);

    ds.setUrl("jdbc:mariadb://other:3306/shop");
    assertNull(f.route(ds, routing, u -> false), "no group's address: not routed");

    routing.apply("g", null, 2);
    ds.setUrl("jdbc:mariadb://g.invalid:3306/shop");
    Object refused = f.route(ds, routing, u -> false);
    assertTrue(refused instanceof SQLException, "no primary known: refused");
    assertEquals("08004", ((SQLException) refused).getSQLState());
    assertEquals("jdbc:mariadb://g.invalid:3306/shop", ds.getUrl());
  }
}
