package dev.sluice.bootstrap;

/**
 * What the instrumented JDBC code asks before and after it opens or hands out a connection.
 * Implemented by the agent (in its own class loader) and published through {@link SluiceBridge}.
 *
 * <p>This interface lives on the bootstrap class loader, which cannot see {@code java.sql}: its
 * signatures use {@code java.base} types only. A refusal is returned, not thrown, and is a {@code
 * java.sql.SQLTransientConnectionException}; a connection is a {@code java.sql.Connection}.
 *
 * <p>The points it hears of, each the JDBC contract's own way to a connection:
 *
 * <ul>
 *   <li>{@code java.sql.Driver.connect(String, Properties)}: a physical connection opens;
 *   <li>{@code javax.sql.DataSource.getConnection()} and {@code getConnection(String, String)},
 *       whatever the declared return type: a pool lends one, or a driver's data source opens one;
 *   <li>{@code javax.sql.XADataSource.getXAConnection} and {@code
 *       javax.sql.ConnectionPoolDataSource.getPooledConnection}: a pooled (or XA) connection opens,
 *       and {@code javax.sql.PooledConnection.getConnection()} lends its handle;
 *   <li>the construction of a data source.
 * </ul>
 *
 * <p>Implementations must be fast on the allow path (a volatile read or two, no allocation).
 */
public interface ConnectionGovernor {

  /**
   * Before {@code driver} opens a physical connection to {@code url} with {@code info} (the {@code
   * java.util.Properties} the caller passed): the refusal, or {@code null}.
   */
  Throwable checkConnect(Object driver, String url, Object info);

  /**
   * Before {@code driver}'s {@code connect} (the outermost one of a thread) is checked: the URL to
   * connect to in place of {@code url} (a routing group's member), {@code url} itself when it names
   * no group's address or {@code driver} does not take it, or the refusal (a {@link Throwable})
   * when no member can be found in time. Asked only while {@link #routes()} said {@code true} when
   * the governor was installed.
   */
  default Object route(Object driver, String url, Object info) {
    return url;
  }

  /** Whether {@link #route} may answer anything but its argument: routing groups are configured. */
  default boolean routes() {
    return false;
  }

  /** After a driver opened {@code connection} (a {@code java.sql.Connection}) to {@code url}. */
  void connected(String url, Object connection);

  /**
   * After a driver that wraps another ({@code jdbc:p6spy:…} and the like) opened {@code connection}
   * to {@code url} through a nested connect of the wrapped driver to {@code reached}: the
   * connection's endpoint is {@code reached}'s. By default as {@link #connected}.
   */
  default void connectedThrough(String url, String reached, Object connection) {
    connected(url, connection);
  }

  /**
   * Before a data source hands out a connection: the refusal (a {@link Throwable}), or a token
   * (never {@code null}) that {@link #exitBorrow} gets back.
   */
  Object enterBorrow(Object dataSource);

  /**
   * After a data source handed out {@code connection} or threw {@code thrown}. Returns the {@link
   * Throwable} to throw, or the connection to return: the one handed out, or one borrowed again in
   * place of a connection the agent aborted (also in place of {@code thrown}, when the borrow
   * failed on such a connection).
   *
   * @param credentials whether the call was {@code getConnection(user, password)}
   */
  Object exitBorrow(
      Object token,
      Object dataSource,
      boolean credentials,
      String user,
      String password,
      Object connection,
      Throwable thrown);

  /**
   * Before an {@code XADataSource} or {@code ConnectionPoolDataSource} opens a pooled connection:
   * the refusal, or a token (never {@code null}) that {@link #exitPooledSource} gets back.
   */
  Object enterPooledSource(Object source);

  /** After {@code source} opened {@code pooledConnection} (or failed: {@code null}). */
  void exitPooledSource(Object token, Object source, Object pooledConnection);

  /** After a {@code javax.sql.PooledConnection} handed out {@code handle}. */
  void handleOpened(Object pooledConnection, Object handle);

  /** A data source (or a pooled or XA data source) was constructed. */
  void dataSourceCreated(Object dataSource);

  /**
   * Reports a fault of the governor itself. Returns {@code null} to let the application go on as if
   * the agent were absent (fail-open), or the refusal to throw when the configuration asks to fail
   * closed ({@code on-registry-loss=cut-off}). Only faults of a check may refuse.
   */
  Throwable fault(String where, Throwable fault);
}
