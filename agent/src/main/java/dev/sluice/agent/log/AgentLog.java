package dev.sluice.agent.log;

import java.io.PrintStream;
import java.time.Instant;
import java.util.Locale;

/**
 * The agent's own log output: one line per event on standard error, prefixed {@code [sluice]}. It
 * never touches the application's logging. The agent's loggers follow {@code log.level}; the
 * relocated third-party libraries (ZooKeeper, Curator) are silent unless {@code log.level} is
 * {@code debug} or {@code trace}, since the agent reports connection changes itself.
 */
public final class AgentLog {

  /** Levels in increasing severity. */
  public enum Level {
    TRACE,
    DEBUG,
    INFO,
    WARN,
    ERROR,
    OFF
  }

  private static volatile Level ownThreshold = Level.INFO;
  private static volatile Level thirdPartyThreshold = Level.OFF;
  private static volatile PrintStream out = System.err;

  private AgentLog() {}

  /** Applies {@code log.level}. */
  public static void configure(String level) {
    Level own = Level.valueOf(level.toUpperCase(Locale.ROOT));
    ownThreshold = own;
    thirdPartyThreshold = own.compareTo(Level.DEBUG) <= 0 ? own : Level.OFF;
  }

  static boolean enabled(String loggerName, Level level) {
    Level threshold =
        loggerName.startsWith("dev.sluice.") && !loggerName.startsWith("dev.sluice.shaded.")
            ? ownThreshold
            : thirdPartyThreshold;
    return level.compareTo(threshold) >= 0 && level != Level.OFF;
  }

  static void write(String loggerName, Level level, String message, Throwable t) {
    StringBuilder line = new StringBuilder(128);
    line.append(Instant.now())
        .append(" [sluice] ")
        .append(level)
        .append(' ')
        .append(shortName(loggerName))
        .append(" - ")
        .append(message);
    PrintStream stream = out;
    synchronized (stream) {
      stream.println(line);
      if (t != null) {
        t.printStackTrace(stream);
      }
    }
  }

  /** Held strongly: java.util.logging keeps only weak references to its loggers. */
  private static volatile java.util.logging.Logger julRoot;

  /**
   * Takes over the java.util.logging output of the relocated libraries under {@code prefix} (gRPC
   * logs through it), so that it reaches the agent's log under the third-party rule instead of the
   * application's handlers. Only that one logger subtree is touched, and only when called: the
   * ZooKeeper path never initialises java.util.logging.
   */
  public static synchronized void captureJavaUtilLogging(String prefix) {
    if (julRoot != null) {
      return;
    }
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(prefix);
    logger.setUseParentHandlers(false);
    logger.setLevel(
        thirdPartyThreshold == Level.OFF
            ? java.util.logging.Level.OFF
            : java.util.logging.Level.ALL);
    logger.addHandler(
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord record) {
            Level level = fromJul(record.getLevel());
            String name = record.getLoggerName() == null ? prefix : record.getLoggerName();
            if (enabled(name, level)) {
              String message = new java.util.logging.SimpleFormatter().formatMessage(record);
              write(name, level, message, record.getThrown());
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
    julRoot = logger;
  }

  private static Level fromJul(java.util.logging.Level level) {
    int v = level.intValue();
    if (v >= java.util.logging.Level.SEVERE.intValue()) {
      return Level.ERROR;
    }
    if (v >= java.util.logging.Level.WARNING.intValue()) {
      return Level.WARN;
    }
    if (v >= java.util.logging.Level.INFO.intValue()) {
      return Level.INFO;
    }
    return v >= java.util.logging.Level.FINE.intValue() ? Level.DEBUG : Level.TRACE;
  }

  private static String shortName(String loggerName) {
    int dot = loggerName.lastIndexOf('.');
    return dot < 0 ? loggerName : loggerName.substring(dot + 1);
  }
}
