package dev.sluice.it;

import org.h2.tools.Server;

/** An H2 database server on a free loopback port, in this JVM. */
final class H2TcpServer implements AutoCloseable {
  private final Server server;

  H2TcpServer() throws Exception {
    server = Server.createTcpServer("-tcpPort", "0", "-ifNotExists").start();
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
