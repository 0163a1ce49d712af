package dev.sluice.agent.datasource;

import java.util.Objects;

/**
 * The registry name of a datasource: {@code {schema}/{name}}. Configured with {@code
 * datasources.<schema>.<name>}, or discovered: schema = the database name (or {@code default}),
 * name = {@code {host}_{port}}; characters outside {@code [A-Za-z0-9._-]} become {@code _}.
 */
public final class DatasourceName {

  private final String schema;
  private final String name;

  public DatasourceName(String schema, String name) {
    this.schema = Objects.requireNonNull(schema, "schema");
    this.name = Objects.requireNonNull(name, "name");
  }

  /** The discovered name of an endpoint no configured datasource claims. */
  public static DatasourceName discovered(Endpoint e) {
    String schema = e.database() == null ? "default" : sanitize(e.database());
    String name =
        e.kind() == Endpoint.Kind.NETWORK
            ? sanitize(e.host() + "_" + e.port())
            : sanitize(e.host());
    return new DatasourceName(schema, name);
  }

  static String sanitize(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok =
          (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
      out.append(ok ? c : '_');
    }
    String r = out.toString();
    // "." and ".." are not node names
    return r.isEmpty() || r.equals(".") || r.equals("..") ? "_" + r : r;
  }

  public String schema() {
    return schema;
  }

  public String name() {
    return name;
  }

  /** {@code schema/name}, as in refusal messages. */
  @Override
  public String toString() {
    return schema + "/" + name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DatasourceName
        && schema.equals(((DatasourceName) o).schema)
        && name.equals(((DatasourceName) o).name);
  }

  @Override
  public int hashCode() {
    return schema.hashCode() * 31 + name.hashCode();
  }
}
