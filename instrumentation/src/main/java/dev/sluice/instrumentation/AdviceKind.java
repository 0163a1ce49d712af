package dev.sluice.instrumentation;

/** The advice a method gets: which bridge methods its entry and exits call. */
enum AdviceKind {
  /** {@code Driver.connect(String, Properties)}: route, check, track. */
  CONNECT(true),
  /** {@code DataSource.getConnection()}. */
  BORROW(true),
  /** {@code DataSource.getConnection(String, String)}: as a borrow, with the credentials. */
  CREDENTIALS_BORROW(true),
  /** {@code getXAConnection} / {@code getPooledConnection}, with or without credentials. */
  OPEN_POOLED(true),
  /** {@code PooledConnection.getConnection()}: told of each handle returned. */
  HANDLE(false),
  /** A data source's constructor: told of each data source created. */
  CREATED(false);

  /** Whether the advice runs on entry and on every exit, thrown ones included. */
  final boolean entered;

  AdviceKind(boolean entered) {
    this.entered = entered;
  }
}
