package dev.sluice.agent.governance;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/** The one exception the agent puts into application code: a refused connection. */
final class Refusal {

  /** SQLState of a refused connection: "server rejected the connection". */
  static final String SQLSTATE = "08004";

  private Refusal() {}

  static SQLTransientConnectionException of(String message) {
    return new SQLTransientConnectionException(message, SQLSTATE);
  }

  /** Whether {@code thrown}, or anything it was caused by, is the agent's refusal. */
  static boolean within(Throwable thrown) {
    for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException && SQLSTATE.equals(((SQLException) t).getSQLState())) {
        return true;
      }
    }
    return false;
  }
}
