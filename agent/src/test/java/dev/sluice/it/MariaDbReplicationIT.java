package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The MariaDB replication fixture does what the routing tests rely on: a row written on the primary
 * reaches the replica, the replica refuses an application's writes until it is promoted, and after
 * promotion both servers accept writes (the old primary is left running, as in a split brain).
 */
class MariaDbReplicationIT {

  @Test
  void replicatesThenPromotesTheReplicaWhileTheOldPrimaryStaysWritable() throws Exception {
    long started = System.nanoTime();
    try (MariaDbReplication replication = MariaDbReplication.start()) {
      System.out.printf(
          "MariaDbReplication: primary %s, replica %s, started in %d ms%n",
          replication.primary().hostAndPort(),
          replication.replica().hostAndPort(),
          (System.nanoTime() - started) / 1_000_000);
      MariaDbServer primary = replication.primary();
      MariaDbServer replica = replication.replica();

      try (Connection c = MariaDbReplication.app(primary);
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE items (id INT PRIMARY KEY, origin VARCHAR(20))");
        s.execute("INSERT INTO items VALUES (1, 'primary')");
      }
      assertEquals(
          List.of("1:primary"),
          Await.until(
              "the primary's row on the replica",
              Duration.ofSeconds(30),
              () -> Items.rows(replica),
              rows -> !rows.isEmpty()));

      SQLException refused =
          assertThrows(
              SQLException.class,
              () -> {
                try (Connection c = MariaDbReplication.app(replica);
                    Statement s = c.createStatement()) {
                  s.execute("INSERT INTO items VALUES (2, 'replica')");
                }
              });
      assertTrue(refused.getMessage().contains("read-only"), refused.getMessage());

      try (Connection c = MariaDbReplication.app(primary);
          Statement s = c.createStatement()) {
        s.execute("INSERT INTO items VALUES (3, 'primary')");
      }
      replication.awaitReplicaCaughtUp();
      assertEquals(List.of("1:primary", "3:primary"), Items.rows(replica));

      replication.promoteReplica();
      try (Connection c = MariaDbReplication.app(replica);
          Statement s = c.createStatement()) {
        s.execute("INSERT INTO items VALUES (4, 'promoted')");
      }
      try (Connection c = MariaDbReplication.app(primary);
          Statement s = c.createStatement()) {
        s.execute("INSERT INTO items VALUES (5, 'old-primary')");
      }
      assertEquals(List.of("1:primary", "3:primary", "4:promoted"), Items.rows(replica));
      assertEquals(List.of("1:primary", "3:primary", "5:old-primary"), Items.rows(primary));
    }
  }

  private static final class Items {
    /** The rows of {@code test.items} as {@code id:origin}, or none while the table is missing. */
    static List<String> rows(MariaDbServer server) {
      List<String> rows = new ArrayList<>();
      try (Connection c = MariaDbReplication.app(server);
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT id, origin FROM items ORDER BY id")) {
        while (rs.next()) {
          rows.add(rs.getInt(1) + ":" + rs.getString(2));
        }
      } catch (SQLException e) {
        if (e.getMessage().contains("doesn't exist")) {
          return rows;
        }
        throw new IllegalStateException(e);
      }
      return rows;
    }
  }
}
