package dev.sluice.testapp.servlet;

import dev.sluice.testapp.support.CommandLoop;
import java.io.File;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import org.apache.catalina.startup.Tomcat;

/**
 * Tomcat with one web application (servlet-webapp, exploded), its JDBC driver in the web
 * application's own class loader. {@code connect} asks the web application's servlet to connect,
 * over HTTP, and reports what it answered. Arguments: the web application's directory, the JDBC
 * URL.
 */
public final class ServletApp {

  private ServletApp() {}

  public static void main(String[] args) throws Exception {
    File webapp = new File(args[0]);
    String url = args[1];
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(
        new File(
                System.getProperty("java.io.tmpdir"),
                "servlet-app-" + ProcessHandle.current().pid())
            .getPath());
    tomcat.setPort(0);
    tomcat.getConnector();
    tomcat.addWebapp("", webapp.getAbsolutePath());
    tomcat.start();
    int port = tomcat.getConnector().getLocalPort();
    HttpClient http = HttpClient.newHttpClient();
    String target =
        "http://127.0.0.1:"
            + port
            + "/connect?url="
            + URLEncoder.encode(url, StandardCharsets.UTF_8);
    new CommandLoop()
        .on(
            "connect",
            a -> {
              String body =
                  http.send(
                          HttpRequest.newBuilder(URI.create(target)).build(),
                          HttpResponse.BodyHandlers.ofString())
                      .body();
              if (body.startsWith("OK ")) {
                return "connected " + body.substring(3);
              }
              throw servletError(body);
            })
        .run();
    tomcat.stop();
    tomcat.destroy();
  }

  /** The servlet's {@code ERR <class> <SQLState> <message>} as that exception again. */
  private static Exception servletError(String body) {
    String[] parts = body.split(" ", 4);
    try {
      return (Exception)
          Class.forName(parts[1])
              .getConstructor(String.class, String.class)
              .newInstance(parts.length > 3 ? parts[3] : "", parts[2]);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return new SQLException(body);
    }
  }
}
