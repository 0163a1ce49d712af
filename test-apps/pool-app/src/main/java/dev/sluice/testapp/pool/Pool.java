package dev.sluice.testapp.pool;

import java.sql.Connection;
import javax.sql.DataSource;

/** One pool or data source as an application holds it. */
final class Pool {

  /**
   * A borrow compiled against the pool's own type (a covariant getConnection, where it has one).
   */
  interface OwnTypeBorrow {
    Connection borrow() throws Exception;
  }

  final String name;
  final DataSource dataSource;
  final OwnTypeBorrow ownType;
  final Transactions transactions;
  private final AutoCloseable closer;

  Pool(
      String name,
      DataSource dataSource,
      OwnTypeBorrow ownType,
      Transactions transactions,
      AutoCloseable closer) {
    this.name = name;
    this.dataSource = dataSource;
    this.ownType = ownType;
    this.transactions = transactions;
    this.closer = closer;
  }

  void close() throws Exception {
    if (closer != null) {
      closer.close();
    }
  }
}
