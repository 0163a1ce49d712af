package dev.sluice.testapp.support;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A line protocol for driving a test application: each line on standard input is a command, each
 * answer a line on standard output that starts with {@code REPLY}. {@code exit} ends the loop and
 * lets {@code main} return, so the JVM exits normally.
 *
 * <p>Answers: {@code REPLY OK <ms> <result>} or {@code REPLY ERR <ms> <exception class> <SQLState>
 * <message>}.
 */
public final class CommandLoop {

  /** One command. */
  public interface Command {
    String run(String args) throws Exception;
  }

  private final Map<String, Command> commands = new LinkedHashMap<>();
  private final Map<String, Connection> held = new LinkedHashMap<>();

  public CommandLoop on(String name, Command command) {
    commands.put(name, command);
    return this;
  }

  /** Adds {@code query <name> <sql>} and {@code close <name>} over connections held by name. */
  public CommandLoop withHeldConnections() {
    on(
        "query",
        args -> {
          String[] parts = args.split(" ", 2);
          return query(connection(parts[0]), parts[1]);
        });
    on(
        "close",
        args -> {
          Connection c = held.remove(args.trim());
          if (c != null) {
            c.close();
          }
          return "closed";
        });
    return this;
  }

  /** Keeps {@code c} under {@code name} for later {@code query} commands. */
  public String hold(String name, Connection c) {
    held.put(name, c);
    return "held " + name;
  }

  private Connection connection(String name) {
    Connection c = held.get(name);
    if (c == null) {
      throw new IllegalArgumentException("no connection named " + name);
    }
    return c;
  }

  /** Runs {@code sql}; the first column of the first row, or the update count. */
  public static String query(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      if (s.execute(sql)) {
        try (ResultSet rs = s.getResultSet()) {
          return rs.next() ? String.valueOf(rs.getObject(1)) : "no-rows";
        }
      }
      return "updated " + s.getUpdateCount();
    }
  }

  /** Reads commands until {@code exit} or the end of input. */
  public void run() throws Exception {
    reply("READY");
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      line = line.trim();
      if (line.isEmpty()) {
        continue;
      }
      String[] parts = line.split(" ", 2);
      String name = parts[0];
      String args = parts.length > 1 ? parts[1] : "";
      if (name.equals("exit")) {
        reply("BYE");
        return;
      }
      Command command = commands.get(name);
      long start = System.nanoTime();
      if (command == null) {
        reply("ERR 0 " + IllegalArgumentException.class.getName() + " - unknown command " + name);
        continue;
      }
      try {
        String result = command.run(args);
        reply("OK " + elapsedMs(start) + " " + result);
      } catch (SQLException e) {
        reply(
            "ERR "
                + elapsedMs(start)
                + " "
                + e.getClass().getName()
                + " "
                + e.getSQLState()
                + " "
                + oneLine(e.getMessage())
                + causes(e));
      } catch (Exception e) {
        reply(
            "ERR "
                + elapsedMs(start)
                + " "
                + e.getClass().getName()
                + " - "
                + oneLine(e.getMessage())
                + causes(e));
      }
    }
  }

  private static long elapsedMs(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** The causes of {@code e}, each as " / caused by: class state message", on the same line. */
  private static String causes(Throwable e) {
    StringBuilder out = new StringBuilder();
    int depth = 0;
    for (Throwable c = e.getCause(); c != null && c != e && depth < 8; c = c.getCause(), depth++) {
      out.append(" / caused by: ").append(c.getClass().getName());
      if (c instanceof SQLException) {
        out.append(' ').append(((SQLException) c).getSQLState());
      }
      out.append(' ').append(oneLine(c.getMessage()));
    }
    return out.toString();
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replace('\n', ' ').replace('\r', ' ');
  }

  private static synchronized void reply(String line) {
    System.out.println("REPLY " + line);
    System.out.flush();
  }
}
