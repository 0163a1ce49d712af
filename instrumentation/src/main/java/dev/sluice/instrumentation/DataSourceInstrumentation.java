package dev.sluice.instrumentation;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.nameContains;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;

import dev.sluice.bootstrap.SluiceBridge;
import java.util.List;
import javax.sql.DataSource;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Governs {@code javax.sql.DataSource.getConnection()} and {@code getConnection(String, String)} of
 * every data source, pools and drivers' own data sources alike, whatever the declared return type:
 * a borrow from a cut-off target fails at once instead of waiting out the pool's timeout, and no
 * connection the agent aborted is handed out again. The constructors tell the agent of each new
 * data source, so it learns where the data source's connections go while nothing is cut off.
 */
public final class DataSourceInstrumentation implements TypeInstrumentation {

  static final ElementMatcher.Junction<MethodDescription> GET_CONNECTION =
      JdbcMatchers.connectionGetter("getConnection", "java.sql.Connection", false);
  static final ElementMatcher.Junction<MethodDescription> GET_CONNECTION_AS =
      JdbcMatchers.connectionGetter("getConnection", "java.sql.Connection", true);

  /**
   * Data sources declaring {@code getConnection}, and base classes named like one: a pool's method
   * may live in a base class that is no {@code DataSource} itself (Tomcat JDBC's {@code
   * DataSourceProxy}), so the advice also checks {@code instanceof DataSource} at run time. Other
   * classes with such a method (a pool's internals, statements, metadata, pooled connections) are
   * left alone: advice there would only cost time on the application's hot path.
   */
  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return not(isInterface())
        .and(declaresMethod(GET_CONNECTION.or(GET_CONNECTION_AS)))
        .and(hasSuperType(named("javax.sql.DataSource")).or(nameContains("DataSource")))
        .and(
            not(
                hasSuperType(
                    named("java.sql.Statement")
                        .or(named("java.sql.DatabaseMetaData"))
                        .or(named("java.sql.Connection"))
                        .or(named("java.sql.ResultSet"))
                        .or(named("javax.sql.PooledConnection")))));
  }

  @Override
  public List<MethodAdvice> advice() {
    return List.of(
        new MethodAdvice(GET_CONNECTION, BorrowAdvice.class),
        new MethodAdvice(GET_CONNECTION_AS, CredentialsBorrowAdvice.class),
        new MethodAdvice(isConstructor(), CreatedAdvice.class));
  }

  /** Inlined into {@code getConnection()}; holds no state, forwards to the bootstrap bridge. */
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
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object connection,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      if (entered == null) {
        return;
      }
      Object result =
          SluiceBridge.exitBorrow(entered, dataSource, false, null, null, connection, thrown);
      if (result instanceof Throwable) {
        thrown = (Throwable) result;
      } else if (result != null && result != connection) {
        connection = result;
        thrown = null;
      }
    }
  }

  /**
   * Inlined into {@code getConnection(String, String)}; as {@link BorrowAdvice}, and hands the
   * credentials on so that a borrow repeated in place of a dead connection uses them too. A class
   * of its own rather than one advice reading {@code @Advice.AllArguments}, which would allocate an
   * array on every borrow.
   */
  public static final class CredentialsBorrowAdvice {
    private CredentialsBorrowAdvice() {}

    @Advice.OnMethodEnter(skipOn = Throwable.class, suppress = Throwable.class)
    public static Object enter(@Advice.This Object dataSource) {
      return dataSource instanceof DataSource ? SluiceBridge.enterBorrow(dataSource) : null;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.Enter Object entered,
        @Advice.This Object dataSource,
        @Advice.Argument(0) String user,
        @Advice.Argument(1) String password,
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object connection,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      if (entered == null) {
        return;
      }
      Object result =
          SluiceBridge.exitBorrow(entered, dataSource, true, user, password, connection, thrown);
      if (result instanceof Throwable) {
        thrown = (Throwable) result;
      } else if (result != null && result != connection) {
        connection = result;
        thrown = null;
      }
    }
  }

  /** Inlined at the end of each constructor. */
  public static final class CreatedAdvice {
    private CreatedAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.This Object dataSource) {
      if (dataSource instanceof DataSource) {
        SluiceBridge.dataSourceCreated(dataSource);
      }
    }
  }
}
