package dev.sluice.instrumentation;

import java.sql.Connection;
import java.sql.Driver;
import java.util.List;
import java.util.Properties;

/**
 * Sample classes the weaver weaves once while it is set up, on its own thread, so that its classes
 * (ASM's among them) are loaded and its code has run before the application's first JDBC class
 * needs them. Only their class files are read; they are never instantiated, and the woven result is
 * dropped.
 */
final class WarmUp {

  /** The samples' binary names (string constants, so that naming them loads nothing). */
  static final List<String> SAMPLES =
      List.of(
          "dev.sluice.instrumentation.WarmUp$SampleDataSource",
          "dev.sluice.instrumentation.WarmUp$SampleDriver");

  private WarmUp() {}

  /** Matched by name, like a pool's base class that is no {@code DataSource} itself. */
  abstract static class SampleDataSource {
    public Connection getConnection() {
      return null;
    }
  }

  abstract static class SampleDriver implements Driver {
    @Override
    public Connection connect(String url, Properties info) {
      return null;
    }
  }
}
