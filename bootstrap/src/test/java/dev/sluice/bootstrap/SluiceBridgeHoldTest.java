package dev.sluice.bootstrap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SluiceBridgeHoldTest {

  /** Records the data sources it is told of; allows everything else. */
  static final class Recording implements ConnectionGovernor {
    final List<Object> created = new CopyOnWriteArrayList<>();

    @Override
    public Throwable checkConnect(Object driver, String url, Object info) {
      return null;
    }

    @Override
    public void connected(String url, Object connection) {}

    @Override
    public Object enterBorrow(Object dataSource) {
      return SluiceBridge.ALLOWED;
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
      return thrown != null ? thrown : connection;
    }

    @Override
    public Object enterPooledSource(Object source) {
      return SluiceBridge.ALLOWED;
    }

    @Override
    public void exitPooledSource(Object token, Object source, Object pooledConnection) {}

    @Override
    public void handleOpened(Object pooledConnection, Object handle) {}

    @Override
    public void dataSourceCreated(Object dataSource) {
      created.add(dataSource);
    }

    @Override
    public Throwable fault(String where, Throwable fault) {
      return null;
    }
  }

  @AfterEach
  void allowAll() {
    SluiceBridge.install(null);
  }

  @Test
  void aDataSourceMadeWhileTheAgentStartsIsToldToItsGovernor() {
    SluiceBridge.hold();
    Object early = new Object();
    SluiceBridge.dataSourceCreated(early);
    Recording governor = new Recording();
    SluiceBridge.install(governor);
    Object later = new Object();
    SluiceBridge.dataSourceCreated(later);
    assertEquals(List.of(early, later), governor.created);
  }
}
