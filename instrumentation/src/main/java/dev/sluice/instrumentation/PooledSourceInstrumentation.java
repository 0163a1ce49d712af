package dev.sluice.instrumentation;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;

import dev.sluice.bootstrap.SluiceBridge;
import java.util.List;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Governs {@code javax.sql.XADataSource.getXAConnection} and {@code
 * javax.sql.ConnectionPoolDataSource.getPooledConnection}, with and without credentials: the way XA
 * pools and pools over a driver's pooled data source open their connections. A refused target fails
 * before the driver opens anything, and the pooled connection is tracked so that it can be aborted
 * (some drivers open it without going through {@code Driver.connect}).
 */
public final class PooledSourceInstrumentation implements TypeInstrumentation {

  static final ElementMatcher.Junction<MethodDescription> OPENS_POOLED =
      JdbcMatchers.connectionGetter("getXAConnection", "javax.sql.PooledConnection", false)
          .or(JdbcMatchers.connectionGetter("getXAConnection", "javax.sql.PooledConnection", true))
          .or(
              JdbcMatchers.connectionGetter(
                  "getPooledConnection", "javax.sql.PooledConnection", false))
          .or(
              JdbcMatchers.connectionGetter(
                  "getPooledConnection", "javax.sql.PooledConnection", true));

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return not(isInterface())
        .and(declaresMethod(OPENS_POOLED))
        .and(
            hasSuperType(
                named("javax.sql.XADataSource").or(named("javax.sql.ConnectionPoolDataSource"))));
  }

  @Override
  public List<MethodAdvice> advice() {
    return List.of(new MethodAdvice(OPENS_POOLED, OpenPooledAdvice.class));
  }

  /** Inlined into {@code getXAConnection} / {@code getPooledConnection}. */
  public static final class OpenPooledAdvice {
    private OpenPooledAdvice() {}

    @Advice.OnMethodEnter(skipOn = Throwable.class, suppress = Throwable.class)
    public static Object enter(@Advice.This Object source) {
      return SluiceBridge.enterPooledSource(source);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.Enter Object entered,
        @Advice.This Object source,
        @Advice.Return Object pooled,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      Throwable refused = SluiceBridge.exitPooledSource(entered, source, pooled);
      if (refused != null) {
        thrown = refused;
      }
    }
  }
}
