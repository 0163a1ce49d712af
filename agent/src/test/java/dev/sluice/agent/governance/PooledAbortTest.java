package dev.sluice.agent.governance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import javax.sql.ConnectionEventListener;
import javax.sql.PooledConnection;
import javax.sql.StatementEventListener;
import org.junit.jupiter.api.Test;

/** A connection shaped as MariaDB Connector/J's pooled ones is detached, aborted, reported. */
class PooledAbortTest {

  static final List<String> calls = new ArrayList<>();

  /** A pooled connection that only hands its connection back on close(), as MariaDB's. */
  public static class DriverPooledConnection implements PooledConnection {
    @Override
    public Connection getConnection() {
      return null;
    }

    @Override
    public void close() {
      calls.add("pooled.close");
    }

    public void fireConnectionErrorOccurred(SQLException e) {
      calls.add("pooled.fireConnectionErrorOccurred " + e.getSQLState());
    }

    @Override
    public void addConnectionEventListener(ConnectionEventListener listener) {}

    @Override
    public void removeConnectionEventListener(ConnectionEventListener listener) {}

    @Override
    public void addStatementEventListener(StatementEventListener listener) {}

    @Override
    public void removeStatementEventListener(StatementEventListener listener) {}
  }

  /** Its connection: abort() goes to the pooled connection while it is attached. */
  public abstract static class DriverConnection implements Connection {
    private DriverPooledConnection poolConnection;

    public void setPoolConnection(DriverPooledConnection poolConnection) {
      calls.add("setPoolConnection(" + (poolConnection == null ? "null" : "pooled") + ")");
      this.poolConnection = poolConnection;
    }

    @Override
    public void abort(Executor executor) {
      if (poolConnection != null) {
        poolConnection.close();
        return;
      }
      calls.add("socket closed");
    }
  }

  /** A concrete DriverConnection: every other Connection method a stub. */
  private static DriverConnection mock(DriverPooledConnection pooled) throws Exception {
    DriverConnection c =
        new net.bytebuddy.ByteBuddy()
            .subclass(DriverConnection.class)
            .method(net.bytebuddy.matcher.ElementMatchers.isAbstract())
            .intercept(net.bytebuddy.implementation.StubMethod.INSTANCE)
            .make()
            .load(
                PooledAbortTest.class.getClassLoader(),
                net.bytebuddy.dynamic.loading.ClassLoadingStrategy.Default.WRAPPER)
            .getLoaded()
            .getConstructor()
            .newInstance();
    if (pooled != null) {
      c.setPoolConnection(pooled);
    }
    return c;
  }

  @Test
  void anAttachedConnectionIsDetachedAbortedAndItsPoolTold() throws Exception {
    calls.clear();
    DriverPooledConnection pooled = new DriverPooledConnection();
    DriverConnection c = mock(pooled);
    assertTrue(new PooledAbort().abortIfPooled(c));
    assertEquals(
        List.of(
            "setPoolConnection(pooled)",
            "setPoolConnection(null)",
            "socket closed",
            "pooled.fireConnectionErrorOccurred 08006"),
        calls);
  }

  @Test
  void aDetachedOneOrAnotherDriversIsLeftToTheJdbcWay() throws Exception {
    calls.clear();
    assertFalse(new PooledAbort().abortIfPooled(mock(null)));
    Connection other =
        (Connection)
            Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {Connection.class}, (p, m, a) -> null);
    assertFalse(new PooledAbort().abortIfPooled(other));
    assertEquals(List.of(), calls);
  }
}
