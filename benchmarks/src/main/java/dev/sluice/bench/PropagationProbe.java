package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLTransientConnectionException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The application side of the propagation benchmark, run with the agent. Holds 200 open
 * connections; when armed, three watchers record (wall clock, microseconds) when the agent's state
 * shows the cut-off, when a connect is first refused, and when all 200 connections are aborted.
 */
public final class PropagationProbe {

  static final String URL = "jdbc:h2:mem:prop;DB_CLOSE_DELAY=-1";
  static final int OPEN = 200;
  // Watchers poll every 100 µs: fine enough for millisecond figures, without starving the agent.
  static final long POLL_NANOS = 100_000;

  public static void main(String[] args) throws Exception {
    MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
    List<Connection> open = new ArrayList<>();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    System.out.println("READY");
    for (String line; (line = in.readLine()) != null; ) {
      String[] cmd = line.trim().split(" ");
      switch (cmd[0]) {
        case "open":
          for (Connection c : open) {
            c.close();
          }
          open.clear();
          for (int i = 0; i < OPEN; i++) {
            open.add(DriverManager.getConnection(URL));
          }
          System.out.println("OPENED " + open.size());
          break;
        case "arm":
          // cmd[1]: the MBean whose Disabled attribute shows the agent's state
          ObjectName bean = new ObjectName(line.substring(line.indexOf(' ') + 1));
          long[] times = new long[3];
          String[] failures = new String[3];
          Thread applied =
              watcher(
                  "state applied",
                  () -> (Boolean) mbeans.getAttribute(bean, "Disabled"),
                  times,
                  failures,
                  0);
          Thread refused =
              watcher(
                  "connect refused",
                  () -> {
                    try (Connection c = DriverManager.getConnection(URL)) {
                      return false;
                    } catch (SQLTransientConnectionException e) {
                      return true;
                    }
                  },
                  times,
                  failures,
                  1);
          Thread aborted =
              watcher(
                  "all " + OPEN + " aborted",
                  () -> {
                    for (Connection c : open) {
                      if (!c.isClosed()) {
                        return false;
                      }
                    }
                    return true;
                  },
                  times,
                  failures,
                  2);
          System.out.println("ARMED");
          applied.join();
          refused.join();
          aborted.join();
          // A sample that timed out or failed is no figure: the benchmark run fails with it.
          List<String> failed = new ArrayList<>();
          for (String f : failures) {
            if (f != null) {
              failed.add(f);
            }
          }
          if (!failed.isEmpty()) {
            System.out.println("ERR " + String.join("; ", failed));
            break;
          }
          System.out.println("TIMES " + times[0] + " " + times[1] + " " + times[2]);
          break;
        case "await-enabled":
          ObjectName b = new ObjectName(line.substring(line.indexOf(' ') + 1));
          while ((Boolean) mbeans.getAttribute(b, "Disabled")) {
            LockSupport.parkNanos(POLL_NANOS);
          }
          System.out.println("ENABLED");
          break;
        case "exit":
          return;
        default:
          System.out.println("ERR unknown " + cmd[0]);
      }
    }
  }

  interface Condition {
    boolean holds() throws Exception;
  }

  /** Longest a watcher waits for its condition; a sample that takes longer fails the run. */
  static final long DEADLINE_NANOS = 10_000_000_000L;

  static Thread watcher(
      String what, Condition condition, long[] times, String[] failures, int slot) {
    Thread t =
        new Thread(
            () -> {
              long deadline = System.nanoTime() + DEADLINE_NANOS;
              try {
                while (!condition.holds()) {
                  if (System.nanoTime() - deadline > 0) {
                    failures[slot] = what + ": not within " + DEADLINE_NANOS / 1_000_000 + " ms";
                    return;
                  }
                  LockSupport.parkNanos(POLL_NANOS);
                }
                times[slot] = epochMicros();
              } catch (Exception e) {
                failures[slot] = what + ": " + e;
              }
            });
    t.setDaemon(true);
    t.start();
    return t;
  }

  static long epochMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
  }
}
