package dev.sluice.testapp.pool;

/**
 * How the application demarcates a transaction: on the connection ({@link #LOCAL}), or with a JTA
 * transaction manager around the borrow (the pool enlists the connection as it lends it).
 */
interface Transactions {

  void begin() throws Exception;

  void commit() throws Exception;

  void rollback();

  /** Whether the connection's own commit ends a transaction. */
  boolean local();

  Transactions LOCAL =
      new Transactions() {
        @Override
        public void begin() {}

        @Override
        public void commit() {}

        @Override
        public void rollback() {}

        @Override
        public boolean local() {
          return true;
        }
      };

  /** JTA through a {@code jakarta.transaction.TransactionManager}. */
  static Transactions jta(jakarta.transaction.TransactionManager tm) {
    return new Transactions() {
      @Override
      public void begin() throws Exception {
        tm.begin();
      }

      @Override
      public void commit() throws Exception {
        tm.commit();
      }

      @Override
      public void rollback() {
        try {
          if (tm.getTransaction() != null) {
            tm.rollback();
          }
        } catch (Exception ignored) {
          // nothing left to roll back
        }
      }

      @Override
      public boolean local() {
        return false;
      }
    };
  }
}
