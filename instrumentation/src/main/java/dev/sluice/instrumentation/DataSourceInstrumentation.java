package dev.sluice.instrumentation;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.nameContains;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sluice.bootstrap.SluiceBridge;
import java.sql.Connection;
import javax.sql.DataSource;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Governs {@code javax.sql.DataSource.getConnection()} of every data source, pools included, so a
 * borrow from a cut-off target fails at once instead of waiting out the pool's timeout.
 */
public final class DataSourceInstrumentation implements TypeInstrumentation {

  /**
   * Data sources declaring {@code Connection getConnection()}, and base classes named like one: a
   * pool's method may live in a base class that is no {@code DataSource} itself (Tomcat JDBC's
   * {@code DataSourceProxy}), so the advice also checks {@code instanceof DataSource} at run time.
   * Other classes with such a method (a pool's internals, statements, metadata) are left alone:
   * advice there would only cost time on the application's hot path.
   */
  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return not(isInterface())
        .and(declaresMethod(methodMatcher()))
        .and(hasSuperType(named("javax.sql.DataSource")).or(nameContains("DataSource")))
        .and(
            not(
                hasSuperType(
                    named("java.sql.Statement")
                        .or(named("java.sql.DatabaseMetaData"))
                        .or(named("java.sql.Connection"))
                        .or(named("java.sql.ResultSet")))));
  }

  @Override
  public ElementMatcher.Junction<MethodDescription> methodMatcher() {
    return named("getConnection")
        .and(returns(named("java.sql.Connection")))
        .and(takesArguments(0).or(takesArguments(String.class, String.class)))
        .and(not(isStatic()))
        .and(not(isAbstract()));
  }

  @Override
  public Class<?> adviceClass() {
    return BorrowAdvice.class;
  }

  /** Inlined into {@code getConnection}; holds no state, forwards to the bootstrap bridge. */
  public static final class BorrowAdvice {
    private BorrowAdvice() {}

    @Advice.OnMethodEnter(skipOn = Throwable.class, suppress = Throwable.class)
    public static Object enter(@Advice.This Object dataSource) {
      return dataSource instanceof DataSource ? SluiceBridge.enterBorrow(dataSource) : null;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.Enter Object entered,
        @Advice.This Object dataSource,
        @Advice.Return(readOnly = false) Connection connection,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      Object result = SluiceBridge.exitBorrow(entered, dataSource, connection);
      if (result instanceof Throwable) {
        thrown = (Throwable) result;
      } else {
        connection = (Connection) result;
      }
    }
  }
}
