package dev.sluice.testapp.jdbc;

import dev.sluice.testapp.support.CommandLoop;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Plain JDBC. {@code JdbcApp <url> [user [password]]} connects through {@code DriverManager}; with
 * {@code --driver-jar <jar> --driver-class <class>} first, the driver is loaded by a child-first
 * class loader (as in an application server) and used directly.
 */
public final class JdbcApp {

  public static void main(String[] args) throws Exception {
    int i = 0;
    Driver isolatedDriver = null;
    if (args.length > 4 && args[0].equals("--driver-jar")) {
      URL jar = new File(args[1]).toURI().toURL();
      ClassLoader loader =
          new ChildFirstClassLoader(new URL[] {jar}, JdbcApp.class.getClassLoader());
      isolatedDriver =
          (Driver) Class.forName(args[3], true, loader).getDeclaredConstructor().newInstance();
      i = 4;
    }
    String url = args[i];
    Properties props = new Properties();
    if (args.length > i + 1) {
      props.setProperty("user", args[i + 1]);
    }
    if (args.length > i + 2) {
      props.setProperty("password", args[i + 2]);
    }
    Driver driver = isolatedDriver;
    CommandLoop loop = new CommandLoop().withHeldConnections();
    Storm storm = new Storm();
    Opener opener =
        () -> driver != null ? driver.connect(url, props) : DriverManager.getConnection(url, props);
    loop.on(
            "connect",
            a -> {
              try (Connection c = opener.open()) {
                return "connected " + CommandLoop.query(c, "SELECT 1");
              }
            })
        .on("open", a -> loop.hold(a.trim(), opener.open()))
        .on(
            "connectTo",
            a -> {
              try (Connection c = DriverManager.getConnection(a.trim(), props)) {
                return "connected " + CommandLoop.query(c, "SELECT 1");
              }
            })
        .on(
            "openTo",
            a -> {
              String[] parts = a.trim().split(" ", 2);
              return loop.hold(parts[0], DriverManager.getConnection(parts[1], props));
            })
        .on("storm", a -> storm.start(Integer.parseInt(a.trim()), opener))
        .on("stormOpened", a -> String.valueOf(storm.opened.size()))
        .on("stormResult", a -> storm.result())
        .on(
            "loader",
            a -> driver == null ? "DriverManager" : driver.getClass().getClassLoader().toString())
        .run();
  }

  private interface Opener {
    Connection open() throws Exception;
  }

  /**
   * Threads that open connections without pause and keep them open, each until a connect fails with
   * an {@code SQLTransientConnectionException}; then {@code stormResult} waits for them and reports
   * how many of the connections they got still work.
   */
  static final class Storm {
    final List<Connection> opened = new CopyOnWriteArrayList<>();
    final List<String> failures = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    String start(int count, Opener opener) {
      for (int t = 0; t < count; t++) {
        Thread thread =
            new Thread(
                () -> {
                  while (true) {
                    try {
                      opened.add(opener.open());
                    } catch (SQLTransientConnectionException refused) {
                      return;
                    } catch (Exception e) {
                      failures.add(e.toString());
                      return;
                    }
                  }
                },
                "storm-" + t);
        thread.setDaemon(true);
        threads.add(thread);
        thread.start();
      }
      return "started " + count;
    }

    String result() throws Exception {
      for (Thread t : threads) {
        t.join(10_000);
        if (t.isAlive()) {
          return "still connecting after 10 s: " + t.getName();
        }
      }
      int usable = 0;
      for (Connection c : opened) {
        try {
          CommandLoop.query(c, "SELECT 1");
          usable++;
        } catch (SQLException expected) {
          // aborted
        }
      }
      return "opened " + opened.size() + " usable " + usable + " failures " + failures;
    }
  }

  /** Loads its own classes first, like a web application's class loader. */
  static final class ChildFirstClassLoader extends URLClassLoader {
    ChildFirstClassLoader(URL[] urls, ClassLoader parent) {
      super("child-first", urls, parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null && !name.startsWith("java.")) {
          try {
            c = findClass(name);
          } catch (ClassNotFoundException notHere) {
            // fall back to the parent
          }
        }
        if (c == null) {
          c = super.loadClass(name, false);
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }
  }
}
