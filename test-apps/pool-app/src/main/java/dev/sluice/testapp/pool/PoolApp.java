package dev.sluice.testapp.pool;

import com.mchange.v2.c3p0.ComboPooledDataSource;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.testapp.support.CommandLoop;
import java.sql.Connection;
import java.time.Duration;
import javax.sql.DataSource;
import org.apache.commons.dbcp2.BasicDataSource;
import org.apache.tomcat.jdbc.pool.PoolProperties;

/**
 * One connection pool, as applications configure them: {@code PoolApp <hikari|dbcp2|tomcat|c3p0>
 * <url> [user [password]]}. Each pool holds at most 4 connections and waits up to 10 s for one,
 * with its own defaults otherwise (Tomcat JDBC and c3p0 do not validate on borrow).
 */
public final class PoolApp {

  public static void main(String[] args) throws Exception {
    String pool = args[0];
    String url = args[1];
    String user = args.length > 2 ? args[2] : null;
    String password = args.length > 3 ? args[3] : null;
    DataSource ds = create(pool, url, user, password);
    try {
      CommandLoop loop = new CommandLoop().withHeldConnections();
      Bank bank = new Bank(ds);
      loop.on("bank-setup", bank::setup)
          .on("bank-start", bank::start)
          .on("bank-stats", a -> bank.stats())
          .on("bank-stop", a -> bank.stop())
          .on("bank-check", a -> bank.check());
      loop.on(
              "borrow",
              a -> {
                try (Connection c = ds.getConnection()) {
                  return "borrowed " + CommandLoop.query(c, "SELECT 1");
                }
              })
          .on("hold", a -> loop.hold(a.trim(), ds.getConnection()))
          .on("type", a -> ds.getClass().getName())
          .run();
    } finally {
      ((AutoCloseable) ds).close();
    }
  }

  static DataSource create(String pool, String url, String user, String password) throws Exception {
    switch (pool) {
      case "hikari":
        HikariConfig h = new HikariConfig();
        h.setJdbcUrl(url);
        h.setUsername(user);
        h.setPassword(password);
        h.setMaximumPoolSize(4);
        h.setMinimumIdle(1);
        h.setConnectionTimeout(10_000);
        h.setInitializationFailTimeout(-1);
        return new HikariDataSource(h);
      case "dbcp2":
        BasicDataSource d = new BasicDataSource();
        d.setUrl(url);
        d.setUsername(user);
        d.setPassword(password);
        d.setMaxTotal(4);
        d.setInitialSize(1);
        d.setMaxWait(Duration.ofSeconds(10));
        return d;
      case "tomcat":
        PoolProperties p = new PoolProperties();
        p.setUrl(url);
        p.setUsername(user);
        p.setPassword(password);
        p.setMaxActive(4);
        p.setMaxIdle(4);
        p.setInitialSize(1);
        p.setMaxWait(10_000);
        return new org.apache.tomcat.jdbc.pool.DataSource(p);
      case "c3p0":
        ComboPooledDataSource c = new ComboPooledDataSource();
        c.setJdbcUrl(url);
        c.setUser(user);
        c.setPassword(password);
        c.setMaxPoolSize(4);
        c.setMinPoolSize(1);
        c.setInitialPoolSize(1);
        c.setCheckoutTimeout(10_000);
        return c;
      default:
        throw new IllegalArgumentException(
            "unknown pool " + pool + "; expected hikari, dbcp2, tomcat or c3p0");
    }
  }
}
