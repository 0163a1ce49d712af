package dev.sluice.testapp.pool;

import com.alibaba.druid.pool.DruidDataSource;
import com.atomikos.icatch.jta.UserTransactionManager;
import com.atomikos.jdbc.AtomikosDataSourceBean;
import com.mchange.v2.c3p0.ComboPooledDataSource;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.supplier.AgroalDataSourceConfigurationSupplier;
import io.agroal.api.security.NamePrincipal;
import io.agroal.api.security.SimplePassword;
import io.agroal.narayana.NarayanaTransactionIntegration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import javax.sql.ConnectionPoolDataSource;
import javax.sql.DataSource;
import oracle.ucp.jdbc.PoolDataSource;
import oracle.ucp.jdbc.PoolDataSourceFactory;
import org.apache.commons.dbcp2.BasicDataSource;
import org.apache.tomcat.jdbc.pool.PoolProperties;
import org.h2.jdbcx.JdbcConnectionPool;
import org.mariadb.jdbc.MariaDbPoolDataSource;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.vibur.dbcp.ViburDBCPDataSource;

/**
 * Every pool and data source of the matrix, each set up as its users set it up, with its own
 * defaults except for a size of 4 and a borrow wait of 10 s where it has those settings.
 *
 * <ul>
 *   <li>{@code hikari}, {@code dbcp2}, {@code tomcat}, {@code c3p0}, {@code vibur}, {@code ucp}: a
 *       JDBC URL;
 *   <li>{@code druid}: Alibaba Druid, whose {@code getConnection()} returns its own connection
 *       type;
 *   <li>{@code agroal}: Quarkus's pool with its JTA transaction manager (Narayana), every borrow
 *       inside a transaction: the pool enlists the connection as it lends it;
 *   <li>{@code atomikos}: an XA pool over the driver's {@code XADataSource}, in JTA transactions;
 *   <li>{@code h2pool}: H2's pool over the driver's {@code ConnectionPoolDataSource}, which never
 *       validates and never evicts;
 *   <li>{@code spring}: Spring's {@code SingleConnectionDataSource}, one connection for good;
 *   <li>{@code mariadb-pool}: MariaDB Connector/J's own pool;
 *   <li>{@code driver-ds}: the driver's own {@code DataSource}, used directly;
 *   <li>{@code hikari-ds}: HikariCP configured with the driver's data source class, no URL;
 *   <li>{@code dbcp2-late}: DBCP2 borrowed from once before its URL is set (not in {@link #ALL}).
 * </ul>
 */
final class Pools {

  static final List<String> ALL =
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
          "h2pool",
          "spring",
          "mariadb-pool",
          "driver-ds",
          "hikari-ds");

  private Pools() {}

  static Pool create(String name, String url, String user, String password) throws Exception {
    switch (name) {
      case "hikari":
        {
          // configured up front: the pool opens its first connection in its constructor
          HikariConfig h = new HikariConfig();
          h.setJdbcUrl(url);
          h.setUsername(user);
          h.setPassword(password);
          h.setMaximumPoolSize(4);
          h.setMinimumIdle(1);
          h.setConnectionTimeout(10_000);
          HikariDataSource ds = new HikariDataSource(h);
          return new Pool(name, ds, ds::getConnection, Transactions.LOCAL, ds);
        }
      case "hikari-ds":
        {
          // configured by setters, as Spring Boot does: the pool starts on the first borrow,
          // opening its first connection through the driver's data source on the borrowing thread
          HikariDataSource ds = new HikariDataSource();
          ds.setDataSourceClassName(DriverDataSources.className(url, DriverDataSources.PLAIN));
          ds.addDataSourceProperty("url", url);
          ds.setUsername(user);
          ds.setPassword(password);
          ds.setMaximumPoolSize(4);
          ds.setMinimumIdle(1);
          ds.setConnectionTimeout(10_000);
          return new Pool(name, ds, ds::getConnection, Transactions.LOCAL, ds);
        }
      case "dbcp2":
        {
          BasicDataSource d = new BasicDataSource();
          d.setUrl(url);
          d.setUsername(user);
          d.setPassword(password);
          d.setMaxTotal(4);
          d.setInitialSize(1);
          d.setMaxWait(Duration.ofSeconds(10));
          return new Pool(name, d, d::getConnection, Transactions.LOCAL, d);
        }
      case "dbcp2-late":
        {
          // borrowed from before it is configured, as by an application whose first request
          // races its set-up: DBCP2 fails that borrow for want of a URL and starts on a later one
          // DBCP2 reports that failure on its log writer, by default a buffered writer it makes on
          // System.out when constructed, whose late flush would split the app's replies: made on
          // stderr instead (its setLogWriter would start the pool)
          java.io.PrintStream out = System.out;
          System.setOut(System.err);
          BasicDataSource d;
          try {
            d = new BasicDataSource();
          } finally {
            System.setOut(out);
          }
          try (Connection early = d.getConnection()) {
            throw new IllegalStateException("DBCP2 lent a connection without a URL: " + early);
          } catch (SQLException expected) {
            // Cannot create JDBC driver of class '' for connect URL 'null'
          }
          d.setUrl(url);
          d.setUsername(user);
          d.setPassword(password);
          d.setMaxTotal(4);
          d.setInitialSize(1);
          d.setMaxWait(Duration.ofSeconds(10));
          return new Pool(name, d, d::getConnection, Transactions.LOCAL, d);
        }
      case "tomcat":
        {
          PoolProperties p = new PoolProperties();
          p.setUrl(url);
          p.setUsername(user);
          p.setPassword(password);
          p.setMaxActive(4);
          p.setMaxIdle(4);
          p.setInitialSize(1);
          p.setMaxWait(10_000);
          org.apache.tomcat.jdbc.pool.DataSource t = new org.apache.tomcat.jdbc.pool.DataSource(p);
          return new Pool(name, t, t::getConnection, Transactions.LOCAL, t::close);
        }
      case "c3p0":
        {
          ComboPooledDataSource c = new ComboPooledDataSource();
          c.setJdbcUrl(url);
          c.setUser(user);
          c.setPassword(password);
          c.setMaxPoolSize(4);
          c.setMinPoolSize(1);
          c.setInitialPoolSize(1);
          c.setCheckoutTimeout(10_000);
          return new Pool(name, c, c::getConnection, Transactions.LOCAL, c);
        }
      case "druid":
        {
          DruidDataSource d = new DruidDataSource();
          d.setUrl(url);
          d.setUsername(user);
          d.setPassword(password);
          d.setMaxActive(4);
          d.setMaxWait(10_000);
          d.init();
          // compiled against DruidDataSource: calls getConnection()LDruidPooledConnection;
          return new Pool(name, d, () -> d.getConnection(), Transactions.LOCAL, d);
        }
      case "agroal":
        return agroal(url, user, password);
      case "vibur":
        {
          ViburDBCPDataSource v = new ViburDBCPDataSource();
          v.setJdbcUrl(url);
          v.setUsername(user);
          v.setPassword(password);
          v.setPoolInitialSize(1);
          v.setPoolMaxSize(4);
          v.setConnectionTimeoutInMs(10_000);
          v.start();
          return new Pool(name, v, v::getConnection, Transactions.LOCAL, v::terminate);
        }
      case "ucp":
        {
          PoolDataSource p = PoolDataSourceFactory.getPoolDataSource();
          p.setConnectionPoolName("ucp-" + System.nanoTime());
          p.setConnectionFactoryClassName(DriverDataSources.driverClass(url));
          p.setURL(url);
          p.setUser(user);
          p.setPassword(password);
          p.setMaxPoolSize(4);
          p.setConnectionWaitDuration(Duration.ofSeconds(10));
          return new Pool(name, p, p::getConnection, Transactions.LOCAL, null);
        }
      case "atomikos":
        return atomikos(url, user, password);
      case "h2pool":
        {
          ConnectionPoolDataSource cpds =
              DriverDataSources.create(url, user, password, DriverDataSources.POOLED);
          JdbcConnectionPool p = JdbcConnectionPool.create(cpds);
          p.setMaxConnections(4);
          p.setLoginTimeout(10);
          return new Pool(name, p, p::getConnection, Transactions.LOCAL, p::dispose);
        }
      case "spring":
        {
          SingleConnectionDataSource s = new SingleConnectionDataSource(url, user, password, true);
          return new Pool(name, s, s::getConnection, Transactions.LOCAL, s::destroy);
        }
      case "mariadb-pool":
        {
          MariaDbPoolDataSource m =
              new MariaDbPoolDataSource(
                  url + (url.contains("?") ? "&" : "?") + "maxPoolSize=4&minPoolSize=1");
          if (user != null) {
            m.setUser(user);
          }
          if (password != null) {
            m.setPassword(password);
          }
          return new Pool(name, m, m::getConnection, Transactions.LOCAL, m::close);
        }
      case "driver-ds":
        {
          DataSource d = DriverDataSources.create(url, user, password, DriverDataSources.PLAIN);
          return new Pool(name, d, d::getConnection, Transactions.LOCAL, null);
        }
      default:
        throw new IllegalArgumentException("unknown pool " + name + "; expected one of " + ALL);
    }
  }

  /** Agroal with Narayana, as Quarkus wires them: every borrow in a JTA transaction enlists. */
  private static Pool agroal(String url, String user, String password) throws Exception {
    Path store = Files.createTempDirectory("narayana");
    System.setProperty("ObjectStoreEnvironmentBean.objectStoreDir", store.toString());
    System.setProperty("ObjectStoreEnvironmentBean.localOSRoot", "defaultStore");
    System.setProperty("CoordinatorEnvironmentBean.transactionStatusManagerEnable", "false");
    jakarta.transaction.TransactionManager tm =
        com.arjuna.ats.jta.TransactionManager.transactionManager();
    jakarta.transaction.TransactionSynchronizationRegistry tsr =
        new com.arjuna.ats.internal.jta.transaction.arjunacore
            .TransactionSynchronizationRegistryImple();
    AgroalDataSourceConfigurationSupplier config =
        new AgroalDataSourceConfigurationSupplier()
            .connectionPoolConfiguration(
                p ->
                    p.maxSize(4)
                        .acquisitionTimeout(Duration.ofSeconds(10))
                        .transactionIntegration(new NarayanaTransactionIntegration(tm, tsr))
                        .connectionFactoryConfiguration(
                            f -> {
                              f.jdbcUrl(url);
                              if (user != null) {
                                f.principal(new NamePrincipal(user));
                              }
                              if (password != null) {
                                f.credential(new SimplePassword(password));
                              }
                              return f;
                            }));
    AgroalDataSource ds = AgroalDataSource.from(config);
    return new Pool("agroal", ds, ds::getConnection, Transactions.jta(tm), ds);
  }

  /** Atomikos pooling the driver's XA connections, in its own JTA transactions. */
  private static Pool atomikos(String url, String user, String password) throws Exception {
    Path logs = Files.createTempDirectory("atomikos");
    System.setProperty("com.atomikos.icatch.log_base_dir", logs.toString());
    System.setProperty("com.atomikos.icatch.output_dir", logs.toString());
    UserTransactionManager tm = new UserTransactionManager();
    tm.init();
    AtomikosDataSourceBean ds = new AtomikosDataSourceBean();
    ds.setUniqueResourceName("xa-" + System.nanoTime());
    ds.setXaDataSourceClassName(DriverDataSources.className(url, DriverDataSources.XA));
    Properties xa = new Properties();
    xa.setProperty(url.startsWith("jdbc:h2:") ? "URL" : "url", url);
    if (user != null) {
      xa.setProperty("user", user);
    }
    if (password != null) {
      xa.setProperty("password", password);
    }
    ds.setXaProperties(xa);
    ds.setMaxPoolSize(4);
    ds.setBorrowConnectionTimeout(10);
    return new Pool(
        "atomikos",
        ds,
        ds::getConnection,
        Transactions.jta(tm),
        () -> {
          ds.close();
          tm.close();
        });
  }

  /** The pool's own getConnection, in a transaction where the pool needs one. */
  static Connection borrow(Pool pool, boolean ownType) throws Exception {
    return ownType ? pool.ownType.borrow() : pool.dataSource.getConnection();
  }
}
