package dev.sluice.bootstrap;

/**
 * What the instrumented JDBC code asks before and after it opens a connection. Implemented by the
 * agent (in its own class loader) and published through {@link SluiceBridge}.
 *
 * <p>This interface lives on the bootstrap class loader, which cannot see {@code java.sql}: its
 * signatures use {@code java.base} types only. A refusal is returned, not thrown, and is a {@code
 * java.sql.SQLTransientConnectionException}; a connection is a {@code java.sql.Connection}.
 *
 * <p>Implementations must be fast on the allow path (one volatile read, no allocation).
 */
public interface ConnectionGovernor {

  /** Before a driver opens a physical connection to {@code url}: the refusal, or {@code null}. */
  Throwable checkConnect(String url);

  /** After a driver opened {@code connection} (a {@code java.sql.Connection}) to {@code url}. */
  void connected(String url, Object connection);

  /** Before a {@code javax.sql.DataSource} hands out a connection: the refusal, or {@code null}. */
  Throwable checkBorrow(Object dataSource);

  /**
   * After a {@code javax.sql.DataSource} handed out {@code connection}: the connection to give the
   * application instead (the same one, unless it is one the agent aborted), or the {@code
   * java.sql.SQLException} to throw.
   */
  Object borrowed(Object dataSource, Object connection);

  /**
   * Reports a fault of the governor itself. Returns {@code null} to let the application go on as if
   * the agent were absent (fail-open), or the refusal to throw when the configuration asks to fail
   * closed ({@code on-registry-loss=cut-off}). Only faults of a check may refuse.
   */
  Throwable fault(String where, Throwable fault);
}
