package dev.sluice.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The application side of the failover benchmark, run with the agent. Its URL names a routing
 * group's address, a host that does not exist: every connection it makes lands on the primary the
 * agent routes it to, and a query tells which member that is. Holds {@code open} routed
 * connections; when armed with the next primary, three watchers record (wall clock, microseconds)
 * when the group's MXBean shows the new primary, when a connect first lands on it (one connect
 * after another, each closed again, {@link PropagationProbe#POLL_NANOS} apart; also when that
 * connect began), and when all the held connections, which are on the old primary, are aborted.
 * Counts the connects that failed, and the queries that the old primary answered although the
 * MXBean showed the new primary before they started.
 *
 * <p>Arguments: the URL, the group's MXBean, how many connections to hold.
 */
public final class FailoverProbe {

  public static void main(String[] args) throws Exception {
    String url = args[0];
    ObjectName group = new ObjectName(args[1]);
    int held = Integer.parseInt(args[2]);
    MBeanServer mbeans = ManagementFactory.getPlatformMBeanServer();
    List<Connection> open = new ArrayList<>();
    AtomicLong failedConnects = new AtomicLong();
    AtomicLong staleAnswers = new AtomicLong();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    System.out.println("READY");
    for (String line; (line = in.readLine()) != null; ) {
      String[] cmd = line.trim().split(" ");
      switch (cmd[0]) {
        case "open":
          // cmd[1]: the member every new connection must be on now
          for (Connection c : open) {
            c.close();
          }
          open.clear();
          String wrong = null;
          for (int i = 0; i < held; i++) {
            Connection c = DriverManager.getConnection(url);
            open.add(c);
            String on = member(c);
            if (!on.equals(cmd[1]) && wrong == null) {
              wrong = "connection " + i + " is on " + on + ", not on " + cmd[1];
            }
          }
          System.out.println(wrong == null ? "OPENED " + open.size() : "ERR " + wrong);
          break;
        case "arm":
          // cmd[1]: the next primary's name (what its table WHO holds), cmd[2]: its host:port
          String name = cmd[1];
          String hostPort = cmd[2];
          // applied, landed, all aborted; and when the connect that landed began
          long[] times = new long[4];
          String[] failures = new String[3];
          Thread applied =
              PropagationProbe.watcher(
                  "primary applied",
                  () -> hostPort.equals(mbeans.getAttribute(group, "Primary")),
                  times,
                  failures,
                  0);
          Thread landed =
              PropagationProbe.watcher(
                  "a connect on " + name,
                  () -> {
                    long began = PropagationProbe.epochMicros();
                    try (Connection c = DriverManager.getConnection(url)) {
                      // the new primary in force before the query starts, as the MXBean shows it
                      boolean shown = hostPort.equals(mbeans.getAttribute(group, "Primary"));
                      if (name.equals(member(c))) {
                        times[3] = began;
                        return true;
                      }
                      if (shown) {
                        staleAnswers.incrementAndGet();
                      }
                      return false;
                    } catch (SQLException e) {
                      // routed to the old primary just before the switch, and aborted in flight
                      failedConnects.incrementAndGet();
                      return false;
                    }
                  },
                  times,
                  failures,
                  1);
          Thread aborted =
              PropagationProbe.watcher(
                  "all " + held + " aborted",
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
          landed.join();
          aborted.join();
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
          System.out.println(
              "TIMES " + times[0] + " " + times[1] + " " + times[2] + " " + times[3]);
          break;
        case "counts":
          System.out.println("COUNTS " + failedConnects.get() + " " + staleAnswers.get());
          break;
        case "exit":
          return;
        default:
          System.out.println("ERR unknown " + cmd[0]);
      }
    }
  }

  /** The member {@code c} is on: the name its server's table {@code WHO} holds. */
  static String member(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT NAME FROM WHO")) {
      r.next();
      return r.getString(1);
    }
  }
}
