package dev.sluice.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J backend of the registry tests: keeps the lines Sluice's own loggers write at INFO and
 * above, so that tests can count what the registry logged, and prints them to standard error for
 * whoever reads the run. Other libraries' loggers are off.
 */
public final class CapturedLogs implements SLF4JServiceProvider {

  private static final List<String> lines = new ArrayList<>();
  private static final List<SlowLines> slow = new CopyOnWriteArrayList<>();

  /**
   * Lines that take long to write, as with a slow appender: each line that {@code which} accepts
   * runs {@code delay} on the logging thread before it is kept, so whatever other threads log
   * meanwhile is kept first. In force until closed.
   */
  public static final class SlowLines implements AutoCloseable {
    private final Predicate<String> which;
    private final Runnable delay;

    private SlowLines(Predicate<String> which, Runnable delay) {
      this.which = which;
      this.delay = delay;
    }

    @Override
    public void close() {
      slow.remove(this);
    }
  }

  /** See {@link SlowLines}. */
  public static SlowLines slow(Predicate<String> which, Runnable delay) {
    SlowLines s = new SlowLines(which, delay);
    slow.add(s);
    return s;
  }

  /** How many captured lines contain {@code text}. */
  public static int count(String text) {
    synchronized (lines) {
      return (int) lines.stream().filter(l -> l.contains(text)).count();
    }
  }

  /** The lines captured so far, oldest first. */
  public static List<String> lines() {
    synchronized (lines) {
      return new ArrayList<>(lines);
    }
  }

  private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
  private final ILoggerFactory factory = name -> loggers.computeIfAbsent(name, Captured::new);
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new BasicMDCAdapter();

  @Override
  public ILoggerFactory getLoggerFactory() {
    return factory;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {}

  private static final class Captured extends AbstractLogger {
    private final boolean own;

    Captured(String name) {
      this.name = name;
      this.own = name.startsWith("dev.sluice.");
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String pattern, Object[] args, Throwable t) {
      if (!own) {
        return;
      }
      String line = level + " " + name + " - " + MessageFormatter.basicArrayFormat(pattern, args);
      for (SlowLines s : slow) {
        if (s.which.test(line)) {
          s.delay.run();
        }
      }
      synchronized (lines) {
        lines.add(line);
      }
      System.err.println(line);
    }

    @Override
    public boolean isTraceEnabled() {
      return false;
    }

    @Override
    public boolean isTraceEnabled(Marker marker) {
      return false;
    }

    @Override
    public boolean isDebugEnabled() {
      return false;
    }

    @Override
    public boolean isDebugEnabled(Marker marker) {
      return false;
    }

    @Override
    public boolean isInfoEnabled() {
      return own;
    }

    @Override
    public boolean isInfoEnabled(Marker marker) {
      return own;
    }

    @Override
    public boolean isWarnEnabled() {
      return own;
    }

    @Override
    public boolean isWarnEnabled(Marker marker) {
      return own;
    }

    @Override
    public boolean isErrorEnabled() {
      return own;
    }

    @Override
    public boolean isErrorEnabled(Marker marker) {
      return own;
    }
  }
}
