package dev.sluice.instrumentation;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.sluice.bootstrap.SluiceBridge;
import java.sql.Connection;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Governs {@code javax.sql.DataSource.getConnection()} of every data source, pools included, so a
 * borrow from a cut-off target fails at once instead of waiting out the pool's timeout.
 */
public final class DataSourceInstrumentation implements TypeInstrumentation {

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return not(isInterface())
        .and(declaresMethod(methodMatcher()))
        .and(hasSuperType(named("javax.sql.DataSource")));
  }

  @Override
  public ElementMatcher.Junction<MethodDescription> methodMatcher() {
    return named("getConnection")
        .and(takesArguments(0).or(takesArguments(String.class, String.class)))
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
      return SluiceBridge.enterBorrow(dataSource);
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
