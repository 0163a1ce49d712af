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
 * Hears {@code javax.sql.PooledConnection.getConnection()} hand out a handle, so that the agent
 * learns the physical connection behind a pooled or XA connection that a driver opened without
 * going through {@code Driver.connect}. Nothing is refused here: the pool's own borrow is governed.
 */
public final class PooledConnectionInstrumentation implements TypeInstrumentation {

  static final ElementMatcher.Junction<MethodDescription> GET_HANDLE =
      JdbcMatchers.connectionGetter("getConnection", "java.sql.Connection", false);

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return not(isInterface())
        .and(declaresMethod(GET_HANDLE))
        .and(hasSuperType(named("javax.sql.PooledConnection")));
  }

  @Override
  public List<MethodAdvice> advice() {
    return List.of(new MethodAdvice(GET_HANDLE, HandleAdvice.class));
  }

  /** Inlined at the end of {@code getConnection()}. */
  public static final class HandleAdvice {
    private HandleAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.This Object pooled, @Advice.Return Object handle) {
      SluiceBridge.handleOpened(pooled, handle);
    }
  }
}
