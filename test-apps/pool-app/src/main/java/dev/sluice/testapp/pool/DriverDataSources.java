package dev.sluice.testapp.pool;

import java.lang.reflect.Method;
import java.util.Map;

/**
 * The drivers' own data sources, chosen by the URL's scheme: the plain {@code DataSource}, the
 * {@code XADataSource} and the {@code ConnectionPoolDataSource} of each driver (for MariaDB and H2
 * one class is all three).
 */
final class DriverDataSources {

  /** Plain, XA and pooled data source classes, and the driver, per URL scheme. */
  private static final Map<String, String[]> CLASSES =
      Map.of(
          "jdbc:postgresql:",
          new String[] {
            "org.postgresql.ds.PGSimpleDataSource",
            "org.postgresql.xa.PGXADataSource",
            "org.postgresql.ds.PGConnectionPoolDataSource",
            "org.postgresql.Driver"
          },
          "jdbc:mariadb:",
          new String[] {
            "org.mariadb.jdbc.MariaDbDataSource",
            "org.mariadb.jdbc.MariaDbDataSource",
            "org.mariadb.jdbc.MariaDbDataSource",
            "org.mariadb.jdbc.Driver"
          },
          "jdbc:mysql:",
          new String[] {
            "com.mysql.cj.jdbc.MysqlDataSource",
            "com.mysql.cj.jdbc.MysqlXADataSource",
            "com.mysql.cj.jdbc.MysqlConnectionPoolDataSource",
            "com.mysql.cj.jdbc.Driver"
          },
          "jdbc:h2:",
          new String[] {
            "org.h2.jdbcx.JdbcDataSource",
            "org.h2.jdbcx.JdbcDataSource",
            "org.h2.jdbcx.JdbcDataSource",
            "org.h2.Driver"
          });

  static final int PLAIN = 0;
  static final int XA = 1;
  static final int POOLED = 2;
  private static final int DRIVER = 3;

  private DriverDataSources() {}

  private static String[] classes(String url) {
    for (Map.Entry<String, String[]> e : CLASSES.entrySet()) {
      if (url.startsWith(e.getKey())) {
        return e.getValue();
      }
    }
    throw new IllegalArgumentException("no driver data source known for " + url);
  }

  static String className(String url, int kind) {
    return classes(url)[kind];
  }

  static String driverClass(String url) {
    return classes(url)[DRIVER];
  }

  /** The driver's data source of {@code kind} for {@code url}, set up through its setters. */
  @SuppressWarnings("unchecked")
  static <T> T create(String url, String user, String password, int kind) throws Exception {
    Object ds = Class.forName(className(url, kind)).getConstructor().newInstance();
    set(ds, url.startsWith("jdbc:h2:") ? "setURL" : "setUrl", url);
    if (user != null) {
      set(ds, "setUser", user);
    }
    if (password != null) {
      set(ds, "setPassword", password);
    }
    return (T) ds;
  }

  private static void set(Object target, String setter, String value) throws Exception {
    Method m = target.getClass().getMethod(setter, String.class);
    m.invoke(target, value);
  }
}
