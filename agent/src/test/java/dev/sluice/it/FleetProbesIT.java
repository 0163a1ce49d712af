package dev.sluice.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.management.Notification;
import javax.management.ObjectName;
import org.h2.tools.Server;
import org.junit.jupiter.api.Test;

/**
 * The fleet leader's probes (SPEC section 8) end to end: two application JVMs met an H2 server, so
 * its endpoint is recorded under {@code /sluice/meta/endpoints}; the one that leads probes it. The
 * server stops: the leader detects it down within {@code failures-to-disable × probe-interval + 1
 * s}, shows it in {@code RecentDetections} and announces it; the server starts again on the same
 * port: the leader detects it up after {@code successes-to-enable} good probes. The JVM that does
 * not lead detects nothing.
 */
class FleetProbesIT {

  static final int INTERVAL_MS = 200;
  static final int FAILURES = 3;
  static final int SUCCESSES = 2;
  static final ObjectName RECOVERY = FleetLeaderIT.RECOVERY;

  @Test
  void theLeaderDetectsAStoppedServerAndItsReturn() throws Exception {
    Server h2 = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
    int port = h2.getPort();
    String url = "jdbc:h2:tcp://127.0.0.1:" + port + "/mem:probed;DB_CLOSE_DELAY=-1";
    String args =
        ",recovery.probe-interval-ms="
            + INTERVAL_MS
            + ",recovery.probe-timeout-ms=500,recovery.failures-to-disable="
            + FAILURES
            + ",recovery.successes-to-enable="
            + SUCCESSES;
    try (ZooKeeperFixture zk = new ZooKeeperFixture();
        AppProcess first =
            AppProcess.jdbcApp(url)
                .agentArgs(InstanceCutOffIT.registryArgsFor(zk) + args)
                .jmx()
                .start()) {
      Await.until("the first JVM leads", Duration.ofSeconds(30), () -> leads(first));
      try (AppProcess second =
          AppProcess.jdbcApp(url)
              .agentArgs(InstanceCutOffIT.registryArgsFor(zk) + args)
              .jmx()
              .start()) {
        assertTrue(first.send("connect").ok);
        assertTrue(second.send("connect").ok);
        String recorded =
            Await.until(
                "the endpoint recorded",
                Duration.ofSeconds(10),
                () -> anyEndpoint(zk, port),
                v -> v != null);
        assertTrue(recorded.startsWith("127.0.0.1:" + port), recorded);
        List<Notification> heard = new CopyOnWriteArrayList<>();
        first.jmx().addNotificationListener(RECOVERY, (n, h) -> heard.add(n), null, null);
        assertTrue(!leads(second), "one leader");

        h2.stop();
        long stopped = System.nanoTime();
        String down =
            Await.until(
                "the leader's detection of the stopped server",
                Duration.ofSeconds(10),
                () -> detections(first),
                d -> d.length > 0 && d[0].contains("DOWN"))[0];
        long ms = (System.nanoTime() - stopped) / 1_000_000;
        System.out.printf("FleetProbesIT detected down %d ms after the stop: %s%n", ms, down);
        assertTrue(down.contains("127.0.0.1:" + port), down);
        assertTrue(
            ms <= FAILURES * INTERVAL_MS + 1000,
            "detected " + ms + " ms after the stop, bound " + (FAILURES * INTERVAL_MS + 1000));

        h2 = Server.createTcpServer("-tcpPort", Integer.toString(port), "-ifNotExists").start();
        String up =
            Await.until(
                "the leader's detection of the server's return",
                Duration.ofSeconds(10),
                () -> detections(first),
                d -> d.length > 1 && d[0].contains("UP again"))[0];
        assertTrue(up.contains("127.0.0.1:" + port), up);
        Await.until(
            "both detections announced",
            Duration.ofSeconds(5),
            () ->
                heard.stream().filter(n -> n.getType().equals("sluice.recovery.detection")).count()
                    == 2);
        assertArrayEquals(
            new String[0], detections(second), "the JVM that does not lead probes nothing");
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "\n--- leader ---\n" + first.output(), e);
      }
    } finally {
      h2.stop();
    }
  }

  /** Whether {@code app}'s {@code sluice:type=Recovery} says it leads the fleet. */
  static boolean leads(AppProcess app) {
    try {
      return app.jmx().isRegistered(RECOVERY)
          && (Boolean) app.jmx().getAttribute(RECOVERY, "Leader");
    } catch (Exception e) {
      return false;
    }
  }

  private static String[] detections(AppProcess app) {
    try {
      return (String[]) app.jmx().getAttribute(RECOVERY, "RecentDetections");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The value of the endpoint key recorded for the H2 server on {@code port}, or null. */
  private static String anyEndpoint(ZooKeeperFixture zk, int port) {
    try {
      for (String schema : zk.children("/sluice/meta/endpoints")) {
        for (String name : zk.children("/sluice/meta/endpoints/" + schema)) {
          if (name.endsWith("_" + port)) {
            return zk.get("/sluice/meta/endpoints/" + schema + "/" + name);
          }
        }
      }
    } catch (Exception e) {
      return null;
    }
    return null;
  }
}
