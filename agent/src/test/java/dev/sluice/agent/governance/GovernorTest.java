package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.datasource.Endpoint;
import java.io.PrintWriter;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GovernorTest {

  private final DatasourceCatalog catalog =
      new DatasourceCatalog(List.of(), n -> "/ns/" + n.schema() + "/" + n.name(), n -> "/ns/" + n);
  private final Governor governor = new Governor(0, 0, catalog, (a, b) -> {});

  GovernorTest() {
    governor.initialSyncDone();
  }

  @AfterEach
  void close() {
    governor.close();
  }

  /** A pool without a URL getter whose connections wrap the physical ones. */
  static final class OpaquePool implements DataSource {
    final Connection physical;

    OpaquePool(Connection physical) {
      this.physical = physical;
    }

    Connection wrapper() {
      return (Connection)
          Proxy.newProxyInstance(
              getClass().getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> {
                if (method.getName().equals("isWrapperFor")) {
                  return ((Class<?>) args[0]).isInstance(physical);
                }
                if (method.getName().equals("unwrap")) {
                  return physical;
                }
                return method.invoke(physical, args);
              });
    }

    @Override
    public Connection getConnection() {
      return wrapper();
    }

    @Override
    public Connection getConnection(String u, String p) {
      return wrapper();
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

  @Test
  void aPoolWithoutAUrlGetterFailsFastOnceItsConnectionsHaveBeenSeen() throws Exception {
    String url = "jdbc:h2:mem:opaque";
    try (Connection physical = DriverManager.getConnection(url)) {
      governor.connected(url, physical);
      OpaquePool pool = new OpaquePool(physical);
      Datasource d = catalog.forUrl(url);
      governor.update(s -> s.withDatasource(d.path(), true));

      assertNull(governor.checkBorrow(pool), "not known yet: the borrow goes ahead");
      governor.borrowed(pool, pool.getConnection()); // the agent sees where it goes

      Throwable refused = governor.checkBorrow(pool);
      assertTrue(refused instanceof SQLTransientConnectionException, String.valueOf(refused));
      assertEquals("Sluice: opaque/h2_mem is DISABLED (/ns/opaque/h2_mem)", refused.getMessage());
      assertEquals(1, d.refusedConnections());
    }
  }

  @Test
  void anUnparseableUrlIsADatasourceOfItsOwnAndNeverACrash() throws SQLException {
    String url = "jdbc:oracle:thin:@tnsalias";
    Datasource d = catalog.forUrl(url);
    assertEquals(Endpoint.Kind.UNPARSED, d.endpoint().kind());
    assertEquals("default", d.name().schema());
    assertTrue(d.name().name().startsWith("url_"), d.name().name());
    assertSame(d, catalog.forUrl(url), "one datasource per URL");
    assertNull(governor.checkConnect(url));
    governor.update(s -> s.withDatasource(d.path(), true));
    assertNotNull(governor.checkConnect(url));
    assertNull(governor.checkConnect("jdbc:h2:mem:other"), "other endpoints are untouched");
  }

  @Test
  void nothingCutOffMeansNoRefusalAndNoUrlParsing() {
    assertNull(governor.checkConnect("jdbc:mysql://db1:3306/x"));
    assertEquals(0, catalog.all().size(), "the allow path does not even look at the URL");
  }
}
