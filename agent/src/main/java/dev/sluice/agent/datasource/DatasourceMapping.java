package dev.sluice.agent.datasource;

/**
 * A configured {@code datasources.<schema>.<name>=host:port[/database]} entry: the name it gives
 * the datasource at that endpoint.
 */
public final class DatasourceMapping {
  public final String schema;
  public final String name;
  public final String hostPort;
  public final String database;

  /**
   * @param database {@code null}: any database at {@code hostPort}
   */
  public DatasourceMapping(String schema, String name, String hostPort, String database) {
    this.schema = schema;
    this.name = name;
    this.hostPort = hostPort;
    this.database = database;
  }
}
