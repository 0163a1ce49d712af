package dev.sluice.testapp.hikari;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.testapp.support.CommandLoop;
import java.sql.Connection;

/**
 * A HikariCP pool. {@code HikariApp <url> [user [password]]}; the pool waits up to {@code
 * connectionTimeout} = 10 s for a connection, so a fast failure is easy to tell from a timeout.
 */
public final class HikariApp {

  public static void main(String[] args) throws Exception {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(args[0]);
    if (args.length > 1) {
      config.setUsername(args[1]);
    }
    if (args.length > 2) {
      config.setPassword(args[2]);
    }
    config.setMaximumPoolSize(4);
    config.setMinimumIdle(1);
    config.setConnectionTimeout(10_000);
    config.setInitializationFailTimeout(-1);
    config.setPoolName("test-app-pool");
    try (HikariDataSource ds = new HikariDataSource(config)) {
      CommandLoop loop = new CommandLoop().withHeldConnections();
      loop.on(
              "borrow",
              a -> {
                try (Connection c = ds.getConnection()) {
                  return "borrowed " + CommandLoop.query(c, "SELECT 1");
                }
              })
          .on("hold", a -> loop.hold(a.trim(), ds.getConnection()))
          .run();
    }
  }
}
