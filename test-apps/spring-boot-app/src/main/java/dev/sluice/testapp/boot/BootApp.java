package dev.sluice.testapp.boot;

import dev.sluice.testapp.support.CommandLoop;
import javax.sql.DataSource;
import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A plain Spring Boot application: Boot configures HikariCP from {@code spring.datasource.url}, and
 * the commands go through a {@link JdbcTemplate}. Run as a fat jar: {@code java -jar
 * spring-boot-app.jar --spring.datasource.url=...}.
 */
@SpringBootApplication
public class BootApp {

  private interface Call<T> {
    T call();
  }

  /** Spring wraps JDBC's exceptions; the reply shows the SQLException under them. */
  private static <T> T unwrapped(Call<T> call) throws java.sql.SQLException {
    try {
      return call.call();
    } catch (org.springframework.dao.DataAccessException e) {
      if (e.getMostSpecificCause() instanceof java.sql.SQLException) {
        throw (java.sql.SQLException) e.getMostSpecificCause();
      }
      throw e;
    }
  }

  public static void main(String[] args) {
    SpringApplication app = new SpringApplication(BootApp.class);
    app.setBannerMode(org.springframework.boot.Banner.Mode.OFF);
    app.run(args);
  }

  @Bean
  CommandLineRunner commands(JdbcTemplate jdbc, DataSource dataSource) {
    return args ->
        new CommandLoop()
            .on(
                "connect",
                a -> "connected " + unwrapped(() -> jdbc.queryForObject("SELECT 1", Integer.class)))
            .on("pool", a -> dataSource.getClass().getName())
            .on("loader", a -> dataSource.getClass().getClassLoader().getClass().getName())
            .run();
  }
}
