package dev.sluice.agent.datasource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class JdbcUrlsRewriteTest {

  /** url | the URL sent to new-primary:4000 instead. */
  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "jdbc:mysql://db1:3306/orders?useSSL=false | jdbc:mysql://new-primary:4000/orders?useSSL=false",
        "jdbc:mysql://db1/orders | jdbc:mysql://new-primary:4000/orders",
        "jdbc:mysql://db1 | jdbc:mysql://new-primary:4000",
        "jdbc:mysql://app:s3cr@t@db1:3306/orders | jdbc:mysql://app:s3cr@t@new-primary:4000/orders",
        "jdbc:mysql:replication://db1:3306/o | jdbc:mysql:replication://new-primary:4000/o",
        "jdbc:mariadb://[::1]:3306/orders | jdbc:mariadb://new-primary:4000/orders",
        "jdbc:postgresql://db1:5432/app?user=u&password=p | jdbc:postgresql://new-primary:4000/app?user=u&password=p",
        "jdbc:postgresql://db1/app | jdbc:postgresql://new-primary:4000/app",
        "jdbc:h2:tcp://localhost:9092/mem:orders;DB_CLOSE_DELAY=-1 | jdbc:h2:tcp://new-primary:4000/mem:orders;DB_CLOSE_DELAY=-1",
        "jdbc:h2:ssl://localhost/~/test | jdbc:h2:ssl://new-primary:4000/~/test",
        "jdbc:p6spy:mysql://db1:3306/orders | jdbc:p6spy:mysql://new-primary:4000/orders",
        "jdbc:aws-wrapper:postgresql://db1/app | jdbc:aws-wrapper:postgresql://new-primary:4000/app",
      })
  void replacesTheHostAndPortAndNothingElse(String url, String rewritten) {
    assertEquals(rewritten, JdbcUrls.withHostPort(url, "new-primary:4000"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(
      strings = {
        "jdbc:mysql://db1:3306,db2:3306/orders",
        "jdbc:mysql://[db1:3306,db2:3306]/orders",
        "jdbc:mysql://[db1:3306]/orders",
        "jdbc:mysql://address=(host=db1)(port=3306)/orders",
        "jdbc:mysql://(host=db1,port=3306)/orders",
        "jdbc:postgresql://db1:5432,db2:5432/app",
        "jdbc:postgresql:app",
        "jdbc:h2:mem:orders",
        "jdbc:sqlserver://db1:1433;databaseName=x",
        "jdbc:oracle:thin:@db1:1521/svc",
        "jdbc:mysql:",
        "jdbc:p6spy:mysql://db1:3306,db2:3306/orders",
        "jdbc:p6spy:",
      })
  void neverRewritesAUrlNamingMoreOrOtherThanOneHost(String url) {
    assertNull(JdbcUrls.withHostPort(url, "new-primary:4000"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"[2001:db8::2]:3306", "10.0.0.2:3306"})
  void writesIpv6AndIpv4Primaries(String primary) {
    assertEquals(
        "jdbc:mysql://" + primary + "/orders",
        JdbcUrls.withHostPort("jdbc:mysql://db1:3306/orders", primary));
  }
}
