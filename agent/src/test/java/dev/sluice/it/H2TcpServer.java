package dev.sluice.it;

import org.h2.tools.Server;

/** An H2 database server on a free loopback port, in this JVM. */
final class H2TcpServer implements AutoCloseable {
  private final Server server;

  H2TcpServer() throws Exception {
    server = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
  }

  /**
   * A server that serves the database named {@code database} in URLs from the in-memory database
   * {@code memDatabase} of this JVM ({@code -key}): two such servers serve two different databases
   * under the same name, as two members of a replication group do.
   */
  H2TcpServer(String database, String memDatabase) throws Exception {
    server =
        Server.createTcpServer(
                "-tcpPort", "0", "-ifNotExists", "-key", database, "mem:" + memDatabase)
            .start();
  }

  /** {@code 127.0.0.1:<port>}. */
  String hostPort() {
    return "127.0.0.1:" + server.getPort();
  }

  /** A URL for an in-memory database of that name, kept while the server runs. */
  String url(String database) {
    return "jdbc:h2:tcp://127.0.0.1:"
        + server.getPort()
        + "/mem:"
        + database
        + ";DB_CLOSE_DELAY=-1";
  }

  @Override
  public void close() {
    server.stop();
  }
}
