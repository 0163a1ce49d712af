package dev.sluice.bootstrap;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one entry point of inlined advice. It lives on the bootstrap class loader so that advice in
 * any class loader can reach it, and so it may use {@code java.base} types only. It holds no logic
 * of its own: it forwards to the {@link ConnectionGovernor} the agent installed, guards against
 * re-entry (a wrapping driver or data source and the one under it are governed once), and turns
 * every fault of the governor into "allow" so that the agent can never break the application,
 * unless the governor answers a fault with a refusal ({@code on-registry-loss=cut-off}).
 *
 * <p>Protocol for advice: {@code enter*} returns either the refusal (a {@link Throwable}; the
 * advice skips the method) or a token; the matching {@code exit*} gets that token back and returns
 * the refusal to throw, or what the method returns. A {@code null} token means the enter advice
 * itself failed: the exit then stays out of the way.
 */
public final class SluiceBridge {

  /** The token of an allowed call, when the governor has nothing to carry to its exit. */
  public static final Object ALLOWED = Boolean.TRUE;

  private static final ConnectionGovernor ALLOW_ALL = new AllowAll();

  /** The governor in force before the agent installs its own, and after a failed start. */
  private static final class AllowAll implements ConnectionGovernor {
    @Override
    public Throwable checkConnect(Object driver, String url, Object info) {
      return null;
    }

    @Override
    public void connected(String url, Object connection) {}

    @Override
    public Object enterBorrow(Object dataSource) {
      return ALLOWED;
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
      return ALLOWED;
    }

    @Override
    public void exitPooledSource(Object token, Object source, Object pooledConnection) {}

    @Override
    public void handleOpened(Object pooledConnection, Object handle) {}

    @Override
    public void dataSourceCreated(Object dataSource) {}

    @Override
    public Throwable fault(String where, Throwable fault) {
      return null;
    }
  }

  private static volatile ConnectionGovernor governor = ALLOW_ALL;

  // Whether Driver.connect asks the governor where to go: off unless routing groups are configured
  // (then a connect costs this one volatile read more), on while connects are held for the agent.
  private static volatile boolean routing;

  /**
   * Nested {@code Driver.connect} calls on this thread: a driver that wraps another and the one
   * under it open one physical connection, tracked once, as the outermost connect's, at the
   * endpoint of the deepest one that returned a connection. (Borrows are not counted: they are the
   * hot path, and a data source wrapping another is simply asked twice.)
   */
  private static final class Connects {
    int depth;
    // whether a connect on this thread's current nesting was routed: set by the outermost route
    boolean routed;
    String outerUrl;
    String reached;
    int reachedDepth;
  }

  private static final ThreadLocal<Connects> CONNECTS = ThreadLocal.withInitial(Connects::new);

  // Whether an agent was launched in this JVM. This class is loaded once, by the bootstrap class
  // loader, whatever the number of -javaagent options and attaches: each load of the agent jar
  // gets a class loader of its own, and only this flag is shared by all of them.
  private static final AtomicBoolean LAUNCHED = new AtomicBoolean();

  private SluiceBridge() {}

  /**
   * Claims the JVM for one agent: {@code true} for the first load of the agent ({@code -javaagent}
   * or an attach), {@code false} for every later one, which must then do nothing. Two agents would
   * register two instances and keep two governors, only one of which the advice asks.
   */
  public static boolean claimLaunch() {
    return LAUNCHED.compareAndSet(false, true);
  }

  /** How long a connection waits for the agent's governor while the agent starts. */
  static final long HOLD_SECONDS = 30;

  /**
   * Holds every connection until the agent installs its governor, at most {@link #HOLD_SECONDS}
   * (then connections are allowed). The agent reads its configuration after {@code premain} has
   * returned, and no connection may open ungoverned in the meantime.
   */
  public static void hold() {
    governor = new Holding();
    routing = true; // the agent's configuration is not known yet: ask once it is
  }

  /** Installs the governor; {@code null} restores allow-all. Releases connections held. */
  public static void install(ConnectionGovernor newGovernor) {
    ConnectionGovernor previous = governor;
    ConnectionGovernor next = newGovernor == null ? ALLOW_ALL : newGovernor;
    boolean routes;
    try {
      routes = next.routes();
    } catch (Throwable fault) {
      routes = false;
    }
    governor = next;
    routing = routes;
    if (previous instanceof Holding) {
      ((Holding) previous).handOver(next);
    }
  }

  /** Waits for the governor the agent installs, then asks it. */
  private static final class Holding implements ConnectionGovernor {
    /** At most this many data sources made while holding are told to the governor. */
    static final int CREATED_KEPT = 10_000;

    final CountDownLatch installed = new CountDownLatch(1);
    // Data sources constructed before the governor was installed (the application may make its
    // pool while the agent starts): told to the governor when it is installed, so that it learns
    // where their connections go as it does for the ones made later. Weakly held: one the
    // application dropped meanwhile is not kept alive.
    private final List<WeakReference<Object>> created = new ArrayList<>();
    private boolean handedOver;

    /** Tells {@code next} of the data sources made meanwhile, then releases the calls held. */
    void handOver(ConnectionGovernor next) {
      List<WeakReference<Object>> made;
      synchronized (created) {
        handedOver = true;
        made = new ArrayList<>(created);
        created.clear();
      }
      for (WeakReference<Object> ref : made) {
        Object dataSource = ref.get();
        if (dataSource != null) {
          try {
            next.dataSourceCreated(dataSource);
          } catch (Throwable fault) {
            report(next, "a data source's constructor", fault);
          }
        }
      }
      installed.countDown();
    }

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

    /** The governor in force, without waiting: the exits of calls that entered already. */
    private ConnectionGovernor current() {
      ConnectionGovernor g = governor;
      return g == this ? ALLOW_ALL : g;
    }

    @Override
    public Throwable checkConnect(Object driver, String url, Object info) {
      return installed().checkConnect(driver, url, info);
    }

    @Override
    public void connected(String url, Object connection) {
      installed().connected(url, connection);
    }

    @Override
    public void connectedThrough(String url, String reached, Object connection) {
      installed().connectedThrough(url, reached, connection);
    }

    @Override
    public Object route(Object driver, String url, Object info) {
      ConnectionGovernor g = installed();
      return g.routes() ? g.route(driver, url, info) : url;
    }

    @Override
    public boolean routes() {
      return true;
    }

    @Override
    public Object enterBorrow(Object dataSource) {
      return installed().enterBorrow(dataSource);
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
      return current()
          .exitBorrow(token, dataSource, credentials, user, password, connection, thrown);
    }

    @Override
    public Object enterPooledSource(Object source) {
      return installed().enterPooledSource(source);
    }

    @Override
    public void exitPooledSource(Object token, Object source, Object pooledConnection) {
      current().exitPooledSource(token, source, pooledConnection);
    }

    @Override
    public void handleOpened(Object pooledConnection, Object handle) {
      current().handleOpened(pooledConnection, handle);
    }

    @Override
    public void dataSourceCreated(Object dataSource) {
      // constructors never wait for the agent: kept for it until it is installed
      synchronized (created) {
        if (!handedOver) {
          if (created.size() < CREATED_KEPT) {
            created.add(new WeakReference<>(dataSource));
          }
          return;
        }
      }
      current().dataSourceCreated(dataSource);
    }

    @Override
    public Throwable fault(String where, Throwable fault) {
      return installed().fault(where, fault);
    }
  }

  /**
   * Called first in {@code Driver.connect}: the URL to connect to (a routing group's member in
   * place of the group's address; {@code url} itself when it names none, on a connect nested in one
   * that was routed, and always when no group is configured), or the refusal to throw (a {@link
   * Throwable}). With no group configured this is one volatile read and allocates nothing.
   */
  public static Object route(Object driver, String url, Object info) {
    if (!routing) {
      return url;
    }
    Connects connects = CONNECTS.get();
    if (connects.depth != 0 && connects.routed) {
      return url; // the wrapping driver's connect was routed already
    }
    ConnectionGovernor g = governor;
    try {
      Object routed = g.route(driver, url, info);
      // when a wrapping driver's URL is not rewritten, the wrapped driver's connect may be
      connects.routed = routed instanceof String && !routed.equals(url);
      return routed instanceof String || routed instanceof Throwable ? routed : url;
    } catch (Throwable fault) {
      Throwable refused = report(g, "Driver.connect", fault);
      return refused != null ? refused : url;
    }
  }

  /**
   * Entered at the start of {@code Driver.connect}: the refusal, or whether this is outermost. A
   * nested connect to another URL is checked too: the URL of a driver that wraps another may name
   * no endpoint the agent knows, the wrapped driver's names the one it reaches.
   */
  public static Object enterConnect(Object driver, String url, Object info) {
    Connects connects = CONNECTS.get();
    if (connects.depth == 0 || (url != null && !url.equals(connects.outerUrl))) {
      ConnectionGovernor g = governor;
      try {
        Throwable refused = g.checkConnect(driver, url, info);
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
    if (++connects.depth == 1) {
      connects.outerUrl = url;
      return Boolean.TRUE;
    }
    return Boolean.FALSE;
  }

  /**
   * Exited at the end of {@code Driver.connect}, normally or not: the refusal to throw, or null.
   */
  public static Throwable exitConnect(Object entered, String url, Object connection) {
    if (entered instanceof Throwable) {
      return (Throwable) entered;
    }
    if (entered == null) {
      return null; // the enter advice itself failed; stay out of the way
    }
    Connects connects = CONNECTS.get();
    int depth = connects.depth;
    if (depth > 0) {
      connects.depth--;
    }
    if (entered != Boolean.TRUE) {
      if (connection != null && depth >= connects.reachedDepth) {
        connects.reached = url;
        connects.reachedDepth = depth;
      }
      return null;
    }
    String reached = connects.reached;
    connects.outerUrl = null;
    connects.reached = null;
    connects.reachedDepth = 0;
    if (connection != null) {
      ConnectionGovernor g = governor;
      try {
        if (reached == null || reached.equals(url)) {
          g.connected(url, connection);
        } else {
          g.connectedThrough(url, reached, connection);
        }
      } catch (Throwable fault) {
        report(g, "Driver.connect", fault);
      }
    }
    return null;
  }

  /**
   * Entered at the start of {@code getConnection} of a data source: the refusal (a {@link
   * Throwable}; the advice skips the method), or the token for {@link #exitBorrow}.
   */
  public static Object enterBorrow(Object dataSource) {
    ConnectionGovernor g = governor;
    try {
      return g.enterBorrow(dataSource);
    } catch (Throwable fault) {
      Throwable refused = report(g, "DataSource.getConnection", fault);
      return refused != null ? refused : ALLOWED;
    }
  }

  /**
   * Exited at the end of {@code getConnection} of a data source, normally or not. Returns the
   * {@link Throwable} to throw, or else the connection to return: the one the data source handed
   * out, or a fresh one in place of a connection the agent aborted.
   */
  public static Object exitBorrow(
      Object entered,
      Object dataSource,
      boolean credentials,
      String user,
      String password,
      Object connection,
      Throwable thrown) {
    if (entered instanceof Throwable) {
      return entered;
    }
    if (entered == null) {
      return thrown != null ? thrown : connection; // the enter advice itself failed
    }
    ConnectionGovernor g = governor;
    try {
      return g.exitBorrow(entered, dataSource, credentials, user, password, connection, thrown);
    } catch (Throwable fault) {
      report(g, "DataSource.getConnection", fault);
      return thrown != null ? thrown : connection;
    }
  }

  /** Entered at the start of {@code getXAConnection} / {@code getPooledConnection}. */
  public static Object enterPooledSource(Object source) {
    ConnectionGovernor g = governor;
    try {
      return g.enterPooledSource(source);
    } catch (Throwable fault) {
      Throwable refused = report(g, "XADataSource.getXAConnection", fault);
      return refused != null ? refused : ALLOWED;
    }
  }

  /** Exited at the end of {@code getXAConnection} / {@code getPooledConnection}: as exitConnect. */
  public static Throwable exitPooledSource(Object entered, Object source, Object pooled) {
    if (entered instanceof Throwable) {
      return (Throwable) entered;
    }
    if (entered == null) {
      return null;
    }
    ConnectionGovernor g = governor;
    try {
      g.exitPooledSource(entered, source, pooled);
    } catch (Throwable fault) {
      report(g, "XADataSource.getXAConnection", fault);
    }
    return null;
  }

  /** Exited at the end of {@code PooledConnection.getConnection()}. */
  public static void handleOpened(Object pooledConnection, Object handle) {
    if (handle == null) {
      return;
    }
    ConnectionGovernor g = governor;
    try {
      g.handleOpened(pooledConnection, handle);
    } catch (Throwable fault) {
      report(g, "PooledConnection.getConnection", fault);
    }
  }

  /** Exited at the end of a data source's constructor. */
  public static void dataSourceCreated(Object dataSource) {
    ConnectionGovernor g = governor;
    try {
      g.dataSourceCreated(dataSource);
    } catch (Throwable fault) {
      report(g, "a data source's constructor", fault);
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
