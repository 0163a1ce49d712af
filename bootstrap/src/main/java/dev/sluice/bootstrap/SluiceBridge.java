package dev.sluice.bootstrap;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The one entry point of inlined advice. It lives on the bootstrap class loader so that advice in
 * any class loader can reach it, and so it may use {@code java.base} types only. It holds no logic
 * of its own: it forwards to the {@link ConnectionGovernor} the agent installed, guards against
 * re-entry (a wrapping driver or data source and the one under it are governed once), and turns
 * every fault of the governor into "allow" so that the agent can never break the application,
 * unless the governor answers a fault with a refusal ({@code on-registry-loss=cut-off}).
 *
 * <p>Protocol for advice: {@code enter*} returns either the refusal (a {@link Throwable}; the
 * advice skips the method) or a {@link Boolean} telling whether this call is the outermost; the
 * matching {@code exit*} gets that value back and returns the refusal to throw, or {@code null}.
 */
public final class SluiceBridge {

  private static final ConnectionGovernor ALLOW_ALL =
      new ConnectionGovernor() {
        @Override
        public Throwable checkConnect(String url) {
          return null;
        }

        @Override
        public void connected(String url, Object connection) {}

        @Override
        public Throwable checkBorrow(Object dataSource) {
          return null;
        }

        @Override
        public Object borrowed(Object dataSource, Object connection) {
          return connection;
        }

        @Override
        public Throwable fault(String where, Throwable fault) {
          return null;
        }
      };

  private static volatile ConnectionGovernor governor = ALLOW_ALL;

  // Depth of nested Driver.connect calls on this thread: a wrapping driver and the one under it
  // open one physical connection. (Borrows are not counted: they are the hot path, and a data
  // source wrapping another is simply asked twice.)
  private static final ThreadLocal<int[]> CONNECT_DEPTH = ThreadLocal.withInitial(() -> new int[1]);

  private SluiceBridge() {}

  /** How long a connection waits for the agent's governor while the agent starts. */
  static final long HOLD_SECONDS = 30;

  /**
   * Holds every connection until the agent installs its governor, at most {@link #HOLD_SECONDS}
   * (then connections are allowed). The agent reads its configuration after {@code premain} has
   * returned, and no connection may open ungoverned in the meantime.
   */
  public static void hold() {
    governor = new Holding();
  }

  /** Installs the governor; {@code null} restores allow-all. Releases connections held. */
  public static void install(ConnectionGovernor newGovernor) {
    ConnectionGovernor previous = governor;
    governor = newGovernor == null ? ALLOW_ALL : newGovernor;
    if (previous instanceof Holding) {
      ((Holding) previous).installed.countDown();
    }
  }

  /** Waits for the governor the agent installs, then asks it. */
  private static final class Holding implements ConnectionGovernor {
    final CountDownLatch installed = new CountDownLatch(1);

    private ConnectionGovernor installed() {
      boolean done = false;
      try {
        done = installed.await(HOLD_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ConnectionGovernor g = governor;
      if (g == this) {
        if (!done) {
          governor = ALLOW_ALL; // the agent never got so far: stay out of the way
        }
        return ALLOW_ALL;
      }
      return g;
    }

    @Override
    public Throwable checkConnect(String url) {
      return installed().checkConnect(url);
    }

    @Override
    public void connected(String url, Object connection) {
      installed().connected(url, connection);
    }

    @Override
    public Throwable checkBorrow(Object dataSource) {
      return installed().checkBorrow(dataSource);
    }

    @Override
    public Object borrowed(Object dataSource, Object connection) {
      return installed().borrowed(dataSource, connection);
    }

    @Override
    public Throwable fault(String where, Throwable fault) {
      return installed().fault(where, fault);
    }
  }

  /** Entered at the start of {@code Driver.connect}. */
  public static Object enterConnect(String url) {
    int[] depth = CONNECT_DEPTH.get();
    if (depth[0] == 0) {
      ConnectionGovernor g = governor;
      try {
        Throwable refused = g.checkConnect(url);
        if (refused != null) {
          return refused;
        }
      } catch (Throwable fault) {
        Throwable refused = report(g, "Driver.connect", fault);
        if (refused != null) {
          return refused;
        }
      }
    }
    return ++depth[0] == 1 ? Boolean.TRUE : Boolean.FALSE;
  }

  /** Exited at the end of {@code Driver.connect}, normally or not. */
  public static Throwable exitConnect(Object entered, String url, Object connection) {
    if (entered instanceof Throwable) {
      return (Throwable) entered;
    }
    if (entered == null) {
      return null; // the enter advice itself failed; stay out of the way
    }
    int[] depth = CONNECT_DEPTH.get();
    if (depth[0] > 0) {
      depth[0]--;
    }
    if (entered == Boolean.TRUE && connection != null) {
      ConnectionGovernor g = governor;
      try {
        g.connected(url, connection);
      } catch (Throwable fault) {
        report(g, "Driver.connect", fault);
      }
    }
    return null;
  }

  /**
   * Entered at the start of {@code DataSource.getConnection}: the refusal, or {@link Boolean#TRUE}.
   */
  public static Object enterBorrow(Object dataSource) {
    ConnectionGovernor g = governor;
    try {
      Throwable refused = g.checkBorrow(dataSource);
      if (refused != null) {
        return refused;
      }
    } catch (Throwable fault) {
      Throwable refused = report(g, "DataSource.getConnection", fault);
      if (refused != null) {
        return refused;
      }
    }
    return Boolean.TRUE;
  }

  /**
   * Exited at the end of {@code DataSource.getConnection}, normally or not. Returns the refusal to
   * throw (a {@link Throwable}), or else the connection to return: the one the data source handed
   * out, or a fresh one in place of a connection the agent aborted.
   */
  public static Object exitBorrow(Object entered, Object dataSource, Object connection) {
    if (entered instanceof Throwable) {
      return entered;
    }
    if (entered == null || connection == null) {
      return connection; // the enter advice itself failed, or the borrow did
    }
    ConnectionGovernor g = governor;
    try {
      return g.borrowed(dataSource, connection);
    } catch (Throwable fault) {
      report(g, "DataSource.getConnection", fault);
      return connection;
    }
  }

  /** Reports the fault; returns the refusal when the governor asks to fail closed. */
  private static Throwable report(ConnectionGovernor g, String where, Throwable fault) {
    try {
      return g.fault(where, fault);
    } catch (Throwable ignored) {
      return null; // nothing is left to tell; the application must go on
    }
  }
}
