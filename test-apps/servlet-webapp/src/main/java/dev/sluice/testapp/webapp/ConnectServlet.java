package dev.sluice.testapp.webapp;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * {@code GET /connect?url=...}: opens a connection with the driver from this web application's own
 * {@code WEB-INF/lib}, runs {@code SELECT 1}, and answers {@code OK <class loader>} or {@code ERR
 * <exception class> <SQLState> <message>}.
 */
public class ConnectServlet extends HttpServlet {

  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    resp.setContentType("text/plain;charset=UTF-8");
    try {
      Class.forName("org.h2.Driver"); // registers the web application's driver
      try (Connection c = DriverManager.getConnection(req.getParameter("url"));
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT 1")) {
        rs.next();
        resp.getWriter()
            .print(
                "OK "
                    + rs.getInt(1)
                    + " "
                    + org.h2.Driver.class.getClassLoader().getClass().getName());
      }
    } catch (SQLException e) {
      resp.getWriter()
          .print("ERR " + e.getClass().getName() + " " + e.getSQLState() + " " + e.getMessage());
    } catch (ClassNotFoundException e) {
      resp.getWriter().print("ERR " + e);
    }
  }
}
