package dev.sluice.agent.governance;

import java.sql.Driver;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Tells one refused attempt from the next, so that each is counted once. {@code DriverManager} asks
 * every registered driver in turn, with the same URL and properties; only a driver that accepts the
 * URL ({@link Driver#acceptsURL}) is refused at all (the others decline by themselves), and a
 * second driver that accepts the same URL within the same sweep is the same attempt.
 */
final class ConnectAttempts {

  /** The refused attempt last seen on a thread. */
  private static final class Attempt {
    final String url;
    final Object info;
    final List<Object> drivers = new ArrayList<>(2);

    Attempt(String url, Object info) {
      this.url = url;
      this.info = info;
    }
  }

  private final ThreadLocal<Attempt> last = new ThreadLocal<>();

  /**
   * Whether {@code driver} would open a connection for {@code url}: a driver that does not accept
   * the URL returns {@code null} without connecting, and is not refused. A driver that cannot tell
   * is taken to accept it.
   */
  static boolean accepts(Object driver, String url) {
    if (!(driver instanceof Driver)) {
      return true;
    }
    try {
      return ((Driver) driver).acceptsURL(url);
    } catch (SQLException | RuntimeException e) {
      return true;
    }
  }

  /** Whether this refusal starts a new attempt, to be counted; the same sweep's next is not. */
  boolean isNew(Object driver, String url, Object info) {
    Attempt a = last.get();
    if (a != null
        && a.url == url
        && a.info == info
        && info != null
        && !a.drivers.contains(driver)) {
      a.drivers.add(driver);
      return false;
    }
    Attempt fresh = new Attempt(url, info);
    fresh.drivers.add(driver);
    last.set(fresh);
    return true;
  }
}
