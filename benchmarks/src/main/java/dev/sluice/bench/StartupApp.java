package dev.sluice.bench;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The application of the startup and footprint benchmarks: loads at least {@link #CLASSES} classes
 * from the jars on its class path (as a sizeable application does), then runs its first query.
 * Prints when {@code main} began and when the first query returned (wall clock, µs); with the
 * argument {@code footprint}, also the heap in use after a full collection and its threads.
 */
public final class StartupApp {

  static final int CLASSES = 5000;

  public static void main(String[] args) throws Exception {
    long mainAt = PropagationProbe.epochMicros();
    loadClasses();
    try (Connection c = DriverManager.getConnection("jdbc:h2:mem:startup");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT 1")) {
      rs.next();
    }
    long queryAt = PropagationProbe.epochMicros();
    int classes = ManagementFactory.getClassLoadingMXBean().getLoadedClassCount();
    System.out.println("STARTUP " + mainAt + " " + queryAt + " " + classes);
    if (args.length > 0 && args[0].equals("footprint")) {
      for (int i = 0; i < 4; i++) {
        System.gc();
      }
      long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      int threads = ManagementFactory.getThreadMXBean().getThreadCount();
      System.out.println("FOOTPRINT " + heap + " " + threads + " " + classes);
    }
  }

  private static void loadClasses() throws Exception {
    ClassLoader loader = StartupApp.class.getClassLoader();
    int loaded = 0;
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!entry.endsWith(".jar")) {
        continue;
      }
      try (JarFile jar = new JarFile(entry)) {
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements() && loaded < CLASSES; ) {
          String name = e.nextElement().getName();
          if (!name.endsWith(".class") || name.contains("-") || name.startsWith("META-INF")) {
            continue;
          }
          try {
            Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false, loader);
            loaded++;
          } catch (Throwable unloadable) {
            // optional dependencies missing: skip the class
          }
        }
      }
      if (loaded >= CLASSES) {
        return;
      }
    }
    throw new IllegalStateException("only " + loaded + " classes on the class path");
  }
}
