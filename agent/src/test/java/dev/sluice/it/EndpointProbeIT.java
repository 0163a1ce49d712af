package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sluice.agent.recovery.EndpointProbe;
import dev.sluice.agent.recovery.EndpointProbe.Protocol;
import dev.sluice.agent.recovery.EndpointProbe.Result;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The fleet leader's protocol probe (SPEC section 8) against real servers: MariaDB's greeting,
 * PostgreSQL's answer to an {@code SSLRequest}, H2's TCP server (TCP alone), a port nobody listens
 * on, and a hung server: one whose port accepts connections (the kernel completes them) and that
 * says nothing, as a stopped process does.
 */
class EndpointProbeIT {

  static final int TIMEOUT_MS = 1000;

  @Test
  void mariaDbGreetsAndItsHandshakeEndsAsAnAuthenticationFailure() throws Exception {
    // with the grant tables, so that an unknown user is refused
    try (MariaDbServer db =
        MariaDbServer.nativeBinaries()
            ? MariaDbServer.startForReplication(1, false)
            : MariaDbServer.start()) {
      long deniedBefore = status(db, "Access_denied_errors");
      Result first = EndpointProbe.probe(db.host(), db.port(), TIMEOUT_MS, Protocol.UNKNOWN);
      assertTrue(first.alive, first::toString);
      assertEquals(Protocol.MYSQL, first.protocol, first::toString);
      for (int i = 0; i < 5; i++) {
        Result again = EndpointProbe.probe(db.host(), db.port(), TIMEOUT_MS, Protocol.MYSQL);
        assertTrue(again.alive, again::toString);
        assertEquals(Protocol.MYSQL, again.protocol);
      }
      // each probe's handshake reached authentication and was refused as a user that does not
      // exist, rather than broken off after the greeting (handshake errors block the probing
      // host after max_connect_errors of them; authentication failures do not)
      assertEquals(6, status(db, "Access_denied_errors") - deniedBefore, "logins refused");
    }
  }

  @Test
  void postgreSqlAnswersTheSslRequest() throws Exception {
    try (PostgresServer db = PostgresServer.start()) {
      String hostPort = db.jdbcUrl().replaceAll("^jdbc:postgresql://([^/]+)/.*$", "$1");
      String host = hostPort.substring(0, hostPort.lastIndexOf(':'));
      int port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
      Result first = EndpointProbe.probe(host, port, TIMEOUT_MS, Protocol.UNKNOWN);
      assertTrue(first.alive, first::toString);
      assertEquals(Protocol.POSTGRESQL, first.protocol, first::toString);
      Result again = EndpointProbe.probe(host, port, TIMEOUT_MS, Protocol.POSTGRESQL);
      assertTrue(again.alive, again::toString);
    }
  }

  @Test
  void anotherServerIsJudgedByItsTcpConnect() throws Exception {
    try (H2TcpServer h2 = new H2TcpServer()) {
      String hostPort = h2.hostPort();
      Result r =
          EndpointProbe.probe(
              "127.0.0.1",
              Integer.parseInt(hostPort.substring(hostPort.indexOf(':') + 1)),
              TIMEOUT_MS,
              Protocol.UNKNOWN);
      assertTrue(r.alive, r::toString);
      assertEquals(Protocol.UNKNOWN, r.protocol, r::toString);
    }
  }

  @Test
  void aPortNobodyListensOnFails() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    for (Protocol known : Protocol.values()) {
      Result r = EndpointProbe.probe("127.0.0.1", port, TIMEOUT_MS, known);
      assertFalse(r.alive, r::toString);
    }
  }

  /**
   * A hung server: its port accepts connections and nothing answers. An endpoint known to greet
   * fails within the timeout; one that never greeted is judged by the TCP connect.
   */
  @Test
  void aHungServerFailsOnceItsProtocolIsKnown() throws Exception {
    try (ServerSocket hung = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = hung.getLocalPort();
      for (Protocol known : new Protocol[] {Protocol.MYSQL, Protocol.POSTGRESQL}) {
        long start = System.nanoTime();
        Result r = EndpointProbe.probe("127.0.0.1", port, TIMEOUT_MS, known);
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertFalse(r.alive, r::toString);
        assertTrue(ms < TIMEOUT_MS + 500, known + ": took " + ms + " ms");
      }
      Result unknown = EndpointProbe.probe("127.0.0.1", port, TIMEOUT_MS, Protocol.UNKNOWN);
      assertTrue(unknown.alive, unknown::toString);
      assertEquals(Protocol.UNKNOWN, unknown.protocol);
    }
  }

  private static long status(MariaDbServer db, String variable) throws Exception {
    try (Connection c = DriverManager.getConnection(db.url("mariadb"), "root", "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE '" + variable + "'")) {
      return rs.next() ? rs.getLong(2) : -1;
    }
  }
}
