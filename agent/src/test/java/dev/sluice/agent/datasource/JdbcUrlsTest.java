package dev.sluice.agent.datasource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class JdbcUrlsTest {

  /** url | host:port/database as shown to operators. */
  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        // MySQL Connector/J
        "jdbc:mysql://db1:3306/orders | db1:3306/orders",
        "jdbc:mysql://db1/orders?useSSL=false&serverTimezone=UTC | db1:3306/orders",
        "jdbc:mysql://DB1.Example.COM:3307 | db1.example.com:3307",
        "jdbc:mysql://db1:3306,db2:3306/orders?failOverReadOnly=false | db1:3306/orders",
        "jdbc:mysql:loadbalance://db1:3306,db2:3307/orders | db1:3306/orders",
        "jdbc:mysql:replication://primary:3306,replica:3306/orders | primary:3306/orders",
        "jdbc:mysql://address=(protocol=tcp)(host=db9)(port=3310)/orders | db9:3310/orders",
        "jdbc:mysql://[(host=db7,port=3311,user=u),(host=db8,port=3312)]/orders | db7:3311/orders",
        "jdbc:mysql://[db5:3306,db6:3306]/orders | db5:3306/orders",
        "jdbc:mysql://user:secret@db1:3306/orders | db1:3306/orders",
        "jdbc:mysql://[::1]:3306/orders | [::1]:3306/orders",
        "jdbc:mysql://[2001:db8::7]/orders | [2001:db8::7]:3306/orders",
        "jdbc:mysql://localhost | localhost:3306",
        // MariaDB Connector/J
        "jdbc:mariadb://db1:3306/shop | db1:3306/shop",
        "jdbc:mariadb://db1/shop?user=a&password=b | db1:3306/shop",
        "jdbc:mariadb:replication://primary:3306,replica1,replica2/shop | primary:3306/shop",
        "jdbc:mariadb:sequential://db1:3307,db2/shop | db1:3307/shop",
        "jdbc:mariadb://address=(host=db3)(port=3308)(type=primary),address=(host=db4)/shop | db3:3308/shop",
        "jdbc:mariadb://127.0.0.1:40123/test?sslMode=disable | 127.0.0.1:40123/test",
        // PostgreSQL
        "jdbc:postgresql://pg1:5432/billing | pg1:5432/billing",
        "jdbc:postgresql://pg1/billing?sslmode=require | pg1:5432/billing",
        "jdbc:postgresql://pg1:5433,pg2:5434/billing?targetServerType=primary | pg1:5433/billing",
        "jdbc:postgresql://[::1]:5432/billing | [::1]:5432/billing",
        "jdbc:postgresql://[fe80::1%eth0]:5432/billing | [fe80::1%eth0]:5432/billing",
        "jdbc:postgresql://pg1:5432/ | pg1:5432",
        "jdbc:postgresql://pg1 | pg1:5432",
        "jdbc:postgresql:billing | localhost:5432/billing",
        "jdbc:postgresql:/ | localhost:5432",
        "jdbc:postgresql:///billing | localhost:5432/billing",
        // H2 server mode
        "jdbc:h2:tcp://h2host:9093/~/test | h2host:9093/test",
        "jdbc:h2:tcp://h2host/mem:orders;DB_CLOSE_DELAY=-1 | h2host:9092/orders",
        "jdbc:h2:tcp://127.0.0.1:41000/./data/sales;MODE=MySQL | 127.0.0.1:41000/sales",
        "jdbc:h2:ssl://h2host:9094/db | h2host:9094/db",
        // in-process H2
        "jdbc:h2:mem:orders | h2_mem/orders",
        "jdbc:h2:mem:orders;DB_CLOSE_DELAY=-1 | h2_mem/orders",
        "jdbc:h2:mem: | h2_mem",
        "jdbc:h2:~/test | h2_file/test",
        "jdbc:h2:file:/var/data/app;AUTO_SERVER=TRUE | h2_file/app",
        "jdbc:h2:./target/db/test | h2_file/test",
        "jdbc:h2:C:\\data\\test | h2_file/test",
        // SQL Server
        "jdbc:sqlserver://mssql1:1433;databaseName=erp;encrypt=true | mssql1:1433/erp",
        "jdbc:sqlserver://mssql1;database=erp | mssql1:1433/erp",
        "jdbc:sqlserver://mssql1\\SQLEXPRESS;databaseName=erp | mssql1:1433/erp",
        "jdbc:sqlserver://mssql1\\SQLEXPRESS:1444;databaseName=erp | mssql1:1444/erp",
        "jdbc:sqlserver://;serverName=mssql2;portNumber=1435;databaseName=erp | mssql2:1435/erp",
        "jdbc:sqlserver://[::1]:1433;databaseName=erp | [::1]:1433/erp",
        // Oracle thin
        "jdbc:oracle:thin:@ora1:1521:ORCL | ora1:1521/ORCL",
        "jdbc:oracle:thin:@//ora1:1522/sales.example.com | ora1:1522/sales.example.com",
        "jdbc:oracle:thin:@ora1:1521/sales | ora1:1521/sales",
        "jdbc:oracle:thin:@//ora1/sales | ora1:1521/sales",
        "jdbc:oracle:thin:scott/tiger@ora1:1521:ORCL | ora1:1521/ORCL",
        "jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=ora2)(PORT=1525))(CONNECT_DATA=(SERVICE_NAME=svc))) | ora2:1525/svc",
        "jdbc:oracle:thin:@(DESCRIPTION=(ADDRESS_LIST=(ADDRESS=(PROTOCOL=TCP)(HOST=ora3)(PORT=1521))(ADDRESS=(PROTOCOL=TCP)(HOST=ora4)(PORT=1521)))(CONNECT_DATA=(SID=ORCL))) | ora3:1521/ORCL",
        // HSQLDB
        "jdbc:hsqldb:hsql://hs1:9005/orders;ifexists=true | hs1:9005/orders",
        "jdbc:hsqldb:hsql://hs1/orders | hs1:9001/orders",
        "jdbc:hsqldb:hsqls://hs1 | hs1:554",
        "jdbc:hsqldb:http://hs1/db | hs1:80/db",
        "jdbc:hsqldb:mem:orders | hsqldb_mem/orders",
        "jdbc:hsqldb:mem:orders;shutdown=true;user=sa;password=x | hsqldb_mem/orders",
        "jdbc:hsqldb:file:/var/data/app;hsqldb.lock_file=false | hsqldb_file/app",
        "jdbc:hsqldb:file:C:/data/app | hsqldb_file/app",
        "jdbc:hsqldb:res:/org/example/db/app | hsqldb_res/app",
        // Apache Derby
        "jdbc:derby://dbhost:1528/sales;create=true | dbhost:1528/sales",
        "jdbc:derby://dbhost/sales | dbhost:1527/sales",
        "jdbc:derby:memory:orders;create=true | derby_memory/orders",
        "jdbc:derby:/var/derby/app;user=a;password=b | derby_directory/app",
        "jdbc:derby:directory:app | derby_directory/app",
        "jdbc:derby:classpath:db/app | derby_classpath/app",
        "jdbc:derby:jar:(/lib/dbs.jar)products/boiledfood | derby_jar/boiledfood",
        // SQLite (xerial) and DuckDB
        "jdbc:sqlite:/tmp/x.db | sqlite_file/x.db",
        "jdbc:sqlite:file:app.db?mode=ro | sqlite_file/app.db",
        "jdbc:sqlite::memory: | sqlite_mem",
        "jdbc:sqlite: | sqlite_mem",
        "jdbc:sqlite:file:shared?mode=memory&cache=shared | sqlite_mem/shared",
        "jdbc:sqlite::resource:db/app.db | sqlite_resource/app.db",
        "jdbc:sqlite:C:\\data\\app.sqlite | sqlite_file/app.sqlite",
        "jdbc:duckdb: | duckdb_mem",
        "jdbc:duckdb::memory:cache | duckdb_mem/cache",
        "jdbc:duckdb:/data/analytics.duckdb?access_mode=READ_ONLY | duckdb_file/analytics.duckdb",
        // drivers that wrap another
        "jdbc:p6spy:mysql://db1:3306/orders | db1:3306/orders",
        "jdbc:log4jdbc:postgresql://pg1/billing | pg1:5432/billing",
        "jdbc:otel:h2:mem:orders | h2_mem/orders",
        "jdbc:tracing:mariadb://db1/shop | db1:3306/shop",
        "jdbc:aws-wrapper:postgresql://pg1:5433/billing | pg1:5433/billing",
        // generic
        "jdbc:db2://db2host:50000/SAMPLE | db2host:50000/SAMPLE",
        "jdbc:db2://db2host/SAMPLE | db2host:446/SAMPLE",
        "jdbc:clickhouse://ch1:8123/default?compress=1 | ch1:8123/default",
        "jdbc:clickhouse://ch1/default | ch1:8123/default",
        "jdbc:pgsql://pg1/billing | pg1:5432/billing",
        "jdbc:jtds:sqlserver://mssql1/erp;instance=X | mssql1:1433/erp",
        "jdbc:jtds:sybase://syb1:5000/erp | syb1:5000/erp",
        "jdbc:jtds:sybase://syb1/erp | syb1:7100/erp",
        "jdbc:firebirdsql://fb1/employee | fb1:3050/employee",
        "jdbc:redshift://rs1.example.com/dev | rs1.example.com:5439/dev",
      })
  void endpoints(String url, String expected) {
    assertEquals(expected, JdbcUrls.parse(url).toString());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(
      strings = {
        "jdbc:oracle:thin:@tnsalias",
        "jdbc:oracle:thin:@ldap://ldap.example.com:389/orcl,cn=OracleContext",
        "jdbc:firebirdsql:fb1/3050:/data/employee.fdb",
        "jdbc:foo://host/db",
        "jdbc:p6spy:",
        "jdbc:mysql://db1:notaport/orders",
        "jdbc:postgresql://pg1:70000/x",
        "jdbc:postgresql://[::1/x",
        "jdbc:odbc:DSN",
        "postgresql://pg1/x",
        "",
      })
  void unparseable(String url) {
    assertThrows(JdbcUrls.UnparseableUrlException.class, () -> JdbcUrls.parse(url));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "jdbc:mysql://db1:3306/orders | orders | db1_3306",
        "jdbc:postgresql://[::1]:5432/billing | billing | __1_5432",
        "jdbc:postgresql://pg.example.com:5432 | default | pg.example.com_5432",
        "jdbc:h2:mem:orders | orders | h2_mem",
        "jdbc:h2:tcp://h/mem:my db | my_db | h_9092",
        "jdbc:hsqldb:mem:orders | orders | hsqldb_mem",
        "jdbc:derby:memory:orders;create=true | orders | derby_memory",
        "jdbc:sqlite:/data/app.db | app.db | sqlite_file",
        "jdbc:sqlite::memory: | default | sqlite_mem",
        "jdbc:p6spy:mysql://db1:3306/orders | orders | db1_3306",
      })
  void discoveredNames(String url, String schema, String name) {
    DatasourceName n = DatasourceName.discovered(JdbcUrls.parse(url));
    assertEquals(schema, n.schema());
    assertEquals(name, n.name());
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(
      strings = {
        "jdbc:mysql://root:s3cret@db1:3306/x",
        "jdbc:mariadb://db1/x?user=root&password=s3cret",
        "jdbc:sqlserver://h;user=sa;password=s3cret;databaseName=x",
        "jdbc:oracle:thin:scott/s3cret@ora:1521:X",
        "jdbc:postgresql://h/x?password=s3cret&ssl=true",
      })
  void redactedUrlsCarryNoSecret(String url) {
    assertFalse(JdbcUrls.redact(url).contains("s3cret"), JdbcUrls.redact(url));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(
      strings = {
        "jdbc:oracle:thin:scott/{pw}@tnsalias",
        "jdbc:oracle:thin:@tnsalias?user=scott&password={pw}",
        "jdbc:foo:bar;user=sa;password={pw};loginTimeout=5",
        "jdbc:foo://sa:{pw}@host/db",
        "jdbc:foo://host/db?ssl=true&sslpassword={pw}&apiToken={pw}",
        "jdbc:db2:alias:user=db2inst1;password={pw};",
        "jdbc:x:(description=(user=u)(PWD={pw})(host=h))",
      })
  void anUnparseableUrlIsNamedWithoutItsCredentials(String template) {
    String first = template.replace("{pw}", "s3cret-one");
    String second = template.replace("{pw}", "p@ss-Two");
    assertThrows(JdbcUrls.UnparseableUrlException.class, () -> JdbcUrls.parse(first));
    DatasourceName one = DatasourceName.discovered(Endpoint.unparsed(first));
    DatasourceName two = DatasourceName.discovered(Endpoint.unparsed(second));
    assertEquals(one, two, "a password rotation is no new datasource");
    for (String pw : new String[] {"s3cret-one", "p@ss-Two"}) {
      String hashed = JdbcUrls.withoutCredentials(template.replace("{pw}", pw));
      assertFalse(hashed.contains("s3cret") || hashed.contains("ss-Two"), hashed);
      String logged = JdbcUrls.redact(template.replace("{pw}", pw));
      assertFalse(logged.contains("s3cret") || logged.contains("ss-Two"), logged);
    }
    assertFalse(one.toString().contains("s3cret"), one.toString());
    assertNotEquals(
        one,
        DatasourceName.discovered(
            Endpoint.unparsed(
                first
                    .replace("tnsalias", "other")
                    .replace("host", "other")
                    .replace("alias", "other")
                    .replace("bar", "other"))),
        "a different target is a different datasource");
  }
}
