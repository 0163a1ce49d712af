package dev.sluice.agent.config;

/** Validation of {@code host:port} and {@code [v6]:port}. */
final class HostPort {
  private HostPort() {}

  /** Returns the normalised {@code host:port}, or throws with {@code expectation} as message. */
  static String parse(String hostPort, String expectation) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException(expectation);
    }
    String host = hostPort.substring(0, colon);
    if (host.startsWith("[") != host.endsWith("]")
        || host.chars().anyMatch(c -> c <= ' ' || c == '/' || c == '@' || c == ',')) {
      throw new IllegalArgumentException(expectation);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(expectation);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(expectation);
    }
    return host + ":" + port;
  }
}
