package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A HikariCP application on a real PostgreSQL server: a cut-off fails pool borrows at once instead
 * of after the pool's {@code connectionTimeout}, aborts a statement in flight with the driver's own
 * exception, and lifts without a restart.
 */
class PooledPostgresIT {

  static ZooKeeperFixture zk;
  static PostgresServer pg;

  @BeforeAll
  static void start() throws Exception {
    zk = new ZooKeeperFixture();
    pg = PostgresServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (pg != null) {
      pg.close();
    }
    zk.close();
  }

  @Test
  void hikariBorrowFailsFastAndAStatementInFlightIsAborted() throws Exception {
    try (AppProcess app =
        AppProcess.hikariApp(pg.jdbcUrl(), pg.user(), pg.password())
            .agentArgs(InstanceCutOffIT.registryArgsFor(zk))
            .start()) {
      String path = InstanceCutOffIT.instanceNode(zk, app);
      String id = path.substring(InstanceCutOffIT.INSTANCES.length() + 1);
      assertTrue(app.send("borrow").ok);
      assertTrue(app.send("hold busy").ok);

      app.write("query busy SELECT pg_sleep(30)");
      zk.set(path, "DISABLED");
      AppProcess.Reply inFlight = app.reply(25);
      assertFalse(inFlight.ok, inFlight::toString);
      assertTrue(
          inFlight.exception().startsWith("org.postgresql."),
          "the driver's own exception: " + inFlight);
      assertTrue(inFlight.ms < 20_000, "aborted, not run to its end: " + inFlight);

      AppProcess.Reply borrow = app.send("borrow");
      InstanceCutOffIT.assertRefusal(borrow, id, path);
      assertTrue(
          borrow.ms < 1_000, "failed at once, not after connectionTimeout=10000 ms: " + borrow);

      zk.set(path, "");
      AppProcess.Reply back = InstanceCutOffIT.awaitAllowed(app, "borrow");
      assertEquals("borrowed 1", back.text);
      assertEquals(0, app.exit());
    }
  }
}
