package dev.sluice.it;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The pools and data sources of the pool app ({@code PoolApp}) the pool tests run, per database.
 */
final class PoolMatrix {

  private PoolMatrix() {}

  /** Every pool that works with any driver, by its name in the pool app. */
  static final List<String> ANY_DRIVER =
      List.of(
          "hikari",
          "dbcp2",
          "tomcat",
          "c3p0",
          "druid",
          "agroal",
          "vibur",
          "ucp",
          "atomikos",
          "spring",
          "driver-ds",
          "hikari-ds");

  /** On PostgreSQL: every pool, and H2's pool over the driver's pooled data source. */
  static List<String> onPostgreSql() {
    List<String> pools = new ArrayList<>(ANY_DRIVER);
    pools.add("h2pool");
    return pools;
  }

  /**
   * The {@code pool, database} rows of a matrix test, only those {@code
   * -Dsluice.matrix=pool@database,...} names when it is set.
   */
  static Stream<Arguments> selected(List<Arguments> rows) {
    String only = System.getProperty("sluice.matrix", "");
    if (only.isEmpty()) {
      return rows.stream();
    }
    List<String> wanted = List.of(only.split(","));
    return rows.stream().filter(a -> wanted.contains(a.get()[0] + "@" + a.get()[1]));
  }

  /** On MariaDB: every pool, and MariaDB Connector/J's own. */
  static List<String> onMariaDb() {
    List<String> pools = new ArrayList<>(ANY_DRIVER);
    pools.add("mariadb-pool");
    return pools;
  }
}
